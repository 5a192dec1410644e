from dataclasses import dataclass
from typing import Any

from django import forms
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from anchang.inventory.models import ProjectSettings
from anchang.inventory.registration_fields import REGISTRATION_FIELDS
from anchang.reception.models import VipTier
from anchang.reception.project_settings.services import LIMITS, VIP_MINUTES_BEFORE_MAX, VIP_TASK_ROLES


@dataclass(frozen=True)
class Section:
    key: str
    title: Promise
    fields: tuple[str, ...]


SECTIONS: tuple[Section, ...] = (
    Section(
        "protection",
        _("客户保护与公客池"),
        (
            "protection_days_after_visit",
            "protection_days_after_call",
            "protection_ceiling_days",
            "pool_after_days_without_subscription",
            "pool_claims_per_day",
        ),
    ),
    Section(
        "reception",
        _("接待与登记"),
        (
            "mandatory_registration_fields",
            "require_appointment",
            "designated_consumes_turn",
            "one_customer_at_a_time",
            "reminder_minutes_before",
        ),
    ),
    Section("followups", _("跟进"), ("first_followup_due_hours", "followup_overdue_grace_hours")),
    Section("deals", _("认购与审批"), ("discount_approval_threshold", "sign_within_days")),
    Section("messages", _("短信模板"), ("thank_you_template",)),
)
SECTION_BY_KEY = {section.key: section for section in SECTIONS}


def _form_field(name: str) -> forms.Field:
    if name == "mandatory_registration_fields":
        return forms.MultipleChoiceField(
            label=_("来访登记必填项"),
            choices=list(REGISTRATION_FIELDS.items()),
            required=False,
            widget=forms.CheckboxSelectMultiple,
            help_text=_("前台登记时必须填写的项目；未勾选的项可以留空。"),
        )
    model_field = ProjectSettings._meta.get_field(name)
    extra: dict[str, Any] = {}
    if name in LIMITS:
        extra = {"min_value": LIMITS[name][0], "max_value": LIMITS[name][1]}
    field = model_field.formfield(**extra)  # type: ignore[union-attr]
    assert field is not None, name  # every editable setting is a concrete, editable model field
    if isinstance(field, forms.BooleanField):
        field.widget.attrs["class"] = "form-check-input"
    elif isinstance(field.widget, forms.Textarea):
        field.widget.attrs.update({"class": "form-control", "rows": 3})
    else:
        field.widget.attrs.update({"class": "form-control", "inputmode": "decimal"})
    return field


class SettingsSectionForm(forms.Form):
    """One section of the settings page; its fields are the model's, with the service's bounds."""

    def __init__(self, *args: Any, section: Section, settings: ProjectSettings, **kwargs: Any) -> None:
        kwargs.setdefault("initial", {name: getattr(settings, name) for name in section.fields})
        kwargs["prefix"] = section.key
        super().__init__(*args, **kwargs)
        self.section = section
        for name in section.fields:
            self.fields[name] = _form_field(name)


class VipTaskForm(forms.Form):
    title = forms.CharField(
        label=_("准备事项"), max_length=100, widget=forms.TextInput(attrs={"class": "form-control"})
    )
    assignee_role = forms.ChoiceField(
        label=_("负责角色"),
        choices=[(role.value, role.label) for role in VIP_TASK_ROLES],
        widget=forms.Select(attrs={"class": "form-select"}),
    )
    minutes_before = forms.IntegerField(
        label=_("到访前（分钟）"),
        min_value=0,
        max_value=VIP_MINUTES_BEFORE_MAX,
        widget=forms.NumberInput(attrs={"class": "form-control", "inputmode": "numeric"}),
    )


class VipTaskAddForm(VipTaskForm):
    tier = forms.ChoiceField(
        choices=[(VipTier.TIER_1, VipTier.TIER_1.label), (VipTier.TIER_2, VipTier.TIER_2.label)]
    )
