"""Issue 11 §2: a check-out never leaves the consultant two open follow-ups of one customer.

Why it did: the first visit's follow-up was created whatever was already open — a follow-up scheduled
before the visit, or (in the demo) the "到访后回访" given to visitors still in the hall."""

from datetime import timedelta

import pytest
from django.utils import timezone

from anchang.followups.models import FollowUp
from anchang.followups.services import followup_schedule
from anchang.inventory.models import ProjectSettings
from anchang.reception.checkout import checkout_summary, visit_check_out
from anchang.reception.models import VisitKind
from anchang.reception.services import check_in

pytestmark = pytest.mark.django_db


@pytest.fixture
def visit(project, frontdesk, on_duty):
    ProjectSettings.objects.filter(project=project).update(first_followup_due_hours=24)
    visit = check_in(project=project, phone="13812345678", name="王小明", by=frontdesk, consent=True).visit
    assert visit.kind == VisitKind.FIRST
    return visit


@pytest.mark.parametrize("open_due_in", [timedelta(days=3), -timedelta(days=1)])
def test_an_open_follow_up_is_reused_not_doubled(visit, open_due_in) -> None:
    consultant = visit.consultant
    visit.customer.refresh_from_db()
    already = followup_schedule(
        customer=visit.customer,
        consultant=consultant,
        due_at=timezone.now() + open_due_in,
        reason="到访后回访",
    )
    original_due = already.due_at
    result = visit_check_out(visit_id=visit.pk, by=consultant, outcome="return")
    open_rows = list(FollowUp.objects.filter(customer=visit.customer, done_at__isnull=True))
    assert open_rows == [already] and result.follow_up == already
    already.refresh_from_db()
    assert result.visit.checked_out_at is not None
    first_visit_due = result.visit.checked_out_at + timedelta(hours=24)
    # Brought forward to the first-visit deadline, never pushed back.
    assert already.due_at == min(original_due, first_visit_due) and already.visit_id == visit.pk
    assert checkout_summary(result.visit).follow_up == already


def test_without_an_open_one_the_first_visit_starts_one(visit) -> None:
    result = visit_check_out(visit_id=visit.pk, by=visit.consultant, outcome="return")
    assert FollowUp.objects.filter(done_at__isnull=True).count() == 1
    assert result.follow_up is not None and result.follow_up.reason == "首访后回访"
