from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _

from anchang.accounts.models import Company, Role, User
from anchang.accounts.navigation import project_page
from anchang.core.errors import DomainError
from anchang.inventory.models import Project
from anchang.reception.teams.fairness import fairness_for
from anchang.reception.teams.forms import TeamSettingsForm
from anchang.reception.teams.services import team_settings_update

# The service's field names as the form shows them; the shares are one field per team, so their
# error (sum, unknown team) is said above them.
_FORM_FIELD = {"rotation_mode": "rotation_mode", "team_rule": "team_rule", "team_overflow": "team_overflow"}


def _manager_project(request: HttpRequest, project_id: int) -> Project:
    user: User = request.user  # type: ignore[assignment]
    return project_page(request, project_id, allowed=user.is_site_manager)


def _page(request: HttpRequest, project: Project, form: TeamSettingsForm, status: int = 200) -> HttpResponse:
    context = {
        "project": project,
        "fairness": fairness_for(project=project, settings=project.settings),
        "form": form,
        "active_nav": "fairness",
    }
    return render(request, "reception/teams/fairness.html", context, status=status)


def _teams(project: Project) -> list[Company]:
    """The project's teams (as `inventory.models.project_team_ids` counts them), in one query."""
    return list(
        Company.objects.filter(users__memberships__project=project, users__role=Role.CONSULTANT)
        .distinct()
        .order_by("pk")
    )


@login_required
def fairness_page(request: HttpRequest, project_id: int) -> HttpResponse:
    """接待公平性: visitors, turns, lost and make-up turns per consultant and team; the queue's rule."""
    project = _manager_project(request, project_id)
    if request.method != "POST":
        return _page(request, project, TeamSettingsForm(teams=_teams(project), settings=project.settings))
    form = TeamSettingsForm(request.POST, teams=_teams(project), settings=project.settings)
    if form.is_valid():
        try:
            team_settings_update(
                project=project,
                by=request.user,  # type: ignore[arg-type]
                rotation_mode=form.cleaned_data["rotation_mode"],
                team_rule=form.cleaned_data["team_rule"],
                team_overflow=form.cleaned_data["team_overflow"],
                team_shares=form.shares(),
            )
        except DomainError as error:
            for field, message in error.fields.items():
                form.add_error(_FORM_FIELD.get(field), message)
            if not error.fields:
                form.add_error(None, error.message)
        else:
            messages.success(request, _("轮排方式已保存。"))
            return redirect("teams:fairness", project_id=project.pk)
    project.settings.refresh_from_db()
    return _page(request, project, form, status=400)
