from contextlib import suppress
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from anchang.accounts.models import Role, User
from anchang.accounts.navigation import project_page
from anchang.core.errors import DomainError, NotFound
from anchang.customers.selectors import customer_search
from anchang.inventory.models import Project
from anchang.reception import rotation, selectors
from anchang.reception.appointments import CODE_LENGTH
from anchang.reception.checkout_views import checkout_context
from anchang.reception.forms import CheckInForm, OverrideForm, RotationActionForm
from anchang.reception.models import Visit, VisitState
from anchang.reception.needs.views import needs_context, recommendations_context
from anchang.reception.preview import check_in_preview
from anchang.reception.registration import visit_registration_refresh
from anchang.reception.services import attribution_override, check_in, visit_take_over
from anchang.reception.stations import DESK_ROLES, is_desk, visit_for_stations, visit_stations_context
from anchang.reception.teams.queues import queue_groups


def _user(request: HttpRequest) -> User:
    return request.user  # type: ignore[return-value]


def _project(request: HttpRequest, project_id: int, roles: tuple[str, ...]) -> Project:
    user = _user(request)
    return project_page(request, project_id, allowed=user.role in roles or user.sees_all_projects)


def _desk_context(project: Project) -> dict[str, object]:
    in_progress = list(selectors.visits_in_progress(project=project))
    return {
        "queue": selectors.queue_for(project=project),
        "waiting": selectors.waiting_minutes([v for v in in_progress if v.state == VisitState.WAITING]),
        "receiving": [v for v in in_progress if v.state == VisitState.RECEIVING],
        "appointments": selectors.appointments_today(project=project),
    }


# Service field names that the desk form shows under another field.
_CHECKIN_FIELD = {
    "phone": "phone_or_code",
    "appointment_code": "phone_or_code",
    "designated_consultant_id": "designated_consultant",
    "household_of_id": None,
    "area_min": "area_band",
    "area_max": "area_band",
}


@login_required
def checkin(request: HttpRequest, project_id: int) -> HttpResponse:
    project = _project(request, project_id, DESK_ROLES)
    consultants = selectors.project_consultants(project=project)
    form = CheckInForm(request.POST or None, consultants=consultants, initial={"consent": False})
    result = None
    status = 200
    if request.method == "POST":
        if form.is_valid():
            data = form.cleaned_data
            value = data["phone_or_code"].strip()
            try:
                result = check_in(
                    project=project,
                    by=_user(request),
                    consent=data["consent"],
                    name=data["name"],
                    gender=data["gender"],
                    party_size=data["party_size"],
                    source=data["source"],
                    designated_consultant_id=data["designated_consultant"],
                    household_of_id=data["household_of"],
                    needs=form.needs_values() or None,
                    **({"appointment_code": value} if form.looks_like_code() else {"phone": value}),
                )
            except DomainError as error:
                status = error.status if error.status != 404 else 400
                for field, message in error.fields.items():
                    form.add_error(
                        _CHECKIN_FIELD.get(field, field if field in form.fields else None), message
                    )
                if not error.fields:
                    form.add_error(None, error.message)
            else:
                form = CheckInForm(consultants=consultants)
        else:
            status = 400
    context = {
        "project": project,
        "form": form,
        "result": result,
        "active_nav": "checkin",
        "override_form": OverrideForm(consultants=consultants) if result else None,
        **_desk_context(project),
    }
    return render(request, "reception/checkin.html", context, status=status)


def _looks_like_phone(value: str) -> bool:
    return len(value) >= 11 and value.replace(" ", "").replace("-", "").lstrip("+").isdigit()


@login_required
def checkin_preview(request: HttpRequest, project_id: int) -> HttpResponse:
    """As the desk types: a booking code shows who is booked; a phone (or a booking) what judging
    would decide and, for the queue, who is next. Answers with the previous result cleared."""
    project = _project(request, project_id, DESK_ROLES)
    value = request.GET.get("phone_or_code", "").strip()
    designated = request.GET.get("designated_consultant") or None
    designated_id = int(designated) if designated and designated.isdigit() else None
    phone = value if _looks_like_phone(value) else ""
    # A code is looked up once it is whole: half-typed, it would only say "not found".
    code = value if len(value) >= CODE_LENGTH and not phone and CheckInForm.is_code_shaped(value) else ""
    preview, error = None, None
    if phone or code:
        try:
            preview = check_in_preview(
                project=project, phone=phone, appointment_code=code, designated_consultant_id=designated_id
            )
        except DomainError as problem:
            error = next(iter(problem.fields.values()), problem.message)
    context = {
        "decision": preview.decision if preview else None,
        "error": error,
        "value": value,
        "appointment": preview.appointment if preview else None,
        "next_up": preview.next_up if preview else None,
        "team_turn": preview.team_turn if preview else None,
    }
    return render(request, "reception/_judging_preview.html", context)


@login_required
def checkin_family_search(request: HttpRequest, project_id: int) -> HttpResponse:
    """ "First time here?" — find the family member who registered before (name, 拼音, last 4 digits)."""
    project = _project(request, project_id, DESK_ROLES)
    query = request.GET.get("q", "")
    results = customer_search(project=project, q=query, limit=10)
    return render(request, "reception/_family_results.html", {"results": results, "query": query})


@login_required
def desk_live(request: HttpRequest, project_id: int) -> HttpResponse:
    project = _project(request, project_id, DESK_ROLES)
    return render(request, "reception/_desk_live.html", {"project": project, **_desk_context(project)})


def _visit_for(request: HttpRequest, visit_id: int) -> Visit:
    try:
        return visit_for_stations(user=_user(request), visit_id=visit_id)
    except NotFound:
        raise Http404 from None


@login_required
def visit_detail(request: HttpRequest, visit_id: int) -> HttpResponse:
    """The visit page: the consultant's screen during a tour, the desk's record afterwards."""
    visit = _visit_for(request, visit_id)
    user = _user(request)
    desk = is_desk(user)
    context: dict[str, object] = {
        "visit": visit,
        "project": visit.project,
        "attributions": visit.attributions.select_related("consultant", "decided_by").order_by(
            "decided_at", "pk"
        ),
        "override_form": OverrideForm(consultants=selectors.project_consultants(project=visit.project))
        if desk
        else None,
        "can_see_phone": user.pk == visit.customer.owner_id,
        "can_take_over": visit.covering_for_id == user.pk
        and visit.state in (VisitState.WAITING, VisitState.RECEIVING),
        "can_open_customer": desk or user.pk == visit.customer.owner_id,
        "active_nav": "checkin" if desk else "home",
        **checkout_context(visit=visit, viewer=user),
    }
    # The tour, the needs and the recommendations are for whoever may work on this customer.
    for build in (visit_stations_context, needs_context, recommendations_context):
        with suppress(NotFound):
            context.update(build(visit=visit, viewer=user))
    return render(request, "reception/visit_detail.html", context)


@login_required
@require_POST
def visit_override_view(request: HttpRequest, visit_id: int) -> HttpResponse:
    visit = _visit_for(request, visit_id)
    form = OverrideForm(request.POST, consultants=selectors.project_consultants(project=visit.project))
    if form.is_valid():
        try:
            attribution_override(
                visit_id=visit.pk,
                consultant_id=form.cleaned_data["consultant"],
                by=_user(request),
                reason=form.cleaned_data["reason"],
            )
        except DomainError as error:
            messages.error(request, next(iter(error.fields.values()), error.message))
        else:
            messages.success(request, _("已改派。"))
    else:
        messages.error(request, _("请选择顾问并填写改派原因。"))
    return redirect("reception:visit", visit_id=visit.pk)


@login_required
@require_POST
def visit_registration_view(request: HttpRequest, visit_id: int) -> HttpResponse:
    """The needs were just saved on the visit page: the completeness flag is worked out again."""
    visit = visit_registration_refresh(visit_id=_visit_for(request, visit_id).pk)
    return render(request, "reception/_registration_badge.html", {"visit": visit})


@login_required
@require_POST
def visit_take_over_view(request: HttpRequest, visit_id: int) -> HttpResponse:
    visit = _visit_for(request, visit_id)
    try:
        visit_take_over(visit_id=visit.pk, by=_user(request))
    except NotFound:
        raise Http404 from None
    except DomainError as error:
        messages.error(request, error.message)
        return redirect("reception:visit", visit_id=visit.pk)
    messages.success(request, _("已接手，请到前台迎接客户。"))
    return redirect("reception:visit", visit_id=visit.pk)


@login_required
def hall_board(request: HttpRequest, project_id: int) -> HttpResponse:
    project = _project(request, project_id, (*DESK_ROLES, Role.CONSULTANT, Role.ATTENDANT))
    context = {
        "project": project,
        "vip_arrivals": selectors.vip_arrivals_today(project=project),
        **_desk_context(project),
    }
    template = "reception/_hall_live.html" if getattr(request, "htmx", False) else "reception/hall_board.html"
    return render(request, template, context)


@login_required
def rotation_page(request: HttpRequest, project_id: int) -> HttpResponse:
    project = _project(request, project_id, (*DESK_ROLES, Role.CONSULTANT))
    user = _user(request)
    if request.method == "POST":
        form = RotationActionForm(request.POST)
        if form.is_valid():
            _rotation_action(request, project, user, form.cleaned_data)
        else:
            messages.error(request, _("操作无效，请重试。"))
        return redirect("reception:rotation", project_id=project.pk)
    queue = selectors.queue_for(project=project)
    signed_in = {e.consultant_id for e in queue}
    context = {
        "project": project,
        "queue": queue,
        # One list, or in team mode one per team with its own positions.
        "groups": queue_groups(entries=queue, settings=project.settings),
        "active_nav": "rotation",
        "not_signed_in": [c for c in selectors.project_consultants(project=project) if c.pk not in signed_in],
        "can_manage": user.is_site_manager,
        "my_entry": next((e for e in queue if e.consultant_id == user.pk), None),
    }
    return render(request, "reception/rotation.html", context)


def _rotation_action(request: HttpRequest, project: Project, user: User, data: dict[str, Any]) -> None:
    consultant = User.objects.filter(pk=data["consultant"], memberships__project=project).first()
    if consultant is None:
        messages.error(request, _("该顾问不在本项目。"))
        return
    action, reason = str(data["action"]), str(data.get("reason") or "")
    try:
        if action == "sign_in":
            rotation.rotation_sign_in(project=project, consultant=consultant, by=user)
        elif action in ("waiting", "away", "off"):
            rotation.rotation_set_state(
                project=project, consultant=consultant, state=action, by=user, reason=reason
            )
        elif action == "lost_turn":
            rotation.rotation_lost_turn(project=project, consultant=consultant, by=user, reason=reason)
        elif action == "move":
            rotation.rotation_move(
                project=project,
                consultant=consultant,
                to_index=int(data.get("to_index") or 0),
                by=user,
                reason=reason,
            )
    except DomainError as error:
        messages.error(request, next(iter(error.fields.values()), error.message))
    else:
        messages.success(request, _("轮排已更新。"))
