"""The locks of follow-ups and callbacks on PostgreSQL with real threads, and the race without them."""

import threading
from datetime import timedelta

import pytest
from django.db import transaction
from django.utils import timezone

from anchang.accounts.models import Role
from anchang.accounts.testing import user_in
from anchang.core.errors import Conflict
from anchang.core.testing.races import run_in_parallel
from anchang.followups.models import Callback, FollowUp
from anchang.followups.services import callback_record, followup_record
from anchang.followups.tests.helpers import customer_of, ended_visit, follow_up_for
from anchang.inventory.testing import project_with_units

pytestmark = [pytest.mark.postgres_only, pytest.mark.django_db(transaction=True)]


def _site():
    project = project_with_units(buildings=1, floors=1, units_per_floor=1)
    consultant = user_in(project, role=Role.CONSULTANT)
    return project, consultant


def test_two_records_at_once_close_the_open_task_once() -> None:
    project, consultant = _site()
    customer = customer_of(project, consultant)
    task = follow_up_for(customer, consultant, due_in=-timedelta(hours=1))
    outcomes = run_in_parallel(
        lambda i: followup_record(customer=customer, by=consultant, method="phone", content=f"第{i}次"), 6
    )
    assert not [o for o in outcomes if isinstance(o, Exception)], outcomes
    closed = [o for o in outcomes if isinstance(o, FollowUp) and o.pk == task.pk]
    assert len(closed) == 1
    assert FollowUp.objects.filter(customer=customer, done_at__isnull=False).count() == 6


def test_control_without_the_lock_the_same_task_is_closed_twice() -> None:
    project, consultant = _site()
    customer = customer_of(project, consultant)
    task = follow_up_for(customer, consultant, due_in=-timedelta(hours=1))
    everyone_read = threading.Barrier(4)

    def naive(i: int) -> int:
        with transaction.atomic():
            oldest = (
                FollowUp.objects.filter(customer=customer, done_at__isnull=True).order_by("due_at").first()
            )
            everyone_read.wait()
            assert oldest is not None
            FollowUp.objects.filter(pk=oldest.pk).update(done_at=timezone.now(), content=f"第{i}次")
            return oldest.pk

    closed = run_in_parallel(naive, 4)
    # Four contacts, one task: three records were lost over the first.
    assert closed.count(task.pk) > 1


def test_concurrent_callbacks_for_one_visit_make_one() -> None:
    project, consultant = _site()
    service = user_in(project, role=Role.SERVICE)
    visit = ended_visit(project, customer_of(project, consultant), consultant)
    outcomes = run_in_parallel(lambda i: callback_record(visit=visit, by=service, satisfaction=1 + i % 5), 6)
    assert sum(isinstance(o, Callback) for o in outcomes) == 1
    assert all(isinstance(o, Conflict) for o in outcomes if not isinstance(o, Callback)), outcomes
    assert Callback.objects.filter(visit=visit).count() == 1
