"""Reads for the settings area: the recent changes of the project's rules and VIP checklists."""

from dataclasses import dataclass
from datetime import datetime
from itertools import pairwise
from typing import Any, Final

from django.utils.translation import gettext as _

from anchang.inventory.models import Project, ProjectSettings
from anchang.inventory.registration_fields import registration_field_labels
from anchang.reception.models import VipTaskTemplate, VipTier

# Not shown as changes of their own: the version follows the rules it counts.
_UNSHOWN: Final = frozenset({"id", "project", "rule_set_version"})
RECENT_CHANGES: Final = 10


@dataclass(frozen=True)
class SettingsChange:
    at: datetime
    by: str
    what: str
    before: str
    after: str


def _person(record: Any) -> str:
    user = record.history_user
    return user.display_name if user is not None else _("系统")


def _shown(field_name: str, value: object) -> str:
    if isinstance(value, bool):
        return _("是") if value else _("否")
    if field_name == "mandatory_registration_fields" and isinstance(value, list):
        return "、".join(registration_field_labels(value)) or _("（无）")
    if isinstance(value, dict):
        return "、".join(f"{key}: {share}%" for key, share in value.items()) or _("（无）")
    field = ProjectSettings._meta.get_field(field_name)
    choices = dict(getattr(field, "choices", None) or ())
    return str(choices.get(value, value)) if value != "" else _("（空）")


def _rule_changes(project: Project, limit: int) -> list[SettingsChange]:
    # One more than shown: the oldest shown row needs the one before it to say what it changed.
    records = list(
        ProjectSettings.history.filter(project_id=project.pk)
        .select_related("history_user")
        .order_by("-history_date", "-history_id")[: limit + 1]
    )
    fields = [f for f in ProjectSettings._meta.concrete_fields if f.name not in _UNSHOWN]
    changes = []
    for newer, older in pairwise(records):
        for field in fields:
            old, new = getattr(older, field.attname), getattr(newer, field.attname)
            if old != new:
                changes.append(
                    SettingsChange(
                        at=newer.history_date,
                        by=_person(newer),
                        what=str(field.verbose_name),
                        before=_shown(field.name, old),
                        after=_shown(field.name, new),
                    )
                )
    return changes


def _vip_changes(project: Project, limit: int) -> list[SettingsChange]:
    records = (
        VipTaskTemplate.history.filter(project_id=project.pk)
        .select_related("history_user")
        .order_by("-history_date", "-history_id")[:limit]
    )
    tiers = dict(VipTier.choices)
    changes = []
    for record in records:
        what = _("%(tier)s准备事项") % {"tier": tiers.get(record.tier, record.tier)}
        text = _("%(title)s（到访前 %(minutes)s 分钟）") % {
            "title": record.title,
            "minutes": record.minutes_before,
        }
        before, after = {"+": ("", text), "-": (text, _("（已删除）"))}.get(record.history_type, ("", text))
        changes.append(SettingsChange(record.history_date, _person(record), what, before, after))
    return changes


def settings_changes_recent(*, project: Project, limit: int = RECENT_CHANGES) -> list[SettingsChange]:
    """The newest changes of the project's rules and VIP checklists, newest first (two queries)."""
    both = _rule_changes(project, limit) + _vip_changes(project, limit)
    return sorted(both, key=lambda change: change.at, reverse=True)[:limit]
