"""The role-aware navigation and the current project, computed once per request."""

from dataclasses import dataclass

from django.http import HttpRequest
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from anchang.accounts.models import Role
from anchang.accounts.selectors import project_list_visible_to
from anchang.inventory.models import Project

SESSION_PROJECT_KEY = "current_project_id"


@dataclass(frozen=True)
class NavItem:
    key: str
    label: str
    url: str
    icon: str


def current_project(request: HttpRequest, projects: list[Project] | None = None) -> Project | None:
    """The project the user is working in: the one chosen in the switcher, else their first."""
    if projects is None:
        projects = list(project_list_visible_to(user=request.user))  # type: ignore[arg-type]
    chosen = request.session.get(SESSION_PROJECT_KEY)
    for project in projects:
        if project.pk == chosen:
            return project
    return projects[0] if projects else None


def nav_items(role: str, project: Project | None, is_admin: bool) -> list[NavItem]:
    items = [NavItem("home", str(_("工作台")), reverse("home"), "house")]
    if project is not None and (
        is_admin or role in {Role.MANAGER, Role.FRONTDESK, Role.CONSULTANT, Role.ATTENDANT}
    ):
        items.append(
            NavItem("board", str(_("销控表")), reverse("inventory:board", args=[project.pk]), "grid")
        )
    if project is not None and (is_admin or role == Role.MANAGER):
        items.append(
            NavItem("import", str(_("房源导入")), reverse("inventory:import", args=[project.pk]), "upload")
        )
    if project is not None and (is_admin or role in {Role.MANAGER, Role.FRONTDESK}):
        items.append(
            NavItem("staff", str(_("案场人员")), reverse("project_staff", args=[project.pk]), "people")
        )
    if is_admin:
        items.append(NavItem("admin", str(_("系统管理")), reverse("admin:index"), "gear"))
    items.append(NavItem("me", str(_("我的")), reverse("profile"), "person"))
    return items


def navigation(request: HttpRequest) -> dict[str, object]:
    user = request.user
    if not user.is_authenticated:
        return {}
    projects = list(project_list_visible_to(user=user))
    project = current_project(request, projects)
    request.current_project = project  # type: ignore[attr-defined]
    return {
        "visible_projects": projects,
        "current_project": project,
        "nav_items": nav_items(user.role, project, user.sees_all_projects),
    }
