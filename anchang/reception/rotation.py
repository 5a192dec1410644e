"""The reception queue (轮排, product.md §3).

Position is an integer per day: the lowest waiting position is next. Going to the end is max+1,
a make-up turn (补位) is min-1, so a change touches one row and never renumbers the queue.

Claiming the next consultant is the scarce write: two front desks must never get the same
consultant. `rotation_claim_next` locks the first waiting row in queue order (PostgreSQL
`SELECT … FOR UPDATE SKIP LOCKED`: a second desk passes over the row the first one is claiming and
takes the next consultant; see `_lock_first`) and the write itself is a conditional
`UPDATE … WHERE state = 'waiting'` with a row-count check, which is what holds on SQLite, where the
IMMEDIATE transaction already serialises writers.
"""

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, time
from typing import Any, TypedDict

from django.db import IntegrityError, connection, transaction
from django.db.models import Exists, F, Max, Min, OuterRef, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from anchang.accounts.models import Role, User
from anchang.core.errors import Conflict, Forbidden, InvalidInput, NotFound
from anchang.inventory.models import Project
from anchang.reception.models import QueueState, RotationEntry, RotationEvent, Visit, VisitState

Q = QueueState


def today() -> date:
    return timezone.localdate()


def _end_position(project: Project, day: date) -> int:
    top = RotationEntry.objects.filter(project=project, day=day).aggregate(m=Max("position"))["m"]
    return (top or 0) + 1


def _head_position(project: Project, day: date) -> int:
    low = RotationEntry.objects.filter(project=project, day=day).aggregate(m=Min("position"))["m"]
    return (low or 1) - 1


def _log(
    entry: RotationEntry, kind: str, *, by: User | None, reason: str = "", visit: Visit | None = None
) -> None:
    RotationEvent.objects.create(
        entry=entry, kind=kind, at=timezone.now(), by=by, reason=reason[:200], visit=visit
    )


def _team_key(consultant: User) -> str:
    # A rotation team is the consultant's company on the project (reception.teams); fixed at sign-in
    # so the day's team queues do not change under the desk.
    return str(consultant.company_id or "")


@transaction.atomic
def rotation_sign_in(*, project: Project, consultant: User, by: User) -> RotationEntry:
    """上岗: join today's queue at the end (or come back from 'off' to the end)."""
    if consultant.role != Role.CONSULTANT or not consultant.memberships.filter(project=project).exists():
        raise NotFound(_("该顾问不在本项目。"))
    if by.pk != consultant.pk and not by.is_site_manager:
        raise Forbidden(_("只能为自己上岗；经理可以为他人上岗。"))
    day, now = today(), timezone.now()
    entry = (
        RotationEntry.objects.select_for_update()
        .filter(project=project, day=day, consultant=consultant)
        .first()
    )
    if entry is not None:
        if entry.state == Q.OFF:
            RotationEntry.objects.filter(pk=entry.pk).update(
                state=Q.WAITING, position=_end_position(project, day), state_changed_at=now
            )
            _log(entry, "sign_in", by=by)
            entry.refresh_from_db()
            transaction.on_commit(lambda: _assign_waiting_after_commit(project.pk))
        return entry
    try:
        with transaction.atomic():
            entry = RotationEntry.objects.create(
                project=project,
                day=day,
                consultant=consultant,
                state=Q.WAITING,
                position=_end_position(project, day),
                team_key=_team_key(consultant),
                signed_in_at=now,
                state_changed_at=now,
            )
    except IntegrityError:  # the same consultant signed in twice at once: one entry is enough
        return RotationEntry.objects.get(project=project, day=day, consultant=consultant)
    _log(entry, "sign_in", by=by)
    # Visitors may be waiting for exactly this person's team (one queue per team, no overflow).
    transaction.on_commit(lambda: _assign_waiting_after_commit(project.pk))
    return entry


@transaction.atomic
def rotation_set_state(
    *, project: Project, consultant: User, state: str, by: User, reason: str = ""
) -> RotationEntry:
    """暂离 / 回岗 / 下岗. A consultant changes their own state; a manager anyone's, with a reason."""
    if state not in (Q.WAITING, Q.AWAY, Q.OFF):
        raise InvalidInput(fields={"state": _("只能设为待接、暂离或下岗。")})
    is_manager = by.is_site_manager
    if by.pk != consultant.pk and not is_manager:
        raise Forbidden(_("只能修改自己的在岗状态。"))
    if by.pk != consultant.pk and not reason.strip():
        raise InvalidInput(fields={"reason": _("为他人调整状态请填写原因。")})
    entry = (
        RotationEntry.objects.select_for_update()
        .filter(project=project, day=today(), consultant=consultant)
        .first()
    )
    if entry is None:
        raise NotFound(_("该顾问今天还没有上岗。"))
    if entry.state == Q.RECEIVING:
        raise Conflict(_("顾问正在接待中，请先结束接待。"))
    if entry.state != state:
        changes: dict[str, object] = {"state": state, "state_changed_at": timezone.now()}
        if entry.state == Q.OFF and state == Q.WAITING:
            changes["position"] = _end_position(project, entry.day)
        RotationEntry.objects.filter(pk=entry.pk).update(**changes)
        _log(entry, f"state:{state}", by=by, reason=reason)
        entry.refresh_from_db()
    if state == Q.WAITING:
        transaction.on_commit(lambda: _assign_waiting_after_commit(project.pk))
    return entry


@dataclass(frozen=True)
class Claim:
    entry: RotationEntry
    consultant: User


def rotation_claim_next(
    *,
    project: Project,
    consumes_turn: bool,
    skip_owners_with_customer_on_site: bool = False,
    team_key: str | None = None,
) -> Claim | None:
    """Take the first waiting consultant for a reception, or None when nobody is waiting.

    `team_key` limits the claim to one team's queue (one queue per team, `reception.teams`); None is
    the whole queue and adds nothing to the query.
    Must run inside the caller's transaction (the check-in), so the claim and the visit commit together.
    """
    day = today()
    waiting = RotationEntry.objects.filter(project=project, day=day, state=Q.WAITING).order_by(
        "position", "pk"
    )
    if team_key is not None:
        waiting = waiting.filter(team_key=team_key)
    if skip_owners_with_customer_on_site:
        waiting = waiting.exclude(
            Exists(_covered_today(project, day).filter(covering_for_id=OuterRef("consultant_id")))
        )
    if connection.vendor == "postgresql":
        claim = _claim_unlocked_first(waiting, consumes_turn=consumes_turn)
        if claim is not None:
            return claim
        # Nobody waiting, or every waiting row is being claimed by another desk: wait for those.
        while (entry := _lock_first(waiting, skip_locked=False)) is not None:
            if _claim(entry, consumes_turn=consumes_turn):
                return _claimed(entry, consumes_turn)
        return None
    while (entry := _lock_first(waiting, skip_locked=True)) is not None:
        if _claim(entry, consumes_turn=consumes_turn):
            return _claimed(entry, consumes_turn)
    return None


def _lock_first(waiting: QuerySet[RotationEntry], *, skip_locked: bool) -> RotationEntry | None:
    """The first waiting row, locked (PostgreSQL; SQLite's IMMEDIATE transaction already holds the lock).

    `SKIP LOCKED` first: a consultant another desk is claiming this very moment is passed over for
    the next one, so two desks at the same second get the first and the second consultant without
    waiting for each other. Only when every waiting row is locked does this desk wait (plain
    `FOR UPDATE`) and re-read: the other check-in may roll back and leave its consultant free, and a
    visitor must not be sent to the waiting area while a consultant is free.
    """
    waiting = waiting.select_related("consultant")
    entry = waiting.select_for_update(of=("self",), skip_locked=True).first() if skip_locked else None
    if entry is None:
        entry = waiting.select_for_update(of=("self",)).first()
    return entry


def _claim_unlocked_first(waiting: QuerySet[RotationEntry], *, consumes_turn: bool) -> Claim | None:
    """PostgreSQL: the `SKIP LOCKED` step of `_lock_first`, `_claim` and `_claimed` in one statement.

    `UPDATE … WHERE id = (SELECT … FOR UPDATE SKIP LOCKED LIMIT 1) RETURNING` marks the first row no
    other desk is claiming; a data-modifying CTE logs the claim and the answer carries the consultant.
    One round trip instead of four on the busiest write. None when no such row exists.
    """
    first = waiting.select_for_update(of=("self",), skip_locked=True).values("pk")[:1]
    first_sql, first_params = first.query.get_compiler(connection=connection).as_sql()
    qn = connection.ops.quote_name
    entry_fields = RotationEntry._meta.concrete_fields
    user_fields = User._meta.concrete_fields
    event = {f.name: qn(f.column) for f in RotationEvent._meta.concrete_fields}
    event_columns = ", ".join(event[name] for name in ("entry", "kind", "at", "by", "reason", "visit"))
    receptions = qn(RotationEntry._meta.get_field("receptions").column)
    sets = f"{qn('state')} = %s, {qn('state_changed_at')} = %s"
    if consumes_turn:
        sets += f", {receptions} = {receptions} + 1"
    sql = (
        f"WITH claimed AS (UPDATE {qn(RotationEntry._meta.db_table)} SET {sets}"
        f" WHERE {qn('id')} = ({first_sql}) AND {qn('state')} = %s"
        f" RETURNING {', '.join(qn(f.column) for f in entry_fields)}),"
        f" logged AS (INSERT INTO {qn(RotationEvent._meta.db_table)}"
        f" ({event_columns})"
        f" SELECT {qn('id')}, %s, %s, NULL, '', NULL FROM claimed)"
        f" SELECT {', '.join('claimed.' + qn(f.column) for f in entry_fields)},"
        f" {', '.join('u.' + qn(f.column) for f in user_fields)}"
        f" FROM claimed JOIN {qn(User._meta.db_table)} u"
        f" ON u.{qn(User._meta.pk.column)} = claimed.{qn(RotationEntry._meta.get_field('consultant').column)}"
    )
    now = timezone.now()
    params = (Q.RECEIVING, now, *first_params, Q.WAITING, "claim_turn" if consumes_turn else "claim", now)
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        found = cursor.fetchone()
    if found is None:
        return None
    split = len(entry_fields)
    entry = RotationEntry.from_db(connection.alias, [f.attname for f in entry_fields], found[:split])
    consultant = User.from_db(connection.alias, [f.attname for f in user_fields], found[split:])
    entry.consultant = consultant
    return Claim(entry=entry, consultant=consultant)


def _claimed(entry: RotationEntry, consumes_turn: bool) -> Claim:
    # The queue's history: who was given a visitor from the rotation, and when.
    _log(entry, "claim_turn" if consumes_turn else "claim", by=None)
    return Claim(entry=entry, consultant=entry.consultant)


def _covered_today(project: Project, day: date) -> QuerySet[Visit]:
    """Today's visits on site received by a colleague for their absent owner (代接待, product.md §3).

    A customer on site with their own owner already keeps the owner busy (receiving); the case left
    is a colleague covering while the owner was away — that owner gets no new customer meanwhile.
    """
    day_start = timezone.make_aware(datetime.combine(day, time.min))
    return Visit.objects.filter(
        project=project,
        state__in=(VisitState.WAITING, VisitState.RECEIVING),
        checked_in_at__gte=day_start,
        covering_for__isnull=False,
    )


def _claim(entry: RotationEntry, *, consumes_turn: bool) -> bool:
    changes: dict[str, object] = {"state": Q.RECEIVING, "state_changed_at": timezone.now()}
    if consumes_turn:
        changes["receptions"] = F("receptions") + 1
    # The condition is the guard: a concurrent claim that got here first leaves zero rows to update.
    return RotationEntry.objects.filter(pk=entry.pk, state=Q.WAITING).update(**changes) == 1


def rotation_mark_receiving(*, project: Project, consultant: User, consumes_turn: bool) -> None:
    """A fixed receiver (owner, designated, channel): they are busy now; their place is kept.

    One conditional UPDATE: it takes the row lock itself, and a consultant who is off, or already
    receiving, is left as they are.
    """
    changes: dict[str, object] = {"state": Q.RECEIVING, "state_changed_at": timezone.now()}
    if consumes_turn:
        changes["receptions"] = F("receptions") + 1
    RotationEntry.objects.filter(
        project=project, day=today(), consultant=consultant, state__in=(Q.WAITING, Q.AWAY)
    ).update(**changes)


def rotation_finish_reception(
    *, project: Project, consultant: User, consumed_turn: bool, by: User | None, visit: Visit | None = None
) -> None:
    """The reception ended: back to waiting, at the end of the queue if it cost a turn."""
    day = today()
    entry = (
        RotationEntry.objects.select_for_update()
        .filter(project=project, day=day, consultant=consultant)
        .first()
    )
    if entry is None or entry.state != Q.RECEIVING:
        return
    changes: dict[str, object] = {"state": Q.WAITING, "state_changed_at": timezone.now()}
    if consumed_turn:
        changes["position"] = _end_position(project, day)
    RotationEntry.objects.filter(pk=entry.pk, state=Q.RECEIVING).update(**changes)
    _log(entry, "finish", by=by, visit=visit)
    transaction.on_commit(lambda: _assign_waiting_after_commit(project.pk))


@transaction.atomic
def rotation_lost_turn(*, project: Project, consultant: User, by: User, reason: str) -> RotationEntry:
    """轮空: called but refused or absent — goes to the end of the queue."""
    if not reason.strip():
        raise InvalidInput(fields={"reason": _("请填写轮空原因（如：拒接、不在岗位）。")})
    entry = (
        RotationEntry.objects.select_for_update()
        .filter(project=project, day=today(), consultant=consultant)
        .first()
    )
    if entry is None:
        raise NotFound(_("该顾问今天还没有上岗。"))
    RotationEntry.objects.filter(pk=entry.pk).update(
        position=_end_position(project, entry.day),
        lost_turns=F("lost_turns") + 1,
        state_changed_at=timezone.now(),
    )
    _log(entry, "lost_turn", by=by, reason=reason)
    entry.refresh_from_db()
    return entry


def rotation_make_up_turn(*, project: Project, consultant: User, by: User, visit: Visit, reason: str) -> None:
    """补位: the reception was invalid (not a buyer) — back to the head of the queue."""
    entry = (
        RotationEntry.objects.select_for_update()
        .filter(project=project, day=today(), consultant=consultant)
        .first()
    )
    if entry is None:
        return
    RotationEntry.objects.filter(pk=entry.pk).update(
        position=_head_position(project, entry.day), receptions=F("receptions") - 1 if entry.receptions else 0
    )
    _log(entry, "make_up_turn", by=by, reason=reason, visit=visit)


@transaction.atomic
def rotation_move(*, project: Project, consultant: User, to_index: int, by: User, reason: str) -> None:
    """A manager reorders the queue: the consultant takes the `to_index`-th place (0 = head)."""
    if not by.is_site_manager:
        raise Forbidden(_("只有案场经理可以调整轮排顺序。"))
    if not reason.strip():
        raise InvalidInput(fields={"reason": _("调整顺序请填写原因。")})
    day = today()
    entries = list(
        RotationEntry.objects.select_for_update().filter(project=project, day=day).order_by("position", "pk")
    )
    moving = next((e for e in entries if e.consultant_id == consultant.pk), None)
    if moving is None:
        raise NotFound(_("该顾问今天还没有上岗。"))
    entries.remove(moving)
    entries.insert(max(0, min(to_index, len(entries))), moving)
    # A manager's reorder is rare and small: renumbering the day's queue is fine here.
    for index, entry in enumerate(entries, start=1):
        if entry.position != index:
            RotationEntry.objects.filter(pk=entry.pk).update(position=index)
    _log(moving, "moved", by=by, reason=f"→ {to_index + 1}: {reason}")


class QueueRow(TypedDict):
    consultant_id: int
    state: str
    position: int


def queue_snapshot(*, project: Project, day: date | None = None) -> list[QueueRow]:
    return [queue_row(row) for row in queue_snapshot_query(project=project, day=day)]


def queue_row(row: dict[str, Any]) -> QueueRow:
    return QueueRow(consultant_id=row["consultant_id"], state=row["state"], position=row["position"])


def queue_snapshot_query(*, project: Project, day: date | None = None, **extra: Any) -> QuerySet[Any]:
    """The day's queue as plain rows (no model objects: every check-in reads it). `extra` expressions
    ride along on every row, for a caller that folds a check of its own into this one query."""
    rows = RotationEntry.objects.filter(project=project, day=day or today()).order_by("position", "pk")
    return rows.values("consultant_id", "state", "position", **extra)


# What hands waiting visitors to a consultant who is free again: `services.visit_assign_waiting`. It
# claims from this queue and records the decision, so it builds on rotation; ReceptionConfig.ready
# plugs it in here rather than rotation importing services (a circle).
_assign_waiting: Callable[..., int] | None = None


def rotation_use_waiting_assigner(assign: Callable[..., int]) -> None:
    """Set what `assign(project_id=…)` runs after the commit in which a consultant became free."""
    global _assign_waiting
    _assign_waiting = assign


def _assign_waiting_after_commit(project_id: int) -> None:
    if _assign_waiting is not None:
        _assign_waiting(project_id=project_id)
