"""Inbound calls (来电) in the JSON API (api.md): record one, list a day's."""

from typing import Annotated

from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext as _
from ninja import Field, Query, Router, Schema, Status

from anchang.accounts.api_access import request_user, visible_project
from anchang.core.api import (
    BlankIsNone,
    CalendarDay,
    DbId,
    LocalDateTime,
    LongText,
    NoNul,
    PageLimit,
    PageOffset,
    ShortText,
    error_responses,
    paginate,
)
from anchang.core.errors import Forbidden, InvalidInput
from anchang.customers.calls import selectors
from anchang.customers.calls.services import inbound_call_record, may_record_calls
from anchang.customers.models import Source
from anchang.inventory.models import Project

router = Router(tags=["customers"])


class CallIn(Schema):
    phone: Annotated[str, Field(max_length=40), NoNul]
    name: ShortText = ""
    source: ShortText = Field(description="客户从哪里知道本项目：" + "、".join(Source.values))
    question: LongText = Field(description="客户问了什么")
    next_step: ShortText = ""
    consultant_id: Annotated[DbId | None, BlankIsNone] = Field(
        None, description="接听的置业顾问；顾问本人登记时可省略，前台与经理必填"
    )


class CallOut(Schema):
    id: int
    at: LocalDateTime
    customer_id: int
    new_customer: bool = Field(description="这通来电新建了客户")
    name: str
    phone: str = Field(description="脱敏手机号；仅客户的归属顾问可见完整号码")
    source: str
    question: str
    next_step: str
    consultant_id: int | None
    consultant_name: str
    owner_is_consultant: bool = Field(description="客户归属接听的顾问（新客户或无人归属的客户由其接手）")
    protected_until: LocalDateTime | None = Field(description="仅客户的归属顾问可见，其他人为 null")


class CallPage(Schema):
    items: list[CallOut]
    count: int


class CallFilters(Schema):
    date: Annotated[CalendarDay | None, BlankIsNone] = Field(None, description="YYYY-MM-DD，默认今天")
    limit: PageLimit = 100
    offset: PageOffset = 0


def _project_for(request: HttpRequest, pid: int) -> Project:
    # Not a member: 404 as if the project did not exist (api.md); a role that takes no calls: 403.
    user = request_user(request)
    project = visible_project(user, pid)
    if not may_record_calls(user):
        raise Forbidden(_("只有本项目的前台、置业顾问和经理可以登记和查看来电。"))
    return project


def _out(shown: selectors.CallShown) -> CallOut:
    call, customer = shown.call, shown.call.customer
    return CallOut(
        id=call.pk,
        at=call.at,
        customer_id=customer.pk,
        new_customer=call.new_customer,
        name=shown.name,
        phone=shown.phone,
        source=call.source,
        question=shown.question,
        next_step=shown.next_step,
        consultant_id=call.taken_by_id,
        consultant_name=shown.consultant_name,
        owner_is_consultant=customer.owner_id is not None and customer.owner_id == call.taken_by_id,
        protected_until=customer.protected_until if shown.phone_is_full else None,
    )


@router.post(
    "/projects/{pid}/calls",
    response={201: CallOut, **error_responses(400, 401, 403, 404)},
    summary="登记来电（找到或新建客户，开始来电保护期）",
)
def call_create(request: HttpRequest, pid: int, payload: CallIn) -> Status[CallOut]:
    project = _project_for(request, pid)
    user = request_user(request)
    recorded = inbound_call_record(
        project=project,
        by=user,
        phone=payload.phone,
        name=payload.name,
        source=payload.source,
        question=payload.question,
        next_step=payload.next_step,
        taken_by_id=payload.consultant_id,
    )
    return Status(201, _out(selectors.call_shown(call=recorded.call, viewer=user)))


@router.get(
    "/projects/{pid}/calls",
    response={200: CallPage, **error_responses(400, 401, 403, 404)},
    summary="某天的来电（手机号脱敏；顾问只看自己接听的）",
)
def call_list(request: HttpRequest, pid: int, filters: Query[CallFilters]) -> CallPage:
    project = _project_for(request, pid)
    user = request_user(request)
    try:
        calls = selectors.calls_visible_to(
            user=user, project=project, day=filters.date or timezone.localdate()
        )
    except OverflowError:
        raise InvalidInput(fields={"date": _("日期超出范围。")}) from None
    page, count = paginate(calls, limit=filters.limit, offset=filters.offset)
    return CallPage(items=[_out(selectors.call_shown(call=c, viewer=user)) for c in page], count=count)
