"""Deals in the JSON API (api.md): holds, subscriptions and their life (approve, contract, cancel,
change of unit), reservations and the sales summary.

Visibility as on the pages: the project's managers and front desk see all of its deals, a consultant
those of their own customers; anything else answers 404, never revealing that it exists. Customer
names and mobiles leave masked through `core.privacy` unless the caller owns the customer.
"""

from collections.abc import Callable
from datetime import date, datetime
from decimal import Decimal
from typing import Annotated, Any, Literal

from django.http import HttpRequest
from django.utils.translation import gettext as _
from ninja import Body, Field, Header, Query, Router, Schema
from ninja.responses import Status

from anchang.accounts.api_access import request_user, visible_project
from anchang.accounts.models import User
from anchang.core.api import (
    MAX_OFFSET,
    MAX_PAGE_SIZE,
    BlankIsNone,
    DbId,
    DecimalString,
    LocalDateTime,
    NoNul,
    error_responses,
    paginate,
)
from anchang.core.errors import Forbidden, NotFound
from anchang.core.idempotency import run_idempotent
from anchang.core.phones import national_digits
from anchang.core.privacy import mask_phone, mask_phones_in_text
from anchang.customers.models import Customer
from anchang.customers.pool import phone_visible_to
from anchang.deals import selectors, services
from anchang.deals.models import Hold, Reservation, Subscription, SubscriptionStatus
from anchang.deals.summary import DayFigures, sales_summary
from anchang.inventory.models import Project, Unit
from anchang.inventory.services import UnitNotAvailable

router = Router(tags=["deals"])

# Money in yuan as api.md pins it: a decimal string (a JSON number is accepted too).
MoneyIn = Annotated[Decimal, Field(max_digits=14, decimal_places=2, examples=["3120000.00"])]
Reason = Annotated[str, Field(max_length=services.REASON_MAX_LENGTH), NoNul]


def _project(user: User, pid: int) -> Project:
    if not selectors.may_view_deals(user):
        # A role with no deals answers like a stranger to the project (404), not 403.
        raise NotFound(_("项目不存在，或您无权查看。"))
    return visible_project(user, pid)


def _customer_name(viewer: User, customer: Customer) -> str:
    if phone_visible_to(user=viewer, customer=customer):
        return customer.name
    return mask_phones_in_text(customer.name)


def _customer_phone(viewer: User, customer: Customer) -> str:
    if phone_visible_to(user=viewer, customer=customer):
        return national_digits(customer.phone)
    return mask_phone(customer.phone)


# --- schemas ------------------------------------------------------------------------------------------


class SubscriptionIn(Schema):
    customer_id: DbId
    price: MoneyIn
    deposit: MoneyIn
    claim_from_pool: bool = Field(
        False, description="客户在公客池时：认领并认购，一步完成（计入今日认领上限，超出返回 409）"
    )
    disclosure_override_reason: Reason = Field(
        "",
        description=(
            "客户尚未确认风险提示时，经理可填写理由放行（记录在认购上）；"
            "不填则返回 409 risk_disclosure_missing，非经理填写返回 403"
        ),
    )


class SubscriptionOut(Schema):
    id: int
    status: str
    unit_id: int
    customer_id: int
    price: DecimalString
    deposit: DecimalString
    list_price: DecimalString
    subscribed_on: str
    sign_deadline: str


class SubscriptionItem(Schema):
    id: int
    project_id: int
    status: str
    status_label: str
    unit_id: int
    unit_label: str
    customer_id: int
    customer_name: str
    customer_phone: str = Field(description="脱敏手机号；仅归属顾问本人可见完整号码")
    consultant_id: int | None
    consultant_name: str | None
    list_price: DecimalString
    price: DecimalString
    deposit: DecimalString
    discount_percent: DecimalString
    subscribed_on: date
    sign_deadline: date
    contract_number: str
    contracted_at: LocalDateTime | None
    cancelled_at: LocalDateTime | None
    replaced_by_id: int | None


class SubscriptionPage(Schema):
    items: list[SubscriptionItem]
    count: int


class HistoryItem(Schema):
    at: LocalDateTime
    status: str
    status_label: str
    reason: str
    by_id: int | None
    by_name: str | None


class SubscriptionDetail(SubscriptionItem):
    approved_by_id: int | None
    approved_at: LocalDateTime | None
    approval_note: str
    cancel_reason: str
    reservation_id: int | None
    opening_session_id: int | None
    replaces_id: int | None
    history: list[HistoryItem]


def subscription_out(subscription: Subscription) -> dict[str, object]:
    return {
        "id": subscription.pk,
        "status": subscription.status,
        "unit_id": subscription.unit_id,
        "customer_id": subscription.customer_id,
        "price": f"{subscription.price:.2f}",
        "deposit": f"{subscription.deposit:.2f}",
        "list_price": f"{subscription.list_price:.2f}",
        "subscribed_on": subscription.subscribed_on.isoformat(),
        "sign_deadline": subscription.sign_deadline.isoformat(),
    }


def _item_fields(viewer: User, s: Subscription) -> dict[str, Any]:
    return {
        "id": s.pk,
        "project_id": s.project_id,
        "status": s.status,
        "status_label": str(s.get_status_display()),
        "unit_id": s.unit_id,
        "unit_label": s.unit.label,
        "customer_id": s.customer_id,
        "customer_name": _customer_name(viewer, s.customer),
        "customer_phone": _customer_phone(viewer, s.customer),
        "consultant_id": s.consultant_id,
        "consultant_name": s.consultant.display_name if s.consultant is not None else None,
        "list_price": s.list_price,
        "price": s.price,
        "deposit": s.deposit,
        "discount_percent": s.discount_percent,
        "subscribed_on": s.subscribed_on,
        "sign_deadline": s.sign_deadline,
        "contract_number": s.contract_number,
        "contracted_at": s.contracted_at,
        "cancelled_at": s.cancelled_at,
        "replaced_by_id": s.replaced_by_id,
    }


def _detail(viewer: User, subscription_id: int) -> SubscriptionDetail:
    s = _visible(viewer, subscription_id)
    history = s.history.select_related("history_user").order_by("-history_date", "-history_id")[:50]
    replaces = selectors.subscription_replaces(s)
    return SubscriptionDetail(
        **_item_fields(viewer, s),
        approved_by_id=s.approved_by_id,
        approved_at=s.approved_at,
        approval_note=s.approval_note,
        cancel_reason=s.cancel_reason,
        reservation_id=s.reservation_id,
        opening_session_id=s.opening_session_id,
        replaces_id=replaces.pk if replaces is not None else None,
        history=[
            HistoryItem(
                at=h.history_date,
                status=h.status,
                status_label=str(SubscriptionStatus(h.status).label),
                reason=h.history_change_reason or "",
                by_id=h.history_user_id,
                by_name=h.history_user.display_name if h.history_user is not None else None,
            )
            for h in history
        ],
    )


def _visible(viewer: User, subscription_id: int) -> Subscription:
    subscription = selectors.subscription_visible_to(user=viewer, subscription_id=subscription_id)
    if subscription is None:
        raise NotFound(_("认购不存在，或您无权查看。"))
    return subscription


# --- subscribe (api.md) -----------------------------------------------------------------------------------


def _customer_for_sale(user: User, customer_id: int) -> Customer:
    found = selectors.customer_for_sale(user=user, customer_id=customer_id)
    if found.pool_customer is not None:
        raise Forbidden(_("该客户在公客池：请先认领；认购时也可设 claim_from_pool 一并认领。"))
    if found.not_own:
        raise Forbidden(_("该客户不是您的客户：公客池客户请先认领，再办理认购。"))
    if found.customer is None:
        # A customer the caller may not see answers like one that does not exist (api.md, P1).
        raise NotFound(_("客户不存在，或您无权查看。"))
    return found.customer


@router.post(
    "/units/{uid}/subscriptions",
    response={201: SubscriptionOut, **error_responses(400, 401, 403, 404, 409)},
    summary="认购房源（支持 Idempotency-Key）",
    description=(
        "为客户认购一套可售（或认筹预留）的房源。优惠超过项目折扣阈值时状态为 pending_approval，"
        "等待经理审批。房源已被他人认购、销控或签约时返回 409 unit_not_available；"
        "房源所在楼栋没有有效预售许可证时返回 409 unit_not_permitted；"
        "客户未确认风险提示（且非认筹转认购、无经理放行理由）时返回 409 risk_disclosure_missing。"
        "同一 Idempotency-Key 与相同请求体在 24 小时内重发，返回第一次的结果，不会重复认购。"
    ),
)
def subscription_create_endpoint(
    request: HttpRequest,
    uid: DbId,
    payload: SubscriptionIn,
    idempotency_key: str | None = Header(default=None, alias="Idempotency-Key"),
) -> Status[dict[str, object]]:
    user = request_user(request)
    pooled = selectors.customer_for_sale(user=user, customer_id=payload.customer_id).pool_customer
    claim = payload.claim_from_pool and pooled is not None
    customer = pooled if claim and pooled is not None else _customer_for_sale(user, payload.customer_id)

    def work() -> tuple[int, dict[str, object]]:
        subscription = services.subscription_create(
            unit_id=uid,
            customer=customer,
            price=payload.price,
            deposit=payload.deposit,
            by=user,
            claim_from_pool=claim,
            disclosure_override_reason=payload.disclosure_override_reason,
        )
        return 201, subscription_out(subscription)

    body = payload.dict()
    body.update(unit_id=uid, price=str(payload.price), deposit=str(payload.deposit))
    scope = f"subscription:{uid}"
    try:
        status, answer = run_idempotent(user=user, scope=scope, key=idempotency_key, body=body, work=work)
    except UnitNotAvailable as error:
        if not idempotency_key:
            raise
        # Two copies of one request in flight: the second waits for the unit's row lock and then finds
        # the unit sold — to itself. The first copy's answer is committed by now; replay it (R4).
        lost = error

        def still_lost() -> tuple[int, dict[str, object]]:
            raise lost

        status, answer = run_idempotent(
            user=user, scope=scope, key=idempotency_key, body=body, work=still_lost
        )
    return Status(status, answer)


# --- the life of a subscription ------------------------------------------------------------------------


class ReasonIn(Schema):
    reason: Reason = ""


class NoteIn(Schema):
    note: Reason = ""


class ContractIn(Schema):
    contract_number: Annotated[str, Field(max_length=services.CONTRACT_NUMBER_MAX_LENGTH), NoNul] = Field(
        "", description="合同编号；不填则按项目自动编号（HT+年份+序号）"
    )


class ChangeUnitIn(Schema):
    unit_id: DbId
    price: MoneyIn | None = Field(None, description="新成交总价；不填按原折扣比例计算")
    deposit: MoneyIn | None = Field(None, description="定金；不填沿用原定金")
    reason: Reason = ""


class SubscriptionFilters(Schema):
    project: Annotated[DbId | None, BlankIsNone] = Field(None, description="项目 ID；不填时为您的第一个项目")
    status: Annotated[
        Literal["pending_approval", "active", "contracted", "cancelled", "rejected"] | None, BlankIsNone
    ] = None
    date_from: Annotated[date | None, BlankIsNone] = Field(None, description="认购日期从（含）")
    date_to: Annotated[date | None, BlankIsNone] = Field(None, description="认购日期至（含）")
    limit: int = Field(default=50, ge=1, le=MAX_PAGE_SIZE)
    offset: int = Field(default=0, ge=0, le=MAX_OFFSET)


@router.get(
    "/subscriptions",
    response={200: SubscriptionPage, **error_responses(400, 401, 403, 404)},
    summary="认购列表（顾问只看自己客户的）",
)
def subscription_list(request: HttpRequest, filters: Query[SubscriptionFilters]) -> SubscriptionPage:
    user = request_user(request)
    if not selectors.may_view_deals(user):
        raise Forbidden()
    project = visible_project(user, filters.project)
    rows = selectors.subscription_list_visible_to(
        user=user,
        project=project,
        status=filters.status,
        date_from=filters.date_from,
        date_to=filters.date_to,
    )
    page, count = paginate(rows, limit=filters.limit, offset=filters.offset)
    return SubscriptionPage(items=[SubscriptionItem(**_item_fields(user, s)) for s in page], count=count)


@router.get(
    "/subscriptions/{subscription_id}",
    response={200: SubscriptionDetail, **error_responses(401, 403, 404)},
    summary="认购详情与变更记录",
)
def subscription_detail(request: HttpRequest, subscription_id: DbId) -> SubscriptionDetail:
    return _detail(request_user(request), subscription_id)


def _act(
    request: HttpRequest, subscription_id: int, service: Callable[..., object], **arguments: object
) -> SubscriptionDetail:
    """Run one step of a subscription's life and answer its detail. The visibility check comes first:
    a subscription the caller may not see is a 404, before the service could answer 403 or 409."""
    user = request_user(request)
    _visible(user, subscription_id)
    service(subscription_id=subscription_id, by=user, **arguments)
    return _detail(user, subscription_id)


@router.post(
    "/subscriptions/{subscription_id}/approve",
    response={200: SubscriptionDetail, **error_responses(400, 401, 403, 404, 409)},
    summary="经理审批通过（优惠超出阈值的认购）",
)
def subscription_approve(
    request: HttpRequest, subscription_id: DbId, payload: Body[NoteIn | None] = None
) -> SubscriptionDetail:
    return _act(request, subscription_id, services.subscription_approve, note=payload.note if payload else "")


@router.post(
    "/subscriptions/{subscription_id}/reject",
    response={200: SubscriptionDetail, **error_responses(400, 401, 403, 404, 409)},
    summary="经理驳回认购（房源恢复可售）",
)
def subscription_reject(
    request: HttpRequest, subscription_id: DbId, payload: Body[NoteIn | None] = None
) -> SubscriptionDetail:
    return _act(request, subscription_id, services.subscription_reject, note=payload.note if payload else "")


@router.post(
    "/subscriptions/{subscription_id}/contract",
    response={200: SubscriptionDetail, **error_responses(400, 401, 403, 404, 409)},
    summary="签约（客户成为业主）",
    description=(
        "仅已生效（active）的认购可签约：待审批 409 approval_pending，已退订 409 subscription_cancelled。"
    ),
)
def subscription_contract(
    request: HttpRequest, subscription_id: DbId, payload: Body[ContractIn | None] = None
) -> SubscriptionDetail:
    return _act(
        request,
        subscription_id,
        services.subscription_contract,
        contract_number=payload.contract_number if payload else "",
    )


@router.post(
    "/subscriptions/{subscription_id}/cancel",
    response={200: SubscriptionDetail, **error_responses(400, 401, 403, 404, 409)},
    summary="退订（房源恢复可售，记录保留）",
    description="已签约的认购只有经理可以退订。reason 可选。",
)
def subscription_cancel(
    request: HttpRequest, subscription_id: DbId, payload: Body[ReasonIn | None] = None
) -> SubscriptionDetail:
    return _act(
        request, subscription_id, services.subscription_cancel, reason=payload.reason if payload else ""
    )


@router.post(
    "/subscriptions/{subscription_id}/change-unit",
    response={201: SubscriptionDetail, **error_responses(400, 401, 403, 404, 409)},
    summary="换房：退订原认购并认购另一套房源（同一事务）",
)
def subscription_change_unit(
    request: HttpRequest, subscription_id: DbId, payload: ChangeUnitIn
) -> Status[SubscriptionDetail]:
    user = request_user(request)
    _visible(user, subscription_id)
    replacement = services.subscription_change_unit(
        subscription_id=subscription_id,
        unit_id=payload.unit_id,
        by=user,
        price=payload.price,
        deposit=payload.deposit,
        reason=payload.reason,
    )
    return Status(201, _detail(user, replacement.pk))


# --- holds ---------------------------------------------------------------------------------------------


class HoldIn(Schema):
    reason: Reason
    expires_at: datetime | None = Field(
        None, description="到期自动解除时间，ISO 8601 带时区；不带时区按北京时间"
    )


class ReleaseIn(Schema):
    reason: Reason


class HoldOut(Schema):
    id: int
    unit_id: int
    unit_label: str
    reason: str
    expires_at: LocalDateTime | None
    created_by_id: int
    created_by_name: str
    created_at: LocalDateTime
    released_at: LocalDateTime | None
    release_reason: str


def _hold_out(hold: Hold) -> HoldOut:
    return HoldOut(
        id=hold.pk,
        unit_id=hold.unit_id,
        unit_label=hold.unit.label,
        reason=hold.reason,
        expires_at=hold.expires_at,
        created_by_id=hold.created_by_id,
        created_by_name=hold.created_by.display_name,
        created_at=hold.created_at,
        released_at=hold.released_at,
        release_reason=hold.release_reason,
    )


def _visible_unit(user: User, uid: int) -> Unit:
    unit = selectors.unit_visible_to(user=user, unit_id=uid)
    if unit is None:
        raise NotFound(_("房源不存在，或您无权查看。"))
    return unit


@router.post(
    "/units/{uid}/hold",
    response={201: HoldOut, **error_responses(400, 401, 403, 404, 409)},
    summary="销控房源（经理）",
)
def unit_hold(request: HttpRequest, uid: DbId, payload: HoldIn) -> Status[HoldOut]:
    user = request_user(request)
    _visible_unit(user, uid)
    hold = services.hold_create(unit_id=uid, reason=payload.reason, expires_at=payload.expires_at, by=user)
    hold.created_by = user
    return Status(201, _hold_out(hold))


@router.post(
    "/units/{uid}/release",
    response={200: HoldOut, **error_responses(400, 401, 403, 404, 409)},
    summary="解除销控（经理）",
)
def unit_release(request: HttpRequest, uid: DbId, payload: ReleaseIn) -> HoldOut:
    user = request_user(request)
    _visible_unit(user, uid)
    hold = services.hold_release(unit_id=uid, reason=payload.reason, by=user)
    return _hold_out(Hold.objects.select_related("unit__building", "created_by").get(pk=hold.pk))


class HoldPage(Schema):
    items: list[HoldOut]
    count: int


class PageFilters(Schema):
    limit: int = Field(default=50, ge=1, le=MAX_PAGE_SIZE)
    offset: int = Field(default=0, ge=0, le=MAX_OFFSET)


@router.get(
    "/projects/{pid}/holds",
    response={200: HoldPage, **error_responses(400, 401, 403, 404)},
    summary="销控中的房源",
)
def hold_list(request: HttpRequest, pid: DbId, filters: Query[PageFilters]) -> HoldPage:
    project = _project(request_user(request), pid)
    page, count = paginate(selectors.holds_open(project=project), limit=filters.limit, offset=filters.offset)
    return HoldPage(items=[_hold_out(h) for h in page], count=count)


# --- reservations --------------------------------------------------------------------------------------


class ReservationIn(Schema):
    customer_id: DbId
    amount: MoneyIn


class ReservationOut(Schema):
    id: int
    project_id: int
    number: int
    customer_id: int
    customer_name: str
    customer_phone: str
    consultant_id: int | None
    amount: DecimalString
    registered_at: LocalDateTime
    status: str


class ReservationPage(Schema):
    items: list[ReservationOut]
    count: int


class ReservationFilters(PageFilters):
    status: Annotated[Literal["active", "converted", "refunded"] | None, BlankIsNone] = None


def _reservation_out(viewer: User, r: Reservation) -> ReservationOut:
    return ReservationOut(
        id=r.pk,
        project_id=r.project_id,
        number=r.number,
        customer_id=r.customer_id,
        customer_name=_customer_name(viewer, r.customer),
        customer_phone=_customer_phone(viewer, r.customer),
        consultant_id=r.consultant_id,
        amount=r.amount,
        registered_at=r.registered_at,
        status=r.status,
    )


@router.post(
    "/projects/{pid}/reservations",
    response={201: ReservationOut, **error_responses(400, 401, 403, 404, 409)},
    summary="认筹（按项目顺序编号）",
)
def reservation_create(request: HttpRequest, pid: DbId, payload: ReservationIn) -> Status[ReservationOut]:
    user = request_user(request)
    project = _project(user, pid)
    customer = _customer_for_sale(user, payload.customer_id)
    if customer.project_id != project.pk:
        raise NotFound(_("客户不存在，或您无权查看。"))
    reservation = services.reservation_create(
        project=project, customer=customer, amount=payload.amount, by=user
    )
    return Status(201, _reservation_out(user, reservation))


@router.get(
    "/projects/{pid}/reservations",
    response={200: ReservationPage, **error_responses(400, 401, 403, 404)},
    summary="认筹列表",
)
def reservation_list(request: HttpRequest, pid: DbId, filters: Query[ReservationFilters]) -> ReservationPage:
    user = request_user(request)
    project = _project(user, pid)
    rows = selectors.reservation_list_visible_to(user=user, project=project, status=filters.status)
    page, count = paginate(rows, limit=filters.limit, offset=filters.offset)
    return ReservationPage(items=[_reservation_out(user, r) for r in page], count=count)


@router.post(
    "/reservations/{reservation_id}/refund",
    response={200: ReservationOut, **error_responses(400, 401, 403, 404, 409)},
    summary="退筹（经理）",
)
def reservation_refund(
    request: HttpRequest, reservation_id: DbId, payload: Body[ReasonIn | None] = None
) -> ReservationOut:
    user = request_user(request)
    if selectors.reservation_visible_to(user=user, reservation_id=reservation_id) is None:
        raise NotFound(_("认筹不存在，或您无权查看。"))
    reservation = services.reservation_refund(
        reservation_id=reservation_id, by=user, reason=payload.reason if payload else ""
    )
    return _reservation_out(user, reservation)


# --- sales summary -------------------------------------------------------------------------------------


class SummaryFilters(Schema):
    date_from: Annotated[date | None, BlankIsNone] = Field(None, description="开始日期（含），默认近 14 天")
    date_to: Annotated[date | None, BlankIsNone] = Field(None, description="结束日期（含），默认今天")


class DayOut(Schema):
    date: date | None
    subscriptions: int
    subscription_amount: DecimalString
    contracts: int
    contract_amount: DecimalString
    cancellations: int
    cancellation_amount: DecimalString


class SummaryOut(Schema):
    date_from: date
    date_to: date
    rows: list[DayOut]
    totals: DayOut


def _day_out(figures: DayFigures) -> DayOut:
    return DayOut(
        date=figures.day,
        subscriptions=figures.subscriptions,
        subscription_amount=figures.subscription_amount,
        contracts=figures.contracts,
        contract_amount=figures.contract_amount,
        cancellations=figures.cancellations,
        cancellation_amount=figures.cancellation_amount,
    )


@router.get(
    "/projects/{pid}/sales-summary",
    response={200: SummaryOut, **error_responses(400, 401, 403, 404)},
    summary="销售汇总：按天的认购、签约、退订套数与金额（经理）",
)
def project_sales_summary(request: HttpRequest, pid: DbId, filters: Query[SummaryFilters]) -> SummaryOut:
    user = request_user(request)
    project = _project(user, pid)
    if not user.is_site_manager:
        raise Forbidden(_("只有案场经理可以查看销售汇总。"))
    summary = sales_summary(project=project, date_from=filters.date_from, date_to=filters.date_to)
    return SummaryOut(
        date_from=summary.date_from,
        date_to=summary.date_to,
        rows=[_day_out(row) for row in summary.rows],
        totals=_day_out(summary.totals),
    )
