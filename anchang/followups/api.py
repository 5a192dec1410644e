"""Follow-up rows of api.md (`POST /customers/{id}/follow-ups`, `GET /follow-ups`) and callbacks."""

from datetime import datetime
from typing import Annotated, Literal

from django.http import HttpRequest
from django.utils import timezone
from ninja import Query, Router, Schema
from ninja.responses import Status
from pydantic import Field

from anchang.accounts.api_access import request_user
from anchang.core.api import (
    MAX_OFFSET,
    MAX_PAGE_SIZE,
    BlankIsNone,
    DbId,
    LocalDateTime,
    NoNul,
    error_responses,
)
from anchang.core.errors import NotFound
from anchang.customers.selectors import customer_visible_to
from anchang.followups.models import FollowUp
from anchang.followups.selectors import followup_list_visible_to
from anchang.followups.services import callback_record, followup_record
from anchang.reception.models import Visit

router = Router(tags=["follow-ups"])


class FollowUpIn(Schema):
    method: Literal["phone", "wechat", "sms", "visit"]
    content: Annotated[str, NoNul]
    result: Literal["reached", "appointment", "declined", "not_reached", ""] = ""
    intent_level: Annotated[Literal["A", "B", "C", "D"] | None, BlankIsNone] = None
    next_due_at: datetime | None = Field(
        default=None, description="ISO 8601 带时区，如 2026-11-28T10:00:00+08:00；不带时区按北京时间"
    )


def _aware(value: datetime | None) -> datetime | None:
    if value is None or timezone.is_aware(value):
        return value
    return timezone.make_aware(value)


class FollowUpOut(Schema):
    id: int
    customer_id: int
    due_at: LocalDateTime
    state: str
    method: str
    content: str


def _out(follow_up: FollowUp) -> FollowUpOut:
    return FollowUpOut(
        id=follow_up.pk,
        customer_id=follow_up.customer_id,
        due_at=follow_up.due_at,
        state=follow_up.state,
        method=follow_up.method,
        content=follow_up.content,
    )


@router.post(
    "/customers/{customer_id}/follow-ups",
    response={201: FollowUpOut, **error_responses(400, 401, 403, 404)},
    summary="记录跟进",
    description=(
        "归属顾问（或经理）记录一次跟进：关闭该顾问对此客户最早的待跟进任务（没有则新建一条已完成记录），"
        "更新意向等级；有效跟进延长保护期（不超过上限）。给出 next_due_at（须晚于现在）则安排下次跟进。"
    ),
)
def followup_create(request: HttpRequest, customer_id: int, payload: FollowUpIn) -> Status[FollowUpOut]:
    user = request_user(request)
    customer = customer_visible_to(user=user, customer_id=customer_id)
    if customer is None:
        raise NotFound()
    done = followup_record(
        customer=customer,
        by=user,
        method=payload.method,
        content=payload.content,
        result=payload.result,
        intent_level=payload.intent_level or "",
        next_due_at=_aware(payload.next_due_at),
    )
    return Status(201, _out(done))


class FollowUpFilters(Schema):
    state: Annotated[Literal["open", "overdue", "done"] | None, BlankIsNone] = None
    mine: bool = False
    customer_id: Annotated[DbId | None, BlankIsNone] = None
    limit: int = Field(default=50, ge=1, le=MAX_PAGE_SIZE)
    offset: int = Field(default=0, ge=0, le=MAX_OFFSET)


@router.get(
    "/follow-ups",
    response={200: list[FollowUpOut], **error_responses(400, 401, 403, 404)},
    summary="跟进列表",
    description=(
        "顾问只看到自己的跟进；经理看到所在项目的全部（mine=true 只看自己的）。"
        "state：open 未到期 · overdue 已逾期 · done 已完成。按应跟进时间排序，limit/offset 分页。"
    ),
)
def followup_list(request: HttpRequest, filters: Query[FollowUpFilters]) -> list[FollowUpOut]:
    user = request_user(request)
    if (
        filters.customer_id is not None
        and customer_visible_to(user=user, customer_id=filters.customer_id) is None
    ):
        # Another consultant's customer: the answer must not tell that it exists (api.md).
        raise NotFound()
    rows = followup_list_visible_to(
        user=user, state=filters.state, mine=filters.mine, customer_id=filters.customer_id
    )
    if filters.state == "done":
        rows = rows.order_by("-done_at", "-pk")
    return [_out(f) for f in rows[filters.offset : filters.offset + filters.limit]]


class CallbackIn(Schema):
    reached: bool = Field(True, description="是否接通；未接通（false）不打分，该接待仍待回访，可再次回访")
    satisfaction: int | None = Field(None, description="满意度 1–5，接通时必填")
    comments: Annotated[str, NoNul] = ""


class CallbackOut(Schema):
    id: int
    visit_id: int
    consultant_id: int | None
    reached: bool
    satisfaction: int | None
    attempts: int = Field(description="已拨打次数（含未接通）")
    comments: str
    at: LocalDateTime


@router.post(
    "/visits/{visit_id}/callback",
    response={201: CallbackOut, **error_responses(400, 401, 403, 404, 409)},
    summary="记录回访",
    description=(
        "客服或经理对已结束的接待回访：满意度 1–5 与客户意见，每次接待一条（已接通后再次 → 409）；"
        "未接通（reached=false）不打分、计入拨打次数，可再次回访；接待顾问本人 → 403。"
    ),
)
def callback_create(request: HttpRequest, visit_id: int, payload: CallbackIn) -> Status[CallbackOut]:
    visit = Visit.objects.filter(pk=visit_id).first()
    if visit is None:
        raise NotFound()
    callback = callback_record(
        visit=visit,
        by=request_user(request),
        satisfaction=payload.satisfaction,
        comments=payload.comments,
        reached=payload.reached,
    )
    return Status(
        201,
        CallbackOut(
            id=callback.pk,
            visit_id=callback.visit_id,
            consultant_id=callback.consultant_id,
            reached=callback.reached,
            satisfaction=callback.satisfaction,
            attempts=callback.attempts,
            comments=callback.comments,
            at=callback.at,
        ),
    )
