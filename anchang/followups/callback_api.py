"""Callbacks (回访) lists in the JSON API: receptions awaiting a callback, and the results per consultant."""

from datetime import date, timedelta
from typing import Annotated

from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext as _
from ninja import Field, Query, Router, Schema

from anchang.accounts.api_access import request_user, visible_project
from anchang.core.api import (
    BlankIsNone,
    LocalDateTime,
    PageLimit,
    PageOffset,
    error_responses,
    paginate,
)
from anchang.core.errors import Forbidden, InvalidInput
from anchang.core.privacy import mask_phone, public_name
from anchang.followups import selectors
from anchang.followups.services import may_call_back
from anchang.reception.models import Visit

router = Router(tags=["follow-ups"])

# As on the results page: with no dates, the 30 days up to and including today.
RESULTS_DEFAULT_DAYS = 30


class AwaitingFilters(Schema):
    days: int = Field(
        selectors.CALLBACK_DAYS_DEFAULT,
        ge=1,
        le=selectors.CALLBACK_DAYS_MAX,
        description=f"最近几天内结束的接待（1–{selectors.CALLBACK_DAYS_MAX}）",
    )
    limit: PageLimit = 50
    offset: PageOffset = 0


class AwaitingCallbackOut(Schema):
    visit_id: int
    customer_id: int
    name: str = Field(description="客户称呼（王先生 / 王**）")
    phone: str = Field(description="脱敏手机号")
    consultant_id: int | None
    consultant_name: str | None
    checked_in_at: LocalDateTime
    checked_out_at: LocalDateTime | None


class AwaitingPage(Schema):
    items: list[AwaitingCallbackOut]
    count: int


def _awaiting_out(visit: Visit) -> AwaitingCallbackOut:
    customer = visit.customer
    return AwaitingCallbackOut(
        visit_id=visit.pk,
        customer_id=customer.pk,
        name=public_name(customer.name, customer.gender),
        phone=mask_phone(customer.phone),
        consultant_id=visit.consultant_id,
        consultant_name=visit.consultant.display_name if visit.consultant else None,
        checked_in_at=visit.checked_in_at,
        checked_out_at=visit.checked_out_at,
    )


@router.get(
    "/projects/{pid}/callbacks",
    response={200: AwaitingPage, **error_responses(400, 401, 403, 404)},
    summary="待回访的接待（客服、经理；不含自己接待的）",
)
def callback_awaiting_list(request: HttpRequest, pid: int, filters: Query[AwaitingFilters]) -> AwaitingPage:
    user = request_user(request)
    project = visible_project(user, pid)
    if not may_call_back(user):
        raise Forbidden()
    visits = selectors.visits_awaiting_callback_query(project=project, viewer=user, days=filters.days)
    page, count = paginate(visits, limit=filters.limit, offset=filters.offset)
    return AwaitingPage(items=[_awaiting_out(visit) for visit in page], count=count)


class ResultFilters(Schema):
    date_from: Annotated[date | None, BlankIsNone] = Field(
        None, description="回访日期起（含），默认含今天在内的最近 30 天"
    )
    date_to: Annotated[date | None, BlankIsNone] = Field(None, description="回访日期止（含），默认今天")


class ConsultantResultOut(Schema):
    consultant_id: int | None
    consultant_name: str
    count: int
    average: float = Field(description="平均满意度（1–5）")
    satisfied_share: float = Field(description="4–5 分占比（0–1）")


class CallbackResultsOut(Schema):
    date_from: date
    date_to: date
    rows: list[ConsultantResultOut]


@router.get(
    "/projects/{pid}/callback-results",
    response={200: CallbackResultsOut, **error_responses(400, 401, 403, 404)},
    summary="回访结果：按接待顾问的满意度（经理）",
)
def callback_results(request: HttpRequest, pid: int, filters: Query[ResultFilters]) -> CallbackResultsOut:
    user = request_user(request)
    project = visible_project(user, pid)
    if not user.is_site_manager:
        raise Forbidden()
    date_to = filters.date_to or timezone.localdate()
    date_from = filters.date_from or date_to - timedelta(days=RESULTS_DEFAULT_DAYS - 1)
    if date_from > date_to:
        raise InvalidInput(fields={"date_to": _("截止日期不能早于起始日期。")})
    try:
        rows = selectors.callback_results_by_consultant(project=project, date_from=date_from, date_to=date_to)
    except OverflowError:
        raise InvalidInput(fields={"date_to": _("日期超出范围。")}) from None
    return CallbackResultsOut(
        date_from=date_from,
        date_to=date_to,
        rows=[
            ConsultantResultOut(
                consultant_id=row.consultant_id,
                consultant_name=row.name,
                count=row.count,
                average=row.average,
                satisfied_share=row.satisfied_share,
            )
            for row in rows
        ],
    )
