"""Appointments (预约, product.md §1): services and selectors.

A booking is made by the front desk or a consultant (phone call), through the API, or by the visitor
on the public booking page. It gets a short code (and a QR code of it) that the front desk scans or
types at check-in; VIP bookings get a preparation checklist (`reception.vip`).
"""

import hashlib
import secrets
import unicodedata
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

import segno
from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Prefetch, QuerySet
from django.urls import NoReverseMatch, reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from anchang.accounts.models import Role, User
from anchang.accounts.selectors import project_visible_to, staff_of_project
from anchang.core.errors import Conflict, DomainError, Forbidden, InvalidInput, NotFound, PhoneInvalid
from anchang.core.notifications import notify
from anchang.core.phones import national_digits, normalize_mainland_mobile
from anchang.core.privacy import mask_phone, public_name
from anchang.core.ratelimit import rate_limit_take
from anchang.customers.models import Gender, Source
from anchang.inventory.models import Project
from anchang.reception.customer_messages import booking_confirmation_queue, booking_reminder_queue
from anchang.reception.models import (
    Appointment,
    AppointmentStatus,
    BookingChannel,
    VipTask,
    VipTier,
    Visit,
)
from anchang.reception.vip import (
    TaskRow,
    local_day_bounds,
    project_settings_for,
    vip_task_rows,
    vip_tasks_create_for,
    vip_tasks_shift,
)

# Codes are read aloud and typed from a phone screen: no 0/O or 1/I to confuse.
CODE_ALPHABET = "23456789ABCDEFGHJKLMNPQRSTUVWXYZ"
CODE_LENGTH = 6
CODE_ATTEMPTS = 8
# A desk entering a booking for "now" needs a little slack; anything older is a typo.
PAST_GRACE = timedelta(minutes=5)
MAX_DAYS_AHEAD = 60
PARTY_SIZE_MIN = 1
PARTY_SIZE_MAX = 20
NAME_MAX_LENGTH = 50
NOTE_MAX_LENGTH = 200
# The reason is kept as the history row's change reason, a 100-character column.
REASON_MAX_LENGTH = 100
# Public booking page: successful bookings per client address per hour, and bookings a phone may
# hold at once in one project (booked, in the future). Both stop scripted flooding of the calendar.
ONLINE_BOOKINGS_PER_IP_PER_HOUR = 10
ONLINE_BOOKING_IP_WINDOW_SECONDS = 3600
ACTIVE_ONLINE_BOOKINGS_PER_PHONE = 3

STAFF_ROLES = frozenset({Role.MANAGER, Role.FRONTDESK, Role.CONSULTANT})
SUPERVISING_ROLES = frozenset({Role.MANAGER, Role.FRONTDESK})


class BookingRateLimited(DomainError):
    status = 429
    code = "too_many_requests"
    default_message = gettext_lazy("预约过于频繁，请稍后再试。")


# --- permissions -----------------------------------------------------------------------------------


def may_use_appointments(user: User) -> bool:
    """Front desk, consultants, managers (and admins) work with the appointment calendar."""
    return bool(
        user.is_authenticated and user.is_active and (user.sees_all_projects or user.role in STAFF_ROLES)
    )


def appointment_may_change(*, user: User, appointment: Appointment) -> bool:
    """Supervisors change any booking; a consultant their own ones and those assigned to nobody."""
    if not may_use_appointments(user):
        return False
    if user.sees_all_projects or user.role in SUPERVISING_ROLES:
        return True
    return appointment.consultant_id in (None, user.pk)


def booking_channel_for(user: User) -> str:
    return BookingChannel.CONSULTANT if user.role == Role.CONSULTANT else BookingChannel.DESK


# --- selectors -------------------------------------------------------------------------------------


def appointment_project_for(*, user: User, project_id: int) -> Project | None:
    """The project, if the user may work with its appointments; None answers 404 to the caller."""
    if not may_use_appointments(user):
        return None
    return project_visible_to(user=user, project_id=project_id)


def appointment_get(*, appointment_id: int) -> Appointment | None:
    """By id, without any permission filter: callers check the project and role next."""
    return Appointment.objects.select_related("project", "consultant").filter(pk=appointment_id).first()


def appointment_visible_to(*, user: User, appointment_id: int) -> Appointment | None:
    appointment = appointment_get(appointment_id=appointment_id)
    if appointment is None or appointment_project_for(user=user, project_id=appointment.project_id) is None:
        return None
    return appointment


def booking_project_for(*, code: str) -> Project | None:
    """The project behind a public booking link; unknown or inactive projects take no bookings."""
    return Project.objects.filter(code=code, is_active=True).first()


def appointment_consultants(*, project: Project) -> QuerySet[User]:
    """Active consultants of the project: who may be chosen as the preferred consultant."""
    return staff_of_project(project=project, role=Role.CONSULTANT).order_by("name", "username")


def appointment_consultant_for(*, project: Project, consultant_id: int) -> User | None:
    return appointment_consultants(project=project).filter(pk=consultant_id).first()


def appointment_list_between(
    *, project: Project, start: datetime, end: datetime, consultant: User | None = None
) -> QuerySet[Appointment]:
    """Appointments starting in [start, end), with consultant and checklist in two extra queries at most."""
    appointments = (
        Appointment.objects.filter(project=project, start_at__gte=start, start_at__lt=end)
        .select_related("consultant")
        .prefetch_related(
            Prefetch(
                "preparation_tasks",
                queryset=VipTask.objects.select_related("done_by").order_by("due_at", "sort_order", "pk"),
            )
        )
        .order_by("start_at", "pk")
    )
    if consultant is not None:
        appointments = appointments.filter(consultant=consultant)
    return appointments


def appointment_list_for_day(
    *, project: Project, day: date, consultant: User | None = None
) -> QuerySet[Appointment]:
    start, end = local_day_bounds(day)
    return appointment_list_between(project=project, start=start, end=end, consultant=consultant)


def appointment_phone_for(*, viewer: User, appointment: Appointment) -> str:
    """Full number only for the consultant the booking is assigned to; masked for everyone else."""
    if viewer.role == Role.CONSULTANT and appointment.consultant_id == viewer.pk:
        return national_digits(appointment.phone)
    return mask_phone(appointment.phone)


@dataclass(frozen=True)
class AppointmentRow:
    appointment: Appointment
    phone: str
    can_change: bool
    started: bool
    tasks: list[TaskRow] = field(default_factory=list)

    @property
    def overdue_tasks(self) -> int:
        return sum(1 for row in self.tasks if row.overdue)

    @property
    def is_vip(self) -> bool:
        return self.appointment.vip_tier != VipTier.GENERAL


def appointment_rows_for(
    *, viewer: User, appointments: list[Appointment], now: datetime | None = None
) -> list[AppointmentRow]:
    """What a viewer sees of each appointment (masking, allowed actions, checklist); no queries."""
    now = now or timezone.now()
    return [
        AppointmentRow(
            appointment=appointment,
            phone=appointment_phone_for(viewer=viewer, appointment=appointment),
            can_change=appointment_may_change(user=viewer, appointment=appointment),
            started=appointment.start_at <= now,
            tasks=vip_task_rows(tasks=list(appointment.preparation_tasks.all()), viewer=viewer, now=now),
        )
        for appointment in appointments
    ]


def appointments_booked_today(*, project: Project, now: datetime | None = None) -> QuerySet[Appointment]:
    """The bookings a check-in today can still use (check-in asks whether the visitor's phone has one)."""
    start, end = local_day_bounds(timezone.localdate(now or timezone.now()))
    return Appointment.objects.filter(
        project=project, status=AppointmentStatus.BOOKED, start_at__gte=start, start_at__lt=end
    )


def appointment_find_for_checkin(
    *, project: Project, code_or_phone: str, now: datetime | None = None
) -> Appointment | None:
    """Today's booked appointment by its code (any case) or, failing that, by the visitor's mobile.

    Several bookings of one phone today: the one whose time is nearest to now.
    """
    now = now or timezone.now()
    text = (code_or_phone or "").strip()
    if not text or len(text) > 40:
        return None
    today = appointments_booked_today(project=project, now=now).select_related("consultant")
    code = text.upper()
    if len(code) == CODE_LENGTH and all(ch in CODE_ALPHABET for ch in code):
        found = today.filter(code=code).first()
        if found is not None:
            return found
    try:
        phone = normalize_mainland_mobile(text)
    except PhoneInvalid:
        return None
    return min(today.filter(phone=phone), key=lambda a: abs(a.start_at - now), default=None)


def appointment_changes(*, appointment: Appointment, limit: int = 20) -> list[Any]:
    """The booking's latest changes (who, when, why), newest first: its page and the API show them."""
    return list(
        appointment.history.select_related("history_user").order_by("-history_date", "-history_id")[:limit]
    )


def appointment_for_code(*, project: Project, code: str) -> Appointment:
    """Today's booking a code (typed or scanned at the desk) names; `NotFound` with what to do instead."""
    appointment = appointment_find_for_checkin(project=project, code_or_phone=code[:8])
    if appointment is None:
        raise NotFound(
            _("没有找到今天有效的预约码 %(code)s，请核对，或改用手机号登记。") % {"code": code[:8]},
            code="appointment_not_found",
        )
    return appointment


def appointment_visit(*, appointment: Appointment) -> Visit | None:
    """The visit this booking was checked in as (with who received it), once the visitor came."""
    return appointment.visits.select_related("consultant", "covering_for").order_by("checked_in_at").first()


def appointment_qr_data_uri(*, code: str) -> str:
    """A PNG data URI of a QR code holding just the code: a scanner types it into the check-in field."""
    return str(segno.make(code, error="m", micro=False).png_data_uri(scale=8, border=2))


def appointment_detail_url(appointment: Appointment) -> str:
    # The URLconf is wired by the project; services must work (and notify) before and without it.
    try:
        return reverse("appointments:detail", args=[appointment.pk])
    except NoReverseMatch:
        return ""


# --- validation ------------------------------------------------------------------------------------


def _clean_text(
    value: object, *, field_name: str, max_length: int, required: bool, errors: dict[str, str]
) -> str:
    text = value.strip() if isinstance(value, str) else ""
    if required and not text:
        errors[field_name] = _("此项为必填项。")
    elif len(text) > max_length:
        errors[field_name] = _("最多 %(n)s 个字。") % {"n": max_length}
    elif any(unicodedata.category(ch) == "Cc" and ch not in "\n\t" for ch in text):
        # NUL and other control characters: PostgreSQL refuses NUL, and none belong in a name.
        errors[field_name] = _("包含无法识别的字符，请重新输入。")
    return text


def _clean_start_at(
    value: object, *, now: datetime, errors: dict[str, str], field_name: str = "start_at"
) -> datetime | None:
    if not isinstance(value, datetime):
        errors[field_name] = _("请选择预约时间。")
        return None
    try:
        start_at = timezone.make_aware(value) if timezone.is_naive(value) else value
        too_early = start_at < now - PAST_GRACE
        too_late = start_at > now + timedelta(days=MAX_DAYS_AHEAD)
    except (OverflowError, ValueError):
        # Year 1 or 9999 with an offset cannot be converted to UTC.
        errors[field_name] = _("预约时间无效，请重新选择。")
        return None
    if too_early:
        errors[field_name] = _("预约时间已过，请选择之后的时间。")
        return None
    if too_late:
        errors[field_name] = _("只能预约 %(n)s 天以内的时间。") % {"n": MAX_DAYS_AHEAD}
        return None
    return start_at


def _raise_if(errors: dict[str, str]) -> None:
    if not errors:
        return
    if set(errors) == {"phone"}:
        raise PhoneInvalid(fields=errors)
    raise InvalidInput(fields=errors)


# --- services --------------------------------------------------------------------------------------


def _new_code() -> str:
    return "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))


@transaction.atomic
def appointment_create(
    *,
    project: Project,
    name: str,
    phone: str,
    start_at: datetime,
    party_size: int = 1,
    consultant: User | None = None,
    source: str = "",
    gender: str = "",
    vip_tier: str = VipTier.GENERAL,
    note: str = "",
    consent: bool,
    channel: str,
    by: User | None = None,
) -> Appointment:
    """Book a visit: validate everything, give it a unique code, prepare VIP tasks and notify.

    All invalid fields are reported together (InvalidInput with `fields`); nothing is stored then.
    """
    now = timezone.now()
    errors: dict[str, str] = {}
    clean_name = _clean_text(
        name, field_name="name", max_length=NAME_MAX_LENGTH, required=True, errors=errors
    )
    clean_note = _clean_text(
        note, field_name="note", max_length=NOTE_MAX_LENGTH, required=False, errors=errors
    )
    e164 = ""
    try:
        e164 = normalize_mainland_mobile(phone)
    except PhoneInvalid as error:
        errors.update(error.fields)
    clean_start = _clean_start_at(start_at, now=now, errors=errors)
    if (
        isinstance(party_size, bool)
        or not isinstance(party_size, int)
        or not PARTY_SIZE_MIN <= party_size <= PARTY_SIZE_MAX
    ):
        errors["party_size"] = _("来访人数应为 %(min)s 到 %(max)s 人。") % {
            "min": PARTY_SIZE_MIN,
            "max": PARTY_SIZE_MAX,
        }
    if (
        consultant is not None
        and not appointment_consultants(project=project).filter(pk=consultant.pk).exists()
    ):
        errors["consultant"] = _("请选择本项目在岗的置业顾问。")
    if source not in ("", *Source.values):
        errors["source"] = _("请选择了解项目的途径。")
    if gender not in ("", *Gender.values):
        errors["gender"] = _("性别只能是 male 或 female。")
    if vip_tier not in VipTier.values:
        errors["vip_tier"] = _("接待等级无效。")
    if channel not in BookingChannel.values:
        errors["channel"] = _("预约方式无效。")
    if consent is not True:
        errors["consent"] = _("请先阅读并同意隐私告知")
    if not project.is_active:
        errors["project"] = _("该项目已停止接受预约。")
    _raise_if(errors)
    assert clean_start is not None

    appointment = _insert_with_unique_code(
        Appointment(
            project=project,
            name=clean_name,
            gender=gender,
            phone=e164,
            start_at=clean_start,
            party_size=party_size,
            consultant=consultant,
            source=source,
            vip_tier=vip_tier,
            status=AppointmentStatus.BOOKED,
            channel=channel,
            note=clean_note,
            consent_at=now,
            created_by=by,
        ),
        by=by,
    )
    vip_tasks_create_for(appointment=appointment)
    _notify_booked(appointment, by=by)
    booking_confirmation_queue(appointment=appointment)
    return appointment


def _insert_with_unique_code(appointment: Appointment, *, by: User | None) -> Appointment:
    # 32^6 ≈ 10^9 codes, so a collision is rare; the unique index is what guarantees it, the
    # savepoint lets us try another code without losing the surrounding transaction.
    for _attempt in range(CODE_ATTEMPTS):
        appointment.code = _new_code()
        if Appointment.objects.filter(code=appointment.code).exists():
            continue
        try:
            with transaction.atomic():
                appointment._history_user = by  # type: ignore[attr-defined]
                appointment.save(force_insert=True)
        except IntegrityError:
            appointment.pk = None
            continue
        return appointment
    raise Conflict(_("暂时无法生成预约码，请稍后重试。"), code="code_unavailable")


def _front_desk_of(project: Project) -> list[User]:
    return list(staff_of_project(project=project, role=Role.FRONTDESK))


def _describe(appointment: Appointment) -> str:
    return _("%(time)s %(guest)s %(n)s 人") % {
        "time": timezone.localtime(appointment.start_at).strftime("%m-%d %H:%M"),
        "guest": public_name(appointment.name, appointment.gender),
        "n": appointment.party_size,
    }


def _notify_desk_and_consultant(
    appointment: Appointment, *, by: User | None, kind: str, title: str, body: str, webhook_url: str = ""
) -> None:
    recipients = [*_front_desk_of(appointment.project), appointment.consultant]
    notify(
        # The person who made the change knows about it already.
        recipients=[r for r in recipients if r is not None and (by is None or r.pk != by.pk)],
        kind=kind,
        title=title,
        body=body,
        url=appointment_detail_url(appointment),
        project_id=appointment.project_id,
        webhook_url=webhook_url,
    )


def _notify_booked(appointment: Appointment, *, by: User | None) -> None:
    consultant_name = appointment.consultant.display_name if appointment.consultant else _("未指定")
    _notify_desk_and_consultant(
        appointment,
        by=by,
        kind="appointment_booked",
        title=_("新预约：%(what)s") % {"what": _describe(appointment)},
        body=_("预约码 %(code)s · %(channel)s · 顾问：%(consultant)s · %(tier)s")
        % {
            "code": appointment.code,
            "channel": appointment.get_channel_display(),
            "consultant": consultant_name,
            "tier": appointment.get_vip_tier_display(),
        },
        webhook_url=project_settings_for(appointment.project).wecom_webhook_url,
    )


def _locked(appointment: Appointment) -> Appointment:
    # The row lock (PostgreSQL) or the immediate write transaction (SQLite) makes the status check
    # below and the write one step, so a cancel and a check-in at the same moment cannot both win.
    locked = (
        Appointment.objects.select_for_update(of=("self",))
        .select_related("project", "consultant")
        .filter(pk=appointment.pk)
        .first()
    )
    if locked is None:
        raise NotFound(_("预约不存在。"))
    return locked


def _require_booked(appointment: Appointment, action: str) -> None:
    if appointment.status != AppointmentStatus.BOOKED:
        raise Conflict(
            _("该预约当前为“%(status)s”，不能%(action)s。")
            % {"status": appointment.get_status_display(), "action": action},
            code="appointment_not_booked",
        )


def _require_may_change(user: User, appointment: Appointment) -> None:
    if not appointment_may_change(user=user, appointment=appointment):
        raise Forbidden(_("只能处理分配给您本人或未指定顾问的预约。"))


def _save(appointment: Appointment, *, by: User | None, reason: str, fields: list[str]) -> None:
    appointment._history_user = by  # type: ignore[attr-defined]
    appointment._change_reason = reason[:REASON_MAX_LENGTH]  # type: ignore[attr-defined]
    appointment.save(update_fields=[*fields, "updated_at"])


@transaction.atomic
def appointment_cancel(*, appointment: Appointment, by: User, reason: str) -> Appointment:
    errors: dict[str, str] = {}
    clean_reason = _clean_text(
        reason, field_name="reason", max_length=REASON_MAX_LENGTH, required=True, errors=errors
    )
    if "reason" in errors and not clean_reason:
        errors["reason"] = _("请填写取消原因。")
    _raise_if(errors)
    current = _locked(appointment)
    _require_may_change(by, current)
    _require_booked(current, _("取消"))
    current.status = AppointmentStatus.CANCELLED
    _save(current, by=by, reason=clean_reason, fields=["status"])
    _notify_desk_and_consultant(
        current,
        by=by,
        kind="appointment_cancelled",
        title=_("预约已取消：%(what)s") % {"what": _describe(current)},
        body=_("原因：%(reason)s") % {"reason": clean_reason},
    )
    return current


@transaction.atomic
def appointment_reschedule(*, appointment: Appointment, start_at: datetime, by: User) -> Appointment:
    """Move a booking; its preparation tasks keep their distance to the arrival, the reminder is re-armed."""
    current = _locked(appointment)
    _require_may_change(by, current)
    _require_booked(current, _("改期"))
    errors: dict[str, str] = {}
    clean_start = _clean_start_at(start_at, now=timezone.now(), errors=errors)
    _raise_if(errors)
    assert clean_start is not None
    delta = clean_start - current.start_at
    if not delta:
        return current
    previous = timezone.localtime(current.start_at).strftime("%m-%d %H:%M")
    current.start_at = clean_start
    current.reminder_sent_at = None
    _save(
        current,
        by=by,
        reason=_("改期，原定 %(time)s") % {"time": previous},
        fields=["start_at", "reminder_sent_at"],
    )
    vip_tasks_shift(appointment=current, delta=delta)
    _notify_desk_and_consultant(
        current,
        by=by,
        kind="appointment_rescheduled",
        title=_("预约改期：%(what)s") % {"what": _describe(current)},
        body=_("原定 %(time)s") % {"time": previous},
    )
    return current


@transaction.atomic
def appointment_mark_no_show(
    *, appointment: Appointment, by: User, now: datetime | None = None
) -> Appointment:
    current = _locked(appointment)
    _require_may_change(by, current)
    _require_booked(current, _("标记为未到访"))
    if current.start_at > (now or timezone.now()):
        raise Conflict(_("预约时间还没到，不能标记为未到访。"), code="appointment_not_due")
    current.status = AppointmentStatus.NO_SHOW
    _save(current, by=by, reason=_("未到访"), fields=["status"])
    return current


@transaction.atomic
def appointment_mark_checked_in(*, appointment: Appointment, visit_id: int) -> Appointment:
    """Called by the check-in service once the visit exists; a booking is checked in only once."""
    current = _locked(appointment)
    _require_booked(current, _("登记到访"))
    current.status = AppointmentStatus.CHECKED_IN
    _save(current, by=None, reason=_("到访登记 #%(visit)s") % {"visit": visit_id}, fields=["status"])
    return current


# --- public booking --------------------------------------------------------------------------------


def booking_client_key(ip_address: str) -> str:
    """A keyed hash of the client address: enough to count bookings, useless to identify anyone."""
    return hashlib.sha256(f"{settings.SECRET_KEY}:booking:{ip_address}".encode()).hexdigest()[:32]


def _booking_ip_take(client_key: str) -> None:
    """Count this booking against the address's hourly limit, in the booking's own transaction: a
    booking refused later (a bad field) rolls its count back, so only bookings made are counted."""
    if not rate_limit_take(
        key=f"booking-ip:{client_key}",
        limit=ONLINE_BOOKINGS_PER_IP_PER_HOUR,
        window=timedelta(seconds=ONLINE_BOOKING_IP_WINDOW_SECONDS),
    ):
        raise BookingRateLimited(_("您提交的预约次数过多，请一小时后再试，或致电售楼处预约。"))


def _active_online_bookings(*, project: Project, phone: str) -> int:
    return Appointment.objects.filter(
        project=project,
        phone=phone,
        channel=BookingChannel.ONLINE,
        status=AppointmentStatus.BOOKED,
        start_at__gte=timezone.now(),
    ).count()


@transaction.atomic
def appointment_book_online(
    *,
    project: Project,
    client_key: str,
    name: str,
    phone: str,
    start_at: datetime | None,
    party_size: int,
    consultant: User | None,
    source: str,
    consent: bool,
    gender: str = "",
) -> Appointment:
    """The public booking page: rate limits first, then the same rules as every other booking."""
    if not project.is_active:
        raise NotFound()
    _booking_ip_take(client_key)
    try:
        e164 = normalize_mainland_mobile(phone)
    except PhoneInvalid:
        e164 = ""  # appointment_create reports it together with the other fields
    if e164 and _active_online_bookings(project=project, phone=e164) >= ACTIVE_ONLINE_BOOKINGS_PER_PHONE:
        raise BookingRateLimited(
            _("该手机号在本项目已有 %(n)s 个待到访的预约，请先到访或取消后再预约。")
            % {"n": ACTIVE_ONLINE_BOOKINGS_PER_PHONE}
        )
    return appointment_create(
        project=project,
        name=name,
        gender=gender,
        phone=phone,
        start_at=start_at,  # type: ignore[arg-type]  # None is reported as a field error
        party_size=party_size,
        consultant=consultant,
        source=source,
        consent=consent,
        channel=BookingChannel.ONLINE,
    )


# --- reminders -------------------------------------------------------------------------------------


def appointment_send_reminders(now: datetime | None = None) -> int:
    """Remind the consultant (or the front desk) of bookings starting within the project's window.

    Safe to run twice or concurrently: each booking is claimed by a conditional UPDATE on
    `reminder_sent_at IS NULL`, and only the run that claimed it sends. Returns how many were sent.
    """
    now = now or timezone.now()
    sent = 0
    projects = Project.objects.filter(
        appointments__status=AppointmentStatus.BOOKED,
        appointments__reminder_sent_at__isnull=True,
        appointments__start_at__gt=now,
    ).distinct()
    for project in projects:
        minutes = project_settings_for(project).reminder_minutes_before
        if not minutes:
            continue
        due = Appointment.objects.filter(
            project=project,
            status=AppointmentStatus.BOOKED,
            reminder_sent_at__isnull=True,
            start_at__gt=now,
            start_at__lte=now + timedelta(minutes=minutes),
        ).select_related("consultant", "project")
        front_desk: list[User] | None = None
        for appointment in due:
            if appointment.consultant is None and front_desk is None:
                front_desk = _front_desk_of(project)
            if _remind(appointment, now=now, front_desk=front_desk or []):
                sent += 1
    return sent


@transaction.atomic
def _remind(appointment: Appointment, *, now: datetime, front_desk: list[User]) -> bool:
    claimed = Appointment.objects.filter(
        pk=appointment.pk, status=AppointmentStatus.BOOKED, reminder_sent_at__isnull=True
    ).update(reminder_sent_at=now)
    if claimed != 1:
        return False
    recipients = [appointment.consultant] if appointment.consultant else front_desk
    notify(
        recipients=recipients,
        kind="appointment_reminder",
        title=_("预约提醒：%(what)s") % {"what": _describe(appointment)},
        body=_("预约码 %(code)s · %(tier)s")
        % {"code": appointment.code, "tier": appointment.get_vip_tier_display()},
        url=appointment_detail_url(appointment),
        project_id=appointment.project_id,
    )
    booking_reminder_queue(appointment=appointment)
    return True
