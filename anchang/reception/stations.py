"""Tour route and stations (动线与讲解点, product.md §5): services and selectors.

A project's route is its active stations in `sort_order`. Which of them a visit walks depends on the
visit's kind: a first visit walks them all, a returning customer the short route focused on their
interests (`in_return_route`), an owner the show-flat route (`in_owner_route`). A consultant ticks
stations off as they go; the risk-disclosure station's tick is the proof that the customer was shown
the certificates and risk notices (time, consultant and, if given, the customer's confirmation).
"""

from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any, Literal, TypedDict

from django.db import transaction
from django.db.models import Max, Prefetch
from django.utils import timezone
from django.utils.translation import gettext as _

from anchang.accounts.models import Role, User
from anchang.accounts.selectors import project_visible_to
from anchang.core.errors import Conflict, InvalidInput, NotFound
from anchang.inventory.models import Project
from anchang.inventory.permits import certificate_rows
from anchang.reception.models import Station, Visit, VisitKind, VisitState, VisitStation
from anchang.reception.vip import local_day_bounds

DESK_ROLES = (Role.FRONTDESK, Role.MANAGER)
ENDED_STATES = (VisitState.ENDED, VisitState.INVALID)
NOTE_MAX_LENGTH = 200
# A compliance report over more than a quarter is a report for the reports app, not a check-up page.
COMPLIANCE_MAX_DAYS = 92


# --- the default route ------------------------------------------------------------------------------


@dataclass(frozen=True)
class StationSpec:
    code: str
    name: str
    purpose: str
    key_points: tuple[str, ...]
    required: bool = False
    risk_disclosure: bool = False
    return_route: bool = False
    owner_route: bool = False


def default_station_specs() -> tuple[StationSpec, ...]:
    """The usual route of a sales centre, from the car park to the negotiation table.

    A function rather than a constant so that the texts are translated when the stations are created.
    """
    return (
        StationSpec(
            code="parking",
            name=_("停车场·到达"),
            purpose=_("给客户留下第一印象，引导停车并通知接待顾问。"),
            key_points=(
                _("引导车辆停入访客车位，上前为客户拉开车门"),
                _("下雨或日晒时撑伞护送，一直送到销售中心门口"),
                _("问清是否已预约：有预约报出顾问姓名，没有就用对讲机请前台安排"),
                _("对讲时说明来访人数和车辆情况，方便大厅提前准备"),
            ),
        ),
        StationSpec(
            code="hall",
            name=_("销售大厅·迎宾"),
            purpose=_("热情迎接，自我介绍，判断首访还是复访。"),
            key_points=(
                _("起身迎到门口，双手递名片并请教客户称呼"),
                _("确认是否第一次来访、是否有熟悉的顾问"),
                _("奉上茶水，简单寒暄，先听后讲"),
                _("用一两句话介绍开发商品牌和项目定位"),
            ),
            required=True,
        ),
        StationSpec(
            code="region",
            name=_("区域模型"),
            purpose=_("讲清项目在城市中的位置、交通和周边配套，了解客户对区域的认可度。"),
            key_points=(
                _("先指出客户熟悉的地标，再落到项目位置"),
                _("讲交通：地铁、主干道、到核心商圈的时间"),
                _("讲配套：学校、商业、医院、公园，只讲已落地或已公示的"),
                _("顺带了解客户的工作地点和生活半径"),
            ),
            required=True,
        ),
        StationSpec(
            code="sandtable",
            name=_("项目沙盘"),
            purpose=_("由外到内介绍规划、楼栋、景观和在售房源，摸清客户关注点。"),
            key_points=(
                _("总体规划：占地、户数、容积率、绿化率"),
                _("楼栋分布、朝向、楼间距和景观资源"),
                _("本期推售楼栋与户型分布，结合客户需求指出合适的位置"),
                _("记下客户的疑虑和偏好，后面在样板房和洽谈区回应"),
            ),
            required=True,
            return_route=True,
        ),
        StationSpec(
            code="disclosure",
            name=_("五证及风险提示墙"),
            purpose=_("向客户出示项目证照和不利因素公示，依法完成风险提示。"),
            key_points=(
                _("逐一指出五证：土地使用证、用地规划许可证、工程规划许可证、施工许可证、预售许可证"),
                _("说明预售范围：只有预售证覆盖的楼栋可以认购"),
                _("讲清公示的不利因素，如周边设施、噪声、遮挡等"),
                _("提醒样板房为展示效果，交付以合同约定标准为准"),
                _("如客户愿意，请其确认已知悉"),
            ),
            required=True,
            risk_disclosure=True,
        ),
        StationSpec(
            code="registration",
            name=_("前台登记"),
            purpose=_("完善客户登记信息，为后续跟进打好基础。"),
            key_points=(
                _("告知隐私说明，取得同意后再登记"),
                _("补全姓名、手机号、认知途径和来访人数"),
                _("记下购房目的、预算、意向户型等需求"),
                _("不要让客户久等，资料可以边聊边补"),
            ),
            required=True,
        ),
        StationSpec(
            code="showflat",
            name=_("样板房"),
            purpose=_("让客户身临其境感受户型和空间，强化购买意愿。"),
            key_points=(
                _("进门前提醒穿鞋套，并说明样板房仅为展示"),
                _("按生活动线讲：玄关、客餐厅、厨房、卧室、阳台"),
                _("结合客户家庭成员讲空间怎么用"),
                _("指出交付标准与样板房展示装修的区别"),
            ),
            required=True,
            return_route=True,
            owner_route=True,
        ),
        StationSpec(
            code="clubhouse",
            name=_("会所"),
            purpose=_("展示社区生活方式与物业服务，拉近与客户的距离。"),
            key_points=(
                _("介绍会所功能分区和开放方式"),
                _("讲物业服务内容与品牌"),
                _("邀请客户加入业主会或参加暖场活动"),
            ),
            owner_route=True,
        ),
        StationSpec(
            code="negotiation",
            name=_("洽谈区"),
            purpose=_("深入沟通，算价、推荐房源，约定下一步。"),
            key_points=(
                _("回顾客户关注点，推荐两三套合适的房源"),
                _("算价：总价、首付、月供，讲清付款方式和优惠"),
                _("回应疑虑，不夸大、不承诺合同之外的事"),
                _("约好下次来访或跟进的时间，送客到门口"),
            ),
            required=True,
            return_route=True,
        ),
    )


@transaction.atomic
def stations_ensure_defaults(*, project: Project) -> list[Station]:
    """Give the project the default route; create only the stations it lacks, return those created.

    Stations are found by code and existing ones are never changed, so a manager's edits (wording,
    order, flags, a deactivated station) survive a rerun.
    """
    existing = set(Station.objects.filter(project=project).values_list("code", flat=True))
    first = station_next_sort_order(project=project)
    created: list[Station] = []
    for index, spec in enumerate(default_station_specs()):
        if spec.code in existing:
            continue
        created.append(
            Station(
                project=project,
                code=spec.code,
                name=spec.name,
                purpose=spec.purpose,
                key_points="\n".join(spec.key_points),
                sort_order=first + index * 10,
                required_on_first_visit=spec.required,
                is_risk_disclosure=spec.risk_disclosure,
                in_return_route=spec.return_route,
                in_owner_route=spec.owner_route,
            )
        )
    Station.objects.bulk_create(created)
    return created


# --- managing the route -----------------------------------------------------------------------------


def can_manage_stations(user: User) -> bool:
    return user.is_authenticated and user.is_site_manager


def station_list_for_manager(*, project: Project) -> list[Station]:
    """All of the project's stations in route order, the deactivated ones included."""
    return list(Station.objects.filter(project=project).order_by("sort_order", "pk"))


def station_managed_by(*, user: User, station_id: int) -> Station:
    station = Station.objects.select_related("project").filter(pk=station_id).first()
    if (
        station is None
        or not can_manage_stations(user)
        or project_visible_to(user=user, project_id=station.project_id) is None
    ):
        raise NotFound(_("讲解点不存在，或您无权管理。"))
    return station


def station_next_sort_order(*, project: Project) -> int:
    """One step (10) past the end of the route: where a new station goes."""
    top = Station.objects.filter(project=project).aggregate(top=Max("sort_order"))["top"]
    return (top or 0) + 10


@transaction.atomic
def station_move(*, station: Station, direction: Literal["up", "down"]) -> Station:
    """Swap the station with its neighbour in the route; renumber the route in steps of 10."""
    if direction not in ("up", "down"):
        raise InvalidInput(fields={"direction": _("只能上移或下移。")})
    # Lock the whole route: two managers reordering at once would otherwise interleave renumberings.
    route = list(
        Station.objects.select_for_update().filter(project_id=station.project_id).order_by("sort_order", "pk")
    )
    index = next(i for i, s in enumerate(route) if s.pk == station.pk)
    other = index - 1 if direction == "up" else index + 1
    if 0 <= other < len(route):
        route[index], route[other] = route[other], route[index]
    for position, item in enumerate(route, start=1):
        item.sort_order = position * 10
    Station.objects.bulk_update(route, ["sort_order"])
    return next(s for s in route if s.pk == station.pk)


@transaction.atomic
def station_set_active(*, station: Station, active: bool) -> Station:
    """Deactivate (or bring back) a station; ticks already recorded on it stay."""
    Station.objects.filter(pk=station.pk).update(is_active=active)
    station.is_active = active
    return station


# --- during a visit ---------------------------------------------------------------------------------


def is_desk(user: User) -> bool:
    """The front desk, managers and admins: they work on every visit of their projects."""
    return user.role in DESK_ROLES or user.sees_all_projects


def may_work_on_visit(*, user: User, visit: Visit) -> bool:
    """The receiving consultant, the owner they cover for (代接待), or the desk and managers."""
    return is_desk(user) or user.pk in (visit.consultant_id, visit.covering_for_id)


def visit_for_stations(*, user: User, visit_id: int) -> Visit:
    """The visit, if the user may work on it; anyone else is told it does not exist (api.md 404).

    The visit page and the check-out page open their visit through this as well.
    """
    visit = (
        Visit.objects.select_related("project", "customer", "customer__owner", "consultant", "covering_for")
        .filter(pk=visit_id)
        .first()
    )
    if (
        visit is None
        or not user.is_authenticated
        or not may_work_on_visit(user=user, visit=visit)
        or project_visible_to(user=user, project_id=visit.project_id) is None
    ):
        raise NotFound(_("来访不存在，或您无权查看。"))
    return visit


def _active_stations(project_id: int) -> list[Station]:
    return list(Station.objects.filter(project_id=project_id, is_active=True).order_by("sort_order", "pk"))


def _route_of(stations: list[Station], kind: str) -> list[Station]:
    if kind == VisitKind.RETURN:
        short = [s for s in stations if s.in_return_route]
    elif kind == VisitKind.OWNER:
        short = [s for s in stations if s.in_owner_route]
    else:
        return stations
    # A project that has not marked a short route yet shows the whole one rather than nothing.
    return short or stations


def route_for(*, visit: Visit) -> list[Station]:
    """The stations this visit should walk, in order (first: all; return: short route; owner: show flats)."""
    return _route_of(_active_stations(visit.project_id), visit.kind)


def station_required_for(visit: Visit, station: Station) -> bool:
    return visit.kind == VisitKind.FIRST and station.required_on_first_visit


@dataclass(frozen=True)
class RouteRow:
    station: Station
    done: VisitStation | None
    required: bool
    is_current: bool
    # False for a station outside this visit's route that was shown anyway (e.g. a deactivated one).
    in_route: bool = True

    @property
    def done_at(self) -> datetime | None:
        return self.done.done_at if self.done else None


@dataclass(frozen=True)
class VisitRoute:
    rows: list[RouteRow]
    # Active stations outside the visit's route, which the consultant may still show and tick.
    others: list[Station] = field(default_factory=list)

    @property
    def current(self) -> RouteRow | None:
        return next((row for row in self.rows if row.is_current), None)

    @property
    def done_count(self) -> int:
        return sum(1 for row in self.rows if row.in_route and row.done)

    @property
    def route_count(self) -> int:
        return sum(1 for row in self.rows if row.in_route)

    @property
    def missing_required(self) -> list[Station]:
        return [row.station for row in self.rows if row.required and row.done is None]


def visit_route(*, visit: Visit) -> VisitRoute:
    """The visit's route with what was done and which station is current. Two queries."""
    stations = _active_stations(visit.project_id)
    route = _route_of(stations, visit.kind)
    done = {
        row.station_id: row
        for row in VisitStation.objects.filter(visit=visit).select_related("station", "by")
    }
    route_ids = {s.pk for s in route}
    current_id = next((s.pk for s in route if s.pk not in done), None)
    rows = [
        RouteRow(
            station=s,
            done=done.get(s.pk),
            required=station_required_for(visit, s),
            is_current=s.pk == current_id,
        )
        for s in route
    ]
    rows += [
        RouteRow(
            station=d.station,
            done=d,
            required=station_required_for(visit, d.station),
            is_current=False,
            in_route=False,
        )
        for station_id, d in done.items()
        if station_id not in route_ids
    ]
    rows.sort(key=lambda row: (row.station.sort_order, row.station.pk))
    others = [s for s in stations if s.pk not in route_ids and s.pk not in done]
    return VisitRoute(rows=rows, others=others)


def current_station(*, visit: Visit) -> Station | None:
    """The first station of the route not yet done; None when the route is complete."""
    row = visit_route(visit=visit).current
    return row.station if row else None


def visit_missing_required_stations(*, visit: Visit) -> list[Station]:
    """Required stations a first visit has not done (empty for return and owner visits)."""
    if visit.kind != VisitKind.FIRST:
        return []
    return visit_route(visit=visit).missing_required


class VisitStationRow(TypedDict):
    code: str
    name: str
    required: bool
    done_at: datetime | None


def visit_station_rows(*, visit: Visit) -> list[VisitStationRow]:
    """`stations` of `GET /visits/{id}`: `[{code, name, required, done_at}]` in route order.

    `required` is "required for this visit": true only on first visits, for the stations flagged
    required on first visits. Times are local (api.md: ISO 8601 with offset).
    """
    return [
        VisitStationRow(
            code=row.station.code,
            name=row.station.name,
            required=row.required,
            done_at=timezone.localtime(row.done_at) if row.done_at else None,
        )
        for row in visit_route(visit=visit).rows
    ]


@transaction.atomic
def station_tick(
    *,
    visit: Visit,
    code: str,
    by: User,
    note: str = "",
    customer_confirmed: bool | None = None,
) -> VisitStation:
    """Record that the station was done during the visit; ticking again returns the first record.

    Only the visit's consultant, the owner they cover for, or the desk and managers may tick; to
    anyone else the visit does not exist. On the risk-disclosure station the tick is the proof that
    the customer was shown the documents (time, consultant) and, when given, that they confirmed it. A
    confirmation given after the first tick is filled in; a recorded one is never overwritten.
    """
    if (
        not may_work_on_visit(user=by, visit=visit)
        or project_visible_to(user=by, project_id=visit.project_id) is None
    ):
        raise NotFound(_("来访不存在，或您无权查看。"))
    note = note.strip()
    if len(note) > NOTE_MAX_LENGTH:
        raise InvalidInput(fields={"note": _("备注最多 200 个字。")})
    # Lock the visit: a tick racing with the end of the visit must not land after it ended.
    state = (
        Visit.objects.select_for_update(of=("self",))
        .filter(pk=visit.pk)
        .values_list("state", flat=True)
        .first()
    )
    if state in ENDED_STATES:
        raise Conflict(_("该接待已经结束，不能再勾选讲解点。"), code="visit_already_ended")
    station = Station.objects.filter(project_id=visit.project_id, code=code, is_active=True).first()
    if station is None:
        raise NotFound(
            _("本项目没有代码为“%(code)s”的讲解点（或已停用）。") % {"code": code[:40]},
            code="station_not_found",
        )
    if not station.is_risk_disclosure:
        customer_confirmed = None
    record, created = VisitStation.objects.get_or_create(
        visit=visit,
        station=station,
        defaults={
            "done_at": timezone.now(),
            "by": by,
            "note": note,
            "customer_confirmed": customer_confirmed,
        },
    )
    if not created:
        changed = []
        if customer_confirmed is not None and record.customer_confirmed is None:
            record.customer_confirmed = customer_confirmed
            changed.append("customer_confirmed")
        if note and not record.note:
            record.note = note
            changed.append("note")
        if changed:
            record.save(update_fields=changed)
    record.station = station
    return record


def risk_disclosure_recorded(*, customer_id: int) -> bool:
    """Whether the customer confirmed, on some visit, that they were shown the certificates and risk
    notices: a tick of a risk-disclosure station with the customer's confirmation (product.md §5).

    A tick without the confirmation proves only that the consultant stood at the wall; before money
    changes hands (a reservation or a subscription, `deals`) the customer's own word is what counts.
    """
    return VisitStation.objects.filter(
        visit__customer_id=customer_id, station__is_risk_disclosure=True, customer_confirmed=True
    ).exists()


# --- compliance (动线合规) ---------------------------------------------------------------------------


@dataclass(frozen=True)
class FlaggedVisit:
    visit: Visit
    missing: list[Station]


@dataclass
class ConsultantCompliance:
    consultant: User | None
    first_visits: int = 0
    flagged: int = 0

    @property
    def complete(self) -> int:
        return self.first_visits - self.flagged

    @property
    def rate(self) -> int:
        """Percentage of first visits that walked every required station."""
        return round(100 * self.complete / self.first_visits) if self.first_visits else 100


@dataclass(frozen=True)
class ComplianceReport:
    date_from: date
    date_to: date
    required: list[Station]
    by_consultant: list[ConsultantCompliance]
    flagged: list[FlaggedVisit]
    missing_by_station: list[tuple[Station, int]]
    first_visits: int

    @property
    def flagged_count(self) -> int:
        return len(self.flagged)


def _compliance_inputs(
    *, project: Project, date_from: date, date_to: date
) -> tuple[list[Station], list[Visit]]:
    if date_to < date_from:
        raise InvalidInput(fields={"date_to": _("结束日期不能早于开始日期。")})
    if (date_to - date_from).days >= COMPLIANCE_MAX_DAYS:
        raise InvalidInput(fields={"date_to": _("一次最多查询 92 天。")})
    required = list(
        Station.objects.filter(project=project, is_active=True, required_on_first_visit=True).order_by(
            "sort_order", "pk"
        )
    )
    start, _end = local_day_bounds(date_from)
    _start, end = local_day_bounds(date_to)
    # Only ended first visits count: one in progress may still walk its route, an invalid one was no buyer.
    visits = list(
        Visit.objects.filter(
            project=project,
            kind=VisitKind.FIRST,
            state=VisitState.ENDED,
            checked_in_at__gte=start,
            checked_in_at__lt=end,
        )
        .select_related("consultant", "customer")
        .prefetch_related(
            Prefetch(
                "stations_done",
                queryset=VisitStation.objects.filter(station__in=required).only("visit_id", "station_id"),
            )
        )
        .order_by("-checked_in_at", "-pk")
    )
    return required, visits


def first_visits_missing_required(*, project: Project, date_from: date, date_to: date) -> list[FlaggedVisit]:
    """Ended first visits of the days [date_from, date_to] that skipped a required station, newest first.

    Three queries whatever the range: the required stations, the visits, their ticks.
    """
    required, visits = _compliance_inputs(project=project, date_from=date_from, date_to=date_to)
    return _flag(required, visits)


def _flag(required: list[Station], visits: list[Visit]) -> list[FlaggedVisit]:
    flagged = []
    for visit in visits:
        done = {row.station_id for row in visit.stations_done.all()}
        missing = [s for s in required if s.pk not in done]
        if missing:
            flagged.append(FlaggedVisit(visit=visit, missing=missing))
    return flagged


def station_compliance_report(*, project: Project, date_from: date, date_to: date) -> ComplianceReport:
    """Counts per consultant and per station for the manager's 动线合规 page; 3 queries whatever the size."""
    required, visits = _compliance_inputs(project=project, date_from=date_from, date_to=date_to)
    flagged = _flag(required, visits)
    flagged_ids = {f.visit.pk for f in flagged}
    per_consultant: dict[int | None, ConsultantCompliance] = {}
    for visit in visits:
        entry = per_consultant.setdefault(
            visit.consultant_id, ConsultantCompliance(consultant=visit.consultant)
        )
        entry.first_visits += 1
        if visit.pk in flagged_ids:
            entry.flagged += 1
    by_station = {s.pk: 0 for s in required}
    for item in flagged:
        for station in item.missing:
            by_station[station.pk] += 1
    return ComplianceReport(
        date_from=date_from,
        date_to=date_to,
        required=required,
        by_consultant=sorted(
            per_consultant.values(),
            key=lambda c: (-c.flagged, c.consultant.display_name if c.consultant else ""),
        ),
        flagged=flagged,
        missing_by_station=[(s, by_station[s.pk]) for s in required],
        first_visits=len(visits),
    )


# --- the consultant's screen -------------------------------------------------------------------------


def visit_stations_context(*, visit: Visit, viewer: User) -> dict[str, Any]:
    """Everything `reception/stations/_visit_stations.html` needs; call it from the visit page.

    Three queries: the stations, the ticks, the current station's scripts; two more at the risk
    disclosure station for the project's certificates and the buildings their permits cover.
    """
    from anchang.knowledge.selectors import scripts_for_station

    route = visit_route(visit=visit)
    current = route.current
    ended = visit.state in ENDED_STATES
    at_the_wall = current is not None and current.station.is_risk_disclosure
    return {
        "visit": visit,
        "route": route,
        # At the certificates wall the consultant reads out the project's certificates (五证).
        "certificates": certificate_rows(project=visit.project) if at_the_wall else [],
        "rows": route.rows,
        "current": current,
        "current_scripts": scripts_for_station(station=current.station) if current else [],
        # Only a first visit has required stations (`station_required_for`): empty for the others.
        "missing_required": route.missing_required,
        "can_tick": not ended and may_work_on_visit(user=viewer, visit=visit),
        "visit_ended": ended,
    }
