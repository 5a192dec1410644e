"""The demo's opening day: about forty reservations at the high-rise and one lottery session open today."""

from datetime import datetime

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from anchang.deals.models import OpeningSession, OpeningStatus, OrderMethod, Reservation, Subscription
from anchang.deals.opening import lottery_order
from anchang.demo.loader import HIGH_RISE, load_demo
from anchang.demo.opening_steps import RESERVATIONS, SESSION_NAME, opening_start
from anchang.inventory.models import Unit, UnitStatus

pytestmark = pytest.mark.django_db


def test_demo_opens_a_lottery_session_today_and_a_buyer_can_select() -> None:
    first = load_demo()

    session = OpeningSession.objects.get(project__code=HIGH_RISE, name=SESSION_NAME)
    assert (session.status, session.order_method) == (OpeningStatus.OPEN, OrderMethod.LOTTERY)
    assert timezone.localdate(session.starts_at) == timezone.localdate()
    assert session.lottery_seed
    reservations = Reservation.objects.filter(project=session.project)
    assert reservations.count() == RESERVATIONS
    numbers = list(session.buyers.order_by("position").values_list("reservation__number", flat=True))
    assert numbers == lottery_order(list(reservations.values_list("number", flat=True)), session.lottery_seed)
    assert first.created["开盘选房"] == 1 and first.created["认筹"] == RESERVATIONS

    # The first batch can select right away through their own link.
    buyer = session.buyers.get(position=1)
    unit = Unit.objects.filter(project=session.project, status=UnitStatus.AVAILABLE).first()
    response = Client().post(reverse("openings:buyer_unit", args=[buyer.token, unit.pk]))
    assert response.status_code == 302
    assert Subscription.objects.filter(opening_session=session, unit=unit).exists()

    counts = (Reservation.objects.count(), OpeningSession.objects.count(), session.buyers.count())
    again = load_demo()
    assert (Reservation.objects.count(), OpeningSession.objects.count(), session.buyers.count()) == counts
    assert "开盘选房" not in again.created or again.created["开盘选房"] == 0


@pytest.mark.parametrize(
    ("now", "expected"),
    [((14, 37), (9, 0)), ((8, 47), (8, 40)), ((0, 5), (0, 0)), ((9, 0), (9, 0))],
)
def test_the_session_starts_at_nine_or_now_if_earlier(now, expected) -> None:
    tz = timezone.get_current_timezone()
    hour, minute = now
    at = datetime(2026, 11, 26, hour, minute, 30, tzinfo=tz)
    start = timezone.localtime(opening_start(at))
    assert (start.hour, start.minute, start.date()) == (*expected, at.date())
