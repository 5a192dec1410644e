"""Forms of the opening-day pages. They check shapes; `deals.opening` owns the rules."""

from dataclasses import fields

from django import forms
from django.http import QueryDict
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from anchang.deals.models import OpeningSession, OrderMethod
from anchang.deals.opening import (
    BUYERS_PER_SLOT_MAX,
    NAME_MAX_LENGTH,
    SLOT_MINUTES_MAX,
    UNITS_PER_BUYER_MAX,
    SessionInput,
)

_INPUT = {"class": "form-control"}
_NUMBER = {"class": "form-control", "inputmode": "numeric"}
_SESSION_FIELDS = [f.name for f in fields(SessionInput)]


class OpeningSessionForm(forms.Form):
    name = forms.CharField(
        label=_("场次名称"),
        max_length=NAME_MAX_LENGTH,
        widget=forms.TextInput(attrs={**_INPUT, "placeholder": _("如：1、2栋首次开盘")}),
    )
    starts_at = forms.DateTimeField(
        label=_("开始时间"),
        input_formats=["%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M", "%Y-%m-%dT%H:%M:%S"],
        widget=forms.DateTimeInput(attrs={**_INPUT, "type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
    )
    order_method = forms.ChoiceField(
        label=_("排序方式"),
        choices=OrderMethod.choices,
        widget=forms.Select(attrs={"class": "form-select"}),
    )
    slot_minutes = forms.IntegerField(
        label=_("每批时长（分钟）"),
        min_value=1,
        max_value=SLOT_MINUTES_MAX,
        widget=forms.NumberInput(_NUMBER),
    )
    buyers_per_slot = forms.IntegerField(
        label=_("每批人数"), min_value=1, max_value=BUYERS_PER_SLOT_MAX, widget=forms.NumberInput(_NUMBER)
    )
    units_per_buyer = forms.IntegerField(
        label=_("每人限选套数"),
        min_value=1,
        max_value=UNITS_PER_BUYER_MAX,
        widget=forms.NumberInput(_NUMBER),
    )

    @classmethod
    def for_session(cls, session: OpeningSession, data: QueryDict | None = None) -> "OpeningSessionForm":
        initial = {name: getattr(session, name) for name in _SESSION_FIELDS}
        initial["starts_at"] = timezone.localtime(session.starts_at).replace(tzinfo=None)
        return cls(data, initial=initial)

    def to_input(self) -> SessionInput:
        return SessionInput(**{name: self.cleaned_data[name] for name in _SESSION_FIELDS})


class ConfirmForm(forms.Form):
    """Opening and closing cannot be undone: a ticked box says the manager means it."""

    confirm = forms.BooleanField(
        label=_("我已确认"),
        error_messages={"required": _("请勾选确认后再提交。")},
        widget=forms.CheckboxInput(attrs={"class": "form-check-input"}),
    )


class BuyerSearchForm(forms.Form):
    q = forms.CharField(
        label=_("选房顺序号、认筹号、姓名或手机尾号"),
        max_length=50,
        required=False,
        widget=forms.TextInput(
            attrs={**_INPUT, "autofocus": True, "placeholder": _("如 12、王、8866"), "autocomplete": "off"}
        ),
    )
