"""Which team's queue receives the next walk-in, and the claim in that queue.

Two locks, two jobs: the project's settings row makes desks choose a team one after the other (each
sees the choice before it: the alternation and the shares hold at the same second), and the claim
itself (`rotation_claim_next` with `team_key`) keeps two desks from getting the same consultant.
"""

from dataclasses import asdict, dataclass, replace
from datetime import date, datetime, time

from django.db.models import Count, Max, Sum, Value
from django.db.models import Q as Where
from django.db.models.fields.json import KT
from django.db.models.functions import Coalesce, NullIf
from django.utils import timezone
from django.utils.translation import gettext as _

from anchang.accounts.models import Company, User
from anchang.customers.models import Attribution
from anchang.inventory.models import Project, ProjectSettings, RotationMode, TeamRule
from anchang.reception.models import QueueState, RotationEntry
from anchang.reception.rotation import Claim, rotation_claim_next, today


def team_name_of(user: User) -> str:
    """The team as people say it: the company's short name (锦澜置业, 恒信代理)."""
    company = user.company
    return str(company) if company is not None else _("未分组")


def is_team_mode(settings: ProjectSettings) -> bool:
    return settings.rotation_mode == RotationMode.TEAMS


@dataclass(frozen=True)
class TeamStanding:
    key: str
    name: str
    turns: int  # rotation turns the team's consultants took today (轮排接待)
    on_duty: int  # signed in today and not 下岗
    share: int | None  # percent under the share rule, else None


@dataclass(frozen=True)
class TeamChoice:
    rule: str
    team: str | None  # None: no team can be named (nobody signed in, no shares), the whole queue serves
    team_name: str
    why: str
    standings: tuple[TeamStanding, ...]
    overflow: bool
    last_team: str | None = None
    received_by_team: str | None = None

    def as_record(self) -> dict[str, object]:
        record = asdict(self)
        record["standings"] = [asdict(s) for s in self.standings]
        # Whose turn this walk-in was, for the alternation: the team that received, else the one awaited.
        record["turn_of"] = self.received_by_team or self.team or ""
        return record

    def explain(self, explanation: str, *, received: bool) -> str:
        """The attribution's sentence with the team's part added: why this team, and any hand-over."""
        if self.team is None:
            return explanation
        if not received and not self.overflow:
            return _("%(team)s 暂无空闲顾问，访客已进入等候，该团队顾问空出后按到访先后分配。") % {
                "team": self.team_name
            }
        team_part = self.why
        if received and self.received_by_team != self.team:
            other = next((s.name for s in self.standings if s.key == self.received_by_team), "")
            team_part = _("%(why)s%(team)s 暂无空闲顾问，转由 %(other)s 接待。") % {
                "why": self.why,
                "team": self.team_name,
                "other": other or _("其他团队"),
            }
        return _("%(first)s%(second)s") % {"first": explanation, "second": team_part}


def _numeric_order(key: str) -> tuple[int, int]:
    # Team keys are company ids; the team without a company comes last.
    return (1, 0) if not key.isdigit() else (0, int(key))


def team_standings(
    *, project: Project, settings: ProjectSettings, day: date | None = None
) -> list[TeamStanding]:
    """Today's teams with their turns so far: one query, plus one for names of teams with a share
    but nobody signed in yet."""
    rows = (
        RotationEntry.objects.filter(project=project, day=day or today())
        .values("team_key")
        .annotate(
            turns=Sum("receptions"),
            on_duty=Count("pk", filter=~Where(state=QueueState.OFF)),
            name=Max(
                Coalesce(NullIf("consultant__company__short_name", Value("")), "consultant__company__name")
            ),
        )
        .order_by()
    )
    shares = (
        {str(k): int(v) for k, v in settings.team_shares.items()}
        if settings.team_rule == TeamRule.SHARE and isinstance(settings.team_shares, dict)
        else {}
    )
    by_key = {
        row["team_key"]: TeamStanding(
            key=row["team_key"],
            name=row["name"] or _("未分组"),
            turns=row["turns"] or 0,
            on_duty=row["on_duty"],
            share=shares.get(row["team_key"], 0) if shares else None,
        )
        for row in rows
    }
    absent = [key for key in shares if key not in by_key and key.isdigit()]
    if absent:
        for company in Company.objects.filter(pk__in=absent):
            key = str(company.pk)
            by_key[key] = TeamStanding(key=key, name=str(company), turns=0, on_duty=0, share=shares[key])
    return sorted(by_key.values(), key=lambda s: _numeric_order(s.key))


def _last_turn_team(project: Project, day: date) -> str | None:
    """The team of today's last walk-in the rule placed: who received it, or the team it waits for.

    Read from the check-in decisions (a later assignment replaces one and is not a new turn), newest
    by id, which the primary key's index answers without sorting the project's history.
    """
    return (
        Attribution.objects.filter(
            project=project,
            decided_at__gte=timezone.make_aware(datetime.combine(day, time.min)),
            replaces__isnull=True,
            inputs__has_key="team",
        )
        .annotate(last=KT("inputs__team__turn_of"))
        .order_by("-pk")
        .values_list("last", flat=True)
        .first()
    ) or None


def team_choose(*, project: Project, settings: ProjectSettings) -> TeamChoice:
    """The team whose queue receives the next walk-in, by the project's rule, with the reason."""
    day = today()
    standings = tuple(team_standings(project=project, settings=settings, day=day))
    overflow = settings.team_overflow
    if settings.team_rule == TeamRule.SHARE:
        return _by_share(standings, overflow)
    on_duty = [s for s in standings if s.on_duty]
    if not on_duty:
        return TeamChoice(TeamRule.ALTERNATE, None, "", _("今天还没有团队上岗。"), standings, overflow)
    last = _last_turn_team(project, day) if len(on_duty) > 1 else None
    keys = [s.key for s in on_duty]
    chosen = on_duty[(keys.index(last) + 1) % len(on_duty)] if last in keys else on_duty[0]
    if last is None:
        why = _("团队轮流：今天第一位轮排访客，由 %(team)s 开始。") % {"team": chosen.name}
    else:
        last_name = next((s.name for s in standings if s.key == last), _("其他团队"))
        why = _("团队轮流：上一位轮排访客由 %(last)s 接待，本次轮到 %(team)s。") % {
            "last": last_name,
            "team": chosen.name,
        }
    return TeamChoice(TeamRule.ALTERNATE, chosen.key, chosen.name, why, standings, overflow, last_team=last)


def _by_share(standings: tuple[TeamStanding, ...], overflow: bool) -> TeamChoice:
    total = sum(s.turns for s in standings)
    with_share = [s for s in standings if s.share]
    if not with_share:
        return TeamChoice(TeamRule.SHARE, None, "", _("没有设置团队配比。"), standings, overflow)
    # Furthest below its share of today's turns goes next; a tie goes to the larger share, so a 60/40
    # day runs A B A B A …, which is 3:2 after five walk-ins.
    chosen = max(with_share, key=lambda s: ((s.share or 0) * total / 100 - s.turns, s.share or 0))
    why = _(
        "按每日配比：%(team)s 今日已接待 %(turns)s/%(total)s 位轮排访客，配比 %(share)s%%，离配比最远。"
    ) % {
        "team": chosen.name,
        "turns": chosen.turns,
        "total": total,
        "share": chosen.share,
    }
    return TeamChoice(TeamRule.SHARE, chosen.key, chosen.name, why, standings, overflow)


def team_claim(
    *,
    project: Project,
    settings: ProjectSettings,
    consumes_turn: bool,
    skip_owners_with_customer_on_site: bool = False,
    choice: TeamChoice | None = None,
) -> tuple[Claim | None, TeamChoice]:
    """Claim the first waiting consultant of the chosen team's queue (choosing it unless given).

    A team with nobody free hands the visitor to the whole queue only when the project allows
    (`team_overflow`); otherwise the claim is None and the visitor waits for that team, visibly.
    Must run inside the caller's transaction, like `rotation_claim_next`.
    """
    if choice is None:
        # Desks choosing at the same moment would read the same standings and all name the same team:
        # with overflow off, visitors would queue for one team while another stands free. Locking the
        # project's settings row makes team-mode choices take turns (one statement; SQLite's IMMEDIATE
        # transaction already serialises). The shared queue never takes this lock.
        ProjectSettings.objects.select_for_update().filter(project=project).values_list("pk").first()
        choice = team_choose(project=project, settings=settings)
    claim = None
    if choice.team is not None:
        claim = rotation_claim_next(
            project=project,
            consumes_turn=consumes_turn,
            skip_owners_with_customer_on_site=skip_owners_with_customer_on_site,
            team_key=choice.team,
        )
    if claim is None and (choice.team is None or settings.team_overflow):
        claim = rotation_claim_next(
            project=project,
            consumes_turn=consumes_turn,
            skip_owners_with_customer_on_site=skip_owners_with_customer_on_site,
        )
    return claim, replace(choice, received_by_team=claim.entry.team_key if claim else None)


def team_choice_waiting(
    *, recorded: dict[str, object] | None, settings: ProjectSettings
) -> TeamChoice | None:
    """The team a waiting visitor was given at check-in (from the attribution's inputs), kept."""
    if not recorded or recorded.get("team") is None:
        return None
    return TeamChoice(
        rule=str(recorded.get("rule", "")),
        team=str(recorded["team"]),
        team_name=str(recorded.get("team_name", "")),
        why=str(recorded.get("why", "")),
        standings=(),
        overflow=settings.team_overflow,
    )


def next_in_line(entries: list[RotationEntry], choice: TeamChoice | None) -> RotationEntry | None:
    """Who the rotation would give the next walk-in to, from a queue already read (the desk's preview)."""
    waiting = [e for e in entries if e.state == QueueState.WAITING]
    if choice is None or choice.team is None:
        return waiting[0] if waiting else None
    in_team = next((e for e in waiting if e.team_key == choice.team), None)
    if in_team is None and choice.overflow:
        return waiting[0] if waiting else None
    return in_team


@dataclass(frozen=True)
class TeamQueue:
    key: str | None  # None: the project's one shared queue
    name: str
    entries: list[tuple[int, RotationEntry]]  # (position in this queue from 1, entry)

    @property
    def waiting(self) -> int:
        return sum(1 for _, e in self.entries if e.state == QueueState.WAITING)


def entry_team_name(entry: RotationEntry) -> str:
    """The entry's team named after the consultant's company (loaded with the queue)."""
    company = entry.consultant.company
    return str(company) if entry.team_key and company is not None else _("未分组")


def queue_groups(*, entries: list[RotationEntry], settings: ProjectSettings) -> list[TeamQueue]:
    """The day's queue as the desk reads it: one list, or in team mode one list per team with its
    own positions (lost and make-up turns move people within their team's list)."""
    if not is_team_mode(settings):
        return [TeamQueue(None, "", list(enumerate(entries, start=1)))]
    by_team: dict[str, list[RotationEntry]] = {}
    for entry in entries:
        by_team.setdefault(entry.team_key, []).append(entry)
    return [
        TeamQueue(key, entry_team_name(members[0]), list(enumerate(members, start=1)))
        for key, members in sorted(by_team.items(), key=lambda item: _numeric_order(item[0]))
    ]
