"""Demo step: deals (成交) of the last three weeks, so 认购, 审批, 销控 and 销售汇总 have content.

Per demo project, through the deals services (the same code the pages use): a handful of subscriptions
spread over the last 21 days — some signed, one cancelled, one waiting for the manager's approval,
the rest active — and two holds on the high-rise (one ends tomorrow at 18:00). The demo's reservations
(认筹) come from the opening-day step (`opening_steps`), which runs before this one; the customers
picked here are others (no active reservation).
Dates are moved back afterwards (subscription, contract, cancellation moments and their history rows),
as the services stamp "now".

Keyed on the project having a subscription outside an opening session: while it has one, the step adds
nothing to it, so a rerun — even on a later day — changes nothing, and whatever someone did in the
demo stays. Units the board shows as held without a hold behind them (drawn by the units step) get
their `Hold` row, keyed on "held unit without an open hold", so that the holds page and 解除销控 work.
"""

from dataclasses import dataclass
from datetime import datetime, time, timedelta
from decimal import ROUND_HALF_UP, Decimal

from django.db.models import QuerySet
from django.utils import timezone

from anchang.accounts.models import User
from anchang.customers.models import Customer, CustomerEvent, EventKind
from anchang.deals.models import Hold, ReservationStatus, Subscription
from anchang.deals.services import (
    hold_create,
    subscription_approve,
    subscription_cancel,
    subscription_contract,
    subscription_create,
)
from anchang.demo.context import HIGH_RISE, TOWNHOUSE, DemoContext, working_time
from anchang.demo.permit_steps import disclosed_customers
from anchang.inventory.models import Project, Unit, UnitStatus

BACKFILL_HOLD_REASON = "开盘前预留，择机加推"
DEPOSIT = Decimal("50000.00")


@dataclass(frozen=True)
class DealPlan:
    days_ago: int
    # Share off the list price: the default approval threshold is 2 %.
    discount: Decimal
    # "active", "contracted" (signed `signed_after` days later), "cancelled", "pending", "approved".
    outcome: str
    signed_after: int = 0


PLANS: dict[str, tuple[DealPlan, ...]] = {
    HIGH_RISE: (
        DealPlan(20, Decimal("0.01"), "contracted", signed_after=5),
        DealPlan(18, Decimal("0"), "contracted", signed_after=6),
        DealPlan(15, Decimal("0.03"), "approved"),
        DealPlan(12, Decimal("0"), "cancelled"),
        DealPlan(9, Decimal("0.015"), "contracted", signed_after=4),
        DealPlan(6, Decimal("0.005"), "active"),
        DealPlan(3, Decimal("0"), "active"),
        DealPlan(1, Decimal("0.05"), "pending"),
    ),
    TOWNHOUSE: (
        DealPlan(19, Decimal("0.01"), "contracted", signed_after=7),
        DealPlan(11, Decimal("0"), "active"),
        DealPlan(7, Decimal("0.02"), "cancelled"),
        DealPlan(2, Decimal("0.01"), "active"),
    ),
}
# (project, reason, expires tomorrow at 18:00?)
HOLDS: tuple[tuple[str, str, bool], ...] = (
    (HIGH_RISE, "领导预留：老业主推荐客户明日来看", True),
    (HIGH_RISE, "顶层景观房，二期加推时调价", False),
)


def load_deals(ctx: DemoContext) -> None:
    _backfill_holds(ctx)
    manager = ctx.users["manager"]
    for code, plans in PLANS.items():
        project = ctx.projects[code]
        if Subscription.objects.filter(project=project, opening_session__isnull=True).exists():
            continue
        buyers = iter(list(_free_customers(project)[: len(plans)]))
        units = iter(list(_spread(_available_units(project), len(plans))))
        made = 0
        for plan in plans:
            customer, unit = next(buyers, None), next(units, None)
            if customer is None or unit is None:
                break
            _make_deal(ctx, plan, unit=unit, customer=customer, manager=manager)
            made += 1
        ctx.record_created(Subscription, made)
        held = 0
        for hold_code, reason, ends_tomorrow in HOLDS:
            if hold_code != code:
                continue
            unit = (
                _available_units(project).order_by("-floor", "-position").exclude(holds__isnull=False).first()
            )
            if unit is None:
                continue
            tomorrow = timezone.localdate(ctx.now) + timedelta(days=1)
            expires = timezone.make_aware(datetime.combine(tomorrow, time(18, 0))) if ends_tomorrow else None
            hold = hold_create(unit_id=unit.pk, reason=reason, expires_at=expires, by=manager)
            # Held yesterday afternoon, not at whatever hour the demo is built.
            _move_unit_changes(unit.pk, [working_time(ctx.now, days_ago=1, minutes=8 * 60)], now=ctx.now)
            Hold.objects.filter(pk=hold.pk).update(
                created_at=working_time(ctx.now, days_ago=1, minutes=8 * 60)
            )
            held += 1
        ctx.record_created(Hold, held)


def _free_customers(project: Project) -> QuerySet[Customer]:
    """History customers with an owner who have not bought, hold no reservation and confirmed the risk
    disclosure (which a subscription requires), in a fixed order."""
    return (
        disclosed_customers(
            Customer.objects.filter(
                project=project, owner__isnull=False, is_owner=False, subscriptions__isnull=True
            )
        )
        .exclude(reservations__status=ReservationStatus.ACTIVE)
        .select_related("owner")
        .order_by("phone")
    )


def _available_units(project: Project) -> QuerySet[Unit]:
    return Unit.objects.filter(project=project, status=UnitStatus.AVAILABLE).select_related("building")


def _spread(units: QuerySet[Unit], n: int) -> list[Unit]:
    """`n` units spread over the board (every k-th in board order), not the first row of one building."""
    ordered = list(units.order_by("building__sort_order", "building__name", "floor", "position"))
    if not ordered or n <= 0:
        return []
    step = max(1, len(ordered) // n)
    return ordered[::step][:n]


def _make_deal(ctx: DemoContext, plan: DealPlan, *, unit: Unit, customer: Customer, manager: User) -> None:
    seller = customer.owner or manager
    day = timezone.localdate(ctx.now) - timedelta(days=plan.days_ago)
    # Mornings, a little later the longer ago: approved two hours, signed three hours after it.
    moment = timezone.make_aware(datetime.combine(day, time(10, 30))) + timedelta(minutes=11 * plan.days_ago)
    # Agreed prices are round hundreds of yuan, as list prices are.
    price = (unit.list_price_total * (1 - plan.discount) / 100).quantize(
        Decimal(1), rounding=ROUND_HALF_UP
    ) * 100
    subscription = subscription_create(
        unit_id=unit.pk,
        customer=customer,
        price=price,
        deposit=DEPOSIT,
        by=seller,
        subscribed_on=day,
    )
    moments = {"created": moment}
    if plan.outcome in ("approved", "contracted") and subscription.status != "active":
        subscription_approve(subscription_id=subscription.pk, by=manager, note="老业主推荐，同意优惠")
        moments["approved"] = moment + timedelta(hours=2)
    if plan.outcome == "contracted":
        signed_at = moment + timedelta(days=plan.signed_after, hours=3)
        subscription_contract(
            subscription_id=subscription.pk, by=seller, contracted_at=min(signed_at, ctx.now)
        )
    elif plan.outcome == "cancelled":
        subscription_cancel(subscription_id=subscription.pk, by=manager, reason="客户贷款未获批，协商退订")
        moments["cancelled"] = moment + timedelta(days=2, hours=1)
    _backdate(subscription, moments, now=ctx.now)


def _backdate(subscription: Subscription, moments: dict[str, datetime], *, now: datetime) -> None:
    """Move the rows the services stamped "now" to when the deal happened in the story."""
    created = moments["created"]
    cancelled = moments.get("cancelled")
    fields: dict[str, object] = {"created_at": created}
    if cancelled is not None:
        fields["cancelled_at"] = min(cancelled, now)
    if "approved" in moments:
        fields["approved_at"] = moments["approved"]
    Subscription.objects.filter(pk=subscription.pk).update(**fields)
    history = Subscription.history.filter(id=subscription.pk).order_by("history_date", "history_id")
    rows = list(history)
    fresh = Subscription.objects.get(pk=subscription.pk)
    for row in rows:
        if row.history_type == "+":
            when = created
        elif row.status == "cancelled" and cancelled is not None:
            when = min(cancelled, now)
        elif row.status == "contracted" and fresh.contracted_at is not None:
            when = fresh.contracted_at
        else:
            when = moments.get("approved", created)
        Subscription.history.filter(history_id=row.history_id).update(history_date=when)
    events = CustomerEvent.objects.filter(
        customer_id=subscription.customer_id, data__subscription_id=subscription.pk
    )
    events.filter(kind=EventKind.SUBSCRIBED).update(at=created)
    if cancelled is not None:
        events.filter(kind=EventKind.CANCELLED).update(at=min(cancelled, now))
    unit_moments = [created]
    if fresh.contracted_at is not None:
        unit_moments.append(fresh.contracted_at)
    if cancelled is not None:
        unit_moments.append(min(cancelled, now))
    _move_unit_changes(subscription.unit_id, unit_moments, now=now)


def _move_unit_changes(unit_id: int, moments: list[datetime], *, now: datetime) -> None:
    """The unit's status changes the services just stamped "now" (its history rows and
    `status_changed_at`), moved to `moments` in order (the last moment for any further row)."""
    rows = Unit.history.filter(id=unit_id, history_date__gte=now).order_by("history_date", "history_id")
    for index, history_id in enumerate(rows.values_list("history_id", flat=True)):
        Unit.history.filter(history_id=history_id).update(history_date=moments[min(index, len(moments) - 1)])
    Unit.objects.filter(pk=unit_id).update(status_changed_at=moments[-1])


def _backfill_holds(ctx: DemoContext) -> None:
    """Held units from the units step get the hold row that should stand behind their status."""
    manager = ctx.users["manager"]
    open_holds = Hold.objects.filter(released_at__isnull=True).values("unit_id")
    bare = list(
        Unit.objects.filter(project__in=list(ctx.projects.values()), status=UnitStatus.HELD)
        .exclude(pk__in=open_holds)
        .order_by("pk")
    )
    created = Hold.objects.bulk_create(
        Hold(unit=unit, reason=BACKFILL_HOLD_REASON, created_by=manager) for unit in bare
    )
    for unit, hold in zip(bare, created, strict=True):
        Hold.objects.filter(pk=hold.pk).update(created_at=unit.status_changed_at or ctx.now)
    ctx.record_created(Hold, len(created))
