"""Appointments in the JSON API (api.md): book, list a day, cancel."""

from datetime import date, datetime
from typing import Annotated

from django.db.models import Prefetch
from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext as _
from ninja import Field, Query, Router, Schema, Status

from anchang.accounts.api_access import request_user, visible_project
from anchang.core.api import (
    BlankIsNone,
    DbId,
    LocalDateTime,
    NoNul,
    PageLimit,
    PageOffset,
    error_responses,
    paginate,
)
from anchang.core.errors import Forbidden, InvalidInput, NotFound
from anchang.customers.models import Gender, Source
from anchang.inventory.models import Project
from anchang.reception import appointments as svc
from anchang.reception.models import Appointment, BookingChannel, VipTask, VipTier, Visit
from anchang.reception.vip import local_day_bounds

router = Router(tags=["appointments"])

# Generous shape limits; the service applies the real rules with Chinese messages per field.
ShortText = Annotated[str, Field(max_length=200), NoNul]
PhoneText = Annotated[str, Field(max_length=40), NoNul]
CalendarDay = date  # the query parameter is called `date`, which would shadow the type in its schema


class AppointmentIn(Schema):
    name: ShortText
    gender: Annotated[Gender | None, BlankIsNone] = Field(
        None, description="可选；看板据此称呼 王先生/王女士"
    )
    phone: PhoneText
    start_at: datetime = Field(
        description="ISO 8601 带时区，如 2026-11-27T14:00:00+08:00；不带时区按北京时间"
    )
    party_size: Annotated[int, Field(ge=svc.PARTY_SIZE_MIN, le=svc.PARTY_SIZE_MAX)] = 1
    consultant_id: Annotated[DbId | None, BlankIsNone] = None
    vip_tier: VipTier = VipTier.GENERAL
    source: Annotated[Source | None, BlankIsNone] = None
    note: ShortText = ""
    consent: bool = Field(description="必须为 true：客户已同意隐私告知")


class PreparationTaskOut(Schema):
    id: int
    title: str
    assignee_role: str
    due_at: LocalDateTime
    done_at: LocalDateTime | None


class AppointmentOut(Schema):
    id: int
    code: str
    start_at: LocalDateTime
    status: str
    preparation_tasks: list[PreparationTaskOut]


class AppointmentListItem(Schema):
    id: int
    code: str
    name: str
    gender: str = Field(description="male / female，未填为空")
    phone: str = Field(description="脱敏手机号；仅分配给本人的顾问可见完整号码")
    start_at: LocalDateTime
    party_size: int
    consultant_id: int | None
    consultant_name: str | None
    vip_tier: str
    status: str
    channel: str
    visit_id: int | None = Field(description="到访后的来访记录；未到访为空")
    received_by_id: int | None = Field(description="实际接待的顾问（代接待时为代接的同事）")
    received_by_name: str | None


class AppointmentPage(Schema):
    items: list[AppointmentListItem]
    count: int


class AppointmentFilters(Schema):
    date: Annotated[CalendarDay | None, BlankIsNone] = Field(None, description="YYYY-MM-DD，默认今天")
    limit: PageLimit = 100
    offset: PageOffset = 0


class CancelIn(Schema):
    reason: Annotated[str, Field(max_length=svc.REASON_MAX_LENGTH), NoNul]


def _project_for(request: HttpRequest, pid: int) -> Project:
    # Not a member: 404 as if the project did not exist (api.md). A member whose role has no
    # business with appointments (agent, attendant, service): 403.
    user = request_user(request)
    project = visible_project(user, pid)
    if not svc.may_use_appointments(user):
        raise Forbidden()
    return project


def _appointment_out(appointment: Appointment, tasks: list[VipTask]) -> AppointmentOut:
    return AppointmentOut(
        id=appointment.pk,
        code=appointment.code,
        start_at=appointment.start_at,
        status=appointment.status,
        preparation_tasks=[
            PreparationTaskOut(
                id=task.pk,
                title=task.title,
                assignee_role=task.assignee_role,
                due_at=task.due_at,
                done_at=task.done_at,
            )
            for task in tasks
        ],
    )


@router.post(
    "/projects/{pid}/appointments",
    response={201: AppointmentOut, **error_responses(400, 401, 403, 404, 409)},
    summary="新建预约（一级/二级贵宾自动生成接待准备清单）",
)
def appointment_create(request: HttpRequest, pid: int, payload: AppointmentIn) -> Status[AppointmentOut]:
    project = _project_for(request, pid)
    consultant = None
    if payload.consultant_id is not None:
        consultant = svc.appointment_consultant_for(project=project, consultant_id=payload.consultant_id)
        if consultant is None:
            raise InvalidInput(fields={"consultant_id": _("请选择本项目在岗的置业顾问。")})
    appointment = svc.appointment_create(
        project=project,
        name=payload.name,
        gender=payload.gender or "",
        phone=payload.phone,
        start_at=payload.start_at,
        party_size=payload.party_size,
        consultant=consultant,
        source=payload.source or "",
        vip_tier=payload.vip_tier,
        note=payload.note,
        consent=payload.consent,
        channel=BookingChannel.API,
        by=request_user(request),
    )
    tasks = list(appointment.preparation_tasks.order_by("due_at", "sort_order", "pk"))
    return Status(201, _appointment_out(appointment, tasks))


@router.get(
    "/projects/{pid}/appointments",
    response={200: AppointmentPage, **error_responses(400, 401, 403, 404)},
    summary="某天的预约（手机号脱敏）",
)
def appointment_list(request: HttpRequest, pid: int, filters: Query[AppointmentFilters]) -> AppointmentPage:
    project = _project_for(request, pid)
    user = request_user(request)
    day = filters.date or timezone.localdate()
    try:
        start, end = local_day_bounds(day)
    except OverflowError:
        raise InvalidInput(fields={"date": _("日期超出范围。")}) from None
    appointments = svc.appointment_list_between(project=project, start=start, end=end).prefetch_related(
        Prefetch(
            "visits",
            queryset=Visit.objects.select_related("consultant").order_by("checked_in_at", "pk"),
            to_attr="arrivals",
        )
    )
    page, count = paginate(appointments, limit=filters.limit, offset=filters.offset)
    return AppointmentPage(
        items=[
            AppointmentListItem(
                id=a.pk,
                code=a.code,
                name=a.name,
                gender=a.gender,
                phone=svc.appointment_phone_for(viewer=user, appointment=a),
                start_at=a.start_at,
                party_size=a.party_size,
                consultant_id=a.consultant_id,
                consultant_name=a.consultant.display_name if a.consultant else None,
                vip_tier=a.vip_tier,
                status=a.status,
                channel=a.channel,
                **_arrival(a),
            )
            for a in page
        ],
        count=count,
    )


def _arrival(appointment: Appointment) -> dict[str, int | str | None]:
    """The visit the booking was checked in as and who received it (prefetched as `arrivals`)."""
    visit = next(iter(appointment.arrivals), None)  # type: ignore[attr-defined]  # the Prefetch's to_attr
    consultant = visit.consultant if visit is not None else None
    return {
        "visit_id": visit.pk if visit is not None else None,
        "received_by_id": consultant.pk if consultant is not None else None,
        "received_by_name": consultant.display_name if consultant is not None else None,
    }


@router.post(
    "/appointments/{appointment_id}/cancel",
    response={200: AppointmentOut, **error_responses(400, 401, 403, 404, 409)},
    summary="取消预约（须填写原因）",
)
def appointment_cancel(request: HttpRequest, appointment_id: int, payload: CancelIn) -> AppointmentOut:
    user = request_user(request)
    appointment = svc.appointment_get(appointment_id=appointment_id)
    if appointment is None:
        raise NotFound(_("预约不存在，或您无权查看。"))
    _project_for(request, appointment.project_id)
    cancelled = svc.appointment_cancel(appointment=appointment, by=user, reason=payload.reason)
    return _appointment_out(
        cancelled, list(cancelled.preparation_tasks.order_by("due_at", "sort_order", "pk"))
    )
