"""Pages for the tour route: the consultant's station screen, managers' route editing, 动线合规."""

from datetime import date
from typing import Any

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from anchang.accounts.models import User
from anchang.accounts.navigation import project_page
from anchang.core.errors import DomainError, NotFound
from anchang.inventory.models import Project
from anchang.reception import stations
from anchang.reception.models import Station


def _user(request: HttpRequest) -> User:
    return request.user  # type: ignore[return-value]


def _is_htmx(request: HttpRequest) -> bool:
    return bool(getattr(request, "htmx", False))


def _managed_project(request: HttpRequest, project_id: int) -> Project:
    return project_page(request, project_id, allowed=stations.can_manage_stations(_user(request)))


def _managed_station(request: HttpRequest, station_id: int) -> Station:
    try:
        return stations.station_managed_by(user=_user(request), station_id=station_id)
    except NotFound:
        raise Http404 from None


# --- forms --------------------------------------------------------------------------------------------


class StationForm(forms.ModelForm):
    class Meta:
        model = Station
        fields = [
            "name",
            "code",
            "purpose",
            "key_points",
            "required_on_first_visit",
            "is_risk_disclosure",
            "in_return_route",
            "in_owner_route",
        ]
        widgets = {
            "name": forms.TextInput(attrs={"class": "form-control"}),
            "code": forms.TextInput(attrs={"class": "form-control", "autocapitalize": "off"}),
            "purpose": forms.TextInput(attrs={"class": "form-control"}),
            "key_points": forms.Textarea(attrs={"class": "form-control", "rows": 6}),
            "required_on_first_visit": forms.CheckboxInput(attrs={"class": "form-check-input"}),
            "is_risk_disclosure": forms.CheckboxInput(attrs={"class": "form-check-input"}),
            "in_return_route": forms.CheckboxInput(attrs={"class": "form-check-input"}),
            "in_owner_route": forms.CheckboxInput(attrs={"class": "form-check-input"}),
        }
        help_texts = {
            "code": gettext_lazy(
                "英文字母、数字或连字符，如 showflat；创建后不能修改（接口用它勾选讲解点）。"
            ),
            "key_points": gettext_lazy("每行一条，建议 3–5 条。"),
        }

    def __init__(self, *args: Any, project: Project, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.project = project
        if self.instance.pk:
            # The code is how the API and the default route find a station: it stays as created.
            self.fields["code"].disabled = True

    def clean_code(self) -> str:
        code = str(self.cleaned_data["code"]).strip().lower()
        taken = Station.objects.filter(project=self.project, code=code).exclude(pk=self.instance.pk)
        if taken.exists():
            raise forms.ValidationError(_("本项目已有这个代码的讲解点，请换一个。"))
        return code


class TickForm(forms.Form):
    code = forms.SlugField(max_length=40)
    note = forms.CharField(required=False, max_length=stations.NOTE_MAX_LENGTH)
    customer_confirmed = forms.BooleanField(required=False)


class ComplianceForm(forms.Form):
    date_from = forms.DateField(
        label=gettext_lazy("开始日期"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    date_to = forms.DateField(
        label=gettext_lazy("结束日期"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )


# --- the consultant's station screen ------------------------------------------------------------------


@login_required
def visit_stations(request: HttpRequest, visit_id: int) -> HttpResponse:
    """GET: the station screen of a visit (the partial for htmx). POST: tick a station, answer the partial."""
    user = _user(request)
    try:
        visit = stations.visit_for_stations(user=user, visit_id=visit_id)
    except NotFound:
        raise Http404 from None
    error = ""
    if request.method == "POST":
        form = TickForm(request.POST)
        if form.is_valid():
            try:
                record = stations.station_tick(
                    visit=visit,
                    code=form.cleaned_data["code"],
                    by=user,
                    note=form.cleaned_data["note"],
                    # An unticked box means "not recorded", not "the customer refused".
                    customer_confirmed=True if form.cleaned_data["customer_confirmed"] else None,
                )
            except DomainError as problem:
                error = next(iter(problem.fields.values()), problem.message)
            else:
                if not _is_htmx(request):
                    messages.success(request, _("已记录：%(name)s") % {"name": record.station.name})
        else:
            error = _("请选择要勾选的讲解点；备注最多 200 个字。")
        if not _is_htmx(request):
            if error:
                messages.error(request, error)
            return redirect("reception:visit", visit_id=visit.pk)
        visit.refresh_from_db(fields=["state"])
    context = {**stations.visit_stations_context(visit=visit, viewer=user), "error": error}
    if _is_htmx(request):
        # htmx swaps only 2xx answers: a refused tick comes back as the partial with the reason shown.
        return render(request, "reception/stations/_visit_stations.html", context)
    return render(
        request,
        "reception/stations/visit.html",
        {**context, "project": visit.project, "active_nav": "home"},
    )


# --- managers: the route --------------------------------------------------------------------------------


@login_required
def station_list(request: HttpRequest, project_id: int) -> HttpResponse:
    project = _managed_project(request, project_id)
    return render(
        request,
        "reception/stations/list.html",
        {
            "project": project,
            "stations": stations.station_list_for_manager(project=project),
            "active_nav": "stations",
        },
    )


@login_required
@require_POST
def station_defaults(request: HttpRequest, project_id: int) -> HttpResponse:
    project = _managed_project(request, project_id)
    created = stations.stations_ensure_defaults(project=project)
    if created:
        messages.success(request, _("已载入默认动线：新增 %(count)d 个讲解点。") % {"count": len(created)})
    else:
        messages.info(request, _("默认讲解点都已存在，没有改动。"))
    return redirect("stations:list", project_id=project.pk)


@login_required
def station_create(request: HttpRequest, project_id: int) -> HttpResponse:
    project = _managed_project(request, project_id)
    instance = Station(project=project, sort_order=stations.station_next_sort_order(project=project))
    form = StationForm(request.POST or None, instance=instance, project=project)
    if request.method == "POST" and form.is_valid():
        form.save()
        messages.success(request, _("讲解点已添加到动线末尾。"))
        return redirect("stations:list", project_id=project.pk)
    return render(
        request,
        "reception/stations/form.html",
        {"form": form, "project": project, "station": None, "active_nav": "stations"},
        status=400 if request.method == "POST" else 200,
    )


@login_required
def station_edit(request: HttpRequest, station_id: int) -> HttpResponse:
    station = _managed_station(request, station_id)
    form = StationForm(request.POST or None, instance=station, project=station.project)
    if request.method == "POST" and form.is_valid():
        form.save()
        messages.success(request, _("讲解点已保存。"))
        return redirect("stations:list", project_id=station.project_id)
    return render(
        request,
        "reception/stations/form.html",
        {"form": form, "project": station.project, "station": station, "active_nav": "stations"},
        status=400 if request.method == "POST" else 200,
    )


@login_required
@require_POST
def station_move(request: HttpRequest, station_id: int) -> HttpResponse:
    station = _managed_station(request, station_id)
    direction = request.POST.get("direction", "")
    try:
        stations.station_move(station=station, direction=direction)  # type: ignore[arg-type]
    except DomainError as problem:
        messages.error(request, next(iter(problem.fields.values()), problem.message))
    return redirect("stations:list", project_id=station.project_id)


@login_required
@require_POST
def station_toggle(request: HttpRequest, station_id: int) -> HttpResponse:
    station = _managed_station(request, station_id)
    stations.station_set_active(station=station, active=not station.is_active)
    if station.is_active:
        messages.success(request, _("已启用：%(name)s") % {"name": station.name})
    else:
        messages.success(request, _("已停用：%(name)s（历史记录保留）") % {"name": station.name})
    return redirect("stations:list", project_id=station.project_id)


# --- managers: 动线合规 -------------------------------------------------------------------------------


@login_required
def compliance(request: HttpRequest, project_id: int) -> HttpResponse:
    """First visits that skipped a required station, counted per consultant (product.md §5)."""
    project = _managed_project(request, project_id)
    form = ComplianceForm(request.GET or None)
    today = timezone.localdate()
    date_from: date = today
    date_to: date = today
    if form.is_valid():
        date_from = form.cleaned_data["date_from"] or today
        date_to = form.cleaned_data["date_to"] or date_from
    report = None
    status = 200
    try:
        report = stations.station_compliance_report(project=project, date_from=date_from, date_to=date_to)
    except DomainError as problem:
        status = 400
        for name, message in problem.fields.items():
            form.add_error(name if name in form.fields else None, message)
    return render(
        request,
        "reception/stations/compliance.html",
        {
            "project": project,
            "form": form,
            "report": report,
            "date_from": date_from,
            "date_to": date_to,
            "active_nav": "stations",
        },
        status=status,
    )
