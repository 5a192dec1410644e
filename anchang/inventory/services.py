from datetime import datetime

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from anchang.accounts.models import User
from anchang.core.errors import Conflict, Forbidden, NotFound
from anchang.inventory.models import Unit, UnitStatus
from anchang.inventory.status import DEALS_STATUSES, MANAGER_ONLY_TRANSITIONS, can_transition


class InvalidUnitTransition(Conflict):
    code = "invalid_transition"


class UnitNotAvailable(Conflict):
    code = "unit_not_available"


class StatusManagedByDeals(Conflict):
    code = "managed_by_deals"


@transaction.atomic
def unit_change_status(*, unit_id: int, to_status: str, by: User, reason: str = "") -> Unit:
    """Move a unit to `to_status` if the status machine allows it from its *current* status and no
    hold or subscription stands behind either status (those go through `deals.services`).

    The write is a conditional UPDATE on the status read a moment earlier: if another request
    changed the unit in between, zero rows match and the caller gets a 409 instead of silently
    overwriting (PostgreSQL additionally holds the row lock; SQLite relies on the condition).
    """
    unit = Unit.objects.select_for_update().filter(pk=unit_id).first()
    if unit is None:
        raise NotFound()
    current = unit.status
    if not can_transition(current, to_status):
        raise InvalidUnitTransition(
            _("房源 %(unit)s 当前为“%(current)s”，不能改为“%(target)s”。")
            % {"unit": unit.label, "current": unit.get_status_display(), "target": _label(to_status)}
        )
    if current in DEALS_STATUSES or to_status in DEALS_STATUSES:
        raise StatusManagedByDeals(
            _("销控、认购、签约和退订请在房源页的“成交”中办理，不能直接修改房源状态。")
        )
    if (current, to_status) in MANAGER_ONLY_TRANSITIONS and not by.is_site_manager:
        raise Forbidden(_("只有案场经理可以为认筹客户保留房源或取消保留。"))
    unit_move_status(
        unit,
        expected=(current,),
        to=to_status,
        by=by,
        reason=reason,
        conflict_message=_("房源 %(unit)s 的状态刚刚被他人修改，请刷新后重试。") % {"unit": unit.label},
    )
    return unit


def unit_move_status(
    unit: Unit, *, expected: tuple[str, ...], to: str, by: User | None, reason: str, conflict_message: str
) -> None:
    """The one write of a unit's status, for the manual change here and for the deals services.

    A conditional UPDATE on the status the caller saw: on SQLite (no FOR UPDATE) this is what makes
    a second writer lose; on PostgreSQL the caller's row lock already did. Zero rows → 409.
    """
    now = timezone.now()
    changed = Unit.objects.filter(pk=unit.pk, status__in=expected).update(status=to, status_changed_at=now)
    if changed != 1:
        raise UnitNotAvailable(conflict_message)
    unit.status, unit.status_changed_at = to, now
    # The UPDATE above bypasses save(), so the history row is written explicitly, with who and why.
    record_unit_history(unit, by=by, reason=reason, when=now)


def record_unit_history(unit: Unit, *, by: User | None, reason: str, when: datetime) -> None:
    """The history row for a status change made with a conditional UPDATE (which bypasses save())."""
    history_model = Unit.history.model
    tracked = [f for f in history_model._meta.fields if not f.name.startswith("history_")]
    history_model.objects.create(
        **{f.attname: getattr(unit, f.attname) for f in tracked},
        history_type="~",
        history_date=when,
        history_user=by,
        history_change_reason=reason[:100] or None,
    )


def _label(status: str) -> str:
    return str(UnitStatus(status).label)
