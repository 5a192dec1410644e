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
    party_size = forms.IntegerField(label=_("来访人数"), min_value=1, max_value=50, initial=1)
    source = forms.ChoiceField(label=_("认知途径"), choices=[("", "—"), *Source.choices], required=False)
    designated_consultant = forms.TypedChoiceField(
        label=_("客户指定顾问"), coerce=int, empty_value=None, required=False
    )
    consent = forms.BooleanField(label=_("访客已知悉并同意隐私告知"), required=True)
    household_of = forms.IntegerField(required=False, widget=forms.HiddenInput, min_value=1)

    def __init__(self, *args: object, consultants: Sequence[User], **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        self.fields["designated_consultant"].choices = [  # type: ignore[attr-defined]
            ("", _("无（按规则判客）")),
            *[(c.pk, c.display_name) for c in consultants],
        ]

    def looks_like_code(self) -> bool:
        value = self.cleaned_data["phone_or_code"].strip()
        return len(value) <= 8 and not value.isdigit()


class OverrideForm(forms.Form):
    consultant = forms.TypedChoiceField(label=_("改派给"), coerce=int)
    reason = forms.CharField(label=_("原因"), max_length=200)

    def __init__(self, *args: object, consultants: Sequence[User], **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        self.fields["consultant"].choices = [(c.pk, c.display_name) for c in consultants]  # type: ignore[attr-defined]


class RotationActionForm(forms.Form):
    consultant = forms.IntegerField(widget=forms.HiddenInput)
    action = forms.ChoiceField(
        choices=[("sign_in", ""), ("waiting", ""), ("away", ""), ("off", ""), ("lost_turn", ""), ("move", "")]
    )
    reason = forms.CharField(max_length=200, required=False)
    to_index = forms.IntegerField(required=False, min_value=0)
