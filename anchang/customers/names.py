"""拼音 for Chinese names, so staff can search 张三 by `zhangsan` or `zs`.

Surnames with several readings (单 shan/dan, 曾 zeng/ceng, 解 xie/jie …) keep every reading,
so whichever the front desk types finds the customer.
"""

from itertools import product

from pypinyin import Style, pinyin

_MAX_VARIANTS = 8  # a name of 3–4 characters rarely has more; the cap keeps pathological input cheap


def _readings(name: str, style: Style) -> list[str]:
    # Only the surname gets every reading: given names use their common reading, otherwise 明 would
    # also match "meng" and every search would return noise.
    surname, given = name[:1], name[1:]
    per_char = pinyin(surname, style=style, heteronym=True, errors=_keep) + pinyin(
        given, style=style, errors=_keep
    )
    variants = []
    for combo in product(*[[r.lower() for r in readings if r] or [""] for readings in per_char]):
        variants.append("".join(combo))
        if len(variants) >= _MAX_VARIANTS:
            break
    return sorted(set(variants))


def _keep(chars: str) -> str:
    return chars.lower()


def name_pinyin(name: str) -> str:
    """Space-separated full-pinyin spellings: `单丽华` → `danlihua shanlihua`."""
    return " ".join(_readings(name.strip(), Style.NORMAL))[:200]


def name_initials(name: str) -> str:
    """Space-separated initials: `曾欣悦` → `cxy zxy`."""
    return " ".join(_readings(name.strip(), Style.FIRST_LETTER))[:100]
