"""Chinese display conventions (ui.md): money in 万, full yuan, unit prices, areas, layouts."""

from decimal import ROUND_HALF_UP, Decimal

_TEN_THOUSAND = Decimal(10000)


def _to_decimal(value: object) -> Decimal | None:
    if value is None or value == "":
        return None
    try:
        return Decimal(str(value))
    except ArithmeticError:
        return None


def wan(value: object) -> str:
    """3125000 → `312.50万` (totals in lists and boards)."""
    amount = _to_decimal(value)
    if amount is None:
        return ""
    return f"{(amount / _TEN_THOUSAND).quantize(Decimal('0.01'), ROUND_HALF_UP):,}万"


def yuan(value: object) -> str:
    """3125000 → `¥3,125,000.00` (forms and documents)."""
    amount = _to_decimal(value)
    if amount is None:
        return ""
    return f"¥{amount.quantize(Decimal('0.01'), ROUND_HALF_UP):,}"


def per_square_metre(value: object) -> str:
    """28650.4 → `28,650 元/㎡`."""
    amount = _to_decimal(value)
    if amount is None:
        return ""
    return f"{amount.quantize(Decimal('1'), ROUND_HALF_UP):,} 元/㎡"


def square_metres(value: object) -> str:
    amount = _to_decimal(value)
    if amount is None:
        return ""
    return f"{amount.quantize(Decimal('0.01'), ROUND_HALF_UP)}㎡"


def layout(bedrooms: int | None, halls: int | None, bathrooms: int | None) -> str:
    """`3室2厅2卫`."""
    if bedrooms is None:
        return ""
    return f"{bedrooms}室{halls or 0}厅{bathrooms or 0}卫"
