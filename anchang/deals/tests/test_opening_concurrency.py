"""Opening day on PostgreSQL with real threads: hundreds of buyers may select at the same second.

Each guard has a test that it holds, and the limit guard a control that shows the race without it.
"""

import threading

import pytest
from django.db import transaction

from anchang.core.errors import Conflict
from anchang.core.testing.races import run_in_parallel
from anchang.deals.models import (
    OCCUPYING_STATUSES,
    OpeningBuyer,
    Reservation,
    ReservationStatus,
    Subscription,
)
from anchang.deals.opening import buyer_picks_count, opening_select
from anchang.deals.services import subscription_create
from anchang.deals.tests.test_opening_setup import open_session
from anchang.inventory.models import Unit, UnitStatus
from anchang.inventory.services import UnitNotAvailable

pytestmark = [pytest.mark.postgres_only, pytest.mark.django_db(transaction=True)]

BUYERS = 16


def test_many_buyers_selecting_the_same_unit_at_once_make_exactly_one_winner(project, manager) -> None:
    opened = open_session(project, manager, buyers=BUYERS)
    unit = Unit.objects.filter(project=project).order_by("pk").first()

    outcomes = run_in_parallel(
        lambda i: opening_select(buyer_id=opened.buyers[i].pk, unit_id=unit.pk, by=None), BUYERS
    )

    winners = [o for o in outcomes if isinstance(o, Subscription)]
    losers = [o for o in outcomes if isinstance(o, UnitNotAvailable)]
    assert len(winners) == 1, outcomes
    assert len(losers) == BUYERS - 1, outcomes
    assert Subscription.objects.filter(unit=unit, status__in=OCCUPYING_STATUSES).count() == 1
    unit.refresh_from_db()
    assert unit.status == UnitStatus.SUBSCRIBED
    # Only the winner's reservation converted.
    converted = Reservation.objects.filter(project=project, status=ReservationStatus.CONVERTED)
    assert list(converted.values_list("customer_id", flat=True)) == [winners[0].customer_id]


def test_buyers_selecting_different_units_at_once_all_succeed(project, manager) -> None:
    opened = open_session(project, manager, buyers=8)
    units = list(Unit.objects.filter(project=project).order_by("pk")[:8])

    outcomes = run_in_parallel(
        lambda i: opening_select(buyer_id=opened.buyers[i].pk, unit_id=units[i].pk, by=None), 8
    )

    assert all(isinstance(o, Subscription) for o in outcomes), outcomes
    assert Unit.objects.filter(pk__in=[u.pk for u in units], status=UnitStatus.SUBSCRIBED).count() == 8


def test_one_buyer_on_several_devices_cannot_pass_the_limit(project, manager) -> None:
    opened = open_session(project, manager, buyers=1, units_per_buyer=1)
    buyer = opened.buyers[0]
    units = list(Unit.objects.filter(project=project).order_by("pk")[:6])

    outcomes = run_in_parallel(lambda i: opening_select(buyer_id=buyer.pk, unit_id=units[i].pk, by=None), 6)

    assert sum(isinstance(o, Subscription) for o in outcomes) == 1, outcomes
    refused = [o for o in outcomes if isinstance(o, Conflict)]
    assert len(refused) == 5 and {e.code for e in refused} == {"limit_reached"}
    assert Subscription.objects.filter(reservation_id=buyer.reservation_id).count() == 1
    assert Unit.objects.filter(project=project, status=UnitStatus.SUBSCRIBED).count() == 1


def test_control_without_the_buyer_lock_one_buyer_passes_the_limit(project, manager) -> None:
    """The race the buyer's row lock prevents: count the picks, then subscribe, without the lock."""
    opened = open_session(project, manager, buyers=1, units_per_buyer=1)
    buyer = OpeningBuyer.objects.select_related("customer", "reservation").get(pk=opened.buyers[0].pk)
    units = list(Unit.objects.filter(project=project).order_by("pk")[:4])
    counted = threading.Barrier(4)

    def naive_select(i: int) -> object:
        with transaction.atomic():
            picks = buyer_picks_count(buyer)
            counted.wait()
            if picks >= 1:
                return None
            return subscription_create(
                unit_id=units[i].pk,
                customer=buyer.customer,
                price=units[i].list_price_total,
                deposit=buyer.reservation.amount,
                by=manager,
                reservation=buyer.reservation,
                opening_session_id=opened.session.pk,
            )

    outcomes = run_in_parallel(naive_select, 4)

    assert sum(isinstance(o, Subscription) for o in outcomes) > 1, outcomes
