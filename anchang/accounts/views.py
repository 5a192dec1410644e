from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.db.models import Count
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_POST

from anchang.accounts.forms import LoginForm
from anchang.accounts.models import Company, Role, User
from anchang.accounts.navigation import SESSION_PROJECT_KEY, current_project
from anchang.accounts.selectors import project_list_visible_to, project_visible_to, staff_of_project
from anchang.inventory.selectors import available_by_bedrooms, recent_unit_changes, unit_status_summary


class LoginView(auth_views.LoginView):
    form_class = LoginForm
    redirect_authenticated_user = True


def _home_context(request: HttpRequest, user: User) -> dict[str, object]:
    project = current_project(request)
    context: dict[str, object] = {"active_nav": "home", "project": project}
    if user.sees_all_projects:
        context["companies"] = Company.objects.annotate(n_users=Count("users", distinct=True)).order_by(
            "kind", "name"
        )
        context["projects"] = project_list_visible_to(user=user).annotate(
            n_units=Count("units", distinct=True)
        )
        context["users_by_role"] = [
            (Role(row["role"]).label, row["n"])
            for row in User.objects.filter(is_active=True)
            .values("role")
            .annotate(n=Count("pk"))
            .order_by("role")
        ]
    if project is None:
        return context
    if user.role in {Role.MANAGER, Role.ADMIN} or user.sees_all_projects:
        context["summary"] = unit_status_summary(project=project)
        context["recent_changes"] = recent_unit_changes(project=project)
        context["staff_counts"] = [
            (Role(row["role"]).label, row["n"])
            for row in staff_of_project(project=project)
            .order_by()
            .values("role")
            .annotate(n=Count("pk"))
            .order_by("role")
        ]
    if user.role in {Role.FRONTDESK, Role.CONSULTANT, Role.MANAGER}:
        context["offers"] = available_by_bedrooms(project=project)
    if user.role == Role.FRONTDESK:
        context["consultants"] = staff_of_project(project=project, role=Role.CONSULTANT)
    if user.role == Role.CONSULTANT:
        context["summary"] = unit_status_summary(project=project)
    return context


@login_required
def home(request: HttpRequest) -> HttpResponse:
    user: User = request.user  # type: ignore[assignment]
    role = Role.ADMIN if user.sees_all_projects else user.role
    return render(request, f"accounts/home_{role}.html", _home_context(request, user))


@login_required
def profile(request: HttpRequest) -> HttpResponse:
    return render(request, "accounts/profile.html", {"active_nav": "me"})


@login_required
@require_POST
def switch_project(request: HttpRequest) -> HttpResponse:
    try:
        project_id = int(request.POST.get("project", ""))
    except ValueError:
        project_id = 0
    if project_visible_to(user=request.user, project_id=project_id) is None:  # type: ignore[arg-type]
        raise Http404
    request.session[SESSION_PROJECT_KEY] = project_id
    target = request.POST.get("next") or "/"
    if not url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}):
        target = "/"
    # A page of the previous project makes no sense after a switch; its home does.
    return HttpResponseRedirect(target if "/projects/" not in target else "/")


@login_required
def project_staff(request: HttpRequest, project_id: int) -> HttpResponse:
    user: User = request.user  # type: ignore[assignment]
    project = project_visible_to(user=user, project_id=project_id)
    if project is None or not user.has_perm("accounts.view_staff"):
        raise Http404
    request.session[SESSION_PROJECT_KEY] = project.pk
    staff = staff_of_project(project=project)
    return render(request, "accounts/staff.html", {"project": project, "staff": staff, "active_nav": "staff"})
