from collections.abc import Sequence

from django import forms
from django.utils.translation import gettext_lazy as _

from anchang.accounts.models import User
from anchang.customers.models import Gender, Source


class CheckInForm(forms.Form):
    phone_or_code = forms.CharField(
        label=_("手机号 / 预约码"),
        max_length=30,
        widget=forms.TextInput(
            attrs={
                "autofocus": True,
                "inputmode": "numeric",
                "autocomplete": "off",
                "placeholder": _("输入手机号，或扫描预约二维码"),
            }
        ),
    )
    name = forms.CharField(label=_("姓名"), max_length=50, required=False)
    gender = forms.ChoiceField(label=_("性别"), choices=[("", "—"), *Gender.choices], required=False)
    # Blank: the booking's party size when a code is scanned, else 1.
    party_size = forms.IntegerField(label=_("来访人数"), min_value=1, max_value=50, required=False)
    source = forms.ChoiceField(label=_("认知途径"), choices=[("", "—"), *Source.choices], required=False)
    designated_consultant = forms.TypedChoiceField(
        label=_("客户指定顾问"), coerce=int, empty_value=None, required=False
    )
    # Checked by the service: consent given when booking counts, so a scanned code needs no tick.
    consent = forms.BooleanField(label=_("访客已知悉并同意隐私告知"), required=False)
    # Optional: a project that requires 意向面积/户型 has them filled here or by the consultant later.
    area_band = forms.ChoiceField(label=_("意向面积"), required=False)
    bedrooms = forms.TypedChoiceField(label=_("意向户型"), coerce=int, empty_value=None, required=False)
    household_of = forms.IntegerField(required=False, widget=forms.HiddenInput, min_value=1)

    def __init__(self, *args: object, consultants: Sequence[User], **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        self.fields["designated_consultant"].choices = [  # type: ignore[attr-defined]
            ("", _("无（按规则判客）")),
            *[(c.pk, c.display_name) for c in consultants],
        ]
        self.fields["area_band"].choices = [  # type: ignore[attr-defined]
            ("", "—"),
            *[(_band_key(low, high), _band_label(low, high)) for low, high in AREA_BANDS],
        ]
        self.fields["bedrooms"].choices = [  # type: ignore[attr-defined]
            ("", "—"),
            *[(n, _("%(n)d室") % {"n": n}) for n in range(1, 6)],
        ]

    def needs_values(self) -> dict[str, object]:
        """What the desk asked of the needs (only what was chosen), as the needs service takes it."""
        values: dict[str, object] = {}
        if self.cleaned_data.get("area_band"):
            low, _sep, high = self.cleaned_data["area_band"].partition("-")
            values.update(area_min=low or None, area_max=high or None)
        if self.cleaned_data.get("bedrooms"):
            values["bedrooms"] = self.cleaned_data["bedrooms"]
        return values

    def looks_like_code(self) -> bool:
        return self.is_code_shaped(self.cleaned_data["phone_or_code"])

    @staticmethod
    def is_code_shaped(value: str) -> bool:
        """A booking code (typed or scanned) rather than a phone: short and not all digits."""
        value = value.strip()
        return 0 < len(value) <= 8 and not value.isdigit()


# The bands a visitor names at the desk (㎡); the consultant refines them in the needs form later.
AREA_BANDS: tuple[tuple[int | None, int | None], ...] = (
    (None, 90),
    (90, 120),
    (120, 144),
    (144, 180),
    (180, None),
)


def _band_key(low: int | None, high: int | None) -> str:
    return f"{low or ''}-{high or ''}"


def _band_label(low: int | None, high: int | None) -> str:
    if low is None:
        return str(_("%(high)s㎡以下") % {"high": high})
    if high is None:
        return str(_("%(low)s㎡以上") % {"low": low})
    return f"{low}–{high}㎡"


class OverrideForm(forms.Form):
    consultant = forms.TypedChoiceField(label=_("改派给"), coerce=int)
    reason = forms.CharField(label=_("原因"), max_length=200)

    def __init__(self, *args: object, consultants: Sequence[User], **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        # Starts empty: a pre-selected name would be one tap away from a wrong reassignment.
        self.fields["consultant"].choices = [  # type: ignore[attr-defined]
            ("", _("请选择顾问")),
            *[(c.pk, c.display_name) for c in consultants],
        ]


class RotationActionForm(forms.Form):
    consultant = forms.IntegerField(widget=forms.HiddenInput)
    action = forms.ChoiceField(
        choices=[("sign_in", ""), ("waiting", ""), ("away", ""), ("off", ""), ("lost_turn", ""), ("move", "")]
    )
    reason = forms.CharField(max_length=200, required=False)
    to_index = forms.IntegerField(required=False, min_value=0)
