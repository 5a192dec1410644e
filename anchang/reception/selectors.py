from dataclasses import dataclass
from datetime import datetime

from django.db.models import Count, OuterRef, Q, QuerySet, Subquery
from django.db.models.fields.json import KT
from django.utils import timezone

from anchang.accounts.models import Role, User
from anchang.customers.models import Attribution
from anchang.inventory.models import Project
from anchang.reception.models import (
    Appointment,
    AppointmentStatus,
    QueueState,
    RotationEntry,
    VipTier,
    Visit,
    VisitKind,
    VisitState,
)
from anchang.reception.rotation import today


def queue_for(*, project: Project) -> list[RotationEntry]:
    return list(
        RotationEntry.objects.filter(project=project, day=today())
        .select_related("consultant", "consultant__team", "consultant__company")
        .order_by("position", "pk")
    )


def visits_in_progress(*, project: Project) -> QuerySet[Visit]:
    """With `waiting_for_team`: the team a visitor's check-in named (one queue per team), else None,
    read in the same query so the desk and the hall board can say whom a waiting visitor waits for."""
    checked_in = Attribution.objects.filter(visit=OuterRef("pk"), replaces__isnull=True).order_by("pk")
    return (
        Visit.objects.filter(project=project, state__in=(VisitState.WAITING, VisitState.RECEIVING))
        .select_related("customer", "consultant", "covering_for")
        .annotate(waiting_for_team=Subquery(checked_in.values(name=KT("inputs__team__team_name"))[:1]))
        .order_by("checked_in_at", "pk")
    )


def visits_today(*, project: Project, limit: int = 50) -> list[Visit]:
    return list(
        Visit.objects.filter(project=project, checked_in_at__date=timezone.localdate())
        .select_related("customer", "consultant")
        .order_by("-checked_in_at")[:limit]
    )


def visit_list_between(
    *,
    project: Project,
    start: datetime | None,
    end: datetime | None,
    states: tuple[str, ...] = (),
    consultant_id: int | None = None,
    kind: str | None = None,
) -> QuerySet[Visit]:
    """The project's visits checked in within [start, end) (either bound may be open), oldest first.

    Oldest first so that a client paging through today with limit/offset does not see rows shift as new
    visitors arrive: they land on the last page."""
    visits = Visit.objects.filter(project=project)
    if start is not None:
        visits = visits.filter(checked_in_at__gte=start)
    if end is not None:
        visits = visits.filter(checked_in_at__lt=end)
    if states:
        visits = visits.filter(state__in=states)
    if consultant_id is not None:
        visits = visits.filter(consultant_id=consultant_id)
    if kind:
        visits = visits.filter(kind=kind)
    return visits.select_related("customer", "consultant").order_by("checked_in_at", "pk")


def visit_counts_between(*, project: Project, start: datetime, end: datetime) -> dict[str, int]:
    """Visits checked in within [start, end): in all, per kind and per state, in one aggregate query."""
    by_kind = {kind.value: Count("pk", filter=Q(kind=kind)) for kind in VisitKind}
    by_state = {state.value: Count("pk", filter=Q(state=state)) for state in VisitState}
    return Visit.objects.filter(project=project, checked_in_at__gte=start, checked_in_at__lt=end).aggregate(
        total=Count("pk"), **{f"kind_{k}": v for k, v in by_kind.items()}, **by_state
    )


def queue_state_counts(*, project: Project) -> dict[str, int]:
    """Today's rotation entries per queue state (every state present, zero when nobody is in it)."""
    counts = dict.fromkeys(QueueState.values, 0)
    rows = RotationEntry.objects.filter(project=project, day=today()).values("state").annotate(n=Count("pk"))
    counts.update({row["state"]: row["n"] for row in rows.order_by()})
    return counts


def appointment_status_counts(*, project: Project, start: datetime, end: datetime) -> dict[str, int]:
    """Appointments starting within [start, end) per status, in one aggregate query."""
    return Appointment.objects.filter(project=project, start_at__gte=start, start_at__lt=end).aggregate(
        **{status.value: Count("pk", filter=Q(status=status)) for status in AppointmentStatus}
    )


def appointments_today(*, project: Project) -> list[Appointment]:
    now = timezone.localtime()
    return list(
        Appointment.objects.filter(
            project=project, start_at__date=now.date(), status=AppointmentStatus.BOOKED
        )
        .select_related("consultant")
        .order_by("start_at")
    )


def vip_arrivals_today(*, project: Project) -> list[Appointment]:
    return [a for a in appointments_today(project=project) if a.vip_tier != VipTier.GENERAL]


def project_consultants(*, project: Project) -> list[User]:
    return list(
        User.objects.filter(memberships__project=project, role=Role.CONSULTANT, is_active=True)
        .select_related("team")
        .order_by("username")
    )


@dataclass(frozen=True)
class Waiting:
    visit: Visit
    minutes: int


def waiting_minutes(visits: list[Visit], now: datetime | None = None) -> list[Waiting]:
    now = now or timezone.now()
    return [Waiting(v, int((now - v.checked_in_at).total_seconds() // 60)) for v in visits]
