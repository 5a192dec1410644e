"""Small builders for the follow-up tests: customers owned by a consultant, follow-ups, ended visits."""

from collections.abc import Callable
from datetime import datetime, timedelta
from itertools import count

from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from anchang.accounts.models import User
from anchang.core.testing.mobiles import mobile_for
from anchang.customers.models import Customer
from anchang.followups.models import FollowUp
from anchang.inventory.models import Project
from anchang.reception.models import Visit, VisitKind, VisitState

_seed = count(1000)


def customer_of(
    project: Project,
    owner: User | None,
    *,
    name: str = "王小明",
    gender: str = "male",
    visited_days_ago: float | None = 1,
    protected_days: float | None = 14,
) -> Customer:
    now = timezone.now()
    visited = now - timedelta(days=visited_days_ago) if visited_days_ago is not None else None
    return Customer.objects.create(
        project=project,
        phone=f"+86{mobile_for(next(_seed))}",
        name=name,
        gender=gender,
        owner=owner,
        first_visit_at=visited,
        last_visit_at=visited,
        protected_until=now + timedelta(days=protected_days) if protected_days is not None else None,
    )


def follow_up_for(
    customer: Customer, consultant: User, *, due_in: timedelta, done: bool = False, reason: str = ""
) -> FollowUp:
    now = timezone.now()
    return FollowUp.objects.create(
        customer=customer,
        consultant=consultant,
        due_at=now + due_in,
        done_at=now if done else None,
        reason=reason,
    )


def ended_visit(
    project: Project,
    customer: Customer,
    consultant: User | None,
    *,
    ended_ago: timedelta = timedelta(hours=2),
    state: str = VisitState.ENDED,
) -> Visit:
    out = timezone.now() - ended_ago
    return Visit.objects.create(
        project=project,
        customer=customer,
        kind=VisitKind.FIRST,
        state=state,
        rule="rotation",
        consultant=consultant,
        checked_in_at=out - timedelta(minutes=50),
        assigned_at=out - timedelta(minutes=50),
        checked_out_at=out,
        outcome="return" if state == VisitState.ENDED else "invalid",
    )


def queries_of(work: Callable[[], object]) -> int:
    with CaptureQueriesContext(connection) as captured:
        work()
    return len(captured.captured_queries)


def aware(value: datetime) -> datetime:
    return value if timezone.is_aware(value) else timezone.make_aware(value)
