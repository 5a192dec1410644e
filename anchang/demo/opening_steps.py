"""Demo step: opening day (开盘选房) at the high-rise, open today so it can be tried by hand.

About forty history customers of the high-rise hold a reservation (认筹); one session, ordered by
lottery (the seed is on the session page), slots drawn, is open from this morning. The manager sees it
under 开盘选房; each buyer's link (`/o/<token>/`) opens the phone page; consultants select for buyers
at 代客选房.

Keyed on the session's name in the project: while it exists the step does nothing, so a rerun —
even on a later day — changes nothing (the session stays open, every slot has started by then).
Reservations, the draw and the opening go through the same code the pages use.
"""

from datetime import datetime, time
from decimal import Decimal

from django.utils import timezone

from anchang.customers.models import Customer, CustomerEvent, EventKind
from anchang.deals.models import (
    OpeningBuyer,
    OpeningSession,
    OrderMethod,
    Reservation,
    ReservationStatus,
)
from anchang.deals.opening import (
    SessionInput,
    opening_buyers_draw,
    opening_session_create,
    opening_session_open,
)
from anchang.deals.services import reservation_create
from anchang.demo.context import HIGH_RISE, DemoContext, working_time
from anchang.demo.permit_steps import disclosed_customers

SESSION_NAME = "滨江府首次开盘"
RESERVATIONS = 40
RESERVATION_AMOUNT = Decimal("100000.00")
SLOT_MINUTES = 10
BUYERS_PER_SLOT = 20
# Reservations were taken over the three weeks before the opening.
RESERVATION_DAYS = 21
MORNING = time(9, 0)


def opening_start(now: datetime) -> datetime:
    """09:00 today, or — when the demo is loaded before nine — the current ten minutes, so that the
    first batch can select at once whenever the demo is loaded."""
    local = timezone.localtime(now)
    morning = timezone.make_aware(datetime.combine(local.date(), MORNING))
    floored = local.replace(minute=local.minute - local.minute % 10, second=0, microsecond=0)
    return min(morning, floored)


def load_opening_day(ctx: DemoContext) -> None:
    project = ctx.projects[HIGH_RISE]
    if OpeningSession.objects.filter(project=project, name=SESSION_NAME).exists():
        return
    manager = ctx.users["manager"]
    now = ctx.now
    holders = disclosed_customers(
        Customer.objects.filter(project=project, is_owner=False, subscriptions__isnull=True)
    ).exclude(reservations__status=ReservationStatus.ACTIVE)
    customers = list(holders.order_by("phone")[:RESERVATIONS])
    for offset, customer in enumerate(customers):
        # Spread over three weeks, during opening hours, in the order of their numbers.
        registered = working_time(
            now,
            days_ago=RESERVATION_DAYS - offset * RESERVATION_DAYS // RESERVATIONS,
            minutes=60 + 37 * offset,
        )
        reservation = reservation_create(
            project=project,
            customer=customer,
            amount=RESERVATION_AMOUNT,
            by=manager,
            registered_at=registered,
        )
        # The service stamps the timeline and the history "now": move them to when it was taken.
        CustomerEvent.objects.filter(
            customer=customer, kind=EventKind.RESERVED, data__reservation_id=reservation.pk
        ).update(at=registered)
        Reservation.history.filter(id=reservation.pk).update(history_date=registered)
    ctx.record_created(Reservation, len(customers))
    session = opening_session_create(
        project=project,
        data=SessionInput(
            name=SESSION_NAME,
            starts_at=opening_start(now),
            order_method=OrderMethod.LOTTERY,
            slot_minutes=SLOT_MINUTES,
            buyers_per_slot=BUYERS_PER_SLOT,
            units_per_buyer=1,
        ),
        by=manager,
    )
    ctx.record_created(OpeningSession, 1)
    buyers = opening_buyers_draw(session_id=session.pk, by=manager)
    ctx.record_created(OpeningBuyer, len(buyers))
    opening_session_open(session_id=session.pk, by=manager)
