from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from anchang.accounts.models import User
from anchang.accounts.navigation import project_page
from anchang.core.errors import DomainError, NotFound
from anchang.inventory.models import Project, ProjectSettings
from anchang.reception.models import VipTaskTemplate, VipTier
from anchang.reception.project_settings import services
from anchang.reception.project_settings.forms import (
    SECTION_BY_KEY,
    SECTIONS,
    SettingsSectionForm,
    VipTaskAddForm,
    VipTaskForm,
)
from anchang.reception.project_settings.selectors import settings_changes_recent
from anchang.reception.vip import VIP_TIERS, vip_templates_ensure_defaults


def _user(request: HttpRequest) -> User:
    return request.user  # type: ignore[return-value]


def _manager_project(request: HttpRequest, project_id: int) -> Project:
    return project_page(request, project_id, allowed=_user(request).is_site_manager)


def _settings_of(project: Project) -> ProjectSettings:
    return ProjectSettings.objects.get_or_create(project=project)[0]


def _add_errors(form: VipTaskForm | SettingsSectionForm, error: DomainError) -> None:
    for field, message in error.fields.items():
        form.add_error(field if field in form.fields else None, message)
    if not error.fields:
        form.add_error(None, error.message)


def _settings_page(
    request: HttpRequest, project: Project, bound: SettingsSectionForm | None = None, status: int = 200
) -> HttpResponse:
    settings = _settings_of(project)
    forms = [
        bound
        if bound is not None and bound.section.key == section.key
        else SettingsSectionForm(section=section, settings=settings)
        for section in SECTIONS
    ]
    context = {
        "project": project,
        "settings": settings,
        "forms": forms,
        "changes": settings_changes_recent(project=project),
        "active_nav": "settings",
    }
    return render(request, "reception/project_settings/settings.html", context, status=status)


@login_required
def settings_page(request: HttpRequest, project_id: int) -> HttpResponse:
    """项目设置: the project's rules in sections, each saved on its own, and the recent changes."""
    project = _manager_project(request, project_id)
    if request.method != "POST":
        return _settings_page(request, project)
    section = SECTION_BY_KEY.get(request.POST.get("section", ""))
    if section is None:
        messages.error(request, _("请选择要保存的设置。"))
        return redirect("project_settings:page", project_id=project.pk)
    form = SettingsSectionForm(request.POST, section=section, settings=_settings_of(project))
    if form.is_valid():
        try:
            services.project_settings_update(project=project, by=_user(request), changes=form.cleaned_data)
        except DomainError as error:
            _add_errors(form, error)
        else:
            messages.success(request, _("%(section)s已保存。") % {"section": section.title})
            return redirect(f"{request.path}#{section.key}")
    return _settings_page(request, project, bound=form, status=400)


def _vip_page(
    request: HttpRequest,
    project: Project,
    bound: VipTaskForm | None = None,
    bound_id: int | None = None,
    status: int = 200,
) -> HttpResponse:
    templates = list(VipTaskTemplate.objects.filter(project=project).order_by("tier", "sort_order", "pk"))
    tiers = []
    for tier in VIP_TIERS:
        rows = [
            (
                row,
                bound
                if bound_id == row.pk and bound is not None
                else VipTaskForm(
                    prefix=f"t{row.pk}",
                    initial={
                        "title": row.title,
                        "assignee_role": row.assignee_role,
                        "minutes_before": row.minutes_before,
                    },
                ),
            )
            for row in templates
            if row.tier == tier
        ]
        add_form = (
            bound
            if bound_id is None
            and isinstance(bound, VipTaskAddForm)
            and bound.data.get(f"add{tier}-tier") == tier
            else VipTaskAddForm(prefix=f"add{tier}", initial={"tier": tier, "minutes_before": 30})
        )
        tiers.append({"tier": tier, "label": VipTier(tier).label, "rows": rows, "add_form": add_form})
    context = {"project": project, "tiers": tiers, "active_nav": "settings"}
    return render(request, "reception/project_settings/vip.html", context, status=status)


@login_required
def vip_templates_page(request: HttpRequest, project_id: int) -> HttpResponse:
    """贵宾接待准备清单: each tier's tasks, edited in place, with one form to add a task per tier."""
    project = _manager_project(request, project_id)
    # The editor shows the project's own checklist; a project that never booked a VIP gets the
    # defaults copied now, exactly as its first VIP booking would (idempotent: later calls add nothing).
    vip_templates_ensure_defaults(project=project)
    return _vip_page(request, project)


@login_required
@require_POST
def vip_template_add(request: HttpRequest, project_id: int) -> HttpResponse:
    project = _manager_project(request, project_id)
    tier = request.POST.get("tier", "")
    form = VipTaskAddForm(request.POST, prefix=f"add{tier}") if tier in VIP_TIERS else None
    if form is None:
        messages.error(request, _("请选择贵宾级别。"))
        return redirect("project_settings:vip", project_id=project.pk)
    if form.is_valid():
        try:
            services.vip_template_add(
                project=project,
                by=_user(request),
                tier=tier,
                title=form.cleaned_data["title"],
                assignee_role=form.cleaned_data["assignee_role"],
                minutes_before=form.cleaned_data["minutes_before"],
            )
        except DomainError as error:
            _add_errors(form, error)
        else:
            messages.success(request, _("准备事项已添加。"))
            return redirect("project_settings:vip", project_id=project.pk)
    return _vip_page(request, project, bound=form, status=400)


@login_required
@require_POST
def vip_template_edit(request: HttpRequest, project_id: int, template_id: int) -> HttpResponse:
    project = _manager_project(request, project_id)
    form = VipTaskForm(request.POST, prefix=f"t{template_id}")
    if form.is_valid():
        try:
            services.vip_template_update(
                project=project,
                by=_user(request),
                template_id=template_id,
                title=form.cleaned_data["title"],
                assignee_role=form.cleaned_data["assignee_role"],
                minutes_before=form.cleaned_data["minutes_before"],
            )
        except DomainError as error:
            if isinstance(error, NotFound):
                raise Http404 from error
            _add_errors(form, error)
        else:
            messages.success(request, _("准备事项已保存。"))
            return redirect("project_settings:vip", project_id=project.pk)
    return _vip_page(request, project, bound=form, bound_id=template_id, status=400)


@login_required
@require_POST
def vip_template_delete(request: HttpRequest, project_id: int, template_id: int) -> HttpResponse:
    project = _manager_project(request, project_id)
    try:
        services.vip_template_delete(project=project, by=_user(request), template_id=template_id)
    except DomainError as error:
        if isinstance(error, NotFound):
            raise Http404 from error
        messages.error(request, error.message)
        return redirect("project_settings:vip", project_id=project.pk)
    messages.success(request, _("准备事项已删除。"))
    return redirect("project_settings:vip", project_id=project.pk)
