"""The fields a project may require at registration (来访登记必填项, product.md §2), named for people.

Every code here can be filled from a form that exists: the check-in form asks name, gender, phone,
source and, optionally, 意向面积 and 意向户型; the needs form the consultant fills during the visit
also gives the last two. A required code outside this list could never be satisfied, so the
setting accepts only these.
"""

from collections.abc import Iterable

from django.core.exceptions import ValidationError
from django.utils.functional import Promise
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

REGISTRATION_FIELDS: dict[str, Promise] = {
    "name": _("姓名"),
    "gender": _("性别"),
    "phone": _("手机号"),
    "source": _("认知途径"),
    "area_range": _("意向面积"),
    "layout": _("意向户型"),
}


def registration_field_labels(codes: Iterable[str]) -> list[str]:
    """The people's names of field codes, in the active language (unknown codes are left out)."""
    return [str(REGISTRATION_FIELDS[code]) for code in codes if code in REGISTRATION_FIELDS]


def validate_registration_fields(value: object) -> None:
    """A list of known codes, each once; anything else names what is wrong, in words."""
    if not isinstance(value, list) or not all(isinstance(code, str) for code in value):
        raise ValidationError(gettext('请填写字段代码列表，如 ["name", "phone"]。'))
    unknown = [code for code in value if code not in REGISTRATION_FIELDS]
    if unknown:
        known = "、".join(f"{code}（{label}）" for code, label in REGISTRATION_FIELDS.items())
        raise ValidationError(
            gettext("未知的登记字段：%(unknown)s。可选：%(known)s。")
            % {"unknown": "、".join(unknown), "known": known}
        )
    if len(set(value)) != len(value):
        raise ValidationError(gettext("登记字段不能重复。"))
