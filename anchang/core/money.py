"""Amounts in Chinese capital numerals (人民币大写), as printed on a 认购书 or a receipt.

The rules are those of the People's Bank of China for filling in bills and settlement documents
(《正确填写票据和结算凭证的基本规定》), because a bank clerk or a lawyer will read them that way:

- capitals 零壹贰叁肆伍陆柒捌玖 and the units 拾佰仟万亿, a leading 1 written out (壹拾伍元, not 拾伍元);
- zeros inside the number are one 零, however many there are (壹万零伍元, 壹亿零伍仟元);
- whole yuan end in 整 (叁佰壹拾贰万元整), so nothing can be appended; so do amounts ending in 角
  (伍角整: allowed, and safer for the same reason); an amount with 分 has no 整;
- 角 zero and 分 not zero: 零 after 元 (叁佰贰拾伍元零肆分); less than one yuan: no 元 (伍角整, 伍分).
"""

from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

CAPITAL_DIGITS = "零壹贰叁肆伍陆柒捌玖"
_PLACES = ("", "拾", "佰", "仟")
# One section every four digits. 万亿 is not a unit of its own, so amounts stop below 1e12: the
# same ceiling as `deals.services.validate_money` and the 14-digit money columns.
_SECTIONS = ("", "万", "亿")
LIMIT = Decimal(10) ** (4 * len(_SECTIONS))
_CENT = Decimal("0.01")


def _section(number: int) -> str:
    """1–9999 in capitals, zeros inside collapsed to one 零, trailing zeros dropped (壹仟零壹拾)."""
    parts: list[str] = []
    zero_pending = False
    for place in range(3, -1, -1):
        digit = number // 10**place % 10
        if digit == 0:
            zero_pending = bool(parts)
            continue
        if zero_pending:
            parts.append("零")
            zero_pending = False
        parts.append(CAPITAL_DIGITS[digit] + _PLACES[place])
    return "".join(parts)


def _whole_yuan(number: int) -> str:
    """The yuan part; "" for zero. A section below 1000 after a higher one, or a section after
    an empty one, is introduced by 零 (壹万零伍, 壹亿零伍仟) — never by two."""
    sections: list[int] = []
    while number:
        number, section = divmod(number, 10000)
        sections.append(section)
    parts: list[str] = []
    gap = False
    for index in range(len(sections) - 1, -1, -1):
        section = sections[index]
        if section == 0:
            gap = bool(parts)
            continue
        if parts and (gap or section < 1000):
            parts.append("零")
        gap = False
        parts.append(_section(section) + _SECTIONS[index])
    return "".join(parts)


def to_decimal_amount(value: object) -> Decimal:
    """An amount in yuan as a Decimal rounded to the fen (half up, like `core.formatting.yuan`)."""
    if isinstance(value, bool):
        raise ValueError("an amount, not a truth value")
    try:
        amount = value if isinstance(value, Decimal) else Decimal(str(value).replace(",", "").strip())
    except InvalidOperation as error:
        raise ValueError(f"not an amount: {value!r}") from error
    if not amount.is_finite():
        raise ValueError(f"not an amount: {value!r}")
    return amount.quantize(_CENT, ROUND_HALF_UP)


def rmb_upper(value: object) -> str:
    """`Decimal("3120000.00")` → `叁佰壹拾贰万元整`; `1409.5` → `壹仟肆佰零玖元伍角整`.

    Raises ValueError for negative amounts, non-numbers and amounts of 1e12 yuan or more.
    """
    amount = to_decimal_amount(value)
    if amount < 0:
        raise ValueError("a capital amount cannot be negative")
    if amount >= LIMIT:
        raise ValueError("amounts of 1,000,000,000,000 yuan or more are not supported")
    cents = int(amount * 100)
    yuan, jiao, fen = cents // 100, cents // 10 % 10, cents % 10
    whole = _whole_yuan(yuan)
    if jiao == 0 and fen == 0:
        return f"{whole or CAPITAL_DIGITS[0]}元整"
    text = f"{whole}元" if whole else ""
    if jiao:
        text += CAPITAL_DIGITS[jiao] + "角"
    elif whole:
        text += "零"
    text += CAPITAL_DIGITS[fen] + "分" if fen else "整"
    return text
