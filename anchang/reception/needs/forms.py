"""The needs + intent form of the visit page: money typed in 万, stored in yuan.

The form only parses what was typed; the rules (ranges, min ≤ max, known buildings …) live in
`anchang.customers.needs`, whose field errors are shown next to the same-named fields here.
"""

from decimal import ROUND_HALF_UP, Decimal
from typing import TYPE_CHECKING, Any

from django import forms
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from anchang.core.errors import DomainError
from anchang.customers.models import IntentLevel, Needs, Purpose
from anchang.customers.needs import (
    AREA_FIELDS,
    BEDROOMS_FEWEST,
    BEDROOMS_MOST,
    MONEY_FIELDS,
    NEEDS_FIELDS,
    TEXT_LIMITS,
    plain_number,
)
from anchang.inventory.models import Orientation

if TYPE_CHECKING:
    from django.utils.functional import _StrOrPromise as StrOrPromise

WAN = Decimal(10000)


def _number_field(
    label: "StrOrPromise",
    *,
    invalid: "StrOrPromise",
    inputmode: str = "numeric",
    decimal_places: int | None = None,
) -> forms.Field:
    """A numeric input that brings up the phone's number keypad; whole numbers unless `decimal_places`."""
    widget = forms.TextInput(attrs={"inputmode": inputmode, "autocomplete": "off", "class": "form-control"})
    if decimal_places is None:
        return forms.IntegerField(
            label=label, required=False, error_messages={"invalid": invalid}, widget=widget
        )
    return forms.DecimalField(
        label=label,
        required=False,
        decimal_places=decimal_places,
        error_messages={"invalid": invalid},
        widget=widget,
    )


def _wan_field(label: "StrOrPromise") -> forms.Field:
    # Whole 万 is how budgets are spoken ("300 到 350 万"): the numeric keypad is enough on phones;
    # four decimals keep any yuan amount exact.
    return _number_field(label, invalid=_("请输入数字（单位：万），如 300。"), decimal_places=4)


def _area_field(label: "StrOrPromise") -> forms.Field:
    return _number_field(
        label, invalid=_("请输入数字（单位：㎡），如 98.5。"), inputmode="decimal", decimal_places=2
    )


def _floor_field(label: "StrOrPromise") -> forms.Field:
    return _number_field(label, invalid=_("请输入整数楼层，如 12。"))


def _text_field(label: "StrOrPromise", field: str, *, rows: int = 0) -> forms.CharField:
    widget: forms.Widget = (
        forms.Textarea(attrs={"rows": rows, "class": "form-control"})
        if rows
        else forms.TextInput(attrs={"class": "form-control"})
    )
    return forms.CharField(label=label, required=False, max_length=TEXT_LIMITS[field], widget=widget)


class NeedsForm(forms.Form):
    intent_level = forms.ChoiceField(
        label=_("意向等级"), required=False, choices=IntentLevel.choices, widget=forms.RadioSelect
    )
    purpose = forms.ChoiceField(
        label=_("置业目的"),
        required=False,
        choices=[("", _("未填")), *Purpose.choices],
        widget=forms.Select(attrs={"class": "form-select"}),
    )
    budget_min = _wan_field(_("预算下限（万）"))
    budget_max = _wan_field(_("预算上限（万）"))
    down_payment = _wan_field(_("首付（万）"))
    bedrooms = forms.TypedChoiceField(
        label=_("居室"),
        required=False,
        coerce=int,
        empty_value=None,
        widget=forms.Select(attrs={"class": "form-select"}),
    )
    area_min = _area_field(_("面积下限（㎡）"))
    area_max = _area_field(_("面积上限（㎡）"))
    floor_min = _floor_field(_("最低楼层"))
    floor_max = _floor_field(_("最高楼层"))
    orientation = forms.ChoiceField(
        label=_("朝向"),
        required=False,
        choices=[("", _("不限")), *Orientation.choices],
        widget=forms.Select(attrs={"class": "form-select"}),
    )
    buildings = forms.MultipleChoiceField(
        label=_("意向楼栋"), required=False, widget=forms.CheckboxSelectMultiple
    )
    decision_makers = _text_field(_("决策人"), "decision_makers")
    concerns = _text_field(_("抗性"), "concerns", rows=2)
    residence = _text_field(_("现居住区域"), "residence")
    workplace_area = _text_field(_("工作区域"), "workplace_area")

    def __init__(self, *args: Any, building_names: list[str], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # Built per form, not at import: "3室" must follow the request's language.
        self.fields["bedrooms"].choices = [  # type: ignore[attr-defined]
            ("", gettext("不限")),
            *[(n, gettext("%(n)d室") % {"n": n}) for n in range(BEDROOMS_FEWEST, BEDROOMS_MOST + 1)],
        ]
        # Names stored earlier but since removed stay selectable, so that the service can say so.
        stored = [name for name in self.initial.get("buildings") or [] if name not in building_names]
        self.fields["buildings"].choices = [(name, name) for name in [*building_names, *stored]]  # type: ignore[attr-defined]

    @staticmethod
    def initial_for(needs: Needs | None, intent_level: str) -> dict[str, object]:
        initial: dict[str, object] = {"intent_level": intent_level}
        if needs is None:
            return initial
        for field in NEEDS_FIELDS:
            value = getattr(needs, field)
            if field in MONEY_FIELDS and value is not None:
                value = plain_number((value / WAN).quantize(Decimal("0.0001"), ROUND_HALF_UP))
            elif field in AREA_FIELDS and value is not None:
                value = plain_number(value)
            initial[field] = value
        return initial

    def needs_fields(self) -> dict[str, object]:
        """The cleaned needs, money converted from 万 to yuan (blank fields clear the stored value)."""
        data = self.cleaned_data
        fields: dict[str, object] = {field: data.get(field) for field in NEEDS_FIELDS}
        for field in MONEY_FIELDS:
            if fields[field] is not None:
                fields[field] = (Decimal(str(fields[field])) * WAN).quantize(Decimal("0.01"), ROUND_HALF_UP)
        return fields

    def intent_level_value(self) -> str | None:
        """The chosen level, or None to leave it as it is (levels are changed, never cleared)."""
        return self.cleaned_data.get("intent_level") or None

    def add_domain_error(self, error: DomainError) -> None:
        for field, message in error.fields.items():
            self.add_error(field if field in self.fields else None, message)
        if not error.fields:
            self.add_error(None, error.message)

    def mark_invalid_fields(self) -> None:
        """Bootstrap's red outline and `aria-invalid` on fields with errors (after validation)."""
        for name in self.errors:
            if name in self.fields:
                attrs = self.fields[name].widget.attrs
                attrs["class"] = f"{attrs.get('class', '')} is-invalid".strip()
                attrs["aria-invalid"] = "true"
                attrs["aria-describedby"] = f"{self[name].auto_id}_errors"
