"""Forms of the deal pages. They check shape (numbers, dates, lengths); the services decide."""

from datetime import date
from decimal import Decimal

from django import forms
from django.utils.translation import gettext_lazy as _
from django_stubs_ext import StrOrPromise as Label

from anchang.deals.models import PaymentMethod, SubscriptionStatus
from anchang.deals.services import CONTRACT_NUMBER_MAX_LENGTH, REASON_MAX_LENGTH

DATETIME_LOCAL = "%Y-%m-%dT%H:%M"
_MONEY_ERRORS = {
    "invalid": _("请输入金额（数字，单位：元）。"),
    "max_digits": _("金额位数过多。"),
    "max_decimal_places": _("金额最多保留两位小数。"),
    "max_whole_digits": _("金额位数过多。"),
}
_MONEY_ATTRS = {"inputmode": "decimal", "class": "form-control", "autocomplete": "off"}


def _money(label: Label, *, required: bool = True) -> forms.DecimalField:
    return forms.DecimalField(
        label=label,
        required=required,
        max_digits=14,
        decimal_places=2,
        error_messages=_MONEY_ERRORS,
        widget=forms.TextInput(attrs=_MONEY_ATTRS),
    )


def _reason_field(label: Label, *, required: bool, placeholder: Label = "") -> forms.CharField:
    return forms.CharField(
        label=label,
        required=required,
        max_length=REASON_MAX_LENGTH,
        strip=True,
        widget=forms.TextInput(attrs={"class": "form-control", "placeholder": placeholder}),
        error_messages={"required": _("请填写原因。")},
    )


def _picked(label: Label, *, missing: Label) -> forms.IntegerField:
    """The id of the row chosen in a select (a customer, a unit): blank or not a number is `missing`;
    the bounds keep a forged id inside the database's integer."""
    return forms.IntegerField(
        label=label,
        min_value=1,
        max_value=2**63 - 1,
        error_messages={"required": missing, "invalid": missing},
        widget=forms.Select(attrs={"class": "form-select"}),
    )


def _date(label: Label) -> forms.DateField:
    return forms.DateField(
        label=label,
        required=False,
        widget=forms.DateInput(attrs={"type": "date", "class": "form-control"}, format="%Y-%m-%d"),
    )


class HoldForm(forms.Form):
    reason = _reason_field(_("销控原因"), required=True, placeholder=_("如：领导预留、价格调整"))
    expires_at = forms.DateTimeField(
        label=_("到期自动解除（可选）"),
        required=False,
        input_formats=[DATETIME_LOCAL, "%Y-%m-%d %H:%M", "%Y-%m-%d %H:%M:%S"],
        widget=forms.DateTimeInput(
            attrs={"type": "datetime-local", "class": "form-control"}, format=DATETIME_LOCAL
        ),
        error_messages={"invalid": _("请选择正确的日期和时间。")},
    )


class ReleaseForm(forms.Form):
    reason = _reason_field(_("解除原因"), required=True, placeholder=_("如：按计划放盘"))


class SubscriptionForm(forms.Form):
    customer = _picked(_("客户"), missing=_("请选择客户。"))
    price = _money(_("成交总价（元）"))
    deposit = _money(_("定金（元）"))
    payment_method = forms.ChoiceField(
        label=_("付款方式"),
        choices=[("", _("请选择")), *PaymentMethod.choices],
        widget=forms.Select(attrs={"class": "form-select"}),
        error_messages={
            "required": _("请选择付款方式。"),
            "invalid_choice": _("请选择付款方式。"),
        },
    )
    discount_reason = _reason_field(
        _("优惠原因（低于表价时必填）"), required=False, placeholder=_("如：老带新、一次性付款优惠")
    )
    use_reservation = forms.BooleanField(
        label=_("使用该客户的认筹（认筹转认购）"), required=False, initial=True
    )
    claim_from_pool = forms.BooleanField(
        label=_("客户在公客池时：认领并认购（计入今日认领上限）"), required=False
    )
    disclosure_override_reason = _reason_field(
        _("经理放行理由（客户未确认风险提示时）"), required=False, placeholder=_("选填，仅案场经理")
    )


def require_discount_reason(form: forms.Form, *, list_price: Decimal) -> bool:
    """A price below list needs its reason (the manager approves on it); False if it was missing."""
    price = form.cleaned_data.get("price")
    if isinstance(price, Decimal) and price < list_price and not form.cleaned_data.get("discount_reason"):
        form.add_error("discount_reason", _("成交价低于表价，请填写优惠原因。"))
        return False
    return True


class ContractForm(forms.Form):
    contract_number = forms.CharField(
        label=_("合同编号（留空自动编号）"),
        required=False,
        max_length=CONTRACT_NUMBER_MAX_LENGTH,
        widget=forms.TextInput(attrs={"class": "form-control", "autocomplete": "off"}),
    )


class CancelForm(forms.Form):
    # ui.md: destructive actions ask for a reason (the API may omit it, api.md).
    reason = _reason_field(_("退订原因"), required=True, placeholder=_("如：客户资金原因"))


class DecisionForm(forms.Form):
    note = _reason_field(_("审批意见"), required=False, placeholder=_("选填"))


class ChangeUnitForm(forms.Form):
    unit = _picked(_("换至房源"), missing=_("请选择要换的房源。"))
    price = _money(_("新成交总价（元，留空按原折扣计算）"), required=False)
    deposit = _money(_("定金（元，留空沿用原定金）"), required=False)
    reason = _reason_field(_("换房原因"), required=True, placeholder=_("如：客户改选高楼层"))


class ReservationForm(forms.Form):
    customer = _picked(_("客户"), missing=_("请选择客户。"))
    amount = _money(_("认筹金（元）"))


class SubscriptionFilterForm(forms.Form):
    status = forms.ChoiceField(
        label=_("状态"),
        required=False,
        choices=[("", _("全部状态")), *SubscriptionStatus.choices],
        widget=forms.Select(attrs={"class": "form-select"}),
    )
    date_from = _date(_("认购日期从"))
    date_to = _date(_("至"))

    def clean(self) -> dict[str, object]:
        data = super().clean() or {}
        start, end = data.get("date_from"), data.get("date_to")
        if isinstance(start, date) and isinstance(end, date) and start > end:
            self.add_error("date_to", _("结束日期不能早于开始日期。"))
        return data


class SummaryRangeForm(forms.Form):
    """Dates only: which ranges the summary takes (order, length, calendar ends) is the rule of
    `summary.sales_summary`, whose refusal the page shows under the field it names."""

    date_from = _date(_("开始日期"))
    date_to = _date(_("结束日期"))
