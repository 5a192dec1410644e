"""Forms of the appointment pages. They check shapes; the services own the rules."""

from datetime import date, datetime, time, timedelta

from django import forms
from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from anchang.accounts.models import User
from anchang.core.errors import PhoneInvalid
from anchang.core.phones import normalize_mainland_mobile
from anchang.customers.models import Gender, Source
from anchang.reception.appointments import (
    NAME_MAX_LENGTH,
    NOTE_MAX_LENGTH,
    PARTY_SIZE_MAX,
    REASON_MAX_LENGTH,
)
from anchang.reception.models import VipTier

# Public booking page: which days and times a visitor may pick. Sales halls open 09:00–18:00, the
# last visit starts half an hour before closing. Today is offered while a slot is still ahead.
BOOKING_DAYS_AHEAD = 14
BOOKING_FIRST_SLOT = time(9, 0)
BOOKING_LAST_SLOT = time(17, 30)
BOOKING_SLOT_MINUTES = 30

_WEEKDAYS = (_("周一"), _("周二"), _("周三"), _("周四"), _("周五"), _("周六"), _("周日"))


def booking_slots(day: date, now: datetime) -> list[tuple[str, str]]:
    """The day's visit times; for today only those still ahead of `now`."""
    slots = []
    current = datetime.combine(day, BOOKING_FIRST_SLOT)
    last = datetime.combine(day, BOOKING_LAST_SLOT)
    while current <= last:
        if timezone.make_aware(current) > now:
            slots.append((f"{current:%H:%M}", f"{current:%H:%M}"))
        current += timedelta(minutes=BOOKING_SLOT_MINUTES)
    return slots


def booking_days(now: datetime) -> list[tuple[str, str]]:
    today = timezone.localdate(now)
    days = [today + timedelta(days=n) for n in range(BOOKING_DAYS_AHEAD + 1)]
    if not booking_slots(today, now):
        days = days[1:]
    return [(d.isoformat(), f"{d:%m-%d} {_WEEKDAYS[d.weekday()]}") for d in days]


def _aware(day: date, at: time) -> datetime:
    return timezone.make_aware(datetime.combine(day, at.replace(second=0, microsecond=0)))


def _check_mobile(value: str) -> str:
    try:
        normalize_mainland_mobile(value)
    except PhoneInvalid as error:
        raise ValidationError(error.fields.get("phone", error.message)) from None
    return value


_PHONE_ATTRS = {
    "class": "form-control form-control-lg",
    "inputmode": "numeric",
    "autocomplete": "tel",
    "placeholder": _("11 位手机号"),
}


class PublicBookingForm(forms.Form):
    """The visitor's booking. Every message is the project's own wording (the page is public and
    Django's stock ones, such as "这个字段是必填项。", do not say which field or what to do)."""

    name = forms.CharField(
        label=_("您的姓名"),
        max_length=NAME_MAX_LENGTH,
        error_messages={
            "required": _("请填写您的姓名"),
            "max_length": _("姓名最多 %(limit_value)d 个字"),
        },
        widget=forms.TextInput(attrs={"class": "form-control form-control-lg", "autocomplete": "name"}),
    )
    # Optional: the site then greets 王先生 / 王女士 on its screens instead of 王**.
    gender = forms.ChoiceField(
        label=_("称呼（可选）"),
        required=False,
        choices=[("", _("不填")), (Gender.MALE, _("先生")), (Gender.FEMALE, _("女士"))],
        error_messages={"invalid_choice": _("请从列表中选择称呼")},
        widget=forms.Select(attrs={"class": "form-select form-select-lg"}),
    )
    phone = forms.CharField(
        label=_("手机号"),
        max_length=20,
        error_messages={"required": _("请填写手机号"), "max_length": _("请填写 11 位手机号")},
        widget=forms.TextInput(attrs=_PHONE_ATTRS),
    )
    day = forms.ChoiceField(
        label=_("到访日期"),
        error_messages={
            "required": _("请选择到访日期"),
            "invalid_choice": _("请从列表中选择到访日期"),
        },
        widget=forms.Select(attrs={"class": "form-select form-select-lg"}),
    )
    slot = forms.ChoiceField(
        label=_("到访时间"),
        error_messages={
            "required": _("请选择到访时间"),
            "invalid_choice": _("该时间已过或不在可预约时段内，请重新选择"),
        },
        widget=forms.Select(attrs={"class": "form-select form-select-lg"}),
    )
    party_size = forms.TypedChoiceField(
        label=_("来访人数"),
        coerce=int,
        choices=[(n, n) for n in range(1, PARTY_SIZE_MAX + 1)],
        initial=2,
        error_messages={
            "required": _("请选择来访人数"),
            "invalid_choice": _("请从列表中选择来访人数"),
        },
        widget=forms.Select(attrs={"class": "form-select form-select-lg"}),
    )
    consultant = forms.TypedChoiceField(
        label=_("指定置业顾问（可选）"),
        required=False,
        coerce=int,
        empty_value=None,
        error_messages={"invalid_choice": _("请从列表中选择置业顾问")},
        widget=forms.Select(attrs={"class": "form-select form-select-lg"}),
    )
    source = forms.ChoiceField(
        label=_("您是如何了解到本项目的"),
        choices=[("", _("请选择")), *Source.choices],
        error_messages={
            "required": _("请选择您是如何了解到本项目的"),
            "invalid_choice": _("请从列表中选择了解途径"),
        },
        widget=forms.Select(attrs={"class": "form-select form-select-lg"}),
    )
    consent = forms.BooleanField(
        label=_("我已阅读并同意上述个人信息告知"),
        error_messages={"required": _("请先阅读并同意隐私告知")},
        widget=forms.CheckboxInput(attrs={"class": "form-check-input"}),
    )

    def __init__(self, *args: object, consultants: list[User], now: datetime, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        self._consultants = {c.pk: c for c in consultants}
        days = booking_days(now)
        self.fields["day"].choices = days  # type: ignore[attr-defined]
        # The times offered are those of the day picked (the page reloads them when the day
        # changes), so today's passed slots are neither shown nor accepted.
        picked = self["day"].value()
        if picked not in {value for value, _label in days}:
            picked = days[0][0]
        self.fields["slot"].choices = booking_slots(date.fromisoformat(picked), now)  # type: ignore[attr-defined]
        self.fields["consultant"].choices = [  # type: ignore[attr-defined]
            ("", _("不指定，由案场安排")),
            *[(c.pk, c.display_name) for c in consultants],
        ]

    def clean_phone(self) -> str:
        return _check_mobile(self.cleaned_data["phone"])

    def start_at(self) -> datetime:
        data = self.cleaned_data
        return _aware(date.fromisoformat(data["day"]), time.fromisoformat(data["slot"]))

    def chosen_consultant(self) -> User | None:
        chosen = self.cleaned_data.get("consultant")
        return self._consultants.get(chosen) if chosen is not None else None


class StaffAppointmentForm(forms.Form):
    """The front desk or a consultant books a visit someone asked for by phone."""

    name = forms.CharField(label=_("客户姓名"), max_length=NAME_MAX_LENGTH)
    gender = forms.ChoiceField(label=_("性别"), choices=[("", _("不填")), *Gender.choices], required=False)
    phone = forms.CharField(
        label=_("手机号"),
        max_length=20,
        widget=forms.TextInput(attrs={**_PHONE_ATTRS, "class": "form-control"}),
    )
    day = forms.DateField(label=_("日期"), widget=forms.DateInput(attrs={"type": "date"}))
    at = forms.TimeField(label=_("时间"), widget=forms.TimeInput(attrs={"type": "time", "step": 300}))
    party_size = forms.IntegerField(
        label=_("来访人数"),
        min_value=1,
        max_value=PARTY_SIZE_MAX,
        initial=1,
        widget=forms.NumberInput(attrs={"inputmode": "numeric"}),
    )
    consultant = forms.ModelChoiceField(
        label=_("指定顾问"), queryset=User.objects.none(), required=False, empty_label=_("不指定")
    )
    source = forms.ChoiceField(
        label=_("认知途径"), choices=[("", _("请选择")), *Source.choices], required=False
    )
    vip_tier = forms.ChoiceField(label=_("接待等级"), choices=VipTier.choices, initial=VipTier.GENERAL)
    note = forms.CharField(label=_("备注"), max_length=NOTE_MAX_LENGTH, required=False)
    consent = forms.BooleanField(
        label=_("已向客户说明隐私告知并取得同意"),
        error_messages={"required": _("请先阅读并同意隐私告知")},
    )

    def __init__(self, *args: object, consultants: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        self.fields["consultant"].queryset = consultants  # type: ignore[attr-defined]
        self.fields["consultant"].label_from_instance = lambda user: user.display_name  # type: ignore[attr-defined]
        for name, field in self.fields.items():
            css = (
                "form-check-input"
                if name == "consent"
                else "form-select"
                if isinstance(field, forms.ChoiceField)
                else "form-control"
            )
            field.widget.attrs.setdefault("class", css)

    def clean_phone(self) -> str:
        return _check_mobile(self.cleaned_data["phone"])

    def start_at(self) -> datetime:
        return _aware(self.cleaned_data["day"], self.cleaned_data["at"])


class RescheduleForm(forms.Form):
    day = forms.DateField(
        label=_("新日期"), widget=forms.DateInput(attrs={"type": "date", "class": "form-control"})
    )
    at = forms.TimeField(
        label=_("新时间"),
        widget=forms.TimeInput(attrs={"type": "time", "step": 300, "class": "form-control"}),
    )

    def start_at(self) -> datetime:
        return _aware(self.cleaned_data["day"], self.cleaned_data["at"])


class CancelForm(forms.Form):
    reason = forms.CharField(
        label=_("取消原因"),
        max_length=REASON_MAX_LENGTH,
        widget=forms.TextInput(
            attrs={"class": "form-control", "placeholder": _("如：客户来电改约、行程变化")}
        ),
        error_messages={"required": _("请填写取消原因。")},
    )
    confirm = forms.BooleanField(
        label=_("确认取消该预约（取消后不可恢复）"),
        error_messages={"required": _("请勾选确认。")},
        widget=forms.CheckboxInput(attrs={"class": "form-check-input"}),
    )


# The calendar pages look this far back and ahead; beyond it a date is a typo (and year 9999 would
# overflow when the week's end is computed).
CALENDAR_RANGE = timedelta(days=3 * 366)
CalendarDay = date  # the filter field is called `date`, which shadows the type inside the form class


class AppointmentFilterForm(forms.Form):
    date = forms.DateField(required=False)
    mine = forms.BooleanField(required=False)

    def day(self, default: CalendarDay) -> CalendarDay:
        if self.is_valid() and self.cleaned_data.get("date"):
            chosen: CalendarDay = self.cleaned_data["date"]
            if abs(chosen - default) <= CALENDAR_RANGE:
                return chosen
        return default

    def only_mine(self) -> bool:
        return bool(self.is_valid() and self.cleaned_data.get("mine"))
