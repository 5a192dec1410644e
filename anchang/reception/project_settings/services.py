"""Writes of the project's rules and VIP checklists, validated the same way for the page and the API."""

import string
from collections.abc import Mapping
from typing import Final

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from anchang.accounts.models import Role, User
from anchang.core.errors import Conflict, Forbidden, InvalidInput, NotFound
from anchang.inventory.models import Project, ProjectSettings
from anchang.inventory.registration_fields import validate_registration_fields
from anchang.reception.models import VipTaskTemplate
from anchang.reception.vip import VIP_TIERS, vip_templates_ensure_defaults

# The fields this area edits. The queue's mode and team rule have their own form on the fairness
# page (reception.teams), the tour route its editor (stations); the webhook is the admin's.
EDITABLE: Final = (
    "protection_days_after_visit",
    "protection_days_after_call",
    "protection_ceiling_days",
    "pool_after_days_without_subscription",
    "pool_claims_per_day",
    "require_appointment",
    "designated_consumes_turn",
    "one_customer_at_a_time",
    "mandatory_registration_fields",
    "reminder_minutes_before",
    "first_followup_due_hours",
    "followup_overdue_grace_hours",
    "discount_approval_threshold",
    "sign_within_days",
    "thank_you_template",
)

# Rules a check-in's attribution is judged by (reception.services reads them when it judges a
# visitor): changing one starts a new rule set, so each attribution record names the rules it met.
JUDGING_RULES: Final = frozenset(
    {
        "protection_days_after_visit",
        "protection_days_after_call",
        "protection_ceiling_days",
        "require_appointment",
        "designated_consumes_turn",
        "one_customer_at_a_time",
    }
)

# Sensible bounds: a 0-day protection would hand every customer to the pool at once, a thousand
# claims a day would empty it in a morning, and an SMS reminder a week early is no reminder.
LIMITS: Final[dict[str, tuple[int, int]]] = {
    "protection_days_after_visit": (1, 365),
    "protection_days_after_call": (1, 365),
    "protection_ceiling_days": (1, 730),
    "pool_after_days_without_subscription": (1, 730),
    "pool_claims_per_day": (0, 100),
    "reminder_minutes_before": (5, 1440),
    "first_followup_due_hours": (1, 168),
    "followup_overdue_grace_hours": (1, 720),
    "discount_approval_threshold": (0, 100),
    "sign_within_days": (1, 90),
}

THANK_YOU_PLACEHOLDERS: Final = ("name", "project", "consultant")
# Three SMS segments of 70 characters; longer texts are split, billed per part and read badly.
THANK_YOU_MAX_LENGTH: Final = 210

VIP_TASK_ROLES: Final = (Role.MANAGER, Role.FRONTDESK, Role.CONSULTANT, Role.ATTENDANT)
# A day ahead is the earliest a preparation task is worth scheduling.
VIP_MINUTES_BEFORE_MAX: Final = 1440


def _require_manager(by: User) -> None:
    if not by.is_site_manager:
        raise Forbidden(_("只有案场经理可以修改项目设置。"))


def _thank_you_error(template: str) -> str | None:
    if not template.strip():
        return _("请填写短信内容。")
    if len(template) > THANK_YOU_MAX_LENGTH:
        return _("短信不能超过 %(n)s 个字。") % {"n": THANK_YOU_MAX_LENGTH}
    try:
        fields = [
            field for _text, field, _spec, _conv in string.Formatter().parse(template) if field is not None
        ]
    except ValueError:
        return _("花括号 { } 须成对，且只用于占位。")
    unknown = [field for field in fields if field not in THANK_YOU_PLACEHOLDERS]
    if unknown:
        return _("不认识的占位：%(unknown)s。可用：{name} {project} {consultant}。") % {
            "unknown": "、".join("{" + field + "}" for field in unknown)
        }
    return None


def _rule_errors(settings: ProjectSettings, names: set[str]) -> dict[str, str]:
    """The messages of the rules among `names` that the instance's values break, by field."""
    errors: dict[str, str] = {}
    try:
        settings.clean_fields(exclude=[f.name for f in settings._meta.fields if f.name not in names])
    except ValidationError as error:
        errors.update({name: " ".join(messages) for name, messages in error.message_dict.items()})
    for name, (low, high) in LIMITS.items():
        value = getattr(settings, name)
        if name in names and name not in errors and not low <= value <= high:
            errors[name] = _("须在 %(low)s 到 %(high)s 之间。") % {"low": low, "high": high}
    if "mandatory_registration_fields" in names:
        try:
            validate_registration_fields(settings.mandatory_registration_fields)
        except ValidationError as error:
            errors["mandatory_registration_fields"] = " ".join(error.messages)
    if "thank_you_template" in names and (message := _thank_you_error(settings.thank_you_template)):
        errors["thank_you_template"] = message
    if (
        names & {"protection_ceiling_days", "protection_days_after_call"}
        and not errors.keys() & {"protection_ceiling_days", "protection_days_after_call"}
        and settings.protection_ceiling_days < settings.protection_days_after_call
    ):
        errors["protection_ceiling_days"] = _("不能短于来电后保护天数（%(days)s 天）。") % {
            "days": settings.protection_days_after_call
        }
    return errors


@transaction.atomic
def project_settings_update(*, project: Project, by: User, changes: Mapping[str, object]) -> ProjectSettings:
    """Change some of the project's rules; all are checked first and nothing is saved if one is wrong.

    A real change writes one history row naming `by`; a change of a judging rule raises
    `rule_set_version`. Values equal to the current ones change nothing.
    """
    _require_manager(by)
    unknown = sorted(set(changes) - set(EDITABLE))
    if unknown:
        raise InvalidInput(fields={name: _("这一项不能在这里修改。") for name in unknown})
    # The row lock serialises two managers saving at once, so the version is raised once per change.
    settings, _created = ProjectSettings.objects.select_for_update().get_or_create(project=project)
    before = {name: getattr(settings, name) for name in changes}
    for name, value in changes.items():
        setattr(settings, name, value)
    errors = _rule_errors(settings, set(changes))
    if errors:
        raise InvalidInput(fields=errors)
    changed = {name for name in changes if getattr(settings, name) != before[name]}
    if not changed:
        return settings
    if changed & JUDGING_RULES:
        settings.rule_set_version += 1
    settings._history_user = by  # type: ignore[attr-defined]
    settings.save()
    return settings


def _clean_vip_task(*, title: str, assignee_role: str, minutes_before: int) -> dict[str, object]:
    errors: dict[str, str] = {}
    title = title.strip()
    if not title:
        errors["title"] = _("请填写准备事项。")
    elif len(title) > 100:
        errors["title"] = _("准备事项不能超过 100 个字。")
    if assignee_role not in VIP_TASK_ROLES:
        errors["assignee_role"] = _("请选择负责角色。")
    if not 0 <= minutes_before <= VIP_MINUTES_BEFORE_MAX:
        errors["minutes_before"] = _("须在 0 到 %(high)s 分钟之间。") % {"high": VIP_MINUTES_BEFORE_MAX}
    if errors:
        raise InvalidInput(fields=errors)
    return {"title": title, "assignee_role": assignee_role, "minutes_before": minutes_before}


def _project_template(project: Project, template_id: int) -> VipTaskTemplate:
    template = VipTaskTemplate.objects.select_for_update().filter(project=project, pk=template_id).first()
    if template is None:
        raise NotFound()
    return template


@transaction.atomic
def vip_template_add(
    *, project: Project, by: User, tier: str, title: str, assignee_role: str, minutes_before: int
) -> VipTaskTemplate:
    """Add a task to a tier's checklist (at its end); bookings made afterwards include it."""
    _require_manager(by)
    if tier not in VIP_TIERS:
        raise InvalidInput(fields={"tier": _("请选择贵宾级别。")})
    values = _clean_vip_task(title=title, assignee_role=assignee_role, minutes_before=minutes_before)
    vip_templates_ensure_defaults(project=project)
    last = VipTaskTemplate.objects.filter(project=project, tier=tier).order_by("-sort_order").first()
    template = VipTaskTemplate(
        project=project, tier=tier, sort_order=(last.sort_order + 1) if last else 1, **values
    )
    template._history_user = by  # type: ignore[attr-defined]
    template.save()
    return template


@transaction.atomic
def vip_template_update(
    *, project: Project, by: User, template_id: int, title: str, assignee_role: str, minutes_before: int
) -> VipTaskTemplate:
    """Change one task of a checklist; tasks of bookings already made keep what they were given."""
    _require_manager(by)
    values = _clean_vip_task(title=title, assignee_role=assignee_role, minutes_before=minutes_before)
    template = _project_template(project, template_id)
    if all(getattr(template, name) == value for name, value in values.items()):
        return template
    for name, value in values.items():
        setattr(template, name, value)
    template._history_user = by  # type: ignore[attr-defined]
    template.save()
    return template


@transaction.atomic
def vip_template_delete(*, project: Project, by: User, template_id: int) -> None:
    """Drop a task from a checklist; the history keeps it, and bookings already made keep their copy."""
    _require_manager(by)
    template = _project_template(project, template_id)
    # A tier without tasks would be given the default checklist again at its next booking.
    if (
        not VipTaskTemplate.objects.filter(project=project, tier=template.tier)
        .exclude(pk=template.pk)
        .exists()
    ):
        raise Conflict(_("每个贵宾级别至少保留一项准备事项。"))
    template._history_user = by  # type: ignore[attr-defined]
    template.delete()
