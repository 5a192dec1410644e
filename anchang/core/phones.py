"""Mainland mobile numbers: the identity of a customer within a project.

Numbers are stored in E.164 (`+8613812345678`). Only mainland *mobile* numbers are accepted:
landlines, short codes and numbers in unassigned ranges are refused, so that a typo never
creates a second customer.
"""

import re

import phonenumbers
from phonenumbers import PhoneNumberType

from anchang.core.errors import PhoneInvalid

_DIGITS = re.compile(r"\+?\d+")
_MOBILE_TYPES = {PhoneNumberType.MOBILE, PhoneNumberType.FIXED_LINE_OR_MOBILE}


def normalize_mainland_mobile(raw: object, *, field: str = "phone") -> str:
    """Return the E.164 form of a mainland mobile, or raise PhoneInvalid naming `field`."""
    text = raw if isinstance(raw, str) else ""
    for separator in (" ", "\u3000", "-", "(", ")"):
        text = text.replace(separator, "")
    if not text:
        raise PhoneInvalid(fields={field: str(PhoneInvalid.default_message)})
    # Only digits (and a leading +): phonenumbers would read letters as keypad digits (1381234abcd).
    if len(text) > 20 or not _DIGITS.fullmatch(text):
        raise PhoneInvalid(fields={field: str(PhoneInvalid.default_message)})
    try:
        parsed = phonenumbers.parse(text, "CN")
    except phonenumbers.NumberParseException:
        raise PhoneInvalid(fields={field: str(PhoneInvalid.default_message)}) from None
    national = str(parsed.national_number)
    if (
        parsed.country_code != 86
        or len(national) != 11
        or not national.startswith("1")
        or not phonenumbers.is_valid_number(parsed)
        or phonenumbers.number_type(parsed) not in _MOBILE_TYPES
    ):
        raise PhoneInvalid(fields={field: str(PhoneInvalid.default_message)})
    return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)


def national_digits(e164: str) -> str:
    """`+8613812345678` → `13812345678`."""
    return e164[3:] if e164.startswith("+86") else e164


def spaced_mobile(e164: str | None) -> str:
    """`+8613536343703` → `135 3634 3703`: how people read and dial a mainland mobile, never `+86…`."""
    if not e164:
        return ""
    digits = national_digits(e164)
    if len(digits) != 11 or not digits.isdigit():
        return digits
    return f"{digits[:3]} {digits[3:7]} {digits[7:]}"
