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
    """What each role works with, in the order they need it (ui.md: where each role lands)."""

    def allowed(*roles: str) -> bool:
        return project is not None and (is_admin or role in roles)

    home_label = _("接待") if role == Role.CONSULTANT else _("工作台")
    items = [NavItem("home", str(home_label), reverse("home"), "house")]
    if project is None:
        return [*items, NavItem("me", str(_("我的")), reverse("profile"), "person")]
    pid = project.pk
    if allowed(Role.FRONTDESK, Role.MANAGER):
        items.append(NavItem("checkin", str(_("来访登记")), reverse("reception:checkin", args=[pid]), "door"))
    if allowed(Role.FRONTDESK, Role.MANAGER, Role.CONSULTANT):
        items.append(NavItem("rotation", str(_("轮排")), reverse("reception:rotation", args=[pid]), "list"))
        items.append(
            NavItem("appointments", str(_("预约")), reverse("appointments:day", args=[pid]), "calendar")
        )
    if allowed(Role.FRONTDESK, Role.MANAGER, Role.ATTENDANT):
        items.append(
            NavItem("vip", str(_("贵宾准备")), reverse("appointments:vip_tasks", args=[pid]), "star")
        )
    if allowed(Role.MANAGER, Role.FRONTDESK, Role.CONSULTANT, Role.ATTENDANT):
        items.append(NavItem("board", str(_("销控表")), reverse("inventory:board", args=[pid]), "grid"))
    if allowed(Role.FRONTDESK, Role.MANAGER):
        items.append(NavItem("hall", str(_("大厅看板")), reverse("reception:hall", args=[pid]), "screen"))
    if allowed(Role.MANAGER):
        items.append(NavItem("import", str(_("房源导入")), reverse("inventory:import", args=[pid]), "upload"))
        items.append(NavItem("staff", str(_("案场人员")), reverse("project_staff", args=[pid]), "people"))
    if is_admin:
        items.append(NavItem("admin", str(_("系统管理")), reverse("admin:index"), "gear"))
    items.append(NavItem("me", str(_("我的")), reverse("profile"), "person"))
    return items


def tab_items(items: list[NavItem]) -> list[NavItem]:
    """The phone's bottom tab bar holds five: the first four of the role's items and "我的"."""
    return [*items[:4], items[-1]] if len(items) > 5 else items


def navigation(request: HttpRequest) -> dict[str, object]:
    user = request.user
    if not user.is_authenticated:
        return {}
    projects = list(project_list_visible_to(user=user))
    project = current_project(request, projects)
    request.current_project = project  # type: ignore[attr-defined]
    items = nav_items(user.role, project, user.sees_all_projects)
    return {
        "visible_projects": projects,
        "current_project": project,
        "nav_items": items,
        "tab_items": tab_items(items),
    }
