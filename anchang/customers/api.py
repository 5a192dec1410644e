"""Customers in the JSON API (api.md): the list, one customer with its timeline, and phone reveal.

Mobiles leave masked (`138****1234`) unless the caller owns the customer; a full number otherwise
only comes from `POST /customers/{id}/reveal-phone`, which writes an access-log row each time.
"""

from typing import Annotated, Literal

from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.translation import gettext as _
from ninja import Field, Query, Router, Schema

from anchang.accounts.api_access import request_user, visible_project
from anchang.accounts.models import Role, User
from anchang.core.api import (
    MAX_PAGE_SIZE,
    BlankIsNone,
    DbId,
    LocalDateTime,
    NoNul,
    PageLimit,
    PageOffset,
    error_responses,
)
from anchang.core.audit import client_ip
from anchang.core.errors import Forbidden, NotFound
from anchang.core.phones import national_digits
from anchang.core.privacy import mask_phone, mask_phones_in_text, public_name
from anchang.customers import pool
from anchang.customers.models import Customer

router = Router(tags=["customers"])

# Counting a project's customers exactly can mean counting a million rows; beyond this many the
# answer says "at least" (`count_is_estimate`, api.md) instead of scanning them all (quality S7).
COUNT_CAP = 10_000
TIMELINE_LENGTH = 50


class CustomerFilters(Schema):
    project: Annotated[DbId | None, BlankIsNone] = Field(None, description="项目 ID；不填时为您的第一个项目")
    q: Annotated[str, Field(max_length=100), NoNul] = Field(
        "", description="姓名、拼音或首字母、手机尾号 4 位或完整手机号"
    )
    scope: Annotated[Literal["pool", "mine"] | None, BlankIsNone] = Field(
        None,
        description="pool：公客池（最近入池在前）；mine：我的客户（顾问；保护期先到期的在前）；不填：可见的全部",
    )
    limit: PageLimit = 50
    offset: PageOffset = 0


class CustomerListItem(Schema):
    id: int
    name: str = Field(description="公客池客户对顾问只显示称呼（如 王先生）")
    phone: str = Field(description="脱敏手机号；仅归属顾问本人可见完整号码")
    owner_id: int | None
    owner_name: str | None
    protected_until: LocalDateTime | None
    intent_level: str
    stage: str
    in_pool: bool


class CustomerPage(Schema):
    items: list[CustomerListItem]
    count: int
    count_is_estimate: bool = False


class TimelineItem(Schema):
    kind: str
    kind_label: str
    at: LocalDateTime
    text: str
    by_id: int | None
    by_name: str | None


class CustomerDetail(Schema):
    id: int
    project_id: int
    name: str
    gender: str
    phone: str
    phone_is_masked: bool
    stage: str
    intent_level: str
    is_owner: bool
    owner_id: int | None
    owner_name: str | None
    protected_until: LocalDateTime | None
    first_visit_at: LocalDateTime | None
    last_visit_at: LocalDateTime | None
    last_contact_at: LocalDateTime | None
    in_pool: bool
    pooled_at: LocalDateTime | None
    pool_reason: str
    timeline: list[TimelineItem]


class RevealIn(Schema):
    reason: Annotated[str, Field(max_length=pool.REASON_MAX_LENGTH), NoNul] = Field(
        description="查看原因（必填），写入访问日志"
    )


class RevealOut(Schema):
    phone: str = Field(description="完整手机号（11 位）")


def _require_customer_role(user: User) -> None:
    if not pool.may_list_customers(user):
        raise Forbidden()


def _display_name(viewer: User, customer: Customer, *, full: bool) -> str:
    """The owner sees the name as registered; a pool customer is shown to the project's consultants
    as 王先生 until one of them claims it; the desk and managers see the name (numbers in it masked)."""
    if full:
        return customer.name
    if customer.owner_id is None and viewer.role == Role.CONSULTANT:
        return public_name(customer.name, customer.gender)
    return mask_phones_in_text(customer.name)


def _phone(customer: Customer, *, full: bool) -> str:
    return national_digits(customer.phone) if full else mask_phone(customer.phone)


def _in_pool(customer: Customer) -> bool:
    return customer.owner_id is None and customer.pooled_at is not None


def _list_item(viewer: User, customer: Customer) -> CustomerListItem:
    full = pool.phone_visible_to(user=viewer, customer=customer)
    owner = customer.owner
    return CustomerListItem(
        id=customer.pk,
        name=_display_name(viewer, customer, full=full),
        phone=_phone(customer, full=full),
        owner_id=customer.owner_id,
        owner_name=owner.display_name if owner is not None else None,
        protected_until=customer.protected_until,
        intent_level=customer.intent_level,
        stage=customer.stage,
        in_pool=_in_pool(customer),
    )


def _page(customers: QuerySet[Customer], *, limit: int, offset: int) -> tuple[list[Customer], int, bool]:
    limit = max(1, min(limit, MAX_PAGE_SIZE))
    rows = list(customers[offset : offset + limit])
    if offset == 0 and len(rows) < limit:
        # The whole answer is on this page: its length is the count, no second query needed.
        return rows, len(rows), False
    count = customers.order_by()[: COUNT_CAP + 1].count()
    return rows, min(count, COUNT_CAP), count > COUNT_CAP


@router.get(
    "/customers",
    response={200: CustomerPage, **error_responses(400, 401, 403, 404)},
    summary="客户列表与搜索（手机号脱敏）",
)
def customer_list(request: HttpRequest, filters: Query[CustomerFilters]) -> CustomerPage:
    """The desk and managers see the project's customers; a consultant their own and the pool. `scope`
    narrows to the pool page's or the my-customers page's list, in their order."""
    user = request_user(request)
    _require_customer_role(user)
    project = visible_project(user, filters.project)
    if filters.scope == "pool":
        if not pool.may_use_pool(user):
            raise Forbidden()
        customers = pool.pool_list(project=project, q=filters.q)
    elif filters.scope == "mine":
        if user.role != Role.CONSULTANT:
            raise Forbidden(_("只有置业顾问有“我的客户”。"))
        customers = pool.customers_of(consultant=user, project=project, q=filters.q).select_related("owner")
    else:
        customers = pool.customer_list_visible_to(user=user, project=project, q=filters.q)
    rows, count, estimate = _page(customers, limit=filters.limit, offset=filters.offset)
    return CustomerPage(
        items=[_list_item(user, customer) for customer in rows],
        count=count,
        count_is_estimate=estimate,
    )


def _visible_customer(user: User, customer_id: int) -> Customer:
    customer = pool.customer_detail_visible_to(user=user, customer_id=customer_id)
    if customer is None:
        raise NotFound()
    return customer


@router.get(
    "/customers/{customer_id}",
    response={200: CustomerDetail, **error_responses(401, 403, 404)},
    summary="客户详情：归属、保护期与动态",
)
def customer_detail(request: HttpRequest, customer_id: DbId) -> CustomerDetail:
    user = request_user(request)
    _require_customer_role(user)
    customer = _visible_customer(user, customer_id)
    full = pool.phone_visible_to(user=user, customer=customer)
    events = list(customer.events.select_related("by")[:TIMELINE_LENGTH])
    text = (lambda value: value) if full else mask_phones_in_text
    return CustomerDetail(
        id=customer.pk,
        project_id=customer.project_id,
        name=_display_name(user, customer, full=full),
        gender=customer.gender,
        phone=_phone(customer, full=full),
        phone_is_masked=not full,
        stage=customer.stage,
        intent_level=customer.intent_level,
        is_owner=customer.is_owner,
        owner_id=customer.owner_id,
        owner_name=customer.owner.display_name if customer.owner is not None else None,
        protected_until=customer.protected_until,
        first_visit_at=customer.first_visit_at,
        last_visit_at=customer.last_visit_at,
        last_contact_at=customer.last_contact_at,
        in_pool=_in_pool(customer),
        pooled_at=customer.pooled_at,
        pool_reason=customer.pool_reason,
        timeline=[
            TimelineItem(
                kind=event.kind,
                kind_label=str(event.get_kind_display()),
                at=event.at,
                text=text(event.text),
                by_id=event.by_id,
                by_name=event.by.display_name if event.by is not None else None,
            )
            for event in events
        ],
    )


@router.post(
    "/customers/{customer_id}/reveal-phone",
    response={200: RevealOut, **error_responses(400, 401, 403, 404)},
    summary="查看完整手机号（需权限与原因，记录访问日志）",
)
def customer_reveal_phone(request: HttpRequest, customer_id: DbId, payload: RevealIn) -> RevealOut:
    user = request_user(request)
    _require_customer_role(user)
    customer = _visible_customer(user, customer_id)
    # The service checks the permission (403) before the reason (400), and logs the reveal.
    phone = pool.customer_reveal_phone(
        customer=customer, by=user, reason=payload.reason, ip=client_ip(request)
    )
    return RevealOut(phone=phone)


@router.post(
    "/customers/{customer_id}/claim",
    response={200: CustomerListItem, **error_responses(401, 403, 404, 409)},
    summary="从公客池认领客户（每日上限）",
)
def customer_claim(request: HttpRequest, customer_id: DbId) -> CustomerListItem:
    """409 `pool_customer_taken` when someone else was first, `pool_claim_limit` beyond the daily cap."""
    user = request_user(request)
    _require_customer_role(user)
    customer = _visible_customer(user, customer_id)
    claimed = pool.pool_claim(customer=customer, consultant=user)
    return _list_item(user, claimed)
