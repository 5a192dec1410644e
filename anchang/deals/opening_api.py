"""Opening day over the JSON API: a session and its counts, its units for sale, its buyers, selections.

Staff only (consultants, front desk, managers of the project). A session of a project the caller does
not belong to answers 404 like one that does not exist; a role that never sells answers 403.
"""

from typing import Annotated

from django.http import HttpRequest
from django.utils.translation import gettext as _
from ninja import Field, Header, Query, Router, Schema
from ninja.responses import Status

from anchang.accounts.api_access import request_user, visible_project
from anchang.accounts.selectors import project_list_visible_to
from anchang.core.api import (
    BlankIsNone,
    DbId,
    DecimalString,
    LocalDateTime,
    NoNul,
    PageLimit,
    PageOffset,
    error_responses,
    paginate,
)
from anchang.core.errors import Forbidden, NotFound
from anchang.core.idempotency import run_idempotent
from anchang.core.privacy import mask_phone, public_name
from anchang.deals.models import OpeningSession, Subscription
from anchang.deals.opening import may_sell_at_openings, opening_select
from anchang.deals.opening_selectors import (
    buyer_rows,
    opening_available_units,
    opening_buyers,
    opening_list_for,
    opening_progress,
)
from anchang.inventory.api import UnitPage, unit_page

router = Router(tags=["openings"])


class OpeningOut(Schema):
    id: int
    project_id: int
    name: str
    status: str
    starts_at: LocalDateTime
    order_method: str
    lottery_seed: str
    slot_minutes: int
    buyers_per_slot: int
    units_per_buyer: int
    buyers: int
    buyers_selected: int
    buyers_done: int
    sold: int
    available: int


class OpeningUnitFilters(Schema):
    building_id: Annotated[DbId | None, BlankIsNone] = None
    limit: PageLimit = 100
    offset: PageOffset = 0


class OpeningBuyerOut(Schema):
    id: int
    position: int
    reservation_number: int
    name: str
    phone: str
    slot_starts_at: LocalDateTime
    slot_ends_at: LocalDateTime
    selected_unit_ids: list[int]


class OpeningBuyerPage(Schema):
    items: list[OpeningBuyerOut]
    count: int


class OpeningBuyerFilters(Schema):
    q: Annotated[str, Field(max_length=50), NoNul] = ""
    limit: PageLimit = 100
    offset: PageOffset = 0


class SelectionIn(Schema):
    buyer_id: DbId
    unit_id: DbId


class SelectionOut(Schema):
    id: int
    status: str
    buyer_id: int
    unit_id: int
    unit: str
    price: DecimalString
    deposit: DecimalString


def _session_or_error(request: HttpRequest, session_id: int) -> OpeningSession:
    user = request_user(request)
    session = (
        OpeningSession.objects.select_related("project")
        .filter(pk=session_id, project__in=project_list_visible_to(user=user))
        .first()
    )
    if session is None:
        raise NotFound(_("选房场次不存在，或您无权查看。"))
    if not may_sell_at_openings(user):
        raise Forbidden(_("您的角色不能使用开盘选房。"))
    return session


class OpeningListItem(Schema):
    id: int
    name: str
    status: str
    starts_at: LocalDateTime
    order_method: str
    buyers: int
    sold: int


class OpeningListPage(Schema):
    items: list[OpeningListItem]
    count: int = Field(description="全部场次（一个项目只有几场，不分页）")


@router.get(
    "/projects/{pid}/openings",
    response={200: OpeningListPage, **error_responses(401, 403, 404)},
    summary="开盘场次列表（新的在前，含选房客户数与已售套数）",
)
def opening_list(request: HttpRequest, pid: int) -> OpeningListPage:
    user = request_user(request)
    project = visible_project(user, pid)
    if not may_sell_at_openings(user):
        raise Forbidden(_("您的角色不能使用开盘选房。"))
    rows = opening_list_for(project=project)
    return OpeningListPage(
        items=[
            OpeningListItem(
                id=row.session.pk,
                name=row.session.name,
                status=row.session.status,
                starts_at=row.session.starts_at,
                order_method=row.session.order_method,
                buyers=row.buyers,
                sold=row.sold,
            )
            for row in rows
        ],
        count=len(rows),
    )


@router.get(
    "/openings/{session_id}",
    response={200: OpeningOut, **error_responses(400, 401, 403, 404)},
    summary="开盘场次与进度",
)
def opening_detail(request: HttpRequest, session_id: DbId) -> OpeningOut:
    session = _session_or_error(request, session_id)
    progress = opening_progress(session=session)
    return OpeningOut(
        id=session.pk,
        project_id=session.project_id,
        name=session.name,
        status=session.status,
        starts_at=session.starts_at,
        order_method=session.order_method,
        lottery_seed=session.lottery_seed,
        slot_minutes=session.slot_minutes,
        buyers_per_slot=session.buyers_per_slot,
        units_per_buyer=session.units_per_buyer,
        buyers=progress.buyers,
        buyers_selected=progress.buyers_selected,
        buyers_done=progress.buyers_done,
        sold=progress.sold,
        available=progress.available,
    )


@router.get(
    "/openings/{session_id}/units",
    response={200: UnitPage, **error_responses(400, 401, 403, 404)},
    summary="本场可选房源（分页）",
)
def opening_units(
    request: HttpRequest,
    session_id: DbId,
    filters: Query[OpeningUnitFilters],
) -> dict[str, object]:
    session = _session_or_error(request, session_id)
    units = opening_available_units(session=session, building_id=filters.building_id)
    return unit_page(units, limit=filters.limit, offset=filters.offset)


@router.get(
    "/openings/{session_id}/buyers",
    response={200: OpeningBuyerPage, **error_responses(400, 401, 403, 404)},
    summary="本场选房客户（按顺序，姓名与手机号已脱敏）",
)
def opening_buyer_list(
    request: HttpRequest,
    session_id: DbId,
    filters: Query[OpeningBuyerFilters],
) -> OpeningBuyerPage:
    session = _session_or_error(request, session_id)
    page, count = paginate(
        opening_buyers(session=session, q=filters.q), limit=filters.limit, offset=filters.offset
    )
    return OpeningBuyerPage(
        items=[
            OpeningBuyerOut(
                id=row.buyer.pk,
                position=row.buyer.position,
                reservation_number=row.buyer.reservation.number,
                name=public_name(row.buyer.customer.name, row.buyer.customer.gender),
                phone=mask_phone(row.buyer.customer.phone),
                slot_starts_at=row.buyer.slot_starts_at,
                slot_ends_at=row.buyer.slot_ends_at,
                selected_unit_ids=[s.unit_id for s in row.picks],
            )
            for row in buyer_rows(session=session, buyers=page)
        ],
        count=count,
    )


def _selection_out(subscription: Subscription, buyer_id: int) -> dict[str, object]:
    return {
        "id": subscription.pk,
        "status": subscription.status,
        "buyer_id": buyer_id,
        "unit_id": subscription.unit_id,
        "unit": subscription.unit.label,
        "price": f"{subscription.price:.2f}",
        "deposit": f"{subscription.deposit:.2f}",
    }


@router.post(
    "/openings/{session_id}/selections",
    response={201: SelectionOut, **error_responses(400, 401, 403, 404, 409)},
    summary="为选房客户选定房源（支持 Idempotency-Key；被抢先时 409 unit_not_available）",
)
def opening_selection_create(
    request: HttpRequest,
    session_id: DbId,
    payload: SelectionIn,
    idempotency_key: str | None = Header(default=None, alias="Idempotency-Key"),
) -> Status[dict[str, object]]:
    user = request_user(request)
    session = _session_or_error(request, session_id)

    def work() -> tuple[int, dict[str, object]]:
        subscription = opening_select(
            buyer_id=payload.buyer_id, unit_id=payload.unit_id, by=user, session_id=session.pk
        )
        return 201, _selection_out(subscription, payload.buyer_id)

    status, answer = run_idempotent(
        user=user,
        scope=f"opening-selection:{session.pk}",
        key=idempotency_key,
        body=payload.dict(),
        work=work,
    )
    return Status(status, answer)
