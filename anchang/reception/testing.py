"""Test helpers of reception."""

from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from anchang.accounts.models import User
from anchang.customers.models import AttributionRule, Customer
from anchang.reception.models import Station, Visit, VisitKind, VisitState, VisitStation
from anchang.reception.tasks import check_in_follow_up


def run_check_in_follow_ups() -> int:
    """Do what `anchang worker` does with the check-ins' queued follow-ups (the notices and timeline
    rows), in order; returns how many ran."""
    rows = list(
        DBTaskResult.objects.ready()
        .filter(task_path=check_in_follow_up.module_path)
        .order_by("enqueued_at", "id")
    )
    for row in rows:
        check_in_follow_up.call(*row.args_kwargs["args"], **row.args_kwargs["kwargs"])
        row.delete()
    return len(rows)


def record_risk_disclosure(*, customer: Customer, by: User | None = None) -> VisitStation:
    """The customer confirmed the risk disclosure (五证及风险提示) on a visit, as the deals services
    require before a reservation or subscription: on their latest visit, or on an ended first visit
    made for it at their first-visit time (or now) when they have none."""
    station, _ = Station.objects.get_or_create(
        project_id=customer.project_id,
        code="disclosure",
        defaults={"name": "五证及风险提示墙", "is_risk_disclosure": True, "required_on_first_visit": True},
    )
    visit = Visit.objects.filter(customer=customer).order_by("-checked_in_at").first()
    if visit is None:
        at = customer.first_visit_at or timezone.now()
        visit = Visit.objects.create(
            project_id=customer.project_id,
            customer=customer,
            kind=VisitKind.FIRST,
            state=VisitState.ENDED,
            rule=AttributionRule.ROTATION,
            consultant=customer.owner,
            checked_in_at=at,
            checked_out_at=at,
        )
    record, _ = VisitStation.objects.update_or_create(
        visit=visit,
        station=station,
        defaults={"done_at": visit.checked_in_at, "by": by or customer.owner, "customer_confirmed": True},
    )
    return record
