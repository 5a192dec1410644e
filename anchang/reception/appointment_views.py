"""Appointment pages: the public booking page (no login) and the staff calendar. HTTP only."""

from datetime import date, timedelta

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from anchang.accounts.models import Role, User
from anchang.accounts.navigation import project_page
from anchang.core.audit import client_ip
from anchang.core.errors import DomainError, NotFound
from anchang.core.forms import apply_domain_error
from anchang.core.http import redirect_back
from anchang.customers.selectors import customer_with_phone_visible_to
from anchang.inventory.models import Project
from anchang.reception import appointments as svc
from anchang.reception import vip
from anchang.reception.appointment_forms import (
    BOOKING_DAYS_AHEAD,
    AppointmentFilterForm,
    CancelForm,
    PublicBookingForm,
    RescheduleForm,
    StaffAppointmentForm,
)
from anchang.reception.models import Appointment, AppointmentStatus

SESSION_BOOKED_KEY = "booked_appointments"
# How many of their own bookings a browser can reopen (the success page is not public).
SESSION_BOOKED_KEEP = 10
WEEK_DAYS = 7

_PUBLIC_FIELD_MAP = {"start_at": "slot"}
_STAFF_FIELD_MAP = {"start_at": "at"}


def _user(request: HttpRequest) -> User:
    return request.user  # type: ignore[return-value]


def _day_url(appointment: Appointment) -> str:
    day = timezone.localtime(appointment.start_at).date()
    return f"{reverse('appointments:day', args=[appointment.project_id])}?date={day.isoformat()}"


# --- public booking --------------------------------------------------------------------------------


def public_booking(request: HttpRequest, project_code: str) -> HttpResponse:
    project = svc.booking_project_for(code=project_code)
    if project is None:
        raise Http404
    consultants = list(svc.appointment_consultants(project=project))
    form = PublicBookingForm(
        request.POST if request.method == "POST" else None,
        consultants=consultants,
        now=timezone.now(),
    )
    if request.method == "POST" and form.is_valid():
        try:
            appointment = svc.appointment_book_online(
                project=project,
                client_key=svc.booking_client_key(client_ip(request) or "unknown"),
                name=form.cleaned_data["name"],
                gender=form.cleaned_data["gender"],
                phone=form.cleaned_data["phone"],
                start_at=form.start_at(),
                party_size=form.cleaned_data["party_size"],
                consultant=form.chosen_consultant(),
                source=form.cleaned_data["source"],
                consent=form.cleaned_data["consent"],
            )
        except svc.BookingRateLimited as error:
            return render(
                request,
                "reception/booking/limited.html",
                {"project": project, "message": error.message},
                status=error.status,
            )
        except NotFound:
            raise Http404 from None
        except DomainError as error:
            apply_domain_error(form, error, _PUBLIC_FIELD_MAP)
        else:
            booked = [pk for pk in request.session.get(SESSION_BOOKED_KEY, []) if isinstance(pk, int)]
            request.session[SESSION_BOOKED_KEY] = [*booked, appointment.pk][-SESSION_BOOKED_KEEP:]
            return redirect("appointments:booked", project_code=project.code, code=appointment.code)
    return render(
        request,
        "reception/booking/book.html",
        {"project": project, "form": form, "days_ahead": BOOKING_DAYS_AHEAD},
    )


def public_booking_slots(request: HttpRequest, project_code: str) -> HttpResponse:
    """The time list for the day just picked on the booking page (swapped in by htmx)."""
    project = svc.booking_project_for(code=project_code)
    if project is None:
        raise Http404
    form = PublicBookingForm(initial={"day": request.GET.get("day", "")}, consultants=[], now=timezone.now())
    return render(request, "reception/booking/_slot_field.html", {"form": form, "project": project})


def public_booking_done(request: HttpRequest, project_code: str, code: str) -> HttpResponse:
    project = svc.booking_project_for(code=project_code)
    booked = request.session.get(SESSION_BOOKED_KEY, [])
    appointment = Appointment.objects.filter(project=project, code=code.upper()).first() if project else None
    if appointment is None or appointment.pk not in booked:
        raise Http404
    return render(
        request,
        "reception/booking/done.html",
        {
            "project": project,
            "appointment": appointment,
            "qr_data_uri": svc.appointment_qr_data_uri(code=appointment.code),
        },
    )


# --- staff calendar --------------------------------------------------------------------------------


def _staff_project(request: HttpRequest, project_id: int) -> Project:
    return project_page(request, project_id, allowed=svc.may_use_appointments(_user(request)))


def _staff_appointment(request: HttpRequest, appointment_id: int) -> Appointment:
    appointment = svc.appointment_visible_to(user=_user(request), appointment_id=appointment_id)
    if appointment is None:
        raise Http404
    return appointment


def _calendar_filters(request: HttpRequest) -> tuple[date, User | None]:
    """The day asked for (today by default) and, for a consultant who asked, only their bookings."""
    user = _user(request)
    filters = AppointmentFilterForm(request.GET or None)
    day = filters.day(default=timezone.localdate())
    mine = user if user.role == Role.CONSULTANT and filters.only_mine() else None
    return day, mine


@login_required
def appointment_day(request: HttpRequest, project_id: int) -> HttpResponse:
    project = _staff_project(request, project_id)
    user = _user(request)
    day, mine = _calendar_filters(request)
    appointments = list(svc.appointment_list_for_day(project=project, day=day, consultant=mine))
    return render(
        request,
        "reception/appointments/day.html",
        {
            "project": project,
            "day": day,
            "previous_day": day - timedelta(days=1),
            "next_day": day + timedelta(days=1),
            "today": timezone.localdate(),
            "mine": mine is not None,
            "is_consultant": user.role == Role.CONSULTANT,
            "rows": svc.appointment_rows_for(viewer=user, appointments=appointments),
            "active_nav": "appointments",
        },
    )


@login_required
def appointment_week(request: HttpRequest, project_id: int) -> HttpResponse:
    project = _staff_project(request, project_id)
    user = _user(request)
    first_day, mine = _calendar_filters(request)
    start, _end = vip.local_day_bounds(first_day)
    end = vip.local_day_bounds(first_day + timedelta(days=WEEK_DAYS - 1))[1]
    appointments = list(svc.appointment_list_between(project=project, start=start, end=end, consultant=mine))
    rows = svc.appointment_rows_for(viewer=user, appointments=appointments)
    days = [first_day + timedelta(days=n) for n in range(WEEK_DAYS)]
    by_day: dict[date, list[svc.AppointmentRow]] = {d: [] for d in days}
    for row in rows:
        by_day[timezone.localtime(row.appointment.start_at).date()].append(row)
    return render(
        request,
        "reception/appointments/week.html",
        {
            "project": project,
            "first_day": first_day,
            "previous_week": first_day - timedelta(days=WEEK_DAYS),
            "next_week": first_day + timedelta(days=WEEK_DAYS),
            "today": timezone.localdate(),
            "mine": mine is not None,
            "is_consultant": user.role == Role.CONSULTANT,
            "week": list(by_day.items()),
            "active_nav": "appointments",
        },
    )


@login_required
def appointment_new(request: HttpRequest, project_id: int) -> HttpResponse:
    project = _staff_project(request, project_id)
    user = _user(request)
    consultants = svc.appointment_consultants(project=project)
    initial = {"day": timezone.localdate(), "consultant": user.pk if user.role == Role.CONSULTANT else None}
    form = StaffAppointmentForm(
        request.POST if request.method == "POST" else None, consultants=consultants, initial=initial
    )
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            appointment = svc.appointment_create(
                project=project,
                name=data["name"],
                gender=data["gender"],
                phone=data["phone"],
                start_at=form.start_at(),
                party_size=data["party_size"],
                consultant=data["consultant"],
                source=data["source"],
                vip_tier=data["vip_tier"],
                note=data["note"],
                consent=data["consent"],
                channel=svc.booking_channel_for(user),
                by=user,
            )
        except DomainError as error:
            apply_domain_error(form, error, _STAFF_FIELD_MAP)
        else:
            messages.success(request, _("已预约，预约码 %(code)s。") % {"code": appointment.code})
            return redirect("appointments:detail", appointment_id=appointment.pk)
    return render(
        request,
        "reception/appointments/form.html",
        {"project": project, "form": form, "active_nav": "appointments"},
    )


@login_required
def appointment_detail(request: HttpRequest, appointment_id: int) -> HttpResponse:
    appointment = _staff_appointment(request, appointment_id)
    user = _user(request)
    row = svc.appointment_rows_for(viewer=user, appointments=[appointment])[0]
    history = svc.appointment_changes(appointment=appointment)
    return render(
        request,
        "reception/appointments/detail.html",
        {
            "project": appointment.project,
            "row": row,
            "appointment": appointment,
            "history": history,
            "is_booked": appointment.status == AppointmentStatus.BOOKED,
            "visit": svc.appointment_visit(appointment=appointment),
            "customer": customer_with_phone_visible_to(
                user=user, project_id=appointment.project_id, phone=appointment.phone
            ),
            "active_nav": "appointments",
        },
    )


@login_required
def appointment_cancel(request: HttpRequest, appointment_id: int) -> HttpResponse:
    appointment = _staff_appointment(request, appointment_id)
    form = CancelForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        try:
            svc.appointment_cancel(
                appointment=appointment, by=_user(request), reason=form.cleaned_data["reason"]
            )
        except DomainError as error:
            if error.fields:
                apply_domain_error(form, error, {})
            else:
                messages.error(request, error.message)
                return redirect_back(request, _day_url(appointment))
        else:
            messages.success(request, _("预约 %(code)s 已取消。") % {"code": appointment.code})
            return redirect_back(request, _day_url(appointment))
    return render(
        request,
        "reception/appointments/cancel.html",
        {
            "project": appointment.project,
            "appointment": appointment,
            "form": form,
            "next": request.GET.get("next") or request.POST.get("next", ""),
            "active_nav": "appointments",
        },
        status=400 if form.errors else 200,
    )


@login_required
def appointment_reschedule(request: HttpRequest, appointment_id: int) -> HttpResponse:
    appointment = _staff_appointment(request, appointment_id)
    local = timezone.localtime(appointment.start_at)
    form = RescheduleForm(
        request.POST if request.method == "POST" else None,
        initial={"day": local.date(), "at": local.time().replace(second=0, microsecond=0)},
    )
    if request.method == "POST" and form.is_valid():
        try:
            svc.appointment_reschedule(appointment=appointment, start_at=form.start_at(), by=_user(request))
        except DomainError as error:
            if error.fields:
                apply_domain_error(form, error, _STAFF_FIELD_MAP)
            else:
                messages.error(request, error.message)
                return redirect("appointments:detail", appointment_id=appointment.pk)
        else:
            messages.success(request, _("已改期。"))
            return redirect("appointments:detail", appointment_id=appointment.pk)
    return render(
        request,
        "reception/appointments/reschedule.html",
        {
            "project": appointment.project,
            "appointment": appointment,
            "form": form,
            "active_nav": "appointments",
        },
        status=400 if form.errors else 200,
    )


@login_required
@require_POST
def appointment_no_show(request: HttpRequest, appointment_id: int) -> HttpResponse:
    appointment = _staff_appointment(request, appointment_id)
    try:
        svc.appointment_mark_no_show(appointment=appointment, by=_user(request))
    except DomainError as error:
        messages.error(request, error.message)
    else:
        messages.success(request, _("预约 %(code)s 已标记为未到访。") % {"code": appointment.code})
    return redirect_back(request, _day_url(appointment))


# --- VIP preparation -------------------------------------------------------------------------------


@login_required
def vip_task_list(request: HttpRequest, project_id: int) -> HttpResponse:
    """Today's preparation tasks: one's own role's, or every role's for the supervisors."""
    user = _user(request)
    project = project_page(request, project_id, allowed=vip.may_see_task_list(user))
    role = None if user.sees_all_projects or user.role in vip.SUPERVISING_ROLES else user.role
    now = timezone.now()
    today = list(vip.vip_tasks_for_role_on(project=project, day=timezone.localdate(), role=role))
    overdue = list(vip.vip_tasks_overdue(project=project, role=role, now=now))
    return render(
        request,
        "reception/appointments/vip_tasks.html",
        {
            "project": project,
            "today_rows": vip.vip_task_rows(tasks=today, viewer=user, now=now),
            "overdue_rows": vip.vip_task_rows(tasks=overdue, viewer=user, now=now),
            "role_label": vip.role_label(role) if role else "",
            "active_nav": "vip_tasks",
        },
    )


@login_required
@require_POST
def vip_task_done(request: HttpRequest, task_id: int) -> HttpResponse:
    user = _user(request)
    task = vip.vip_task_visible_to(user=user, task_id=task_id)
    if task is None:
        raise Http404
    try:
        vip.vip_task_complete(task=task, by=user)
    except DomainError as error:
        if not getattr(request, "htmx", False):
            messages.error(request, error.message)
            return redirect_back(
                request, reverse("appointments:vip_tasks", args=[task.appointment.project_id])
            )
        return HttpResponse(error.message, status=error.status)
    if getattr(request, "htmx", False):
        row = vip.vip_task_rows(tasks=[task], viewer=user)[0]
        return render(request, "reception/appointments/_vip_task.html", {"task_row": row, "next": ""})
    return redirect_back(request, reverse("appointments:vip_tasks", args=[task.appointment.project_id]))
