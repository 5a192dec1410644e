"""The demo data set: a developer with its own and an agency's sales team, two projects, a login per role.

`load_demo()` runs the steps in `DEMO_STEPS` in one transaction. Every step finds its rows by their
natural key (company name, team name within the company, project code, building name within the
project, unit number within the building, username) and creates only what is missing. Existing rows
are never updated, so a rerun cannot undo what someone did in the demo: a unit that was sold stays
sold, a changed password stays changed.

A later feature adds its own `load_*` step to `DEMO_STEPS`, after the steps whose rows it needs. A step
takes the `DemoContext` that earlier steps filled (companies, teams, projects, users by key) and reports
what it created with `ctx.record_created(Model, n)`; the command prints those counts without changes.
"""

import random
import zlib
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal

from django.contrib.auth.hashers import make_password
from django.db import models, transaction
from django.db.models import Count
from django.utils import timezone
from simple_history.utils import bulk_create_with_history

from anchang.accounts.models import Company, CompanyKind, ProjectMembership, Role, Team, User
from anchang.core.phones import normalize_mainland_mobile
from anchang.core.testing.mobiles import mobile_for
from anchang.inventory.models import (
    Building,
    Orientation,
    Project,
    ProjectKind,
    ProjectSettings,
    Unit,
    UnitStatus,
)

DEMO_PASSWORD = "anchang-demo"
# Statuses are drawn from a fixed seed so that every fresh demo database shows the same board.
STATUS_SEED = 2026

DEVELOPER = "developer"
AGENCY = "agency"
CHANNEL_EAST = "channel_east"
CHANNEL_RIVER = "channel_river"

HIGH_RISE = "jinlan-binjiang"
TOWNHOUSE = "jinlan-yunxi"


# --- what the demo contains -------------------------------------------------------------------------


@dataclass(frozen=True)
class CompanySpec:
    key: str
    name: str
    short_name: str
    kind: str
    team: str


COMPANIES: tuple[CompanySpec, ...] = (
    CompanySpec(DEVELOPER, "锦澜置业集团", "锦澜置业", CompanyKind.DEVELOPER, "锦澜自营销售组"),
    CompanySpec(AGENCY, "恒信房产代理", "恒信代理", CompanyKind.AGENCY, "恒信代理销售组"),
    CompanySpec(CHANNEL_EAST, "安居通房产渠道", "安居通", CompanyKind.AGENCY, "安居通城东门店"),
    CompanySpec(CHANNEL_RIVER, "好房汇经纪", "好房汇", CompanyKind.AGENCY, "好房汇滨江门店"),
)


@dataclass(frozen=True)
class BuildingSpec:
    name: str
    floors: int
    units_per_floor: int


@dataclass(frozen=True)
class UnitDraft:
    """A unit as planned, before a status is drawn for it."""

    building: str
    floor: int
    position: int
    layout_name: str
    bedrooms: int
    halls: int
    bathrooms: int
    gross_area: Decimal
    orientation: str
    price_per_m2: int
    # How early buyers pick this slot; the status draw sells high-appeal units first.
    appeal: float
    # floor / floors of the building: managers keep back upper units to release later at a higher price.
    relative_height: float

    @property
    def number(self) -> str:
        return f"{self.floor * 100 + self.position}"


@dataclass(frozen=True)
class ProjectSpec:
    code: str
    name: str
    city: str
    district: str
    address: str
    kind: str
    buildings: tuple[BuildingSpec, ...]
    plan_unit: Callable[[BuildingSpec, int, int], UnitDraft]


@dataclass(frozen=True)
class _Layout:
    name: str
    bedrooms: int
    halls: int
    bathrooms: int
    gross_area: Decimal
    orientation: str
    premium_per_m2: int
    appeal: float


# 滨江府: four flats a floor; the end flats are the big through-ventilated ones.
_RIVERSIDE_LAYOUTS = {
    1: _Layout("A户型", 4, 2, 2, Decimal("143.26"), Orientation.NORTH_SOUTH, 1000, 0.25),
    2: _Layout("B户型", 3, 2, 1, Decimal("98.47"), Orientation.SOUTH, 0, 0.0),
    3: _Layout("C户型", 3, 2, 2, Decimal("117.85"), Orientation.SOUTHEAST, 300, 0.1),
    4: _Layout("D户型", 4, 2, 2, Decimal("142.91"), Orientation.NORTH_SOUTH, 900, 0.2),
}
_RIVERSIDE_TOP_FLOOR = 33
# The two front buildings face the river.
_RIVERSIDE_VIEW_BUILDINGS = {"1栋", "2栋"}


def plan_riverside_unit(building: BuildingSpec, floor: int, position: int) -> UnitDraft:
    layout = _RIVERSIDE_LAYOUTS[position]
    # 26,000 元/㎡ on the first floor rising to about 31,500 on the 33rd, plus layout and view premiums.
    price = 26_000 + round(5_500 * (floor - 1) / (_RIVERSIDE_TOP_FLOOR - 1), -1) + layout.premium_per_m2
    if building.name in _RIVERSIDE_VIEW_BUILDINGS:
        price += 400
    # Buyers take the cheaper low floors of the first batch and the mid-high floors with a view first;
    # the ground floor and the floors under the roof go last.
    height = floor / building.floors
    if floor == 1:
        floor_appeal = 0.05
    elif floor <= 10:
        floor_appeal = 0.45
    elif 0.4 <= height <= 0.85:
        floor_appeal = 0.35
    else:
        floor_appeal = 0.1
    return UnitDraft(
        building=building.name,
        floor=floor,
        position=position,
        layout_name=layout.name,
        bedrooms=layout.bedrooms,
        halls=layout.halls,
        bathrooms=layout.bathrooms,
        gross_area=layout.gross_area,
        orientation=layout.orientation,
        price_per_m2=int(price),
        appeal=floor_appeal + layout.appeal,
        relative_height=height,
    )


def plan_creekside_unit(building: BuildingSpec, floor: int, position: int) -> UnitDraft:
    """云溪里 is stacked villas: a garden home at the bottom, a terrace home at the top, flats between."""
    is_end = position in (1, building.units_per_floor)
    if floor == 1:
        name, bedrooms, bathrooms, area, premium, appeal = "下叠·庭院", 4, 3, Decimal("238.60"), 3_000, 0.4
    elif floor == building.floors:
        name, bedrooms, bathrooms, area, premium, appeal = "上叠·露台", 4, 3, Decimal("212.40"), 1_500, 0.3
    else:
        name, bedrooms, bathrooms, area, premium, appeal = "中叠", 3, 2, Decimal("182.30"), 0, 0.0
    if is_end:
        area += Decimal("13.70")
        premium += 800
        appeal += 0.15
    # Rows 1 and 2 back onto the creek.
    if building.name in {"1幢", "2幢"}:
        premium += 600
    return UnitDraft(
        building=building.name,
        floor=floor,
        position=position,
        layout_name=f"{name}{'（边户）' if is_end else ''}",
        bedrooms=bedrooms,
        halls=2,
        bathrooms=bathrooms,
        gross_area=area,
        orientation=Orientation.NORTH_SOUTH if is_end else Orientation.SOUTH,
        price_per_m2=42_000 + premium,
        appeal=appeal,
        relative_height=floor / building.floors,
    )


PROJECTS: tuple[ProjectSpec, ...] = (
    ProjectSpec(
        code=HIGH_RISE,
        name="锦澜·滨江府",
        city="杭州",
        district="滨江区",
        address="滨江区闻涛路与江晖路交叉口东北侧",
        kind=ProjectKind.HIGH_RISE,
        buildings=(
            BuildingSpec("1栋", 33, 4),
            BuildingSpec("2栋", 32, 4),
            BuildingSpec("3栋", 26, 4),
            BuildingSpec("4栋", 26, 4),
            BuildingSpec("5栋", 18, 4),
            BuildingSpec("6栋", 18, 4),
        ),
        plan_unit=plan_riverside_unit,
    ),
    ProjectSpec(
        code=TOWNHOUSE,
        name="锦澜·云溪里",
        city="杭州",
        district="余杭区",
        address="余杭区良渚街道云溪路 88 号",
        kind=ProjectKind.LOW_RISE,
        buildings=(
            BuildingSpec("1幢", 3, 4),
            BuildingSpec("2幢", 3, 4),
            BuildingSpec("3幢", 4, 2),
            BuildingSpec("4幢", 4, 2),
            BuildingSpec("5幢", 3, 3),
            BuildingSpec("6幢", 4, 3),
        ),
        plan_unit=plan_creekside_unit,
    ),
)

# Share of units per status, drawn in this order from the most appealing units down;
# held units are the best upper floors a manager keeps back from what is left.
SOLD_SHARES: tuple[tuple[str, float], ...] = (
    (UnitStatus.CONTRACTED, 0.15),
    (UnitStatus.SUBSCRIBED, 0.20),
    (UnitStatus.RESERVED, 0.05),
)
HELD_SHARE = 0.05
# How long ago a unit reached its status, in days (min, max).
STATUS_AGE_DAYS: dict[str, tuple[int, int]] = {
    UnitStatus.CONTRACTED: (45, 150),
    UnitStatus.SUBSCRIBED: (5, 45),
    UnitStatus.RESERVED: (1, 20),
    UnitStatus.HELD: (10, 90),
}


@dataclass(frozen=True)
class UserSpec:
    username: str
    name: str
    role: str
    company: str
    team: str | None = None
    projects: tuple[str, ...] = ()
    is_superuser: bool = False


_BOTH = (HIGH_RISE, TOWNHOUSE)

USERS: tuple[UserSpec, ...] = (
    UserSpec("admin", "周启明", Role.ADMIN, DEVELOPER, is_superuser=True),
    UserSpec("manager", "陈嘉慧", Role.MANAGER, DEVELOPER, DEVELOPER, _BOTH),
    UserSpec("frontdesk", "林晓雯", Role.FRONTDESK, DEVELOPER, DEVELOPER, _BOTH),
    UserSpec("consultant1", "王子涵", Role.CONSULTANT, DEVELOPER, DEVELOPER, _BOTH),
    UserSpec("consultant2", "刘思远", Role.CONSULTANT, DEVELOPER, DEVELOPER, _BOTH),
    UserSpec("consultant3", "赵雨桐", Role.CONSULTANT, DEVELOPER, DEVELOPER, (HIGH_RISE,)),
    UserSpec("consultant4", "孙浩然", Role.CONSULTANT, DEVELOPER, DEVELOPER, (HIGH_RISE,)),
    UserSpec("consultant5", "吴佳怡", Role.CONSULTANT, AGENCY, AGENCY, _BOTH),
    UserSpec("consultant6", "郑博文", Role.CONSULTANT, AGENCY, AGENCY, _BOTH),
    # 曾 and 单 read zēng and shàn as surnames: pinyin search has to cope with them.
    UserSpec("consultant7", "曾欣悦", Role.CONSULTANT, AGENCY, AGENCY, (HIGH_RISE,)),
    UserSpec("consultant8", "许俊杰", Role.CONSULTANT, AGENCY, AGENCY, (HIGH_RISE,)),
    UserSpec("agent1", "马立峰", Role.AGENT, CHANNEL_EAST, CHANNEL_EAST, (HIGH_RISE,)),
    UserSpec("agent2", "单丽华", Role.AGENT, CHANNEL_RIVER, CHANNEL_RIVER, (HIGH_RISE,)),
    UserSpec("attendant1", "唐静怡", Role.ATTENDANT, DEVELOPER, None, _BOTH),
    UserSpec("service1", "冯建国", Role.SERVICE, DEVELOPER, None, _BOTH),
)


def demo_mobile(username: str) -> str:
    """A valid E.164 mobile that stays the same for a username whatever the order of USERS."""
    return normalize_mainland_mobile(mobile_for(zlib.crc32(username.encode())))


# --- loading ----------------------------------------------------------------------------------------


@dataclass
class DemoContext:
    """What the steps so far have loaded, by key, for the steps after them."""

    now: datetime
    companies: dict[str, Company] = field(default_factory=dict)
    teams: dict[str, Team] = field(default_factory=dict)
    projects: dict[str, Project] = field(default_factory=dict)
    users: dict[str, User] = field(default_factory=dict)
    # Rows created in this run, by the model's plural verbose name, in the order they were loaded.
    created: dict[str, int] = field(default_factory=dict)

    def record_created(self, model: type[models.Model], count: int) -> None:
        label = str(model._meta.verbose_name_plural)
        self.created[label] = self.created.get(label, 0) + count


def load_companies(ctx: DemoContext) -> None:
    for spec in COMPANIES:
        company, created = Company.objects.get_or_create(
            name=spec.name, defaults={"short_name": spec.short_name, "kind": spec.kind}
        )
        ctx.record_created(Company, int(created))
        team, created = Team.objects.get_or_create(company=company, name=spec.team)
        ctx.record_created(Team, int(created))
        ctx.companies[spec.key] = company
        ctx.teams[spec.key] = team


def load_projects(ctx: DemoContext) -> None:
    developer = ctx.companies[DEVELOPER]
    for spec in PROJECTS:
        project, created = Project.objects.get_or_create(
            code=spec.code,
            defaults={
                "company": developer,
                "name": spec.name,
                "city": spec.city,
                "district": spec.district,
                "address": spec.address,
                "kind": spec.kind,
            },
        )
        ctx.record_created(Project, int(created))
        _, created = ProjectSettings.objects.get_or_create(project=project)
        ctx.record_created(ProjectSettings, int(created))
        ctx.projects[spec.code] = project


def load_buildings_and_units(ctx: DemoContext) -> None:
    for spec in PROJECTS:
        project = ctx.projects[spec.code]
        buildings = _ensure_buildings(ctx, project, spec.buildings)
        drafts = [
            spec.plan_unit(building, floor, position)
            for building in spec.buildings
            for floor in range(1, building.floors + 1)
            for position in range(1, building.units_per_floor + 1)
        ]
        statuses = draw_statuses(drafts, rng=random.Random(f"{STATUS_SEED}:{spec.code}"))
        taken_numbers = set(Unit.objects.filter(project=project).values_list("building_id", "number"))
        taken_slots = set(
            Unit.objects.filter(project=project).values_list("building_id", "floor", "position")
        )
        new_units = []
        for draft, (status, days_ago) in zip(drafts, statuses, strict=True):
            building = buildings[draft.building]
            # A slot someone renumbered in the demo counts as taken too: inserting it would break
            # the (building, floor, position) constraint.
            slot = (building.pk, draft.floor, draft.position)
            if (building.pk, draft.number) in taken_numbers or slot in taken_slots:
                continue
            new_units.append(_unit_from_draft(draft, project, building, status, days_ago, ctx.now))
        if new_units:
            # The history row marks where each unit's story starts, as if it had been imported.
            bulk_create_with_history(
                new_units, Unit, batch_size=500, default_change_reason="演示数据初始化", default_date=ctx.now
            )
        ctx.record_created(Unit, len(new_units))


def _ensure_buildings(
    ctx: DemoContext, project: Project, specs: Iterable[BuildingSpec]
) -> dict[str, Building]:
    buildings = {}
    for sort_order, spec in enumerate(specs, start=1):
        building, created = Building.objects.get_or_create(
            project=project,
            name=spec.name,
            defaults={
                "floors": spec.floors,
                "units_per_floor": spec.units_per_floor,
                "sort_order": sort_order,
            },
        )
        ctx.record_created(Building, int(created))
        buildings[spec.name] = building
    return buildings


def draw_statuses(drafts: list[UnitDraft], *, rng: random.Random) -> list[tuple[str, int | None]]:
    """A status and its age in days for every draft, in draft order; the same for the same seed."""
    count = len(drafts)
    noisy_appeal = [draft.appeal + rng.random() * 0.8 for draft in drafts]
    by_appeal = sorted(range(count), key=lambda i: noisy_appeal[i], reverse=True)
    statuses = [str(UnitStatus.AVAILABLE)] * count
    start = 0
    for status, share in SOLD_SHARES:
        end = start + round(count * share)
        for i in by_appeal[start:end]:
            statuses[i] = status
        start = end
    unsold = by_appeal[start:]
    keep_back = sorted(
        unsold, key=lambda i: drafts[i].relative_height + drafts[i].appeal + rng.random(), reverse=True
    )
    for i in keep_back[: round(count * HELD_SHARE)]:
        statuses[i] = UnitStatus.HELD
    result: list[tuple[str, int | None]] = []
    for status in statuses:
        age = STATUS_AGE_DAYS.get(status)
        result.append((status, rng.randint(*age) if age else None))
    return result


def _unit_from_draft(
    draft: UnitDraft, project: Project, building: Building, status: str, days_ago: int | None, now: datetime
) -> Unit:
    usable_area = (draft.gross_area * Decimal("0.8")).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)
    # List prices are quoted to the hundred yuan.
    total = (draft.gross_area * draft.price_per_m2 / 100).quantize(Decimal(1), rounding=ROUND_HALF_UP) * 100
    return Unit(
        project=project,
        building=building,
        number=draft.number,
        floor=draft.floor,
        position=draft.position,
        layout_name=draft.layout_name,
        bedrooms=draft.bedrooms,
        halls=draft.halls,
        bathrooms=draft.bathrooms,
        gross_area=draft.gross_area,
        usable_area=usable_area,
        orientation=draft.orientation,
        list_price_total=total,
        status=status,
        status_changed_at=now - timedelta(days=days_ago, hours=(draft.floor * 7 + draft.position) % 9)
        if days_ago is not None
        else None,
    )


def load_users(ctx: DemoContext) -> None:
    usernames = [spec.username for spec in USERS]
    existing = set(User.objects.filter(username__in=usernames).values_list("username", flat=True))
    missing = [spec for spec in USERS if spec.username not in existing]
    if missing:
        # One hash for all demo logins: they share the published password anyway, and hashing it
        # fifteen times would cost seconds of PBKDF2 for nothing.
        password_hash = make_password(DEMO_PASSWORD)
        User.objects.bulk_create(
            User(
                username=spec.username,
                name=spec.name,
                role=spec.role,
                company=ctx.companies[spec.company],
                team=ctx.teams[spec.team] if spec.team else None,
                mobile=demo_mobile(spec.username),
                is_staff=spec.is_superuser,
                is_superuser=spec.is_superuser,
                password=password_hash,
            )
            for spec in missing
        )
    ctx.record_created(User, len(missing))
    ctx.users = User.objects.in_bulk(usernames, field_name="username")


def load_memberships(ctx: DemoContext) -> None:
    wanted = {
        (ctx.users[spec.username].pk, ctx.projects[code].pk) for spec in USERS for code in spec.projects
    }
    existing = set(
        ProjectMembership.objects.filter(
            user__in=ctx.users.values(), project__in=ctx.projects.values()
        ).values_list("user_id", "project_id")
    )
    missing = sorted(wanted - existing)
    ProjectMembership.objects.bulk_create(
        ProjectMembership(user_id=user_id, project_id=project_id) for user_id, project_id in missing
    )
    ctx.record_created(ProjectMembership, len(missing))


DemoStep = Callable[[DemoContext], None]

# A later feature adds its `load_*` step here, after the steps whose rows it needs.
DEMO_STEPS: tuple[DemoStep, ...] = (
    load_companies,
    load_projects,
    load_buildings_and_units,
    load_users,
    load_memberships,
)


# --- summary ----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ProjectSummary:
    code: str
    name: str
    kind_label: str
    buildings: int
    units: int
    units_by_status: dict[str, int]


@dataclass(frozen=True)
class DemoLogin:
    username: str
    role_label: str
    name: str
    company: str


@dataclass(frozen=True)
class DemoSummary:
    projects: tuple[ProjectSummary, ...]
    logins: tuple[DemoLogin, ...]
    created: dict[str, int]
    password: str = DEMO_PASSWORD

    @property
    def created_anything(self) -> bool:
        return any(self.created.values())


def load_demo(steps: Iterable[DemoStep] = DEMO_STEPS) -> DemoSummary:
    """Load whatever part of the demo data is missing; return what the demo now holds."""
    with transaction.atomic():
        ctx = DemoContext(now=timezone.now())
        for step in steps:
            step(ctx)
        return summarize(ctx)


def summarize(ctx: DemoContext) -> DemoSummary:
    projects = list(ctx.projects.values())
    building_counts = dict(
        Building.objects.filter(project__in=projects)
        .values("project_id")
        .annotate(n=Count("id"))
        .values_list("project_id", "n")
    )
    unit_counts: dict[int, dict[str, int]] = {project.pk: {} for project in projects}
    for project_id, status, n in (
        Unit.objects.filter(project__in=projects)
        .values("project_id", "status")
        .annotate(n=Count("id"))
        .values_list("project_id", "status", "n")
    ):
        unit_counts[project_id][status] = n
    companies = {company.pk: str(company) for company in ctx.companies.values()}
    return DemoSummary(
        projects=tuple(
            ProjectSummary(
                code=project.code,
                name=project.name,
                kind_label=str(project.get_kind_display()),
                buildings=building_counts.get(project.pk, 0),
                units=sum(unit_counts[project.pk].values()),
                units_by_status={
                    status: unit_counts[project.pk].get(status, 0) for status in UnitStatus.values
                },
            )
            for project in projects
        ),
        logins=tuple(
            DemoLogin(
                username=spec.username,
                role_label=str(Role(ctx.users[spec.username].role).label),
                name=ctx.users[spec.username].display_name,
                company=companies.get(ctx.users[spec.username].company_id or 0, ""),
            )
            for spec in USERS
            if spec.username in ctx.users
        ),
        created=dict(ctx.created),
    )
