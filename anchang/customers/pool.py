"""Protection and the public pool (公客池), product.md §7; revealing a full phone, §13.

Writes (services) and the reads that decide who sees which customer (selectors) for:

- `pool_recover` — the periodic job that moves customers whose owner lost them into the pool;
- `pool_claim` — a consultant takes a pool customer, up to the project's daily cap;
- `customer_reassign` / `customer_release_to_pool` — a manager moves a customer, with a reason;
- `customer_reveal_phone` — a full number for whoever may see it, always with an access-log row.

What "in the pool" means: `owner IS NULL AND pooled_at IS NOT NULL`. A customer with an owner is never
in the pool, whatever `pooled_at` still says (check-in's ownership change does not clear it), so every
guard below keys on the owner column.
"""

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.db import transaction
from django.db.models import BigIntegerField, Exists, ExpressionWrapper, F, OuterRef, Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from anchang.accounts.models import ProjectMembership, Role, User
from anchang.core.audit import AccessAction, access_log_write
from anchang.core.errors import Conflict, Forbidden, InvalidInput
from anchang.core.notifications import notify
from anchang.core.phones import national_digits
from anchang.customers.models import Customer, CustomerEvent, EventKind, PoolReason, Stage
from anchang.customers.selectors import customer_search_q, customer_visible_to, is_selective_search
from anchang.customers.services import customer_record_event
from anchang.inventory.models import Project, ProjectSettings

REASON_MAX_LENGTH = 200
# A consultant's protection end is highlighted on "my customers" this many days before it runs out.
PROTECTION_WARNING_DAYS = 3
# The order in which reasons are tried when several apply; the first one is recorded. The owner
# having left explains everything else, an invalid registration was never a customer, and a missed
# follow-up is the consultant's doing rather than the calendar's.
RECOVERY_ORDER = (
    PoolReason.CONSULTANT_LEFT,
    PoolReason.INVALID,
    PoolReason.FOLLOWUP_OVERDUE,
    PoolReason.NO_SUBSCRIPTION,
    PoolReason.PROTECTION_EXPIRED,
)


# --- rules of the project ------------------------------------------------------------------------


def settings_of(project: Project) -> ProjectSettings:
    """The project's rules, or the defaults when none were saved yet (never writes)."""
    found = ProjectSettings.objects.filter(project_id=project.pk).first()
    return found if found is not None else ProjectSettings(project=project)


def local_day_bounds(moment: datetime) -> tuple[datetime, datetime]:
    """[00:00, next 00:00) of the local calendar day that contains `moment` (TIME_ZONE)."""
    day = timezone.localdate(moment)
    start = timezone.make_aware(datetime.combine(day, datetime.min.time()))
    return start, timezone.make_aware(datetime.combine(day + timedelta(days=1), datetime.min.time()))


def _is_member(user: User, project_id: int) -> bool:
    return ProjectMembership.objects.filter(user_id=user.pk, project_id=project_id).exists()


def is_project_consultant(user: User, project_id: int) -> bool:
    return bool(user.is_active and user.role == Role.CONSULTANT and _is_member(user, project_id))


def may_manage_customers(user: User, project_id: int) -> bool:
    """Reassign, release to the pool, reveal phones: the project's managers and the admins."""
    if not user.is_active:
        return False
    return user.sees_all_projects or (user.role == Role.MANAGER and _is_member(user, project_id))


def may_use_pool(user: User) -> bool:
    """The pool page: consultants claim from it, managers reassign from it."""
    return user.sees_all_projects or user.role in (Role.CONSULTANT, Role.MANAGER)


def may_list_customers(user: User) -> bool:
    """Agents, attendants, the property desk and owners have no business with the customer list."""
    return user.sees_all_projects or user.role in (Role.MANAGER, Role.FRONTDESK, Role.CONSULTANT)


# --- reads ---------------------------------------------------------------------------------------


def _matching(customers: QuerySet[Customer], q: str) -> QuerySet[Customer]:
    condition = customer_search_q(q)
    return customers.none() if condition is None else customers.filter(condition)


def in_pool() -> Q:
    return Q(owner__isnull=True, pooled_at__isnull=False)


def pool_list(*, project: Project, q: str = "") -> QuerySet[Customer]:
    """The project's pool, most recently pooled first (served by the (project, pooled_at) index)."""
    customers = Customer.objects.filter(in_pool(), project=project)
    return _matching(customers, q).order_by("-pooled_at", "-pk")


def customers_of(*, consultant: User, project: Project, q: str = "") -> QuerySet[Customer]:
    """A consultant's own customers, the protection that ends first on top (the owner index)."""
    customers = Customer.objects.filter(project=project, owner=consultant)
    return _matching(customers, q).order_by("protected_until", "-pk")


def customer_list_visible_to(*, user: User, project: Project, q: str = "") -> QuerySet[Customer]:
    """The customers a role may list: the desk, managers and admins see the whole project; a
    consultant their own customers and the pool; everyone else nothing. Masking is the caller's job
    (`phone_visible_to`)."""
    customers = Customer.objects.filter(project=project).select_related("owner")
    if user.sees_all_projects or user.role in (Role.MANAGER, Role.FRONTDESK):
        pass
    elif user.role == Role.CONSULTANT:
        customers = customers.filter(Q(owner=user) | in_pool())
    else:
        customers = customers.none()
    if is_selective_search(q):
        # `pk + 0` hides the primary key from the planner: it starts from the search index and sorts
        # the few matches, instead of walking the whole table backwards by id (S5, 1M customers).
        newest_first = ExpressionWrapper(F("pk") + 0, output_field=BigIntegerField()).desc()
        return _matching(customers, q).order_by(newest_first)
    return _matching(customers, q).order_by("-pk")


def customer_detail_visible_to(*, user: User, customer_id: int) -> Customer | None:
    """`customer_visible_to`, plus the pool: a project's consultants may look at its pool customers
    (masked) before they claim one. Anyone else gets None (a 404)."""
    customer = customer_visible_to(user=user, customer_id=customer_id)
    if customer is not None or user.role != Role.CONSULTANT or not user.is_active:
        return customer
    return (
        Customer.objects.select_related("owner", "project", "household_of")
        .filter(in_pool(), pk=customer_id, project__memberships__user=user)
        .first()
    )


def phone_visible_to(*, user: User, customer: Customer) -> bool:
    """Only the owner consultant sees the full number without asking (§13); everyone else reveals."""
    return customer.owner_id is not None and customer.owner_id == user.pk


def protection_ending_soon(
    *, consultant: User, project: Project, now: datetime | None = None
) -> QuerySet[Customer]:
    """The consultant's customers whose protection ends within `PROTECTION_WARNING_DAYS` (home page)."""
    now = now or timezone.now()
    return customers_of(consultant=consultant, project=project).filter(
        protected_until__gte=now, protected_until__lte=now + timedelta(days=PROTECTION_WARNING_DAYS)
    )


def claims_today(*, consultant: User, project: Project, now: datetime | None = None) -> int:
    start, end = local_day_bounds(now or timezone.now())
    return CustomerEvent.objects.filter(
        kind=EventKind.CLAIMED, by=consultant, at__gte=start, at__lt=end, customer__project=project
    ).count()


# --- the recovery job ----------------------------------------------------------------------------


@dataclass(frozen=True)
class RecoveryInputs:
    """What the recovery rules read from the apps that build on this archive: the desk's visits and
    the consultants' follow-ups. Those apps import customers, not the reverse, so the job's caller
    hands them in (reception.jobs)."""

    invalid_visits: QuerySet[Any]  # visits ended as invalid (问路、送货、同行踩盘、重复登记…)
    other_visits: QuerySet[Any]  # every other visit, those still going on included
    on_site_visits: QuerySet[Any]  # visitors waiting or being received right now
    open_follow_ups: QuerySet[Any]  # follow-ups not done yet (customer_id, consultant_id, due_at)


def _reason_conditions(settings: ProjectSettings, now: datetime, inputs: RecoveryInputs) -> dict[str, Q]:
    """Each reason as a condition on one customer row, free of joins.

    Join-free matters: Django turns an UPDATE whose filter joins another table into
    `WHERE id IN (SELECT …)`, and PostgreSQL re-checks only the outer row after waiting for a lock,
    so a concurrent run could then move (and log) the same customer twice.
    """
    grace = timedelta(hours=settings.followup_overdue_grace_hours)
    return {
        # Deactivated, or taken off this project (moved to another site): their customers are free.
        PoolReason.CONSULTANT_LEFT: Q(Exists(User.objects.filter(pk=OuterRef("owner_id"), is_active=False)))
        | ~Q(
            Exists(
                ProjectMembership.objects.filter(
                    user_id=OuterRef("owner_id"), project_id=OuterRef("project_id")
                )
            )
        ),
        # Every visit the customer ever made was ended as invalid (问路、送货、同行踩盘、重复登记…):
        # at least one visit, all of them invalid. A visit still waiting or in reception is not
        # invalid, so a customer being received right now never qualifies.
        PoolReason.INVALID: Q(Exists(inputs.invalid_visits.filter(customer_id=OuterRef("pk"))))
        & ~Q(Exists(inputs.other_visits.filter(customer_id=OuterRef("pk")))),
        # The current owner's own follow-up, still open more than the grace after it was due.
        PoolReason.FOLLOWUP_OVERDUE: Q(
            Exists(
                inputs.open_follow_ups.filter(
                    customer_id=OuterRef("pk"),
                    consultant_id=OuterRef("owner_id"),
                    due_at__lt=now - grace,
                )
            )
        ),
        PoolReason.NO_SUBSCRIPTION: Q(
            first_visit_at__lt=now - timedelta(days=settings.pool_after_days_without_subscription)
        ),
        PoolReason.PROTECTION_EXPIRED: Q(protected_until__lt=now),
    }


def _recoverable(inputs: RecoveryInputs) -> Q:
    """Who may lose their owner at all: owned, not a contract holder, not subscribed, not on site."""
    on_site = inputs.on_site_visits.filter(customer_id=OuterRef("pk"))
    return (
        Q(owner__isnull=False, is_owner=False)
        & ~Q(stage__in=(Stage.SUBSCRIBED, Stage.OWNER))
        # Never pull a customer away from the consultant who is receiving them right now.
        & ~Q(Exists(on_site))
    )


@dataclass(frozen=True)
class _Move:
    customer_id: int
    owner_id: int
    reason: str


def _candidates(project: Project, conditions: dict[str, Q], inputs: RecoveryInputs) -> list[_Move]:
    chosen: dict[int, _Move] = {}
    recoverable = Customer.objects.filter(_recoverable(inputs), project=project)
    for reason in RECOVERY_ORDER:
        rows = recoverable.filter(conditions[reason]).values_list("pk", "owner_id")
        for pk, owner_id in rows:
            chosen.setdefault(pk, _Move(customer_id=pk, owner_id=owner_id, reason=reason))
    # Rows in primary-key order: two runs at once then lock the same rows in the same order and
    # wait for each other instead of deadlocking.
    return sorted(chosen.values(), key=lambda move: move.customer_id)


def _pool_move(move: _Move, *, condition: Q, inputs: RecoveryInputs, now: datetime) -> bool:
    """The move itself: one conditional UPDATE, so that only one of several runs (or a run and a
    claim) can win. It re-states the reason and the owner it expects; 0 rows → someone was first."""
    updated = Customer.objects.filter(
        _recoverable(inputs), condition, pk=move.customer_id, owner_id=move.owner_id
    ).update(owner=None, pooled_at=now, pool_reason=move.reason, updated_at=now)
    return updated == 1


def _record_pooled(project: Project, moves: list[_Move], now: datetime) -> None:
    owners = {u.pk: u for u in User.objects.filter(pk__in={m.owner_id for m in moves})}
    customers = Customer.objects.in_bulk([m.customer_id for m in moves])
    events = []
    for move in moves:
        owner = owners.get(move.owner_id)
        label = str(PoolReason(move.reason).label)
        events.append(
            CustomerEvent(
                customer_id=move.customer_id,
                kind=EventKind.POOLED,
                at=now,
                by=None,
                text=(
                    _("进入公客池：%(reason)s（原归属顾问：%(owner)s）")
                    % {"reason": label, "owner": owner.display_name if owner else "—"}
                )[:300],
                data={"reason": move.reason, "from": move.owner_id},
            )
        )
        customer = customers[move.customer_id]
        customer._change_reason = _("进入公客池：%(reason)s") % {"reason": label}  # type: ignore[attr-defined]
    CustomerEvent.objects.bulk_create(events)
    Customer.history.bulk_history_create(list(customers.values()), update=True, default_date=now)
    by_owner: dict[int, int] = {}
    for move in moves:
        by_owner[move.owner_id] = by_owner.get(move.owner_id, 0) + 1
    for owner_id, count in by_owner.items():
        owner = owners.get(owner_id)
        if owner is None or not owner.is_active:
            continue
        notify(
            recipients=[owner],
            kind="customers_pooled",
            project_id=project.pk,
            title=ngettext("%(count)d 位客户已进入公客池", "%(count)d 位客户已进入公客池", count)
            % {"count": count},
            body=_("保护期已过、跟进逾期或超期未认购的客户会收回公客池，可在公客池重新认领。"),
        )


def pool_recover(*, inputs: RecoveryInputs, now: datetime | None = None) -> dict[str, int]:
    """Move to the pool every customer, of every project, whose owner has lost them (product.md §7).

    A customer qualifies, if they have an owner, are not a contract holder (`is_owner`), not subscribed
    (stage subscribed/owner) and are not on site right now, when any of these holds (the first in
    `RECOVERY_ORDER` is recorded):

    - consultant_left: the owner is deactivated or no longer a member of the project;
    - invalid: the customer has visits and every one of them was ended as invalid;
    - followup_overdue: the owner has a follow-up of this customer still open more than
      `followup_overdue_grace_hours` after it was due;
    - no_subscription: the first visit is more than `pool_after_days_without_subscription` days ago;
    - protection_expired: `protected_until` is in the past.

    Decided from the rows only (never from "when did I last run"), and each move is a conditional
    UPDATE on the expected owner: running twice, or twice at once, gives the result of one run (R5).
    Returns how many customers moved, per reason.
    """
    now = now or timezone.now()
    moved: dict[str, int] = {str(reason): 0 for reason in RECOVERY_ORDER}
    with transaction.atomic():
        for project in Project.objects.order_by("pk"):
            conditions = _reason_conditions(settings_of(project), now, inputs)
            won = [
                move
                for move in _candidates(project, conditions, inputs)
                if _pool_move(move, condition=conditions[move.reason], inputs=inputs, now=now)
            ]
            if won:
                _record_pooled(project, won, now)
            for move in won:
                moved[move.reason] += 1
    return moved


# --- claiming, reassigning, releasing --------------------------------------------------------------


@transaction.atomic
def pool_claim(*, customer: Customer, consultant: User, now: datetime | None = None) -> Customer:
    """A consultant takes a customer from the pool: they become the owner, protection starts as
    after an inquiry call (`protection_days_after_call`), at most `pool_claims_per_day` a local day."""
    now = now or timezone.now()
    project = customer.project
    if not is_project_consultant(consultant, project.pk):
        raise Forbidden(_("只有本项目的置业顾问可以认领公客。"))
    settings = settings_of(project)
    # One consultant claiming in two tabs at once: without this lock both could pass the cap check.
    list(User.objects.select_for_update().filter(pk=consultant.pk).values_list("pk", flat=True))
    cap = settings.pool_claims_per_day
    if claims_today(consultant=consultant, project=project, now=now) >= cap:
        raise Conflict(
            ngettext("今日认领已达上限（%(n)d 个）", "今日认领已达上限（%(n)d 个）", cap) % {"n": cap},
            code="pool_claim_limit",
        )
    protected_until = now + timedelta(days=settings.protection_days_after_call)
    # Two consultants claiming the same customer: the condition lets exactly one UPDATE match.
    updated = Customer.objects.filter(in_pool(), pk=customer.pk, project=project).update(
        owner=consultant, protected_until=protected_until, pooled_at=None, pool_reason="", updated_at=now
    )
    if updated != 1:
        raise Conflict(_("该客户已被认领或已不在公客池，请刷新后重试。"), code="pool_customer_taken")
    previous_reason, previous_pooled_at = customer.pool_reason, customer.pooled_at
    customer.refresh_from_db()
    customer_record_event(
        customer=customer,
        kind=EventKind.CLAIMED,
        at=now,
        by=consultant,
        text=_("%(name)s 从公客池认领，保护期至 %(until)s")
        % {
            "name": consultant.display_name,
            "until": timezone.localtime(protected_until).strftime("%Y-%m-%d"),
        },
        data={
            "to": consultant.pk,
            "pool_reason": previous_reason,
            "pooled_at": previous_pooled_at.isoformat() if previous_pooled_at else None,
        },
    )
    customer._change_reason = _("公客认领")  # type: ignore[attr-defined]
    Customer.history.bulk_history_create([customer], update=True, default_user=consultant, default_date=now)
    return customer


def _clean_reason(reason: str) -> str:
    text = (reason or "").strip()
    if not text:
        raise InvalidInput(fields={"reason": _("请填写原因。")})
    if len(text) > REASON_MAX_LENGTH:
        raise InvalidInput(fields={"reason": _("原因最多 200 个字。")})
    return text


@transaction.atomic
def customer_reassign(
    *, customer: Customer, to: User, by: User, reason: str, now: datetime | None = None
) -> Customer:
    """A manager gives a customer (from the pool or from another consultant) to a consultant.

    The reason is required and stored on the event and in the history. The new owner's protection
    starts as after an inquiry call: they still have to make contact.
    """
    now = now or timezone.now()
    if not may_manage_customers(by, customer.project_id):
        raise Forbidden(_("只有案场经理可以改派客户。"))
    text = _clean_reason(reason)
    if not is_project_consultant(to, customer.project_id):
        raise InvalidInput(fields={"to": _("请选择本项目在职的置业顾问。")})
    locked = Customer.objects.select_for_update().select_related("project").get(pk=customer.pk)
    if locked.owner_id == to.pk:
        raise InvalidInput(fields={"to": _("该客户已归属这位顾问。")})
    previous = User.objects.filter(pk=locked.owner_id).first() if locked.owner_id else None
    from_pool = locked.owner_id is None
    settings = settings_of(locked.project)
    locked.owner = to
    locked.protected_until = now + timedelta(days=settings.protection_days_after_call)
    locked.pooled_at, locked.pool_reason = None, ""
    locked._change_reason = (_("经理改派：%(reason)s") % {"reason": text})[:100]  # type: ignore[attr-defined]
    locked._history_user = by  # type: ignore[attr-defined]
    locked.save(update_fields=["owner", "protected_until", "pooled_at", "pool_reason", "updated_at"])
    customer_record_event(
        customer=locked,
        kind=EventKind.OWNER_CHANGED,
        at=now,
        by=by,
        text=_("归属顾问：%(old)s → %(new)s（经理改派：%(reason)s）")
        % {
            "old": previous.display_name if previous else _("公客池"),
            "new": to.display_name,
            "reason": text,
        },
        data={"from": previous.pk if previous else None, "to": to.pk, "reason": text, "from_pool": from_pool},
    )
    notify(
        recipients=[to],
        kind="customer_reassigned",
        project_id=locked.project_id,
        title=_("经理将一位客户改派给您"),
        body=_("原因：%(reason)s。请尽快联系客户。") % {"reason": text},
    )
    return locked


@transaction.atomic
def customer_release_to_pool(
    *, customer: Customer, by: User, reason: str, now: datetime | None = None
) -> Customer:
    """A manager puts an owned customer into the pool by hand (pool reason `manual`)."""
    now = now or timezone.now()
    if not may_manage_customers(by, customer.project_id):
        raise Forbidden(_("只有案场经理可以将客户放入公客池。"))
    text = _clean_reason(reason)
    locked = Customer.objects.select_for_update().get(pk=customer.pk)
    if locked.owner_id is None:
        raise Conflict(_("该客户已在公客池。"), code="already_in_pool")
    if locked.is_owner or locked.stage in (Stage.SUBSCRIBED, Stage.OWNER):
        raise Conflict(_("已认购或已签约的客户不进入公客池。"), code="not_poolable")
    previous_id = locked.owner_id
    locked.owner, locked.pooled_at, locked.pool_reason = None, now, PoolReason.MANUAL
    locked._change_reason = (_("经理放入公客池：%(reason)s") % {"reason": text})[:100]  # type: ignore[attr-defined]
    locked._history_user = by  # type: ignore[attr-defined]
    locked.save(update_fields=["owner", "pooled_at", "pool_reason", "updated_at"])
    customer_record_event(
        customer=locked,
        kind=EventKind.POOLED,
        at=now,
        by=by,
        text=_("进入公客池：经理调整（%(reason)s）") % {"reason": text},
        data={"reason": PoolReason.MANUAL, "from": previous_id, "note": text},
    )
    return locked


# --- revealing a full number -----------------------------------------------------------------------


def may_reveal_phone(*, user: User, customer: Customer) -> bool:
    return phone_visible_to(user=user, customer=customer) or may_manage_customers(user, customer.project_id)


@transaction.atomic
def customer_reveal_phone(*, customer: Customer, by: User, reason: str, ip: str | None = None) -> str:
    """The full mobile (11 digits) for a manager, an admin or the owner, with a reason; every call
    writes exactly one access-log row, in the same transaction as the answer (quality P2)."""
    if not may_reveal_phone(user=by, customer=customer):
        raise Forbidden(_("您无权查看完整手机号。"))
    text = _clean_reason(reason)
    access_log_write(user=by, action=AccessAction.REVEAL_PHONE, obj=customer, reason=text, ip=ip)
    return national_digits(customer.phone)
