"""The demo data set: a developer with its own and an agency's sales team, two projects, a login per role.

`load_demo()` runs the steps in `DEMO_STEPS` in one transaction. Every step finds its rows by their
natural key (company name, team name within the company, project code, building name within the
project, unit number within the building, username) and creates only what is missing. Existing rows
are never updated, so a rerun cannot undo what someone did in the demo: a unit that was sold stays
sold, a changed password stays changed.

A later feature adds its own `load_*` step to `DEMO_STEPS`, after the steps whose rows it needs. A step
takes the `DemoContext` that earlier steps filled (companies, teams, projects, users by key) and reports
what it created with `ctx.record_created(Model, n)`; the command prints those counts without changes.

The front-desk steps (`load_history_customers`, `load_today`, `load_appointments`) give the front desk
"a day in progress". History customers are keyed on (project, phone) like everything else. The day
itself is keyed on the date: `load_today` runs only while the high-rise has no queue for today, and
`load_appointments` only while a project has no appointment booked today. So a second run on the same
day changes nothing, and a run on a later day builds that day afresh (new sign-ins, new visitors, new
bookings) beside what earlier days left — visits left open on an earlier day stay open, as they would
if nobody ended them. The day is made through the front desk's own services (sign-in, check-in, visit
end, booking), so it changes exactly what those change — e.g. the returning customer's last visit and
protection — and nothing else.
"""

import random
import zlib
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from decimal import ROUND_HALF_UP, Decimal

from django.contrib.auth.hashers import make_password
from django.db import models, transaction
from django.db.models import Count, F, Q, QuerySet
from django.utils import timezone
from simple_history.utils import bulk_create_with_history

from anchang.accounts.models import Company, CompanyKind, ProjectMembership, Role, Team, User
from anchang.core.phones import national_digits, normalize_mainland_mobile
from anchang.core.testing.mobiles import mobile_for
from anchang.customers.models import (
    Attribution,
    AttributionRule,
    Customer,
    CustomerEvent,
    EventKind,
    Source,
    Stage,
)
from anchang.customers.names import name_initials, name_pinyin
from anchang.demo.consultant_work import load_consultant_work
from anchang.demo.context import CLOSES, HIGH_RISE, TOWNHOUSE, DemoContext, working_time
from anchang.demo.deals_steps import load_deals
from anchang.demo.knowledge_content import load_knowledge
from anchang.demo.names import HETERONYM_SURNAMES, draw_name
from anchang.demo.opening_steps import load_opening_day
from anchang.demo.permit_steps import load_disclosures, load_permits
from anchang.inventory.models import (
    Building,
    Orientation,
    Project,
    ProjectKind,
    ProjectSettings,
    Unit,
    UnitStatus,
)
from anchang.inventory.registration_fields import REGISTRATION_FIELDS
from anchang.reception.appointments import appointment_create
from anchang.reception.judging import Decision, JudgingInputs, Person, judge
from anchang.reception.models import (
    Appointment,
    AppointmentStatus,
    BookingChannel,
    QueueState,
    RotationEntry,
    VipTask,
    VipTier,
    Visit,
    VisitKind,
    VisitState,
)
from anchang.reception.rotation import rotation_set_state, rotation_sign_in
from anchang.reception.services import check_in, visit_end
from anchang.reception.vip import local_day_bounds

DEMO_PASSWORD = "anchang-demo"
# Statuses are drawn from a fixed seed so that every fresh demo database shows the same board.
STATUS_SEED = 2026

DEVELOPER = "developer"
AGENCY = "agency"
CHANNEL_EAST = "channel_east"
CHANNEL_RIVER = "channel_river"


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
    sales_phone: str
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
        address="闻涛路与江晖路交叉口东北侧",
        sales_phone="0571-8688 6600",
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
        address="良渚街道云溪路 88 号",
        sales_phone="0571-8926 1188",
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
# The sales board was set up this long ago, before the first unit was sold.
BOARD_SET_UP_DAYS_AGO = 180


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


# --- the front desk: customers of the past weeks, today's queue, visitors and bookings ---------------

HISTORY_SEED = 2026
HISTORY_NOTE = "演示历史数据"
# Visits of the history happened during opening hours within this many days before today.
HISTORY_DAYS = 60
# Share of ordinary customers whose last visit lies inside the protection period (the rest expired).
PROTECTED_SHARE = 0.45
# Every twentieth customer carries a surname with a reading of its own (单 shàn, 曾 zēng …).
HETERONYM_EVERY = 20
SOURCE_WEIGHTS: dict[str, float] = {
    Source.ONLINE: 5,
    Source.PASSING_BY: 3,
    Source.FRIEND: 3,
    Source.OUTDOOR_AD: 2,
    Source.PHONE: 2,
    Source.AGENCY: 2,
    Source.OLD_OWNER: 1,
    Source.EVENT: 1,
    Source.PRESS: 0.5,
}


@dataclass(frozen=True)
class HistorySpec:
    project: str
    size: int
    # Who may own a customer: consultants who are members of the project.
    consultants: tuple[str, ...]
    # One contract holder (is_owner) per entry, owned by that consultant.
    contract_owners: tuple[str, ...]
    # Phones come from `mobile_for(phone_seed + n)`: far from the crc32 seeds of the staff mobiles.
    phone_seed: int


HISTORY: tuple[HistorySpec, ...] = (
    HistorySpec(
        HIGH_RISE,
        300,
        tuple(f"consultant{n}" for n in range(1, 9)),
        ("consultant1", "consultant3", "consultant6", "consultant7", "consultant8"),
        1_000_000,
    ),
    HistorySpec(
        TOWNHOUSE,
        60,
        ("consultant1", "consultant2", "consultant5", "consultant6"),
        ("consultant2", "consultant5"),
        2_000_000,
    ),
)


@dataclass(frozen=True)
class VisitDraft:
    days_ago: int
    # Local time of arrival, in minutes after midnight.
    minute_of_day: int
    minutes_stayed: int
    outcome: str

    def arrival(self, today: date) -> datetime:
        midnight = timezone.make_aware(datetime.combine(today - timedelta(days=self.days_ago), time()))
        return midnight + timedelta(minutes=self.minute_of_day)


@dataclass(frozen=True)
class CustomerDraft:
    phone: str
    name: str
    gender: str
    source: str
    owner: str
    is_owner: bool
    party_size: int
    first: VisitDraft
    # The return visit, if any, came within the protection period and went to the owner.
    again: VisitDraft | None

    @property
    def last(self) -> VisitDraft:
        return self.again or self.first


def _draw_visit(rng: random.Random, days_ago: int, outcome: str) -> VisitDraft:
    # Opening hours: arrivals from 09:30 to 17:25 in five-minute steps; everyone leaves by closing.
    arrival = 9 * 60 + 30 + 5 * rng.randrange(96)
    stayed = rng.randint(35, 130)
    return VisitDraft(days_ago, arrival, min(stayed, CLOSES.hour * 60 - arrival), outcome)


def plan_history(spec: HistorySpec, *, taken: set[str]) -> list[CustomerDraft]:
    """The project's history customers, the same for every run; `taken` phones are skipped and extended."""
    rng = random.Random(f"{HISTORY_SEED}:history:{spec.project}")
    sources, weights = list(SOURCE_WEIGHTS), list(SOURCE_WEIGHTS.values())
    drafts = []
    seed = spec.phone_seed
    for n in range(spec.size):
        phone = normalize_mainland_mobile(mobile_for(seed))
        while phone in taken:
            seed += 1
            phone = normalize_mainland_mobile(mobile_for(seed))
        seed += 1
        taken.add(phone)
        heteronym = n % HETERONYM_EVERY == HETERONYM_EVERY // 2
        surname = HETERONYM_SURNAMES[(n // HETERONYM_EVERY) % len(HETERONYM_SURNAMES)] if heteronym else None
        person = draw_name(rng, surname=surname)
        source = rng.choices(sources, weights)[0]
        party_size = rng.choice((1, 1, 2, 2, 2, 3, 3, 4))
        is_owner = n < len(spec.contract_owners)
        if is_owner:
            # Contract holders: signed on their second visit, weeks ago, so their protection has run out;
            # the owner-visit rule finds them all the same.
            owner = spec.contract_owners[n]
            last_ago = rng.randint(18, 35)
            first = _draw_visit(rng, last_ago + rng.randint(5, 12), "return")
            again: VisitDraft | None = _draw_visit(rng, last_ago, "subscribed")
        else:
            owner = rng.choice(spec.consultants)
            protected = rng.random() < PROTECTED_SHARE
            last_ago = rng.randint(1, 14) if protected else rng.randint(16, HISTORY_DAYS)
            outcome = rng.choice(("return", "return", "return", "no_interest", "no_interest"))
            # Half came back once, inside the protection period of the first visit.
            first_ago = min(last_ago + rng.randint(2, 12), HISTORY_DAYS) if rng.random() < 0.5 else last_ago
            if first_ago > last_ago:
                first, again = _draw_visit(rng, first_ago, "return"), _draw_visit(rng, last_ago, outcome)
            else:
                first, again = _draw_visit(rng, last_ago, outcome), None
        drafts.append(
            CustomerDraft(
                phone=phone,
                name=person.name,
                gender=person.gender,
                source=source,
                owner=owner,
                is_owner=is_owner,
                party_size=party_size,
                first=first,
                again=again,
            )
        )
    return drafts


@dataclass(frozen=True)
class AppointmentPlan:
    # 0: today, 1: tomorrow.
    day_offset: int
    party_size: int
    source: str
    vip_tier: str = VipTier.GENERAL
    consultant: str | None = None
    note: str = ""
    # A history customer under protection books a return visit with their own consultant.
    returning: bool = False


APPOINTMENTS: dict[str, tuple[AppointmentPlan, ...]] = {
    HIGH_RISE: (
        AppointmentPlan(0, 2, Source.ONLINE, note="刚结婚，先看三房，关心周边学校"),
        AppointmentPlan(0, 3, Source.FRIEND, returning=True, note="第二次来，带父母一起看楼层"),
        AppointmentPlan(
            0,
            4,
            Source.OTHER,
            VipTier.TIER_1,
            note="集团分管营销的副总裁亲自约的客人，副总裁陪同到场；想看 1 栋高层江景四房，约一小时。",
        ),
        AppointmentPlan(
            0,
            3,
            Source.FRIEND,
            VipTier.TIER_2,
            consultant="consultant1",
            note="杭州公司总经理的老同学，一家三口，准备置换大一点的房子。",
        ),
        AppointmentPlan(0, 2, Source.OUTDOOR_AD, consultant="consultant3"),
        AppointmentPlan(0, 1, Source.PHONE, note="来电咨询过首付比例"),
        AppointmentPlan(1, 2, Source.ONLINE),
        AppointmentPlan(1, 2, Source.EVENT, consultant="consultant6", note="周末暖场活动报名"),
    ),
    TOWNHOUSE: (
        AppointmentPlan(0, 3, Source.FRIEND, consultant="consultant5", note="想要带院子的下叠"),
        AppointmentPlan(0, 2, Source.ONLINE),
        AppointmentPlan(1, 4, Source.OLD_OWNER, note="滨江府老业主介绍"),
    ),
}
# Bookable times of a day at the sales office; today's bookings are spread over the ones still ahead.
APPOINTMENT_TIMES = tuple(
    time(h, m)
    for h, m in ((9, 30), (10, 0), (10, 30), (11, 0), (14, 0), (14, 30), (15, 30), (16, 0), (17, 0))
)
# Bookings for a later day take these times in turn.
LATER_TIMES = (time(10, 0), time(15, 0))
# Today's bookings start at least this long after "now".
APPOINTMENT_LEAD = timedelta(minutes=30)


# --- loading ----------------------------------------------------------------------------------------


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
                "sales_phone": spec.sales_phone,
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
            unit = _unit_from_draft(draft, project, building, status, days_ago, ctx.now)
            # The board's history shows each unit as of its last change (or the board's setup),
            # not every unit at the minute the demo was built.
            unit._history_date = unit.status_changed_at or working_time(  # type: ignore[attr-defined]
                ctx.now, days_ago=BOARD_SET_UP_DAYS_AGO, minutes=0
            )
            new_units.append(unit)
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
        status_changed_at=working_time(
            now, days_ago=days_ago, minutes=30 + 60 * ((draft.floor * 7 + draft.position) % 9)
        )
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


@contextmanager
def _counting_created(ctx: DemoContext, *tables: type[models.Model]) -> Iterator[None]:
    """Record what the services called inside the block created, counted on the tables themselves."""
    before = {model: model._default_manager.count() for model in tables}
    yield
    for model in tables:
        ctx.record_created(model, model._default_manager.count() - before[model])


def _staff_phones() -> set[str]:
    return {demo_mobile(spec.username) for spec in USERS}


def _unused_phones(*, seed: int, count: int) -> list[str]:
    """Valid mobiles that no customer, booking or staff member of any project has, from `seed` on.

    Unused in every project: the same phone in two projects is one person (product.md §2), and a
    made-up visitor must not turn out to be someone's contract holder elsewhere.
    """
    used = _staff_phones()
    found: list[str] = []
    while len(found) < count:
        candidates = {normalize_mainland_mobile(mobile_for(seed + n)) for n in range(count * 2)}
        seed += count * 2
        used |= set(Customer.objects.filter(phone__in=candidates).values_list("phone", flat=True))
        used |= set(Appointment.objects.filter(phone__in=candidates).values_list("phone", flat=True))
        for phone in sorted(candidates - used):
            if len(found) < count:
                found.append(phone)
                used.add(phone)
    return found


def _missing_registration_fields(settings: ProjectSettings, provided: Iterable[str]) -> list[str]:
    required = [name for name in settings.mandatory_registration_fields if name in REGISTRATION_FIELDS]
    return [name for name in required if name not in provided]


def load_history_customers(ctx: DemoContext) -> None:
    """Customers of the past weeks with their visits, judging records and timeline, as check-in leaves them.

    History is written in bulk (the services would stamp everything "now"), following what check-in
    and visit end store: a first visit judged by rotation that makes the receiver the owner, maybe a
    return visit to the owner within protection, protection running from the last visit.
    """
    taken = _staff_phones()
    plans = {spec.project: plan_history(spec, taken=taken) for spec in HISTORY}
    frontdesk = ctx.users["frontdesk"]
    today = timezone.localdate(ctx.now)
    for spec in HISTORY:
        project = ctx.projects[spec.project]
        existing = set(
            Customer.objects.filter(
                project=project, phone__in=[d.phone for d in plans[spec.project]]
            ).values_list("phone", flat=True)
        )
        drafts = [draft for draft in plans[spec.project] if draft.phone not in existing]
        ctx.record_created(Customer, len(drafts))
        if drafts:
            _create_history(ctx, project, drafts, frontdesk=frontdesk, today=today)


def _create_history(
    ctx: DemoContext, project: Project, drafts: list[CustomerDraft], *, frontdesk: User, today: date
) -> None:
    settings = project.settings
    protection = timedelta(days=settings.protection_days_after_visit)
    missing_fields = _missing_registration_fields(settings, ("name", "gender", "phone", "source"))
    customers = []
    for draft in drafts:
        first_at, last_at = draft.first.arrival(today), draft.last.arrival(today)
        customer = Customer(
            project=project,
            phone=draft.phone,
            phone_last4=draft.phone[-4:],
            name=draft.name,
            name_pinyin=name_pinyin(draft.name),
            name_initials=name_initials(draft.name),
            gender=draft.gender,
            source=draft.source,
            stage=Stage.OWNER if draft.is_owner else Stage.VISITED,
            owner=ctx.users[draft.owner],
            protected_until=last_at + protection,
            first_visit_at=first_at,
            last_visit_at=last_at,
            is_owner=draft.is_owner,
            consent_at=first_at,
        )
        # The history row dates from the registration at the first visit, by the front desk.
        customer._history_date = first_at  # type: ignore[attr-defined]
        customer._history_user = frontdesk  # type: ignore[attr-defined]
        customers.append(customer)
    customers = bulk_create_with_history(
        customers, Customer, batch_size=500, default_change_reason=HISTORY_NOTE
    )
    # Dated as of the registration and the last visit rather than "now" (auto_now_add stamps on insert).
    Customer.objects.filter(pk__in=[c.pk for c in customers]).update(
        created_at=F("first_visit_at"), updated_at=F("last_visit_at")
    )

    # Visits: the first one by rotation, a return visit to the protected owner.
    visits: list[Visit] = []
    decisions: list[tuple[Customer, CustomerDraft, VisitDraft, Decision]] = []
    for customer, draft in zip(customers, drafts, strict=True):
        owner = ctx.users[draft.owner]
        first_at = draft.first.arrival(today)
        facts = JudgingInputs(phone=draft.phone, now=first_at, rule_set_version=settings.rule_set_version)
        decisions.append((customer, draft, draft.first, judge(facts)))
        if draft.again is not None:
            again_at = draft.again.arrival(today)
            facts = JudgingInputs(
                phone=draft.phone,
                now=again_at,
                rule_set_version=settings.rule_set_version,
                customer_id=customer.pk,
                has_visited=True,
                owner=Person(id=owner.pk, name=owner.display_name),
                owner_active=True,
                protected_until=first_at + protection,
                on_duty=(owner.pk,),
                designated_consumes_turn=settings.designated_consumes_turn,
            )
            decisions.append((customer, draft, draft.again, judge(facts)))
    for customer, draft, visit_draft, decision in decisions:
        arrived = visit_draft.arrival(today)
        visits.append(
            Visit(
                project=project,
                customer=customer,
                kind=decision.visit_kind,
                state=VisitState.ENDED,
                rule=decision.rule,
                consultant=customer.owner,
                consumes_turn=decision.consumes_turn,
                party_size=draft.party_size,
                missing_fields=missing_fields,
                checked_in_at=arrived,
                assigned_at=arrived + timedelta(minutes=2),
                checked_out_at=arrived + timedelta(minutes=visit_draft.minutes_stayed),
                outcome=visit_draft.outcome,
                registered_by=frontdesk,
            )
        )
    visits = Visit.objects.bulk_create(visits, batch_size=500)
    Visit.objects.filter(pk__in=[v.pk for v in visits]).update(
        created_at=F("checked_in_at"), updated_at=F("checked_out_at")
    )

    attributions = []
    events = []
    for visit, (customer, _draft, _visit_draft, decision) in zip(visits, decisions, strict=True):
        receiver = customer.owner
        assert receiver is not None
        attributions.append(
            Attribution(
                project=project,
                customer=customer,
                visit=visit,
                rule=decision.rule,
                rule_set_version=settings.rule_set_version,
                consultant=receiver,
                consumes_turn=decision.consumes_turn,
                explanation=decision.explanation,
                inputs={"phone": customer.phone, "note": HISTORY_NOTE},
                decided_at=visit.checked_in_at,
                decided_by=frontdesk,
            )
        )
        kind = str(VisitKind(visit.kind).label)
        events.append(
            CustomerEvent(
                customer=customer,
                kind=EventKind.VISIT,
                at=visit.checked_in_at,
                by=frontdesk,
                text=f"{kind}，{decision.explanation.rstrip('。')}，接待顾问 {receiver.display_name}。"[:300],
                data={"visit_id": visit.pk, "rule": decision.rule},
            )
        )
        if decision.takes_ownership:
            events.append(
                CustomerEvent(
                    customer=customer,
                    kind=EventKind.OWNER_CHANGED,
                    at=visit.assigned_at or visit.checked_in_at,
                    by=frontdesk,
                    text=f"归属顾问：无 → {receiver.display_name}（{AttributionRule(decision.rule).label}）",
                    data={"from": None, "to": receiver.pk},
                )
            )
        if visit.outcome == "subscribed":
            events.append(
                CustomerEvent(
                    customer=customer,
                    kind=EventKind.NOTE,
                    at=visit.checked_out_at or visit.checked_in_at,
                    by=receiver,
                    text=f"已签约，成为业主（{HISTORY_NOTE}）",
                    data={"note": HISTORY_NOTE},
                )
            )
    Attribution.objects.bulk_create(attributions, batch_size=500)
    CustomerEvent.objects.bulk_create(events, batch_size=500)
    ctx.record_created(Visit, len(visits))
    ctx.record_created(Attribution, len(attributions))
    ctx.record_created(CustomerEvent, len(events))


# Consultants who sign in to today's queue of the high-rise, in this order; the last one then steps away.
TODAY_SIGN_INS = tuple(f"consultant{n}" for n in range(1, 8))
TODAY_AWAY = "consultant7"
# Whose protected customer comes back today (the first of them who has one), and whom a visitor names.
# Never the newcomer's receiver or the named consultant (one visitor each); the head of the queue
# (consultant3 by then) only as a fallback, so that the owner rule visibly passes over the queue.
TODAY_RETURNING_OWNERS = ("consultant4", "consultant6", "consultant3", "consultant1")
TODAY_DESIGNATED = "consultant5"
# Whose protected customer books today's return visit (the first of them who has one).
RETURNING_BOOKING_OWNERS = ("consultant2", "consultant3", "consultant1")


def _is_member(user: User, project: Project) -> bool:
    return user.is_active and user.memberships.filter(project=project).exists()


def _protected_customer(project: Project, *, owners: Iterable[User], now: datetime) -> Customer | None:
    """A customer under protection of one of `owners` (tried in order) who is not on site right now."""
    on_site = Visit.objects.filter(project=project, state__in=(VisitState.WAITING, VisitState.RECEIVING))
    for owner in owners:
        customer = (
            Customer.objects.filter(project=project, owner=owner, is_owner=False, protected_until__gt=now)
            .exclude(pk__in=on_site.values("customer_id"))
            .order_by("phone")
            .first()
        )
        if customer is not None:
            return customer
    return None


def load_today(ctx: DemoContext) -> None:
    """Today at the high-rise's front desk: the queue, one reception already over, three under way.

    Runs only while the project has no queue for today, through the same services the screens use:
    sign-ins, a consultant stepping away, check-ins judged by the rules, a reception ended.
    """
    project = ctx.projects[HIGH_RISE]
    now = ctx.now
    day = timezone.localdate(now)
    if RotationEntry.objects.filter(project=project, day=day).exists():
        return
    frontdesk = ctx.users["frontdesk"]
    consultants = {username: ctx.users[username] for username in TODAY_SIGN_INS}
    rng = random.Random(f"{HISTORY_SEED}:today:{day.isoformat()}")
    walk_in, newcomer, referred = (draw_name(rng) for _ in range(3))
    phones = _unused_phones(seed=day.toordinal() * 100, count=3)
    with _counting_created(ctx, RotationEntry, Customer, Visit, Attribution, CustomerEvent):
        for consultant in consultants.values():
            if _is_member(consultant, project):
                rotation_sign_in(project=project, consultant=consultant, by=consultant)
        away = consultants[TODAY_AWAY]
        if RotationEntry.objects.filter(project=project, day=day, consultant=away).exists():
            rotation_set_state(project=project, consultant=away, state=QueueState.AWAY, by=away)

        # Earlier this morning: a couple walked in, were received by the head of the queue and left;
        # the consultant went to the end of the queue.
        earlier = check_in(
            project=project,
            phone=phones[0],
            by=frontdesk,
            consent=True,
            name=walk_in.name,
            gender=walk_in.gender,
            source=Source.PASSING_BY,
            party_size=2,
        )
        visit_end(visit_id=earlier.visit.pk, by=frontdesk, outcome="return")
        # Now in progress: a first visit from rotation, a protected customer with their owner, and a
        # visitor who names a consultant.
        check_in(
            project=project,
            phone=phones[1],
            by=frontdesk,
            consent=True,
            name=newcomer.name,
            gender=newcomer.gender,
            source=Source.ONLINE,
        )
        returning = _protected_customer(
            project, owners=[consultants[username] for username in TODAY_RETURNING_OWNERS], now=now
        )
        if returning is not None:
            check_in(project=project, phone=returning.phone, by=frontdesk, consent=True, party_size=2)
        designated = consultants[TODAY_DESIGNATED]
        check_in(
            project=project,
            phone=phones[2],
            by=frontdesk,
            consent=True,
            name=referred.name,
            gender=referred.gender,
            source=Source.FRIEND,
            party_size=3,
            designated_consultant_id=designated.pk if _is_member(designated, project) else None,
        )


def appointment_times(now: datetime, count: int) -> list[datetime]:
    """Up to `count` of today's booking times still ahead (at least `APPOINTMENT_LEAD` from now),
    spread over what is left of the day; late in the day there are fewer, in the evening none."""
    earliest = now + APPOINTMENT_LEAD
    day = timezone.localdate(now)
    ahead = [
        at
        for at in (timezone.make_aware(datetime.combine(day, slot)) for slot in APPOINTMENT_TIMES)
        if at >= earliest
    ]
    if len(ahead) <= count:
        return ahead
    if count <= 1:
        return ahead[:count]
    step = (len(ahead) - 1) / (count - 1)
    return [ahead[round(n * step)] for n in range(count)]


def later_times(day: date, count: int) -> list[datetime]:
    """`count` booking times on a later day: `LATER_TIMES` in turn, then the day's other slots."""
    slots = [*LATER_TIMES, *(slot for slot in APPOINTMENT_TIMES if slot not in LATER_TIMES)]
    return sorted(timezone.make_aware(datetime.combine(day, slot)) for slot in slots[:count])


def load_appointments(ctx: DemoContext) -> None:
    """Bookings for the rest of today and for tomorrow, made by the front desk; VIP ones get their checklist.

    Runs per project only while nothing was booked there today, so a rerun the same day adds nothing.
    """
    frontdesk = ctx.users["frontdesk"]
    now = ctx.now
    day = timezone.localdate(now)
    start, end = local_day_bounds(day)
    with _counting_created(ctx, Appointment, VipTask):
        for number, (code, plans) in enumerate(APPOINTMENTS.items()):
            project = ctx.projects[code]
            if Appointment.objects.filter(
                project=project, created_at__gte=start, created_at__lt=end
            ).exists():
                continue
            today_plans = [plan for plan in plans if plan.day_offset == 0]
            today_times = appointment_times(now, len(today_plans))
            # What no longer fits into today's opening hours is booked for tomorrow instead.
            later_plans = [
                *today_plans[len(today_times) :],
                *(plan for plan in plans if plan.day_offset > 0),
            ]
            today_plans = today_plans[: len(today_times)]
            times = today_times
            for offset in sorted({max(plan.day_offset, 1) for plan in later_plans}):
                on_day = [plan for plan in later_plans if max(plan.day_offset, 1) == offset]
                times += later_times(day + timedelta(days=offset), len(on_day))
            later_plans = sorted(later_plans, key=lambda plan: max(plan.day_offset, 1))
            rng = random.Random(f"{HISTORY_SEED}:appointments:{code}:{day.isoformat()}")
            seed = day.toordinal() * 100 + 20 * (number + 1)
            phones = iter(_unused_phones(seed=seed, count=len(plans)))
            for plan, start_at in zip([*today_plans, *later_plans], times, strict=True):
                _book(ctx, project, plan, start_at, rng=rng, phones=phones, by=frontdesk, now=now)


def _book(
    ctx: DemoContext,
    project: Project,
    plan: AppointmentPlan,
    start_at: datetime,
    *,
    rng: random.Random,
    phones: Iterator[str],
    by: User,
    now: datetime,
) -> None:
    person = draw_name(rng)
    name, phone = person.name, next(phones)
    consultant = ctx.users[plan.consultant] if plan.consultant else None
    if plan.returning:
        owners = [ctx.users[username] for username in RETURNING_BOOKING_OWNERS]
        customer = _protected_customer(project, owners=owners, now=now)
        if customer is not None and customer.owner is not None:
            name, phone, consultant = customer.name, customer.phone, customer.owner
    if consultant is not None and not _is_member(consultant, project):
        consultant = None
    appointment_create(
        project=project,
        name=name,
        phone=phone,
        start_at=start_at,
        party_size=plan.party_size,
        consultant=consultant,
        source=plan.source,
        vip_tier=plan.vip_tier,
        note=plan.note,
        consent=True,
        channel=BookingChannel.DESK,
        by=by,
    )


DemoStep = Callable[[DemoContext], None]

# A later feature adds its `load_*` step here, after the steps whose rows it needs.
DEMO_STEPS: tuple[DemoStep, ...] = (
    load_companies,
    load_projects,
    load_buildings_and_units,
    load_users,
    load_memberships,
    load_permits,
    load_history_customers,
    load_today,
    load_appointments,
    load_knowledge,
    load_consultant_work,
    load_disclosures,
    load_opening_day,
    load_deals,
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
class HandTest:
    """A judging case to try by hand at the check-in screen: what to enter and what should happen."""

    case: str
    enter: str
    expect: str
    # The mobile (national digits) or appointment code the case is about, if any.
    key: str = ""


@dataclass(frozen=True)
class DemoSummary:
    projects: tuple[ProjectSummary, ...]
    logins: tuple[DemoLogin, ...]
    created: dict[str, int]
    password: str = DEMO_PASSWORD
    # The project whose front desk has "a day in progress", and the cases to try there by hand.
    front_desk_project: str = ""
    hand_tests: tuple[HandTest, ...] = ()

    @property
    def created_anything(self) -> bool:
        return any(self.created.values())


def load_demo(steps: Iterable[DemoStep] = DEMO_STEPS, *, now: datetime | None = None) -> DemoSummary:
    """Load whatever part of the demo data is missing; return what the demo now holds.

    `now` is the moment the story is told from (the present by default): the history lies in the
    working hours of the days before it, today's bookings in the opening hours still ahead of it.
    """
    with transaction.atomic():
        ctx = DemoContext(now=now or timezone.now())
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
        front_desk_project=ctx.projects[HIGH_RISE].name if HIGH_RISE in ctx.projects else "",
        hand_tests=front_desk_hand_tests(ctx.projects[HIGH_RISE]) if HIGH_RISE in ctx.projects else (),
    )


def front_desk_hand_tests(project: Project) -> tuple[HandTest, ...]:
    """The judging cases as the project stands right now (a case whose customer is on site is left out).

    Read afresh on every run, so a rerun after someone tried a phone offers another one. Phones are
    printed in full: they are fake, and the front desk has to type them.
    """
    now = timezone.now()
    day = timezone.localdate(now)
    queue = list(
        RotationEntry.objects.filter(project=project, day=day)
        .select_related("consultant")
        .order_by("position", "pk")
    )
    on_duty = [entry.consultant for entry in queue if entry.state != QueueState.OFF]
    waiting = [entry.consultant for entry in queue if entry.state == QueueState.WAITING]
    head = waiting[0] if waiting else None
    # Owners other than the head of the queue, so that "goes to the owner" is visibly not rotation.
    preferred_owners = [consultant for consultant in waiting if consultant != head] + on_duty
    start, end = local_day_bounds(day)
    booked_today = Appointment.objects.filter(
        project=project, status=AppointmentStatus.BOOKED, start_at__gte=start, start_at__lt=end
    )
    busy = Customer.objects.filter(
        Q(visits__state__in=(VisitState.WAITING, VisitState.RECEIVING))
        | Q(phone__in=booked_today.values("phone")),
        project=project,
    )
    free = (
        Customer.objects.filter(project=project, owner__isnull=False).exclude(pk__in=busy).order_by("phone")
    )

    def first_owned_by(customers: QuerySet[Customer], owners: list[User]) -> Customer | None:
        for owner in owners:
            customer = customers.filter(owner=owner).select_related("owner").first()
            if customer is not None:
                return customer
        return customers.select_related("owner").first()

    def who(customer: Customer) -> str:
        return f"{national_digits(customer.phone)}（{customer.name}）"

    new_phone = national_digits(_unused_phones(seed=9_000_000, count=1)[0])

    rotation = (
        f"轮排下一位（现在是 {head.display_name}）" if head else "轮排下一位（现在无人待接，先进入等候）"
    )
    # Owner and designated receptions keep the receiver's place unless the project says otherwise.
    fixed_turn = "占用轮次" if project.settings.designated_consumes_turn else "不占轮次"
    tests = [
        HandTest(
            "新客户首访",
            f"任一未登记的手机号，如 {new_phone}",
            f"{rotation}接待，接待人成为归属顾问",
            key=new_phone,
        )
    ]
    protected = first_owned_by(free.filter(is_owner=False, protected_until__gt=now), preferred_owners)
    if protected is not None and protected.owner is not None and protected.protected_until:
        until = timezone.localtime(protected.protected_until).strftime("%m-%d")
        tests.append(
            HandTest(
                "保护期内老客户",
                who(protected),
                f"归属顾问 {protected.owner.display_name} 接待（保护期至 {until}），{fixed_turn}",
                key=national_digits(protected.phone),
            )
        )
    expired = free.filter(is_owner=False, protected_until__lte=now).select_related("owner").first()
    if expired is not None and expired.owner is not None:
        tests.append(
            HandTest(
                "保护期已过（公客）",
                who(expired),
                f"原归属 {expired.owner.display_name} 已失效，{rotation}接待并成为新的归属顾问",
                key=national_digits(expired.phone),
            )
        )
    # 代接待: a protected customer of a consultant who stepped away from the queue.
    away = [entry.consultant for entry in queue if entry.state == QueueState.AWAY]
    covered = (
        free.filter(is_owner=False, protected_until__gt=now, owner__in=away).select_related("owner").first()
        if away and head is not None
        else None
    )
    if covered is not None and covered.owner is not None and head is not None:
        tests.append(
            HandTest(
                "归属顾问暂离",
                who(covered),
                f"归属顾问 {covered.owner.display_name} 暂离，由 {head.display_name} 代接待（归属不变）；"
                f"{covered.owner.display_name}（{covered.owner.username}）回来后在接待页点“接手”",
                key=national_digits(covered.phone),
            )
        )
    holder = first_owned_by(free.filter(is_owner=True), preferred_owners)
    if holder is not None and holder.owner is not None:
        tests.append(
            HandTest(
                "已签约业主到访",
                who(holder),
                f"业主到访，原顾问 {holder.owner.display_name} 接待，不占轮次"
                if holder.owner in on_duty
                else "业主到访，原顾问不在岗，由轮排顾问接待，不占轮次",
                key=national_digits(holder.phone),
            )
        )
    named = waiting[-1] if len(waiting) > 1 else None
    if named is not None:
        tests.append(
            HandTest(
                "客户指定顾问",
                f"新手机号，并在“指定顾问”中选 {named.display_name}（{named.username}）",
                f"由 {named.display_name} 接待，{fixed_turn}",
                key=named.username,
            )
        )
    # Check-in finds only today's bookings: late in the evening there may be none left.
    appointment = booked_today.filter(start_at__gte=now).select_related("consultant").first()
    if appointment is not None:
        at = timezone.localtime(appointment.start_at).strftime("%H:%M")
        consultant = appointment.consultant
        tests.append(
            HandTest(
                "今日预约到访",
                f"预约码 {appointment.code}（{at} {appointment.name}，{appointment.get_vip_tier_display()}）",
                "带出预约的姓名和人数，"
                + (f"由预约指定的 {consultant.display_name} 接待" if consultant else "按判客规则分配顾问"),
                key=appointment.code,
            )
        )
    # The next tier-1 guest, even if late bookings have pushed the arrival past midnight.
    vip = (
        Appointment.objects.filter(
            project=project, status=AppointmentStatus.BOOKED, vip_tier=VipTier.TIER_1, start_at__gte=now
        )
        .order_by("start_at", "pk")
        .first()
    )
    if vip is not None:
        tests.append(
            HandTest(
                "一级贵宾准备",
                f"预约码 {vip.code}（{timezone.localtime(vip.start_at).strftime('%m-%d %H:%M')}）",
                f"预约详情里有 {vip.preparation_tasks.count()} 项准备任务，过了时限未完成的标红",
                key=vip.code,
            )
        )
    return tuple(tests)


def front_desk_lines(summary: DemoSummary) -> list[str]:
    """The "今日演示场景" section of the command's summary: the cases to try by hand, one a line."""
    if not summary.hand_tests:
        return []
    lines = ["", f"今日演示场景（{summary.front_desk_project}：用 frontdesk 登录，在来访登记页输入）："]
    lines += [f"  · {test.case}：{test.enter} → {test.expect}" for test in summary.hand_tests]
    return lines
