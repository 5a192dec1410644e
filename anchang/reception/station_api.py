"""POST /visits/{id}/stations/{code}: tick a station off during a visit (api.md)."""

from typing import Annotated

from django.http import HttpRequest
from ninja import Router, Schema
from pydantic import BaseModel, ConfigDict, Field

from anchang.accounts.api_access import request_user
from anchang.core.api import LocalDateTime, NoNul, error_responses
from anchang.reception.stations import NOTE_MAX_LENGTH, station_required_for, station_tick, visit_for_stations

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
