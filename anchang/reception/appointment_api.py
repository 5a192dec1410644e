"""Appointments in the JSON API (api.md): book, list a day, cancel."""

from datetime import datetime
from typing import Annotated, Any

from django.db.models import Prefetch
from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from ninja import Field, Query, Router, Schema, Status

from anchang.accounts.api_access import request_user, visible_project
from anchang.accounts.models import User
from anchang.core.api import (
    BlankIsNone,
    CalendarDay,
    DbId,
    LocalDateTime,
    NoNul,
    PageLimit,
    PageOffset,
    PhoneText,
    ShortText,
    error_responses,
    paginate,
)
from anchang.core.errors import Forbidden, InvalidInput, NotFound
from anchang.customers.models import Gender, Source
from anchang.inventory.models import Project
from anchang.reception import appointments as svc
from anchang.reception.models import Appointment, AppointmentStatus, BookingChannel, VipTask, VipTier, Visit
from anchang.reception.vip import local_day_bounds

router = Router(tags=["appointments"])


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


class AppointmentChangeOut(Schema):
    at: LocalDateTime
    by_name: str | None
    what: str = Field(description="变更说明：创建、改期（原定时间）、取消原因、到访登记…")


class AppointmentDetailOut(AppointmentListItem):
    source: str
    note: str
    can_change: bool = Field(description="调用者能否改期、取消或标记未到访")
    preparation_tasks: list[PreparationTaskOut]
    history: list[AppointmentChangeOut] = Field(description="最近 20 次变更，新的在前")


class RescheduleIn(Schema):
    start_at: datetime = Field(description="新的预约时间，ISO 8601 带时区；不带时区按北京时间")


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


def _tasks_of(appointment: Appointment) -> list[VipTask]:
    return list(appointment.preparation_tasks.order_by("due_at", "sort_order", "pk"))


def _tasks_out(tasks: list[VipTask]) -> list[PreparationTaskOut]:
    return [
        PreparationTaskOut(
            id=task.pk,
            title=task.title,
            assignee_role=task.assignee_role,
            due_at=task.due_at,
            done_at=task.done_at,
        )
        for task in tasks
    ]


def _appointment_out(appointment: Appointment, tasks: list[VipTask]) -> AppointmentOut:
    return AppointmentOut(
        id=appointment.pk,
        code=appointment.code,
        start_at=appointment.start_at,
        status=appointment.status,
        preparation_tasks=_tasks_out(tasks),
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
    tasks = _tasks_of(appointment)
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
        items=[AppointmentListItem(**_item(a, user, next(iter(a.arrivals), None))) for a in page],
        count=count,
    )


def _item(appointment: Appointment, viewer: User, visit: Visit | None) -> dict[str, Any]:
    """A booking as every answer shows it, with the visit it became (None before the visitor came)."""
    a, received_by = appointment, visit.consultant if visit is not None else None
    return {
        "id": a.pk,
        "code": a.code,
        "name": a.name,
        "gender": a.gender,
        "phone": svc.appointment_phone_for(viewer=viewer, appointment=a),
        "start_at": a.start_at,
        "party_size": a.party_size,
        "consultant_id": a.consultant_id,
        "consultant_name": a.consultant.display_name if a.consultant else None,
        "vip_tier": a.vip_tier,
        "status": a.status,
        "channel": a.channel,
        "visit_id": visit.pk if visit is not None else None,
        "received_by_id": received_by.pk if received_by is not None else None,
        "received_by_name": received_by.display_name if received_by is not None else None,
    }


def _staff_appointment(request: HttpRequest, appointment_id: int) -> Appointment:
    """A booking of a project the caller works on, for a role that handles bookings; else 404 / 403."""
    appointment = svc.appointment_get(appointment_id=appointment_id)
    if appointment is None:
        raise NotFound(_("预约不存在，或您无权查看。"))
    _project_for(request, appointment.project_id)
    return appointment


_CHANGE_KIND = {"+": gettext_lazy("创建预约"), "~": gettext_lazy("修改"), "-": gettext_lazy("删除")}


@router.post(
    "/appointments/{appointment_id}/cancel",
    response={200: AppointmentOut, **error_responses(400, 401, 403, 404, 409)},
    summary="取消预约（须填写原因）",
)
def appointment_cancel(request: HttpRequest, appointment_id: int, payload: CancelIn) -> AppointmentOut:
    appointment = _staff_appointment(request, appointment_id)
    cancelled = svc.appointment_cancel(
        appointment=appointment, by=request_user(request), reason=payload.reason
    )
    return _appointment_out(cancelled, _tasks_of(cancelled))


@router.get(
    "/appointments/{appointment_id}",
    response={200: AppointmentDetailOut, **error_responses(401, 403, 404)},
    summary="预约详情（准备清单、到访与接待人、变更记录）",
)
def appointment_get(request: HttpRequest, appointment_id: DbId) -> AppointmentDetailOut:
    user = request_user(request)
    appointment = _staff_appointment(request, appointment_id)
    return AppointmentDetailOut(
        **_item(appointment, user, svc.appointment_visit(appointment=appointment)),
        source=appointment.source,
        note=appointment.note,
        # Only a booking still waiting for its visitor can be moved, cancelled or marked a no-show.
        can_change=appointment.status == AppointmentStatus.BOOKED
        and svc.appointment_may_change(user=user, appointment=appointment),
        preparation_tasks=_tasks_out(_tasks_of(appointment)),
        history=[
            AppointmentChangeOut(
                at=row.history_date,
                by_name=row.history_user.display_name if row.history_user else None,
                what=row.history_change_reason or str(_CHANGE_KIND.get(row.history_type, "")),
            )
            for row in svc.appointment_changes(appointment=appointment)
        ],
    )


@router.post(
    "/appointments/{appointment_id}/reschedule",
    response={200: AppointmentOut, **error_responses(400, 401, 403, 404, 409)},
    summary="预约改期（准备清单随之平移，提醒重新发送）",
)
def appointment_reschedule(
    request: HttpRequest, appointment_id: DbId, payload: RescheduleIn
) -> AppointmentOut:
    appointment = _staff_appointment(request, appointment_id)
    moved = svc.appointment_reschedule(
        appointment=appointment, start_at=payload.start_at, by=request_user(request)
    )
    return _appointment_out(moved, _tasks_of(moved))


@router.post(
    "/appointments/{appointment_id}/no-show",
    response={200: AppointmentOut, **error_responses(401, 403, 404, 409)},
    summary="标记为未到访（预约时间过后）",
)
def appointment_no_show(request: HttpRequest, appointment_id: DbId) -> AppointmentOut:
    appointment = _staff_appointment(request, appointment_id)
    marked = svc.appointment_mark_no_show(appointment=appointment, by=request_user(request))
    return _appointment_out(marked, _tasks_of(marked))
