"""One unit with its change history (the unit page), and the project's latest unit changes (the manager's
home), in the JSON API."""

from typing import Any

from django.http import HttpRequest
from ninja import Field, Query, Router, Schema

from anchang.accounts.api_access import request_user, visible_project
from anchang.accounts.selectors import project_visible_to
from anchang.core.api import DbId, DecimalString, LocalDateTime, error_responses
from anchang.core.errors import Forbidden, NotFound
from anchang.inventory.models import Unit, UnitStatus
from anchang.inventory.selectors import recent_unit_changes

router = Router(tags=["projects"])

UNIT_HISTORY_LIMIT = 20  # as many as the unit page shows
RECENT_CHANGES_MAX = 50


class UnitChangeOut(Schema):
    unit_id: int
    unit: str = Field(description="楼栋与房号，如 1栋 1201")
    status: str
    status_label: str
    at: LocalDateTime
    by_name: str | None
    reason: str


class UnitDetailOut(Schema):
    id: int
    building: str
    number: str
    floor: int
    layout_name: str
    bedrooms: int
    halls: int
    bathrooms: int
    area: DecimalString
    usable_area: DecimalString
    orientation: str
    total_price: DecimalString
    status: str
    status_label: str
    status_changed_at: LocalDateTime | None
    history: list[UnitChangeOut] = Field(description=f"最近 {UNIT_HISTORY_LIMIT} 条变更，新的在前")


class RecentChangesFilters(Schema):
    limit: int = Field(8, ge=1, le=RECENT_CHANGES_MAX)


class RecentChangesOut(Schema):
    items: list[UnitChangeOut]


def _change_out(row: Any) -> UnitChangeOut:
    """One historical row of a unit (simple_history's model: the unit's fields as they were then)."""
    return UnitChangeOut(
        unit_id=row.id,
        unit=f"{row.building.name} {row.number}",
        status=row.status,
        status_label=str(UnitStatus(row.status).label),
        at=row.history_date,
        by_name=row.history_user.display_name if row.history_user else None,
        reason=row.history_change_reason or "",
    )


def _require_board(request: HttpRequest) -> None:
    if not request_user(request).has_perm("inventory.view_board"):
        raise Forbidden()


@router.get(
    "/units/{uid}",
    response={200: UnitDetailOut, **error_responses(400, 401, 403, 404)},
    summary="房源详情与变更记录",
)
def unit_detail(request: HttpRequest, uid: DbId) -> UnitDetailOut:
    user = request_user(request)
    unit = Unit.objects.select_related("building").filter(pk=uid).first()
    if unit is None or project_visible_to(user=user, project_id=unit.project_id) is None:
        raise NotFound()
    _require_board(request)
    history = unit.history.select_related("history_user", "building").order_by("-history_date")[
        :UNIT_HISTORY_LIMIT
    ]
    return UnitDetailOut(
        id=unit.pk,
        building=unit.building.name,
        number=unit.number,
        floor=unit.floor,
        layout_name=unit.layout_name,
        bedrooms=unit.bedrooms,
        halls=unit.halls,
        bathrooms=unit.bathrooms,
        area=unit.gross_area,
        usable_area=unit.usable_area,
        orientation=unit.orientation,
        total_price=unit.list_price_total,
        status=unit.status,
        status_label=str(unit.get_status_display()),
        status_changed_at=unit.status_changed_at,
        history=[_change_out(row) for row in history],
    )


@router.get(
    "/projects/{pid}/unit-changes",
    response={200: RecentChangesOut, **error_responses(400, 401, 403, 404)},
    summary="最近的房源状态变更（新的在前）",
)
def unit_changes(request: HttpRequest, pid: int, filters: Query[RecentChangesFilters]) -> RecentChangesOut:
    project = visible_project(request_user(request), pid)
    _require_board(request)
    rows = recent_unit_changes(project=project, limit=filters.limit)
    return RecentChangesOut(items=[_change_out(row) for row in rows])
