from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_POST

from anchang.accounts.forms import LoginForm
from anchang.accounts.navigation import SESSION_PROJECT_KEY, project_page
from anchang.accounts.selectors import project_visible_to, staff_of_project


class LoginView(auth_views.LoginView):
    form_class = LoginForm
    redirect_authenticated_user = True


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
    project = project_page(request, project_id, allowed=request.user.has_perm("accounts.view_staff"))
    staff = staff_of_project(project=project)
    return render(request, "accounts/staff.html", {"project": project, "staff": staff, "active_nav": "staff"})
