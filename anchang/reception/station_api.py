"""POST /visits/{id}/stations/{code}: tick a station off during a visit (api.md); the route itself."""

from datetime import date
from typing import Annotated

from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext as _
from ninja import Query, Router, Schema
from pydantic import BaseModel, ConfigDict, Field

from anchang.accounts.api_access import request_user, visible_project
from anchang.core.api import BlankIsNone, LocalDateTime, NoNul, error_responses
from anchang.core.errors import Forbidden, InvalidInput
from anchang.core.privacy import public_name
from anchang.reception.stations import (
    NOTE_MAX_LENGTH,
    can_manage_stations,
    station_compliance_report,
    station_list_for_manager,
    station_required_for,
    station_tick,
    visit_for_stations,
)

router = Router(tags=["stations"])


class StationTickIn(BaseModel):
    # A plain pydantic model, not a ninja Schema: a Schema reads attributes off any value, so a JSON
    # list or string would pass as "no fields given" instead of being refused.
    model_config = ConfigDict(extra="ignore")

    note: Annotated[str, NoNul, Field(max_length=NOTE_MAX_LENGTH)] = ""
    customer_confirmed: bool | None = None


class VisitStationOut(Schema):
    code: str
    name: str
    required: bool
    done_at: LocalDateTime | None


@router.post(
    "/visits/{visit_id}/stations/{code}",
    response={200: VisitStationOut, **error_responses(400, 401, 404, 409)},
    summary="勾选讲解点（风险提示点记录时间、顾问和客户确认）",
)
def visit_station_tick(
    request: HttpRequest, visit_id: int, code: str, payload: StationTickIn | None = None
) -> VisitStationOut:
    user = request_user(request)
    visit = visit_for_stations(user=user, visit_id=visit_id)
    body = payload or StationTickIn()
    record = station_tick(
        visit=visit, code=code, by=user, note=body.note, customer_confirmed=body.customer_confirmed
    )
    station = record.station
    return VisitStationOut(
        code=station.code,
        name=station.name,
        required=station_required_for(visit, station),
        done_at=record.done_at,
    )


class StationOut(Schema):
    id: int
    code: str
    name: str
    purpose: str
    key_points: list[str]
    sort_order: int
    required_on_first_visit: bool
    is_risk_disclosure: bool
    in_return_route: bool
    in_owner_route: bool
    is_active: bool


class StationPage(Schema):
    items: list[StationOut]
    count: int = Field(description="全部讲解点（一个项目只有十来个，不分页）")


@router.get(
    "/projects/{pid}/stations",
    response={200: StationPage, **error_responses(401, 403, 404)},
    summary="讲解点动线（按顺序，含已停用的；经理）",
)
def station_list(request: HttpRequest, pid: int) -> StationPage:
    user = request_user(request)
    project = visible_project(user, pid)
    if not can_manage_stations(user):
        raise Forbidden()
    rows = station_list_for_manager(project=project)
    return StationPage(
        items=[
            StationOut(
                id=s.pk,
                code=s.code,
                name=s.name,
                purpose=s.purpose,
                key_points=s.key_point_list,
                sort_order=s.sort_order,
                required_on_first_visit=s.required_on_first_visit,
                is_risk_disclosure=s.is_risk_disclosure,
                in_return_route=s.in_return_route,
                in_owner_route=s.in_owner_route,
                is_active=s.is_active,
            )
            for s in rows
        ],
        count=len(rows),
    )


class ComplianceFilters(Schema):
    date_from: Annotated[date | None, BlankIsNone] = Field(None, description="起始日（含），默认今天")
    date_to: Annotated[date | None, BlankIsNone] = Field(None, description="截止日（含），默认同起始日")


class ConsultantComplianceOut(Schema):
    consultant_id: int | None
    consultant_name: str | None
    first_visits: int
    flagged: int = Field(description="漏讲必讲点的首访次数")
    rate: int = Field(description="讲全必讲点的首访占比（%）")


class FlaggedVisitOut(Schema):
    visit_id: int
    customer_name: str = Field(description="客户称呼（王先生 / 王**）")
    consultant_id: int | None
    checked_in_at: LocalDateTime
    missing: list[str] = Field(description="漏讲的讲解点代码")


class StationMissedOut(Schema):
    code: str
    name: str
    missed: int


class ComplianceOut(Schema):
    date_from: date
    date_to: date
    first_visits: int
    by_consultant: list[ConsultantComplianceOut]
    by_station: list[StationMissedOut]
    flagged: list[FlaggedVisitOut]


@router.get(
    "/projects/{pid}/stations/compliance",
    response={200: ComplianceOut, **error_responses(400, 401, 403, 404)},
    summary="动线合规：首访漏讲必讲点的统计（经理；最多 92 天）",
)
def station_compliance(request: HttpRequest, pid: int, filters: Query[ComplianceFilters]) -> ComplianceOut:
    user = request_user(request)
    project = visible_project(user, pid)
    if not can_manage_stations(user):
        raise Forbidden()
    date_from = filters.date_from or timezone.localdate()
    date_to = filters.date_to or date_from
    try:
        report = station_compliance_report(project=project, date_from=date_from, date_to=date_to)
    except OverflowError:
        raise InvalidInput(fields={"date_to": _("日期超出范围。")}) from None
    return ComplianceOut(
        date_from=report.date_from,
        date_to=report.date_to,
        first_visits=report.first_visits,
        by_consultant=[
            ConsultantComplianceOut(
                consultant_id=row.consultant.pk if row.consultant else None,
                consultant_name=row.consultant.display_name if row.consultant else None,
                first_visits=row.first_visits,
                flagged=row.flagged,
                rate=row.rate,
            )
            for row in report.by_consultant
        ],
        by_station=[
            StationMissedOut(code=station.code, name=station.name, missed=missed)
            for station, missed in report.missing_by_station
        ],
        flagged=[
            FlaggedVisitOut(
                visit_id=item.visit.pk,
                customer_name=public_name(item.visit.customer.name, item.visit.customer.gender),
                consultant_id=item.visit.consultant_id,
                checked_in_at=item.visit.checked_in_at,
                missing=[station.code for station in item.missing],
            )
            for item in report.flagged
        ],
    )
