"""The worker's half of a check-in (timeline rows, notices) arrives whatever happened to the visit first."""

import pytest
from django_tasks_db.models import DBTaskResult

from anchang.core.models import Notification
from anchang.customers.models import CustomerEvent, EventKind
from anchang.reception.checkout import visit_check_out
from anchang.reception.services import check_in
from anchang.reception.tasks import check_in_follow_up
from anchang.reception.testing import run_check_in_follow_ups

pytestmark = pytest.mark.django_db


def test_a_visit_checked_out_before_the_worker_ran_keeps_its_check_in_row_and_notice(
    project, frontdesk, on_duty
) -> None:
    result = check_in(project=project, phone="13812345678", name="王小明", by=frontdesk, consent=True)
    visit_check_out(visit_id=result.visit.pk, by=on_duty[0], outcome="return")

    assert run_check_in_follow_ups() == 1

    rows = CustomerEvent.objects.filter(customer=result.customer, kind=EventKind.VISIT).order_by("pk")
    assert [("rule" in row.data, "outcome" in row.data) for row in rows] == [(False, True), (True, False)]
    assert Notification.objects.filter(recipient=on_duty[0], kind="visit_assigned", channel="in_app").exists()


def test_running_the_follow_up_twice_writes_it_once(project, frontdesk, on_duty) -> None:
    result = check_in(project=project, phone="13812345678", name="王小明", by=frontdesk, consent=True)
    queued = DBTaskResult.objects.get(task_path=check_in_follow_up.module_path)

    for _ in range(2):
        check_in_follow_up.call(*queued.args_kwargs["args"], **queued.args_kwargs["kwargs"])

    assert CustomerEvent.objects.filter(customer=result.customer, kind=EventKind.VISIT).count() == 1
    assert (
        Notification.objects.filter(recipient=on_duty[0], kind="visit_assigned", channel="in_app").count()
        == 1
    )
