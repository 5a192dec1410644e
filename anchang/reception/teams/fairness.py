"""接待公平性: who received how many visitors, today and this month, per consultant and per team.

Four queries whatever the number of consultants or visits (counted with `django_assert_num_queries`):
visits received, rotation turns and lost turns (轮空), make-up turns (补位), and the people.
"""

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, time

from django.db.models import Count, Q, Sum
from django.utils import timezone

from anchang.accounts.models import Role, User
from anchang.inventory.models import Project, ProjectSettings, RotationMode, TeamRule
from anchang.reception.models import RotationEntry, RotationEvent, Visit, VisitState

COUNTS = (
    "received_today",
    "received_month",
    "turns_today",
    "turns_month",
    "lost_today",
    "lost_month",
    "made_up_today",
    "made_up_month",
)


@dataclass
class Counts:
    received_today: int = 0  # visitors received (a reception marked invalid is not a visitor)
    received_month: int = 0
    turns_today: int = 0  # turns taken from the rotation (轮排接待)
    turns_month: int = 0
    lost_today: int = 0  # 轮空
    lost_month: int = 0
    made_up_today: int = 0  # 补位
    made_up_month: int = 0

    def add(self, other: "Counts") -> None:
        for name in COUNTS:
            setattr(self, name, getattr(self, name) + getattr(other, name))


@dataclass
class ConsultantRow:
    consultant_id: int
    name: str
    team: str
    team_id: int | None
    counts: Counts


@dataclass
class TeamRow:
    team_id: int | None
    name: str
    share: int | None  # the day's target under the share rule, percent
    counts: Counts = field(default_factory=Counts)
    # This team's part of today's rotation turns, to read beside its share.
    turns_today_percent: int = 0


@dataclass
class Fairness:
    day: date
    month_start: date
    team_mode: bool
    rule: str
    consultants: list[ConsultantRow]
    teams: list[TeamRow]
    total: Counts


def _start(day: date) -> datetime:
    return timezone.make_aware(datetime.combine(day, time.min))


def fairness_for(*, project: Project, settings: ProjectSettings, day: date | None = None) -> Fairness:
    day = day or timezone.localdate()
    month_start = day.replace(day=1)
    today_from = _start(day)
    rows: dict[int, Counts] = {}

    def counts(consultant_id: int) -> Counts:
        return rows.setdefault(consultant_id, Counts())

    received = (
        Visit.objects.filter(project=project, checked_in_at__gte=_start(month_start))
        .filter(consultant__isnull=False)
        .exclude(state=VisitState.INVALID)
        .values("consultant_id")
        .annotate(today=Count("pk", filter=Q(checked_in_at__gte=today_from)), month=Count("pk"))
        .order_by()
    )
    for row in received:
        one = counts(row["consultant_id"])
        one.received_today, one.received_month = row["today"], row["month"]
    turns = (
        RotationEntry.objects.filter(project=project, day__gte=month_start, day__lte=day)
        .values("consultant_id")
        .annotate(
            turns_today=Sum("receptions", filter=Q(day=day)),
            turns_month=Sum("receptions"),
            lost_today=Sum("lost_turns", filter=Q(day=day)),
            lost_month=Sum("lost_turns"),
        )
        .order_by()
    )
    for row in turns:
        one = counts(row["consultant_id"])
        for name in ("turns_today", "turns_month", "lost_today", "lost_month"):
            setattr(one, name, row[name] or 0)
    made_up = (
        RotationEvent.objects.filter(
            entry__project=project, entry__day__gte=month_start, entry__day__lte=day, kind="make_up_turn"
        )
        .values("entry__consultant_id")
        .annotate(today=Count("pk", filter=Q(entry__day=day)), month=Count("pk"))
        .order_by()
    )
    for row in made_up:
        one = counts(row["entry__consultant_id"])
        one.made_up_today, one.made_up_month = row["today"], row["month"]
    people = (
        User.objects.filter(
            Q(pk__in=list(rows)) | Q(memberships__project=project, role=Role.CONSULTANT, is_active=True)
        )
        .select_related("company")
        .distinct()
        .order_by("company_id", "username")
    )
    return _assemble(project, settings, day, month_start, people, rows)


def _assemble(
    project: Project,
    settings: ProjectSettings,
    day: date,
    month_start: date,
    people: Iterable[User],
    rows: dict[int, Counts],
) -> Fairness:
    shares = settings.team_shares if settings.team_rule == TeamRule.SHARE else {}
    team_mode = settings.rotation_mode == RotationMode.TEAMS
    consultants: list[ConsultantRow] = []
    teams: dict[int | None, TeamRow] = {}
    total = Counts()
    for person in people:
        mine = rows.get(person.pk, Counts())
        team_name = str(person.company) if person.company else ""
        consultants.append(ConsultantRow(person.pk, person.display_name, team_name, person.company_id, mine))
        team = teams.setdefault(
            person.company_id,
            TeamRow(
                person.company_id,
                team_name,
                int(shares.get(str(person.company_id), 0)) if team_mode and shares else None,
            ),
        )
        team.counts.add(mine)
        total.add(mine)
    for team in teams.values():
        if total.turns_today:
            team.turns_today_percent = round(100 * team.counts.turns_today / total.turns_today)
    ordered = sorted(teams.values(), key=lambda t: (t.team_id is None, t.team_id or 0))
    return Fairness(day, month_start, team_mode, settings.team_rule, consultants, ordered, total)
