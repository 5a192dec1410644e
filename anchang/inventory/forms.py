from decimal import Decimal

from django import forms
from django.utils.translation import gettext_lazy as _

from anchang.inventory.models import Building, Project, UnitStatus
from anchang.inventory.selectors import BoardFilters

_WAN = Decimal(10000)


class BoardFilterForm(forms.Form):
    building = forms.TypedChoiceField(label=_("楼栋"), required=False, coerce=int, empty_value=None)
    bedrooms = forms.TypedChoiceField(
        label=_("户型"),
        required=False,
        coerce=int,
        empty_value=None,
        choices=[("", _("全部户型")), *[(n, _("%(n)s室") % {"n": n}) for n in range(1, 7)]],
    )
    status = forms.ChoiceField(
        label=_("状态"), required=False, choices=[("", _("全部状态")), *UnitStatus.choices]
    )
    min_wan = forms.DecimalField(
        label=_("最低总价（万）"), required=False, min_value=0, max_digits=8, decimal_places=2
    )
    max_wan = forms.DecimalField(
        label=_("最高总价（万）"), required=False, min_value=0, max_digits=8, decimal_places=2
    )

    def __init__(self, *args: object, project: Project, buildings: list[Building], **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        self.fields["building"].choices = [("", _("全部楼栋")), *[(b.pk, b.name) for b in buildings]]  # type: ignore[attr-defined]

    def clean(self) -> dict[str, object]:
        data = super().clean() or {}
        low, high = data.get("min_wan"), data.get("max_wan")
        if low is not None and high is not None and low > high:
            self.add_error("max_wan", _("最高总价不能低于最低总价。"))
        return data

    def to_filters(self) -> BoardFilters:
        if not self.is_valid():
            return BoardFilters()
        data = self.cleaned_data
        return BoardFilters(
            building_id=data.get("building"),
            bedrooms=data.get("bedrooms"),
            status=data.get("status") or None,
            min_total=data["min_wan"] * _WAN if data.get("min_wan") is not None else None,
            max_total=data["max_wan"] * _WAN if data.get("max_wan") is not None else None,
        )


class UnitStatusForm(forms.Form):
    status = forms.ChoiceField(label=_("新状态"), choices=UnitStatus.choices)
    reason = forms.CharField(
        label=_("原因"),
        max_length=100,
        widget=forms.TextInput(attrs={"placeholder": _("如：领导预留、价格调整")}),
    )


class UnitImportForm(forms.Form):
    file = forms.FileField(
        label=_("房源 Excel 文件（.xlsx）"),
        widget=forms.ClearableFileInput(
            attrs={"accept": ".xlsx,application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"}
        ),
    )
