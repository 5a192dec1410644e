import threading
from decimal import Decimal

import pytest
from django.db import close_old_connections, connection, transaction

from anchang.accounts.models import Role
from anchang.accounts.testing import user_in
from anchang.core.errors import Forbidden
from anchang.inventory.models import Unit, UnitStatus
from anchang.inventory.services import (
    InvalidUnitTransition,
    StatusManagedByDeals,
    UnitNotAvailable,
    unit_change_status,
)
from anchang.inventory.status import ALLOWED_TRANSITIONS, can_change_by_hand, can_transition
from anchang.inventory.testing import project_with_units

S = UnitStatus


@pytest.mark.parametrize(
    ("current", "target", "allowed"),
    [
        (S.AVAILABLE, S.HELD, True),
        (S.AVAILABLE, S.RESERVED, True),
        (S.AVAILABLE, S.SUBSCRIBED, True),
        (S.AVAILABLE, S.CONTRACTED, False),
        (S.HELD, S.AVAILABLE, True),
        (S.HELD, S.SUBSCRIBED, False),
        (S.RESERVED, S.SUBSCRIBED, True),
        (S.SUBSCRIBED, S.CONTRACTED, True),
        (S.SUBSCRIBED, S.AVAILABLE, True),
        (S.SUBSCRIBED, S.HELD, False),
        (S.CONTRACTED, S.SUBSCRIBED, False),
        (S.CONTRACTED, S.AVAILABLE, True),
    ],
)
def test_transition_table(current: str, target: str, allowed: bool) -> None:
    assert can_transition(current, target) is allowed


def test_every_status_has_a_way_back_to_available() -> None:
    assert set(ALLOWED_TRANSITIONS) == set(UnitStatus.values)
    for status, targets in ALLOWED_TRANSITIONS.items():
        assert status == S.AVAILABLE or S.AVAILABLE in targets


@pytest.mark.parametrize(
    ("current", "target", "by_hand"),
    [
        (S.AVAILABLE, S.RESERVED, True),
        (S.RESERVED, S.AVAILABLE, True),
        # A hold or a subscription stands behind these: only the deals services move them.
        (S.AVAILABLE, S.HELD, False),
        (S.HELD, S.AVAILABLE, False),
        (S.AVAILABLE, S.SUBSCRIBED, False),
        (S.RESERVED, S.SUBSCRIBED, False),
        (S.SUBSCRIBED, S.AVAILABLE, False),
        (S.SUBSCRIBED, S.CONTRACTED, False),
        (S.CONTRACTED, S.AVAILABLE, False),
    ],
)
def test_only_reservation_marks_change_by_hand(current: str, target: str, by_hand: bool) -> None:
    assert can_change_by_hand(current, target) is by_hand


@pytest.mark.django_db
def test_a_change_is_written_with_who_and_why(project, manager) -> None:
    unit = Unit.objects.filter(project=project).first()
    unit_change_status(unit_id=unit.pk, to_status=S.RESERVED, by=manager, reason="留给认筹客户")
    unit.refresh_from_db()
    assert unit.status == S.RESERVED
    assert unit.status_changed_at is not None
    last = unit.history.order_by("-history_date").first()
    assert (last.status, last.history_user, last.history_change_reason) == (
        S.RESERVED,
        manager,
        "留给认筹客户",
    )


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("current", "target"),
    [
        (S.AVAILABLE, S.HELD),
        (S.AVAILABLE, S.SUBSCRIBED),
        (S.HELD, S.AVAILABLE),
        (S.SUBSCRIBED, S.AVAILABLE),
        (S.SUBSCRIBED, S.CONTRACTED),
        (S.CONTRACTED, S.AVAILABLE),
    ],
)
def test_holds_and_sales_cannot_be_set_by_hand(project, manager, current: str, target: str) -> None:
    """One way to hold or sell: through deals.services, which keep the Hold/Subscription rows."""
    unit = Unit.objects.filter(project=project).first()
    Unit.objects.filter(pk=unit.pk).update(status=current)
    history_before = unit.history.count()
    with pytest.raises(StatusManagedByDeals) as caught:
        unit_change_status(unit_id=unit.pk, to_status=target, by=manager, reason="x")
    assert (caught.value.status, caught.value.code) == (409, "managed_by_deals")
    unit.refresh_from_db()
    assert unit.status == current
    assert unit.history.count() == history_before


@pytest.mark.django_db
def test_an_illegal_transition_is_refused_and_changes_nothing(project, manager) -> None:
    unit = Unit.objects.filter(project=project).first()
    history_before = unit.history.count()
    with pytest.raises(InvalidUnitTransition) as caught:
        unit_change_status(unit_id=unit.pk, to_status=S.CONTRACTED, by=manager)
    assert caught.value.status == 409
    unit.refresh_from_db()
    assert unit.status == S.AVAILABLE
    assert unit.history.count() == history_before


@pytest.mark.django_db
def test_only_a_manager_may_mark_a_unit_reserved(project, consultant) -> None:
    unit = Unit.objects.filter(project=project).first()
    with pytest.raises(Forbidden):
        unit_change_status(unit_id=unit.pk, to_status=S.RESERVED, by=consultant)
    unit.refresh_from_db()
    assert unit.status == S.AVAILABLE


@pytest.mark.django_db
def test_a_stale_status_loses_with_a_conflict(project, manager) -> None:
    """Someone else changed the unit between our read and our write: the conditional UPDATE misses."""
    unit = Unit.objects.filter(project=project).first()
    held_elsewhere = Unit.objects.filter(pk=unit.pk, status=S.AVAILABLE).update(status=S.SUBSCRIBED)
    assert held_elsewhere == 1
    with pytest.raises(InvalidUnitTransition):
        unit_change_status(unit_id=unit.pk, to_status=S.RESERVED, by=manager)


def _race(worker, n: int) -> list[object]:
    barrier = threading.Barrier(n)
    results: list[object] = []
    lock = threading.Lock()

    def run() -> None:
        close_old_connections()
        try:
            barrier.wait()
            outcome: object = worker()
        except Exception as error:
            outcome = error
        finally:
            connection.close()
        with lock:
            results.append(outcome)

    threads = [threading.Thread(target=run) for _ in range(n)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return results


@pytest.mark.postgres_only
@pytest.mark.django_db(transaction=True)
def test_concurrent_status_changes_let_exactly_one_through() -> None:
    project = project_with_units(buildings=1, floors=1, units_per_floor=1)
    manager = user_in(project, role=Role.MANAGER)
    unit = Unit.objects.get(project=project)

    outcomes = _race(lambda: unit_change_status(unit_id=unit.pk, to_status=S.RESERVED, by=manager), 8)

    winners = [o for o in outcomes if isinstance(o, Unit)]
    losers = [o for o in outcomes if isinstance(o, InvalidUnitTransition | UnitNotAvailable)]
    assert len(winners) == 1
    assert len(losers) == 7
    assert unit.history.filter(status=S.RESERVED).count() == 1


@pytest.mark.postgres_only
@pytest.mark.django_db(transaction=True)
def test_control_naive_read_modify_save_lets_several_through() -> None:
    """The race the service prevents: read, check, save without a lock or a condition."""
    project = project_with_units(buildings=1, floors=1, units_per_floor=1)
    unit_id = Unit.objects.get(project=project).pk
    n = 8
    read_done = threading.Barrier(n)

    def naive() -> bool:
        with transaction.atomic():
            unit = Unit.objects.get(pk=unit_id)
            read_done.wait()  # every thread has seen "available" before anyone writes
            if unit.status != S.AVAILABLE:
                return False
            unit.status = S.SUBSCRIBED
            unit.list_price_total += Decimal(1)
            unit.save()
            return True

    outcomes = _race(naive, n)
    assert sum(1 for o in outcomes if o is True) > 1
