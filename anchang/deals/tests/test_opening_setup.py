"""Builders shared by the opening-day tests (no tests here): reservations, sessions, an open session."""

from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal

from django.utils import timezone

from anchang.accounts.models import User
from anchang.core.testing.mobiles import mobile_for
from anchang.customers.models import Customer
from anchang.deals.models import OpeningBuyer, OpeningSession, OrderMethod, Reservation
from anchang.deals.opening import (
    SessionInput,
    opening_buyers_draw,
    opening_session_create,
    opening_session_open,
)
from anchang.inventory.models import Project

NAMES = ("王小明", "李丽", "张伟", "刘芳", "陈静", "杨洋", "赵磊", "黄敏", "周军", "吴娜")
DEPOSIT = Decimal("50000.00")


def make_reservations(
    project: Project,
    n: int,
    *,
    by: User,
    minutes: list[int] | None = None,
    amount: Decimal = DEPOSIT,
    owner: User | None = None,
) -> list[Reservation]:
    """`n` customers with a reservation each, numbers 1..n; registered `minutes[i]` after a fixed base."""
    base = timezone.now() - timedelta(days=10)
    reservations = []
    for i in range(n):
        customer = Customer.objects.create(
            project=project,
            phone=f"+86{mobile_for(project.pk * 10_000 + i)}",
            name=f"{NAMES[i % len(NAMES)]}{i // len(NAMES) or ''}",
            gender="male" if i % 2 == 0 else "female",
            owner=owner,
        )
        reservations.append(
            Reservation.objects.create(
                project=project,
                customer=customer,
                number=i + 1,
                amount=amount,
                registered_at=base + timedelta(minutes=minutes[i] if minutes else i),
                created_by=by,
            )
        )
    return reservations


def session_input(
    *,
    name: str = "首次开盘",
    starts_at: datetime | None = None,
    order_method: str = OrderMethod.REGISTRATION,
    slot_minutes: int = 10,
    buyers_per_slot: int = 20,
    units_per_buyer: int = 1,
) -> SessionInput:
    return SessionInput(
        name=name,
        starts_at=starts_at or timezone.now() - timedelta(minutes=1),
        order_method=order_method,
        slot_minutes=slot_minutes,
        buyers_per_slot=buyers_per_slot,
        units_per_buyer=units_per_buyer,
    )


def make_session(project: Project, manager: User, **changes: object) -> OpeningSession:
    return opening_session_create(project=project, data=session_input(**changes), by=manager)


@dataclass
class OpenSession:
    session: OpeningSession
    buyers: list[OpeningBuyer]
    reservations: list[Reservation]


def open_session(project: Project, manager: User, *, buyers: int = 3, **changes: object) -> OpenSession:
    """A session drawn by registration order (position = reservation number) and opened."""
    reservations = make_reservations(project, buyers, by=manager)
    session = make_session(project, manager, **changes)
    opening_buyers_draw(session_id=session.pk, by=manager)
    opening_session_open(session_id=session.pk, by=manager)
    session.refresh_from_db()
    return OpenSession(
        session=session,
        buyers=list(session.buyers.select_related("customer", "reservation").order_by("position")),
        reservations=reservations,
    )
