from datetime import date, datetime, timedelta

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from anchang.customers.models import IntentLevel
from anchang.followups.models import Method
from anchang.followups.selectors import CALLBACK_DAYS_DEFAULT, CALLBACK_DAYS_MAX
from anchang.followups.services import COMMENTS_MAX_LENGTH, CONTENT_MAX_LENGTH, RESULT_CHOICES

DATETIME_LOCAL = "%Y-%m-%dT%H:%M"
# Quick picks for the next follow-up on a phone: one tap instead of a date picker.
NEXT_IN_CHOICES = [
    ("", _("不安排")),
    ("1", _("明天")),
    ("3", _("3 天后")),
    ("7", _("一周后")),
    ("custom", _("指定时间")),
]


class FollowUpForm(forms.Form):
    method = forms.ChoiceField(
        label=_("方式"), choices=Method.choices, initial=Method.PHONE, widget=forms.RadioSelect
    )
    content = forms.CharField(
        label=_("跟进内容"),
        max_length=CONTENT_MAX_LENGTH,
        widget=forms.Textarea(attrs={"rows": 3, "placeholder": _("聊了什么、客户怎么说、有什么顾虑")}),
        error_messages={"required": _("请填写跟进内容：聊了什么、客户怎么说。")},
    )
    result = forms.ChoiceField(
        label=_("结果"), choices=[("", _("未填")), *RESULT_CHOICES], required=False, widget=forms.RadioSelect
    )
    intent_level = forms.ChoiceField(
        label=_("意向等级"),
        choices=[("", _("不变")), *IntentLevel.choices],
        required=False,
        widget=forms.Select(attrs={"class": "form-select"}),
    )
    next_in = forms.ChoiceField(
        label=_("下次跟进"),
        choices=NEXT_IN_CHOICES,
        required=False,
        widget=forms.Select(attrs={"class": "form-select"}),
    )
    next_due_at = forms.DateTimeField(
        label=_("指定下次跟进时间"),
        required=False,
        input_formats=[DATETIME_LOCAL, "%Y-%m-%d %H:%M", "%Y-%m-%d %H:%M:%S"],
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format=DATETIME_LOCAL),
    )

    def clean(self) -> dict[str, object]:
        data = super().clean() or {}
        choice = data.get("next_in") or ""
        if choice == "custom":
            if not data.get("next_due_at"):
                self.add_error("next_due_at", _("请选择下次跟进时间。"))
        elif choice:
            data["next_due_at"] = timezone.now() + timedelta(days=int(choice))
        else:
            data["next_due_at"] = data.get("next_due_at")
        return data

    def next_due(self) -> datetime | None:
        value = self.cleaned_data.get("next_due_at")
        return value if isinstance(value, datetime) else None


class CallbackForm(forms.Form):
    reached = forms.TypedChoiceField(
        label=_("是否接通"),
        coerce=lambda value: value == "yes",
        choices=[("yes", _("已接通")), ("no", _("未接通"))],
        initial="yes",
        # Left out (an older form, a script): answered, as the API's default (see clean).
        required=False,
        empty_value=None,
        widget=forms.RadioSelect,
        error_messages={"required": _("请选择是否接通。"), "invalid_choice": _("请选择是否接通。")},
    )
    satisfaction = forms.TypedChoiceField(
        label=_("满意度"),
        required=False,
        empty_value=None,
        coerce=int,
        choices=[
            (5, _("5 非常满意")),
            (4, _("4 满意")),
            (3, _("3 一般")),
            (2, _("2 不满意")),
            (1, _("1 很不满意")),
        ],
        widget=forms.RadioSelect,
        error_messages={
            "required": _("满意度请选择 1–5 分。"),
            "invalid_choice": _("满意度请选择 1–5 分。"),
        },
    )
    comments = forms.CharField(
        label=_("客户意见"),
        max_length=COMMENTS_MAX_LENGTH,
        required=False,
        widget=forms.Textarea(attrs={"rows": 3, "placeholder": _("客户对接待、讲解、顾问的评价与建议")}),
    )

    def clean(self) -> dict[str, object]:
        data = super().clean() or {}
        data["reached"] = data.get("reached") is not False
        # A call nobody answered has no score; an answered one must have one.
        if not data["reached"]:
            data["satisfaction"] = None
        elif data.get("satisfaction") is None and "satisfaction" not in self.errors:
            self.add_error("satisfaction", _("满意度请选择 1–5 分。"))
        return data


class CallbackDaysForm(forms.Form):
    days = forms.IntegerField(
        label=_("最近天数"),
        min_value=1,
        max_value=CALLBACK_DAYS_MAX,
        required=False,
        initial=CALLBACK_DAYS_DEFAULT,
    )

    def days_or_default(self) -> int:
        if self.is_valid() and self.cleaned_data.get("days"):
            return int(self.cleaned_data["days"])
        return CALLBACK_DAYS_DEFAULT


class DateRangeForm(forms.Form):
    date_from = forms.DateField(
        label=_("开始日期"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    date_to = forms.DateField(
        label=_("结束日期"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )

    # A year at most: the report is per consultant, not an archive export.
    MAX_DAYS = 366

    def clean(self) -> dict[str, object]:
        data = super().clean() or {}
        start, end = data.get("date_from"), data.get("date_to")
        if isinstance(start, date) and isinstance(end, date):
            if start > end:
                self.add_error("date_to", _("结束日期不能早于开始日期。"))
            elif (end - start).days > self.MAX_DAYS:
                self.add_error("date_to", _("一次最多查询一年。"))
        return data

    def range(self, *, default_days: int = 30) -> tuple[date, date]:
        today = timezone.localdate()
        data = self.cleaned_data if self.is_valid() else {}
        end = data.get("date_to") or today
        start = data.get("date_from") or end - timedelta(days=default_days - 1)
        return start, end
