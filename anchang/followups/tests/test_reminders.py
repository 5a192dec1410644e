"""The reminder job: due within the hour, and newly overdue, each sent once however often it runs (R5)."""

import threading
from datetime import timedelta

import pytest
from django.db import transaction
from django.utils import timezone

from anchang.accounts.models import Role
from anchang.accounts.testing import user_in
from anchang.core import periodic
from anchang.core.models import Notification, NotificationChannel
from anchang.core.notifications import notify
from anchang.core.testing.races import run_in_parallel
from anchang.followups.models import FollowUp
from anchang.followups.services import followup_send_reminders
from anchang.followups.tests.helpers import customer_of, follow_up_for
from anchang.inventory.testing import project_with_units

HOUR = timedelta(hours=1)


def reminders(kind: str | None = None):
    rows = Notification.objects.filter(channel=NotificationChannel.IN_APP, kind__startswith="followup_")
    return rows.filter(kind=kind) if kind else rows


@pytest.mark.django_db
def test_due_soon_is_reminded_once_then_overdue_once(project, consultant) -> None:
    task = follow_up_for(customer_of(project, consultant), consultant, due_in=30 * timedelta(minutes=1))
    assert followup_send_reminders() == {"due_soon": 1, "overdue": 0}
    assert followup_send_reminders() == {"due_soon": 0, "overdue": 0}
    soon = reminders("followup_due").get()
    assert soon.recipient == consultant and "一小时内到期" in soon.title and "王先生" in soon.body
    assert Notification.objects.filter(kind="followup_due", channel=NotificationChannel.LOG).count() == 1

    later = timezone.now() + 2 * HOUR
    assert followup_send_reminders(now=later) == {"due_soon": 0, "overdue": 1}
    assert followup_send_reminders(now=later + HOUR) == {"due_soon": 0, "overdue": 0}
    overdue = reminders("followup_overdue").get()
    assert "已逾期" in overdue.title and str(project.pk) in overdue.url
    task.refresh_from_db()
    assert task.reminded_at is not None and task.reminded_at >= task.due_at


@pytest.mark.django_db
def test_nothing_for_later_done_or_already_reminded(project, consultant) -> None:
    customer = customer_of(project, consultant)
    follow_up_for(customer, consultant, due_in=3 * HOUR)
    follow_up_for(customer, consultant, due_in=-HOUR, done=True)
    assert followup_send_reminders() == {"due_soon": 0, "overdue": 0}
    assert not reminders().exists()


@pytest.mark.django_db
def test_an_overdue_one_never_reminded_as_due_is_reminded_once(project, consultant) -> None:
    follow_up_for(customer_of(project, consultant), consultant, due_in=-5 * HOUR)
    assert followup_send_reminders() == {"due_soon": 0, "overdue": 1}
    assert followup_send_reminders() == {"due_soon": 0, "overdue": 0}


@pytest.mark.django_db
def test_one_message_per_consultant_and_kind(project, consultants) -> None:
    a, b, _c = consultants
    for _ in range(7):
        follow_up_for(customer_of(project, a), a, due_in=-HOUR)
    follow_up_for(customer_of(project, b), b, due_in=-HOUR)
    follow_up_for(customer_of(project, b), b, due_in=10 * timedelta(minutes=1))
    assert followup_send_reminders() == {"due_soon": 1, "overdue": 8}
    mine = reminders().filter(recipient=a).get()
    assert mine.title == "7 条跟进已逾期" and "等" in mine.body
    assert sorted(reminders().filter(recipient=b).values_list("kind", flat=True)) == [
        "followup_due",
        "followup_overdue",
    ]


@pytest.mark.django_db
def test_the_job_is_registered_and_runs_through_periodic(project, consultant) -> None:
    from anchang.followups import jobs

    job = periodic.registered_jobs([jobs.REMINDERS_JOB])[0]
    assert job.func is jobs.followup_reminders
    follow_up_for(customer_of(project, consultant), consultant, due_in=-HOUR)
    first, second = periodic.run_job(job), periodic.run_job(job)
    assert (first.status, first.result) == ("ran", {"due_soon": 0, "overdue": 1})
    assert second.result == {"due_soon": 0, "overdue": 0}


# --- R5 on PostgreSQL with real threads ---------------------------------------------------------------


def _site(overdue: int):
    project = project_with_units(buildings=1, floors=1, units_per_floor=1)
    consultant = user_in(project, role=Role.CONSULTANT)
    for _ in range(overdue):
        follow_up_for(customer_of(project, consultant), consultant, due_in=-HOUR)
    return consultant


@pytest.mark.postgres_only
@pytest.mark.django_db(transaction=True)
def test_concurrent_runs_send_each_reminder_once() -> None:
    consultant = _site(overdue=5)
    outcomes = run_in_parallel(lambda _i: followup_send_reminders(), 8)
    assert not [o for o in outcomes if isinstance(o, Exception)], outcomes
    assert sum(o["overdue"] for o in outcomes) == 5  # type: ignore[index]
    assert FollowUp.objects.filter(reminded_at__isnull=True).count() == 0
    # However the rows were shared out between the runs, each one was in exactly one message.
    titles = list(reminders().filter(recipient=consultant).values_list("title", flat=True))
    assert sum(int(title.split(" ")[0]) for title in titles) == 5


@pytest.mark.postgres_only
@pytest.mark.django_db(transaction=True)
def test_control_a_naive_reminder_double_sends() -> None:
    """The race the conditional UPDATE prevents: read unreminded rows, send, then mark them."""
    consultant = _site(overdue=1)
    everyone_read = threading.Barrier(4)

    def naive(_: int) -> int:
        with transaction.atomic():
            now = timezone.now()
            due = list(
                FollowUp.objects.filter(done_at__isnull=True, due_at__lte=now, reminded_at__isnull=True)
            )
            everyone_read.wait()
            for follow_up in due:
                notify(recipients=[consultant], kind="followup_overdue", title="1 条跟进已逾期")
                FollowUp.objects.filter(pk=follow_up.pk).update(reminded_at=now)
            return len(due)

    sent = run_in_parallel(naive, 4)
    assert sum(s for s in sent if isinstance(s, int)) > 1
    assert reminders("followup_overdue").count() > 1
