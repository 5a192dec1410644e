from urllib.parse import quote

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from anchang.accounts.models import User
from anchang.accounts.navigation import project_page
from anchang.accounts.selectors import project_visible_to
from anchang.core.errors import DomainError
from anchang.inventory import importing
from anchang.inventory.forms import BoardFilterForm, UnitImportForm, UnitStatusForm
from anchang.inventory.models import Building, Project, Unit
from anchang.inventory.selectors import board_for, unit_status_summary
from anchang.inventory.services import unit_change_status
from anchang.inventory.status import can_change_by_hand


def _project_for(request: HttpRequest, project_id: int, perm: str) -> Project:
    return project_page(request, project_id, allowed=request.user.has_perm(perm))


@login_required
def board(request: HttpRequest, project_id: int) -> HttpResponse:
    project = _project_for(request, project_id, "inventory.view_board")
    buildings = list(Building.objects.filter(project=project).order_by("sort_order", "name"))
    form = BoardFilterForm(request.GET or None, project=project, buildings=buildings)
    filters = form.to_filters()
    context = {
        "project": project,
        "form": form,
        "filters": filters,
        "board": board_for(project=project, filters=filters),
        "summary": unit_status_summary(project=project),
        "active_nav": "board",
        "highlight": request.GET.get("unit"),
    }
    template = "inventory/_board_live.html" if getattr(request, "htmx", False) else "inventory/board.html"
    return render(request, template, context)


def _unit_for(request: HttpRequest, unit_id: int) -> Unit:
    unit = Unit.objects.select_related("building", "project").filter(pk=unit_id).first()
    user: User = request.user  # type: ignore[assignment]
    if unit is None or project_visible_to(user=user, project_id=unit.project_id) is None:
        raise Http404
    if not user.has_perm("inventory.view_board"):
        raise Http404
    return unit


@login_required
def unit_detail(request: HttpRequest, unit_id: int) -> HttpResponse:
    unit = _unit_for(request, unit_id)
    user: User = request.user  # type: ignore[assignment]
    history = unit.history.select_related("history_user").order_by("-history_date")[:20]
    can_hold = user.has_perm("inventory.hold_unit")
    form = UnitStatusForm()
    form.fields["status"].choices = [  # type: ignore[attr-defined]
        (choice, label)
        for choice, label in form.fields["status"].choices  # type: ignore[attr-defined]
        # Holds, subscriptions and contracts are done in the deals panel below, never by hand here.
        if can_change_by_hand(unit.status, choice)
    ]
    return render(
        request,
        "inventory/unit_detail.html",
        {
            "unit": unit,
            "history": history,
            "project": unit.project,
            "can_change": can_hold,
            "form": form,
            "active_nav": "board",
        },
    )


@login_required
@require_POST
def unit_status_change(request: HttpRequest, unit_id: int) -> HttpResponse:
    unit = _unit_for(request, unit_id)
    user: User = request.user  # type: ignore[assignment]
    if not user.has_perm("inventory.hold_unit"):
        raise Http404
    form = UnitStatusForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("请选择新状态并填写原因。"))
        return redirect("inventory:unit", unit_id=unit.pk)
    try:
        unit_change_status(
            unit_id=unit.pk,
            to_status=form.cleaned_data["status"],
            by=user,
            reason=form.cleaned_data["reason"],
        )
    except DomainError as error:
        messages.error(request, error.message)
    else:
        messages.success(request, _("房源状态已更新。"))
    return redirect("inventory:unit", unit_id=unit.pk)


@login_required
def unit_import(request: HttpRequest, project_id: int) -> HttpResponse:
    project = _project_for(request, project_id, "inventory.import_units")
    user: User = request.user  # type: ignore[assignment]
    form = UnitImportForm(request.POST or None, request.FILES or None)
    errors: list[importing.RowError] = []
    if request.method == "POST" and form.is_valid():
        try:
            created = importing.units_import(project=project, upload=form.cleaned_data["file"], by=user)
        except importing.UnitImportRejected as rejected:
            errors = rejected.errors
            form.add_error("file", rejected.message)
        else:
            messages.success(request, _("已导入 %(n)s 套房源。") % {"n": created})
            return redirect("inventory:board", project_id=project.pk)
    status = 400 if request.method == "POST" and not form.is_valid() else 200
    return render(
        request,
        "inventory/import.html",
        {
            "project": project,
            "form": form,
            "errors": errors,
            "active_nav": "import",
            "columns": importing.COLUMNS,
        },
        status=status,
    )


@login_required
def unit_import_template_download(request: HttpRequest, project_id: int) -> HttpResponse:
    project = _project_for(request, project_id, "inventory.import_units")
    response = HttpResponse(
        importing.unit_import_template(project=project),
        content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    )
    response["Content-Disposition"] = (
        f"attachment; filename*=UTF-8''{quote(f'{project.name}-房源导入模板.xlsx')}"
    )
    return response
