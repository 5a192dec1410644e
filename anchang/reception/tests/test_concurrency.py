"""R1 and R4 on PostgreSQL with real threads, each with a control that shows the race without the guard."""

import threading

import pytest
from django.db import transaction

from anchang.accounts.models import Role
from anchang.accounts.testing import user_in
from anchang.core.idempotency import run_idempotent
from anchang.core.testing.races import run_in_parallel
from anchang.inventory.testing import project_with_units
from anchang.reception.models import QueueState, RotationEntry, Visit, VisitState
from anchang.reception.rotation import rotation_sign_in, today
from anchang.reception.services import check_in

pytestmark = [pytest.mark.postgres_only, pytest.mark.django_db(transaction=True)]


def _site(consultants: int):
    project = project_with_units(buildings=1, floors=1, units_per_floor=1)
    desk = user_in(project, role=Role.FRONTDESK)
    team = [user_in(project, role=Role.CONSULTANT) for _ in range(consultants)]
    for consultant in team:
        rotation_sign_in(project=project, consultant=consultant, by=consultant)
    return project, desk, team


def test_two_desks_never_get_the_same_waiting_consultant() -> None:
    project, desk, team = _site(consultants=1)
    outcomes = run_in_parallel(
        lambda i: check_in(project=project, phone=f"1381234{i:04d}", by=desk, consent=True), 8
    )
    assert not [o for o in outcomes if isinstance(o, Exception)]
    assigned = Visit.objects.filter(project=project, consultant__isnull=False)
    assert assigned.count() == 1
    assert Visit.objects.filter(project=project, state=VisitState.WAITING).count() == 7
    entry = RotationEntry.objects.get(project=project, consultant=team[0])
    assert (entry.state, entry.receptions) == (QueueState.RECEIVING, 1)


def test_many_desks_spread_over_distinct_consultants() -> None:
    project, desk, team = _site(consultants=4)
    run_in_parallel(lambda i: check_in(project=project, phone=f"1391234{i:04d}", by=desk, consent=True), 10)
    receivers = list(
        Visit.objects.filter(project=project, consultant__isnull=False).values_list(
            "consultant_id", flat=True
        )
    )
    assert sorted(receivers) == sorted(u.pk for u in team)
    assert RotationEntry.objects.filter(project=project, state=QueueState.RECEIVING).count() == 4


def test_control_a_claim_without_lock_or_condition_double_assigns() -> None:
    """The race the guard prevents: read the head of the queue, then write unconditionally."""
    project, _desk, team = _site(consultants=1)
    read_done = threading.Barrier(6)

    def naive_claim(_: int) -> int:
        with transaction.atomic():
            head = (
                RotationEntry.objects.filter(project=project, day=today(), state=QueueState.WAITING)
                .order_by("position")
                .first()
            )
            read_done.wait()
            if head is None:
                return 0
            RotationEntry.objects.filter(pk=head.pk).update(state=QueueState.RECEIVING)
            return head.consultant_id

    claimed = run_in_parallel(naive_claim, 6)
    assert claimed.count(team[0].pk) > 1


def test_the_same_idempotency_key_sent_concurrently_makes_one_visit() -> None:
    project, desk, _team = _site(consultants=2)
    body = {"phone": "13712345678", "consent": True}

    def send(_: int) -> object:
        def work() -> tuple[int, dict[str, object]]:
            result = check_in(project=project, by=desk, **body)
            return 201, {"visit_id": result.visit.pk}

        return run_idempotent(user=desk, scope=f"checkin:{project.pk}", key="kiosk-42", body=body, work=work)

    answers = run_in_parallel(send, 6)
    assert not [a for a in answers if isinstance(a, Exception)], answers
    assert Visit.objects.filter(project=project).count() == 1
    assert len({a[1]["visit_id"] for a in answers}) == 1  # type: ignore[index]
    assert RotationEntry.objects.filter(project=project, state=QueueState.RECEIVING).count() == 1


def test_two_desks_registering_the_same_new_phone_both_succeed_with_one_customer() -> None:
    """The loser of the customer INSERT is judged again as a visit of the winner's customer."""
    project, desk, _team = _site(consultants=3)
    outcomes = run_in_parallel(
        lambda i: check_in(project=project, phone="13612345678", by=desk, consent=True), 4
    )
    assert not [o for o in outcomes if isinstance(o, Exception)], outcomes
    customers = {o.customer.pk for o in outcomes}  # type: ignore[attr-defined]
    assert len(customers) == 1
    assert Visit.objects.filter(project=project, customer_id__in=customers).count() == 4
