"""Reads for follow-ups and callbacks, each with its joins and its permission filter (S7: fixed queries)."""

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from django.db.models import Avg, Count, Exists, Min, OuterRef, Q, QuerySet, Subquery
from django.db.models.functions import Coalesce
from django.utils import timezone

from anchang.accounts.models import Role, User
from anchang.accounts.selectors import project_list_visible_to
from anchang.core.errors import Forbidden
from anchang.followups.models import Callback, FollowUp, FollowUpState
from anchang.inventory.models import Project
from anchang.reception.models import Visit, VisitState
from anchang.reception.vip import local_day_bounds

# Callbacks are made within days of the visit; older ones are no longer a fair question to ask.
CALLBACK_DAYS_DEFAULT = 7
CALLBACK_DAYS_MAX = 30
CALLBACK_LIST_LIMIT = 200
OVERDUE_LIST_LIMIT = 500


def state_filter(state: str, *, now: datetime | None = None) -> Q:
    """The SQL for FollowUp.state (the property decides per row; lists must decide in the query)."""
    now = now or timezone.now()
    if state == FollowUpState.DONE:
        return Q(done_at__isnull=False)
    if state == FollowUpState.OVERDUE:
        return Q(done_at__isnull=True, due_at__lt=now)
    if state == FollowUpState.OPEN:
        return Q(done_at__isnull=True, due_at__gte=now)
    raise ValueError(state)


def may_list_followups(user: User) -> bool:
    return user.role == Role.CONSULTANT or user.is_site_manager


def followup_list_visible_to(
    *,
    user: User,
    project: Project | None = None,
    state: str | None = None,
    mine: bool = False,
    customer_id: int | None = None,
) -> QuerySet[FollowUp]:
    """Follow-ups the user may see: a consultant only their own, a manager those of their projects.

    Other roles have no follow-up list (Forbidden). Ordered by due time, oldest first.
    """
    if not may_list_followups(user):
        raise Forbidden()
    rows = FollowUp.objects.select_related("customer", "consultant").filter(
        customer__project__in=project_list_visible_to(user=user)
    )
    if user.role == Role.CONSULTANT or mine:
        rows = rows.filter(consultant=user)
    if project is not None:
        rows = rows.filter(customer__project=project)
    if state:
        rows = rows.filter(state_filter(state))
    if customer_id is not None:
        rows = rows.filter(customer_id=customer_id)
    return rows.order_by("due_at", "pk")


def followups_due_for(*, user: User, project: Project, limit: int = 10) -> list[FollowUp]:
    """The consultant's open and overdue follow-ups in the project, most urgent first (home page)."""
    return list(
        FollowUp.objects.filter(consultant=user, customer__project=project, done_at__isnull=True)
        .select_related("customer")
        .order_by("due_at", "pk")[:limit]
    )


@dataclass(frozen=True)
class ConsultantOverdue:
    consultant_id: int
    name: str
    count: int
    oldest_due_at: datetime


def overdue_counts_by_consultant(*, project: Project) -> list[ConsultantOverdue]:
    """Overdue follow-ups per consultant of the project, most first (manager home): one query."""
    rows = (
        FollowUp.objects.filter(customer__project=project)
        .filter(state_filter(FollowUpState.OVERDUE))
        .values("consultant_id", "consultant__name", "consultant__username")
        .annotate(count=Count("pk"), oldest=Min("due_at"))
        .order_by("-count", "oldest", "consultant_id")
    )
    return [
        ConsultantOverdue(
            consultant_id=row["consultant_id"],
            name=row["consultant__name"] or row["consultant__username"],
            count=row["count"],
            oldest_due_at=row["oldest"],
        )
        for row in rows
    ]


@dataclass(frozen=True)
class OverdueGroup:
    consultant_id: int
    name: str
    count: int
    follow_ups: list[FollowUp]


def overdue_by_consultant(*, project: Project, limit: int = OVERDUE_LIST_LIMIT) -> list[OverdueGroup]:
    """The manager's overdue view: counts per consultant and the rows under each (two queries)."""
    counts = overdue_counts_by_consultant(project=project)
    rows = list(
        FollowUp.objects.filter(customer__project=project)
        .filter(state_filter(FollowUpState.OVERDUE))
        .select_related("customer", "consultant")
        .order_by("due_at", "pk")[:limit]
    )
    by_consultant: dict[int, list[FollowUp]] = {}
    for row in rows:
        by_consultant.setdefault(row.consultant_id, []).append(row)
    return [
        OverdueGroup(
            consultant_id=c.consultant_id,
            name=c.name,
            count=c.count,
            follow_ups=by_consultant.get(c.consultant_id, []),
        )
        for c in counts
    ]


# --- callbacks ------------------------------------------------------------------------------------


def visits_awaiting_callback(
    *, project: Project, viewer: User, days: int = CALLBACK_DAYS_DEFAULT, limit: int = CALLBACK_LIST_LIMIT
) -> list[Visit]:
    """The first `limit` of `visits_awaiting_callback_query` (the callbacks page)."""
    return list(visits_awaiting_callback_query(project=project, viewer=viewer, days=days)[:limit])


def visits_awaiting_callback_query(
    *, project: Project, viewer: User, days: int = CALLBACK_DAYS_DEFAULT
) -> QuerySet[Visit]:
    """Ended receptions of the last `days` days without an answered callback, newest first; each
    with `callback_attempts`, the calls nobody answered so far (未接通), to be tried again.

    Invalid receptions are not buyers and get no callback. The viewer's own receptions never show:
    nobody rates themselves.
    """
    days = max(1, min(days, CALLBACK_DAYS_MAX))
    since = timezone.now() - timedelta(days=days)
    return (
        Visit.objects.filter(project=project, state=VisitState.ENDED, checked_out_at__gte=since)
        .filter(~Exists(Callback.objects.filter(visit=OuterRef("pk"), satisfaction__isnull=False)))
        .annotate(
            callback_attempts=Coalesce(
                Subquery(Callback.objects.filter(visit=OuterRef("pk")).values("attempts")[:1]), 0
            )
        )
        .exclude(consultant=viewer)
        .select_related("customer", "consultant")
        .order_by("-checked_out_at", "-pk")
    )


@dataclass(frozen=True)
class ConsultantSatisfaction:
    consultant_id: int | None
    name: str
    count: int
    average: float
    satisfied_share: float  # share of 4–5 scores, 0..1


def callback_results_by_consultant(
    *, project: Project, date_from: date, date_to: date
) -> list[ConsultantSatisfaction]:
    """Callback results per receiving consultant for callbacks made in [date_from, date_to] (one query)."""
    start, _end = local_day_bounds(date_from)
    _start, end = local_day_bounds(date_to)
    rows = (
        Callback.objects.filter(visit__project=project, at__gte=start, at__lt=end, satisfaction__isnull=False)
        .values("consultant_id", "consultant__name", "consultant__username")
        .annotate(
            count=Count("pk"),
            average=Avg("satisfaction"),
            satisfied=Count("pk", filter=Q(satisfaction__gte=4)),
        )
        .order_by("-average", "-count", "consultant_id")
    )
    return [
        ConsultantSatisfaction(
            consultant_id=row["consultant_id"],
            name=row["consultant__name"] or row["consultant__username"] or "—",
            count=row["count"],
            average=round(float(row["average"]), 2),
            satisfied_share=row["satisfied"] / row["count"],
        )
        for row in rows
    ]
