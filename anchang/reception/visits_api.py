"""The visits list of the JSON API (api.md `GET /projects/{pid}/visits`): the desk's and the hall's day."""

from datetime import datetime
from typing import Annotated, Literal, get_args

from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext as _
from ninja import Field, Query, Router, Schema

from anchang.accounts.api_access import request_user, visible_project
from anchang.accounts.models import Role, User
from anchang.core.api import (
    BlankIsNone,
    CalendarDay,
    DbId,
    LocalDateTime,
    PageLimit,
    PageOffset,
    error_responses,
    paginate,
)
from anchang.core.errors import Forbidden, InvalidInput
from anchang.core.phones import national_digits
from anchang.core.privacy import mask_phone, mask_phones_in_text, public_name
from anchang.reception.models import Visit, VisitKind, VisitState
from anchang.reception.selectors import visit_list_between
from anchang.reception.vip import local_day_bounds

router = Router(tags=["reception"])


# The API speaks of where the visitor is, not of the model's states: an invalid reception has also left.
ApiVisitState = Literal["waiting", "with_consultant", "checked_out"]
_API_STATE: dict[str, ApiVisitState] = {
    VisitState.WAITING: "waiting",
    VisitState.RECEIVING: "with_consultant",
    VisitState.ENDED: "checked_out",
    VisitState.INVALID: "checked_out",
}
_MODEL_STATES = {
    api: tuple(model for model, named in _API_STATE.items() if named == api)
    for api in get_args(ApiVisitState)
}


class VisitFilters(Schema):
    date: Annotated[CalendarDay | None, BlankIsNone] = Field(
        None, description="YYYY-MM-DD（北京时间的一天）；不给日期时默认今天"
    )
    date_from: Annotated[CalendarDay | None, BlankIsNone] = Field(None, description="起始日（含）")
    date_to: Annotated[CalendarDay | None, BlankIsNone] = Field(None, description="截止日（含）")
    state: Annotated[ApiVisitState | None, BlankIsNone] = Field(
        None, description="waiting 等待接待 · with_consultant 接待中 · checked_out 已离场"
    )
    consultant_id: Annotated[DbId | None, BlankIsNone] = None
    kind: Annotated[VisitKind | None, BlankIsNone] = Field(
        None, description="first 首访 · return 复访 · owner 业主"
    )
    limit: PageLimit = 50
    offset: PageOffset = 0


_FILTER_NAMES = frozenset(VisitFilters.model_fields)


class VisitListItem(Schema):
    id: int
    customer_id: int
    name: str = Field(description="顾问只看得到自己客户的全名，其余显示为 王先生 / 王**")
    phone: str = Field(description="脱敏手机号（138****1234）；仅归属顾问可见完整号码")
    visit_kind: str
    consultant_id: int | None
    consultant_name: str | None
    rule: str
    state: ApiVisitState
    party_size: int
    checked_in_at: LocalDateTime
    checked_out_at: LocalDateTime | None


class VisitPage(Schema):
    items: list[VisitListItem]
    count: int


def _require_visit_list_role(user: User) -> None:
    if not (user.role in (Role.FRONTDESK, Role.MANAGER, Role.CONSULTANT) or user.sees_all_projects):
        raise Forbidden()


def _period(filters: VisitFilters) -> tuple[datetime | None, datetime | None]:
    """[start, end) of the asked days in local time; with no date at all, today."""
    if filters.date is not None and (filters.date_from is not None or filters.date_to is not None):
        raise InvalidInput(fields={"date": _("按某一天或按起止日期筛选，二者只能选一种。")})
    if filters.date_from and filters.date_to and filters.date_from > filters.date_to:
        raise InvalidInput(fields={"date_to": _("截止日期不能早于起始日期。")})
    try:
        if filters.date_from is not None or filters.date_to is not None:
            start = local_day_bounds(filters.date_from)[0] if filters.date_from else None
            end = local_day_bounds(filters.date_to)[1] if filters.date_to else None
            return start, end
        return local_day_bounds(filters.date or timezone.localdate())
    except OverflowError:
        field = "date" if filters.date else ("date_to" if filters.date_to else "date_from")
        raise InvalidInput(fields={field: _("日期超出范围。")}) from None


def _item(viewer: User, visit: Visit) -> VisitListItem:
    customer = visit.customer
    if viewer.role == Role.CONSULTANT:
        # A consultant sees the whole hall, but only their own customers by name and number.
        own = customer.owner_id is not None and customer.owner_id == viewer.pk
        name = customer.name if own else public_name(customer.name, customer.gender)
        phone = national_digits(customer.phone) if own else mask_phone(customer.phone)
    else:
        name, phone = mask_phones_in_text(customer.name), mask_phone(customer.phone)
    consultant = visit.consultant
    return VisitListItem(
        id=visit.pk,
        customer_id=visit.customer_id,
        name=name,
        phone=phone,
        visit_kind=visit.kind,
        consultant_id=visit.consultant_id,
        consultant_name=consultant.display_name if consultant else None,
        rule=visit.rule,
        state=_API_STATE[visit.state],
        party_size=visit.party_size,
        checked_in_at=visit.checked_in_at,
        checked_out_at=visit.checked_out_at,
    )


@router.get(
    "/projects/{pid}/visits",
    response={200: VisitPage, **error_responses(400, 401, 403, 404)},
    summary="来访列表（默认今天；可按日期、状态、顾问、来访类型筛选；姓名与手机号按权限脱敏）",
)
def visit_list(request: HttpRequest, pid: int, filters: Query[VisitFilters]) -> VisitPage:
    user = request_user(request)
    project = visible_project(user, pid)
    _require_visit_list_role(user)
    unknown = sorted(set(request.GET) - _FILTER_NAMES)
    if unknown:
        # A misspelt filter (`?status=` for `?state=`) would otherwise silently answer the whole day.
        raise InvalidInput(fields=dict.fromkeys(unknown, _("不支持的筛选条件。")))
    start, end = _period(filters)
    visits = visit_list_between(
        project=project,
        start=start,
        end=end,
        states=_MODEL_STATES[filters.state] if filters.state else (),
        consultant_id=filters.consultant_id,
        kind=filters.kind,
    )
    page, count = paginate(visits, limit=filters.limit, offset=filters.offset)
    return VisitPage(items=[_item(user, visit) for visit in page], count=count)
