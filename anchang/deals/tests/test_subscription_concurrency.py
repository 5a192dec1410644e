"""A unit is never sold twice, under real concurrency on PostgreSQL (quality S4, R4; architecture rule 10).

Each race starts with every thread in flight at once: the test itself holds the unit's row lock while
the threads start, waits until PostgreSQL reports all of them blocked, then lets go. The control runs
the same race without the guard (no row lock, no conditional UPDATE) and shows that several buyers
pass the availability check — only the partial unique index stops the second row, and without the
index the unit is sold several times.
"""

import threading
import time
from collections.abc import Callable
from decimal import Decimal
from typing import cast

import pytest
from django.db import IntegrityError, connection, transaction
from django.test import Client

from anchang.accounts.models import ApiToken, Role
from anchang.accounts.testing import user_in
from anchang.core.models import IdempotencyRecord
from anchang.core.testing.races import run_in_parallel
from anchang.customers.models import Customer
from anchang.deals.models import OCCUPYING_STATUSES, Subscription, SubscriptionStatus
from anchang.deals.services import subscription_cancel, subscription_change_unit, subscription_create
from anchang.deals.tests.helpers import customer_of
from anchang.inventory.models import Unit, UnitStatus
from anchang.inventory.services import UnitNotAvailable
from anchang.inventory.testing import project_with_units

BUYERS = 8


def _site(units: int = 1):
    project = project_with_units(buildings=1, floors=1, units_per_floor=units)
    seller = user_in(project, role=Role.MANAGER)
    customers = [customer_of(project, seller, name=f"买家{i}") for i in range(BUYERS)]
    return project, seller, list(Unit.objects.filter(project=project).order_by("pk")), customers


def _blocked_backends() -> int:
    with connection.cursor() as cursor:
        # pg_stat_activity is read once per transaction unless the snapshot is dropped.
        cursor.execute("SELECT pg_stat_clear_snapshot()")
        cursor.execute(
            "SELECT count(*) FROM pg_stat_activity"
            " WHERE datname = current_database() AND wait_event_type = 'Lock'"
        )
        return int(cursor.fetchone()[0])


def race_behind_the_unit_lock(unit: Unit, work: Callable[[int], object], n: int) -> list[object]:
    """Run `work` in `n` threads while this thread holds the unit's row lock; release it only when
    all `n` are blocked on a lock, so that every one of them is in flight at the same moment."""
    outcomes: list[object] = []
    runner = threading.Thread(target=lambda: outcomes.extend(run_in_parallel(work, n)))
    with transaction.atomic():
        Unit.objects.select_for_update().get(pk=unit.pk)
        runner.start()
        deadline = time.monotonic() + 20
        while _blocked_backends() < n and time.monotonic() < deadline:
            time.sleep(0.02)
        assert _blocked_backends() >= n, "the threads never all reached the unit"
    runner.join(60)
    assert not runner.is_alive()
    return outcomes


def _occupying(unit: Unit) -> int:
    return Subscription.objects.filter(unit=unit, status__in=OCCUPYING_STATUSES).count()


def _caused_by_the_index(outcome: object) -> bool:
    return isinstance(outcome, UnitNotAvailable) and isinstance(outcome.__cause__, IntegrityError)


def _buy(unit: Unit, customers: list[Customer], seller, *, lock: bool = True) -> Callable[[int], object]:
    def work(i: int) -> object:
        return subscription_create(
            unit_id=unit.pk,
            customer=customers[i],
            price=unit.list_price_total,
            deposit=Decimal("50000"),
            by=seller,
            lock=lock,
        )

    return work


@pytest.mark.django_db
def test_the_index_refuses_a_second_occupying_row() -> None:
    """The database states the invariant itself: a raw insert around the services is refused."""
    project, seller, [unit], customers = _site()
    subscription_create(
        unit_id=unit.pk, customer=customers[0], price=unit.list_price_total, deposit=Decimal(0), by=seller
    )
    with pytest.raises(IntegrityError), transaction.atomic():
        Subscription.objects.create(
            project=project,
            unit=unit,
            customer=customers[1],
            status=SubscriptionStatus.PENDING_APPROVAL,
            list_price=unit.list_price_total,
            price=unit.list_price_total,
            deposit=Decimal(0),
            subscribed_on="2026-01-01",
            sign_deadline="2026-01-08",
            created_by=seller,
        )
    # A cancelled row next to the occupying one is fine: history is kept.
    Subscription.objects.create(
        project=project,
        unit=unit,
        customer=customers[1],
        status=SubscriptionStatus.CANCELLED,
        list_price=unit.list_price_total,
        price=unit.list_price_total,
        deposit=Decimal(0),
        subscribed_on="2026-01-01",
        sign_deadline="2026-01-08",
        created_by=seller,
    )
    assert _occupying(unit) == 1


@pytest.mark.postgres_only
@pytest.mark.django_db(transaction=True)
def test_eight_buyers_one_unit_exactly_one_subscription() -> None:
    _project, seller, [unit], customers = _site()

    outcomes = race_behind_the_unit_lock(unit, _buy(unit, customers, seller), BUYERS)

    winners = [o for o in outcomes if isinstance(o, Subscription)]
    losers = [o for o in outcomes if isinstance(o, UnitNotAvailable)]
    assert (len(winners), len(losers)) == (1, BUYERS - 1), outcomes
    # The lock decided, not the index: every loser re-read the unit and saw it sold.
    assert not [o for o in losers if _caused_by_the_index(o)]
    assert _occupying(unit) == 1
    unit.refresh_from_db()
    assert unit.status == UnitStatus.SUBSCRIBED
    assert unit.history.filter(status=UnitStatus.SUBSCRIBED).count() == 1


@pytest.mark.postgres_only
@pytest.mark.django_db(transaction=True)
def test_control_without_the_guard_several_pass_the_check_and_only_the_index_stops_them() -> None:
    _project, seller, [unit], customers = _site()

    outcomes = race_behind_the_unit_lock(unit, _buy(unit, customers, seller, lock=False), BUYERS)

    winners = [o for o in outcomes if isinstance(o, Subscription)]
    stopped_by_index = [o for o in outcomes if _caused_by_the_index(o)]
    # Every buyer read "available" and wrote the unit: the race is real. The partial unique index
    # is what turned all but one of them away.
    assert len(winners) == 1, outcomes
    assert len(stopped_by_index) == BUYERS - 1 >= 2
    assert _occupying(unit) == 1


@pytest.mark.postgres_only
@pytest.mark.django_db(transaction=True)
def test_control_without_guard_and_index_the_unit_is_sold_several_times() -> None:
    """The oversell the lock and the index prevent, shown by removing both."""
    _project, seller, [unit], customers = _site()
    constraint = next(
        c for c in Subscription._meta.constraints if c.name == "subscription_one_active_per_unit"
    )
    with connection.schema_editor() as editor:
        editor.remove_constraint(Subscription, constraint)
    try:
        outcomes = race_behind_the_unit_lock(unit, _buy(unit, customers, seller, lock=False), BUYERS)
        sold = [o for o in outcomes if isinstance(o, Subscription)]
        assert len(sold) >= 2, outcomes
        assert _occupying(unit) >= 2
    finally:
        Subscription.objects.all().delete()
        with connection.schema_editor() as editor:
            editor.add_constraint(Subscription, constraint)


@pytest.mark.postgres_only
@pytest.mark.django_db(transaction=True)
def test_a_change_of_unit_racing_new_buyers_never_double_sells_the_target() -> None:
    _project, seller, units, customers = _site(units=2)
    old_unit, target = units
    changing = subscription_create(
        unit_id=old_unit.pk,
        customer=customers[0],
        price=old_unit.list_price_total,
        deposit=Decimal(0),
        by=seller,
    )

    def work(i: int) -> object:
        if i == 0:
            return subscription_change_unit(subscription_id=changing.pk, unit_id=target.pk, by=seller)
        return _buy(target, customers, seller)(i)

    outcomes = race_behind_the_unit_lock(target, work, BUYERS)

    assert not [o for o in outcomes if not isinstance(o, Subscription | UnitNotAvailable)], outcomes
    assert _occupying(target) == 1
    changing.refresh_from_db()
    old_unit.refresh_from_db()
    target.refresh_from_db()
    assert target.status == UnitStatus.SUBSCRIBED
    if changing.status == SubscriptionStatus.CANCELLED:  # the change won the target
        assert changing.replaced_by is not None and changing.replaced_by.unit_id == target.pk
        assert (old_unit.status, _occupying(old_unit)) == (UnitStatus.AVAILABLE, 0)
    else:  # a buyer won; the change failed as a whole and the old subscription stands
        assert changing.replaced_by is None
        assert (old_unit.status, _occupying(old_unit)) == (UnitStatus.SUBSCRIBED, 1)


@pytest.mark.postgres_only
@pytest.mark.django_db(transaction=True)
def test_changes_of_unit_in_opposite_directions_do_not_deadlock() -> None:
    """A→B and B→A at once: both lock the two units in pk order, so one waits for the other."""
    _project, seller, units, customers = _site(units=3)
    a, b, c = units
    first = subscription_create(
        unit_id=a.pk, customer=customers[0], price=a.list_price_total, deposit=Decimal(0), by=seller
    )
    second = subscription_create(
        unit_id=c.pk, customer=customers[1], price=c.list_price_total, deposit=Decimal(0), by=seller
    )

    def work(i: int) -> object:
        if i == 0:
            return subscription_change_unit(subscription_id=first.pk, unit_id=b.pk, by=seller)
        return subscription_change_unit(subscription_id=second.pk, unit_id=b.pk, by=seller)

    outcomes = run_in_parallel(work, 2)

    assert sorted(type(o).__name__ for o in outcomes) == ["Subscription", "UnitNotAvailable"], outcomes
    assert _occupying(b) == 1
    assert sum(_occupying(u) for u in units) == 2


@pytest.mark.postgres_only
@pytest.mark.django_db(transaction=True)
def test_a_cancellation_racing_new_buyers_lets_at_most_one_in() -> None:
    _project, seller, [unit], customers = _site()
    first = subscription_create(
        unit_id=unit.pk, customer=customers[0], price=unit.list_price_total, deposit=Decimal(0), by=seller
    )

    def work(i: int) -> object:
        if i == 0:
            return subscription_cancel(subscription_id=first.pk, by=seller, reason="退订")
        return _buy(unit, customers, seller)(i)

    outcomes = race_behind_the_unit_lock(unit, work, BUYERS)

    assert not [o for o in outcomes if not isinstance(o, Subscription | UnitNotAvailable)], outcomes
    assert _occupying(unit) <= 1
    unit.refresh_from_db()
    assert unit.status == (UnitStatus.SUBSCRIBED if _occupying(unit) else UnitStatus.AVAILABLE)


@pytest.mark.postgres_only
@pytest.mark.django_db(transaction=True)
def test_the_same_idempotency_key_sent_concurrently_makes_one_subscription() -> None:
    _project, seller, [unit], customers = _site()
    _token, raw = ApiToken.issue(seller)
    body = {"customer_id": customers[0].pk, "price": str(unit.list_price_total), "deposit": "50000.00"}

    def send(_: int) -> object:
        answer = Client().post(
            f"/api/v1/units/{unit.pk}/subscriptions",
            body,
            content_type="application/json",
            headers={"Authorization": f"Bearer {raw}", "Idempotency-Key": "kiosk-7"},
        )
        return answer.status_code, answer.json()

    answers = race_behind_the_unit_lock(unit, send, 6)

    assert not [a for a in answers if isinstance(a, Exception)], answers
    replies = cast(list[tuple[int, dict[str, object]]], answers)
    assert {status for status, _ in replies} == {201}, replies
    assert len({reply["id"] for _, reply in replies}) == 1
    assert Subscription.objects.filter(unit=unit).count() == 1
    assert IdempotencyRecord.objects.filter(key="kiosk-7").count() == 1
