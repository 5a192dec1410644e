"""The role-aware navigation and the current project, computed once per request."""

from dataclasses import dataclass

from django.http import Http404, HttpRequest
from django.urls import reverse
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from anchang.accounts.models import Role
from anchang.accounts.selectors import project_list_visible_to, project_visible_to
from anchang.inventory.models import Project

SESSION_PROJECT_KEY = "current_project_id"


@dataclass(frozen=True)
class NavItem:
    key: str
    label: str
    url: str
    icon: str


def project_page(request: HttpRequest, project_id: int, *, allowed: bool = True) -> Project:
    """The project a page is about, made the current one so the navigation follows.

    404 when the user may not see the project or (`allowed=False`) may not use this page: another
    project's existence is never revealed.
    """
    project = project_visible_to(user=request.user, project_id=project_id)  # type: ignore[arg-type]
    if project is None or not allowed:
        raise Http404
    request.session[SESSION_PROJECT_KEY] = project.pk
    return project


def current_project(request: HttpRequest, projects: list[Project] | None = None) -> Project | None:
    """The project the user is working in: the one chosen in the switcher, else their first."""
    if projects is None:
        projects = list(project_list_visible_to(user=request.user))  # type: ignore[arg-type]
    chosen = request.session.get(SESSION_PROJECT_KEY)
    for project in projects:
        if project.pk == chosen:
            return project
    return projects[0] if projects else None


StrOrPromise = str | Promise
R = Role
DESK = (R.FRONTDESK, R.MANAGER)
SITE = (R.FRONTDESK, R.MANAGER, R.CONSULTANT)

# (key, label, URL name taking the project id, icon, roles) in the order people need them.
PROJECT_PAGES: tuple[tuple[str, StrOrPromise, str, str, tuple[str, ...]], ...] = (
    ("checkin", _("来访登记"), "reception:checkin", "door", DESK),
    ("mine", _("客户"), "pool:mine", "people", (R.CONSULTANT,)),
    ("followups", _("跟进"), "followups:mine", "phone", (R.CONSULTANT,)),
    ("overdue", _("跟进逾期"), "followups:overdue", "phone", (R.MANAGER,)),
    ("pool", _("公客池"), "pool:list", "pool", (R.CONSULTANT, R.MANAGER)),
    ("rotation", _("轮排"), "reception:rotation", "list", SITE),
    ("fairness", _("接待公平性"), "teams:fairness", "chart", (R.MANAGER,)),
    ("appointments", _("预约"), "appointments:day", "calendar", SITE),
    ("vip", _("贵宾准备"), "appointments:vip_tasks", "star", (*DESK, R.ATTENDANT)),
    ("board", _("销控表"), "inventory:board", "grid", (*SITE, R.ATTENDANT)),
    ("subscriptions", _("认购"), "deals:subscriptions", "list", SITE),
    ("approvals", _("审批"), "deals:approvals", "check", (R.MANAGER,)),
    ("sales_summary", _("销售汇总"), "deals:sales_summary", "chart", (R.MANAGER,)),
    ("openings", _("开盘选房"), "openings:list", "grid", SITE),
    ("hall", _("大厅看板"), "reception:hall", "screen", DESK),
    ("callbacks", _("回访"), "followups:callbacks", "phone", (R.SERVICE, R.MANAGER)),
    ("knowledge", _("知识库"), "knowledge:list", "book", (*SITE, R.ATTENDANT, R.SERVICE)),
    ("stations", _("动线讲解点"), "stations:list", "route", (R.MANAGER,)),
    ("compliance", _("动线合规"), "stations:compliance", "check", (R.MANAGER,)),
    ("callback_results", _("回访结果"), "followups:callback_results", "chart", (R.MANAGER,)),
    ("import", _("房源导入"), "inventory:import", "upload", (R.MANAGER,)),
    ("staff", _("案场人员"), "project_staff", "people", (R.MANAGER,)),
)


def nav_items(role: str, project: Project | None, is_admin: bool) -> list[NavItem]:
    """What each role works with, in the order they need it (ui.md: where each role lands)."""
    home_label = _("接待") if role == Role.CONSULTANT else _("工作台")
    items = [NavItem("home", str(home_label), reverse("home"), "house")]
    if project is not None:
        items += [
            NavItem(key, str(label), reverse(url_name, args=[project.pk]), icon)
            for key, label, url_name, icon, roles in PROJECT_PAGES
            if is_admin or role in roles
        ]
    if is_admin:
        items.append(NavItem("admin", str(_("系统管理")), reverse("admin:index"), "gear"))
    items.append(NavItem("me", str(_("我的")), reverse("profile"), "person"))
    return items


TAB_KEYS: dict[str, tuple[str, ...]] = {
    # ui.md: a consultant's tab bar is 接待 · 客户 · 跟进 · 房源 · 我的.
    Role.CONSULTANT: ("home", "mine", "followups", "board", "me"),
}


def tab_items(items: list[NavItem], role: str = "") -> list[NavItem]:
    """The phone's bottom tab bar holds five: the role's chosen tabs, else the first four and "我的"."""
    if role in TAB_KEYS:
        by_key = {item.key: item for item in items}
        return [by_key[key] for key in TAB_KEYS[role] if key in by_key]
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
        "tab_items": tab_items(items, user.role),
    }
