"""The one place where personal data is masked (architecture rule 9).

Templates use the filters in `core.templatetags.anchang`, API schemas call these functions;
nothing else formats a phone number or an ID number for display.
"""

import re

from anchang.core.phones import national_digits

_HONORIFIC = {"male": "先生", "female": "女士"}


def mask_phone(phone: str | None) -> str:
    """`+8613812341234` or `13812341234` → `138****1234`."""
    if not phone:
        return ""
    digits = national_digits(phone)
    if len(digits) < 7:
        return "*" * len(digits)
    return f"{digits[:3]}****{digits[-4:]}"


def mask_id_number(id_number: str | None) -> str:
    """First 6 and last 4 characters at most (product.md §13)."""
    if not id_number:
        return ""
    if len(id_number) <= 10:
        return "*" * len(id_number)
    return f"{id_number[:6]}{'*' * (len(id_number) - 10)}{id_number[-4:]}"


def public_name(name: str | None, gender: str | None = None) -> str:
    """What a public screen may show: surname + 先生/女士 (`王先生`), never the full name."""
    name = (name or "").strip()
    if not name:
        return "访客"
    surname = name[:2] if _is_compound_surname(name) else name[:1]
    return f"{surname}{_HONORIFIC.get(gender or '', '')}" if gender in _HONORIFIC else f"{surname}**"


_COMPOUND_SURNAMES = {
    "欧阳",
    "司马",
    "诸葛",
    "上官",
    "东方",
    "皇甫",
    "尉迟",
    "公孙",
    "慕容",
    "长孙",
    "令狐",
    "夏侯",
}


def _is_compound_surname(name: str) -> bool:
    return len(name) > 2 and name[:2] in _COMPOUND_SURNAMES


_MOBILE_IN_TEXT = re.compile(r"(?:\+?86)?1[3-9]\d{9}")


def mask_phones_in_text(text: str) -> str:
    """`王 13812341234` → `王 138****1234`, for whoever may not see the customer's number."""
    return _MOBILE_IN_TEXT.sub(lambda match: mask_phone(match.group()), text)
