"""The manager sets how the project's queue works: one shared queue, or one per team with its rule."""

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from anchang.accounts.models import User
from anchang.core.errors import Forbidden, InvalidInput
from anchang.inventory.models import Project, ProjectSettings, RotationMode, TeamRule

TEAM_SETTINGS = ("rotation_mode", "team_rule", "team_overflow", "team_shares")


@transaction.atomic
def team_settings_update(
    *,
    project: Project,
    by: User,
    rotation_mode: str,
    team_rule: str,
    team_overflow: bool,
    team_shares: dict[str, int],
) -> ProjectSettings:
    """Change the queue's mode and team rule; a change is a new rule set version (attributions name it)."""
    if not by.is_site_manager:
        raise Forbidden(_("只有案场经理可以设置轮排方式。"))
    if rotation_mode not in RotationMode.values:
        raise InvalidInput(fields={"rotation_mode": _("不是可选的轮排方式。")})
    if team_rule not in TeamRule.values:
        raise InvalidInput(fields={"team_rule": _("不是可选的团队分配规则。")})
    settings, _created = ProjectSettings.objects.select_for_update().get_or_create(project=project)
    wanted = {
        "rotation_mode": rotation_mode,
        "team_rule": team_rule,
        "team_overflow": team_overflow,
        # A team left at 0 is kept out of the map: the rule reads a missing team as 0.
        "team_shares": {key: value for key, value in team_shares.items() if value},
    }
    before = {name: getattr(settings, name) for name in TEAM_SETTINGS}
    for name, value in wanted.items():
        setattr(settings, name, value)
    try:
        settings.clean()
    except ValidationError as error:
        raise InvalidInput(fields={k: " ".join(v) for k, v in error.message_dict.items()}) from error
    changed = {name: value for name, value in wanted.items() if before[name] != value}
    if changed:
        # Saved (not a queryset update) so the change is in the settings' history with its author;
        # the row lock above keeps the version increment from racing.
        settings.rule_set_version += 1
        settings._history_user = by  # type: ignore[attr-defined]
        settings.save()
    return settings
