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

# (key, label, URL name taking the project id, icon, roles) in the order people need them. Icons are
# bootstrap-icons names (served from static/vendor/bootstrap-icons, see scripts/copy_assets.sh).
PROJECT_PAGES: tuple[tuple[str, StrOrPromise, str, str, tuple[str, ...]], ...] = (
    ("checkin", _("来访登记"), "reception:checkin", "door-open", DESK),
    ("mine", _("客户"), "pool:mine", "people", (R.CONSULTANT,)),
    ("followups", _("跟进"), "followups:mine", "telephone-outbound", (R.CONSULTANT,)),
    ("calls", _("来电"), "calls:list", "telephone-inbound", SITE),
    ("overdue", _("跟进逾期"), "followups:overdue", "alarm", (R.MANAGER,)),
    ("pool", _("公客池"), "pool:list", "inboxes", (R.CONSULTANT, R.MANAGER)),
    ("rotation", _("轮排"), "reception:rotation", "list-ol", SITE),
    ("fairness", _("接待公平性"), "teams:fairness", "bar-chart-steps", (R.MANAGER,)),
    ("appointments", _("预约"), "appointments:day", "calendar-event", SITE),
    ("vip_tasks", _("贵宾准备"), "appointments:vip_tasks", "star", (*DESK, R.ATTENDANT)),
    ("board", _("销控表"), "inventory:board", "grid-3x3", (*SITE, R.ATTENDANT)),
    ("subscriptions", _("认购"), "deals:subscriptions", "file-earmark-text", SITE),
    ("approvals", _("审批"), "deals:approvals", "check2-square", (R.MANAGER,)),
    ("sales_summary", _("销售汇总"), "deals:sales_summary", "graph-up", (R.MANAGER,)),
    ("openings", _("开盘选房"), "openings:list", "building", SITE),
    ("hall", _("大厅看板"), "reception:hall", "display", DESK),
    ("callbacks", _("回访"), "followups:callbacks", "headset", (R.SERVICE, R.MANAGER)),
    ("knowledge", _("知识库"), "knowledge:list", "book", (*SITE, R.ATTENDANT, R.SERVICE)),
    ("stations", _("动线讲解点"), "stations:list", "signpost-split", (R.MANAGER,)),
    ("compliance", _("动线合规"), "stations:compliance", "clipboard-check", (R.MANAGER,)),
    ("callback_results", _("回访结果"), "followups:callback_results", "clipboard-data", (R.MANAGER,)),
    ("import", _("房源导入"), "inventory:import", "upload", (R.MANAGER,)),
    ("permits", _("五证"), "inventory:permits", "patch-check", (R.MANAGER,)),
    ("staff", _("案场人员"), "project_staff", "person-badge", (R.MANAGER,)),
    ("settings", _("项目设置"), "project_settings:page", "sliders", (R.MANAGER,)),
)


def nav_items(role: str, project: Project | None, is_admin: bool) -> list[NavItem]:
    """What each role works with, in the order they need it (ui.md: where each role lands).

    The administrator gets the manager's project pages: a consultant's own lists (我的客户, 跟进) are
    about the consultant signed in and answer 403 to anyone else.
    """
    home_label = _("接待") if role == Role.CONSULTANT else _("工作台")
    items = [NavItem("home", str(home_label), reverse("home"), "house-door")]
    if project is not None:
        items += [
            NavItem(key, str(label), reverse(url_name, args=[project.pk]), icon)
            for key, label, url_name, icon, roles in PROJECT_PAGES
            if role in roles or (is_admin and R.MANAGER in roles)
        ]
    if is_admin:
        items.append(NavItem("admin", str(_("系统管理")), reverse("admin:index"), "gear"))
    items.append(NavItem("me", str(_("我的")), reverse("profile"), "person-circle"))
    return items


TAB_KEYS: dict[str, tuple[str, ...]] = {
    # ui.md: a consultant's tab bar is 接待 · 客户 · 跟进 · 房源 · 我的.
    Role.CONSULTANT: ("home", "mine", "followups", "board", "me"),
    # The front desk's home is the check-in screen; the day's bookings and VIP preparation sit beside it.
    Role.FRONTDESK: ("home", "appointments", "vip_tasks", "board", "me"),
    # ui.md: the manager's dashboard, with the board and the approvals and sales reports at hand.
    Role.MANAGER: ("home", "approvals", "board", "sales_summary", "me"),
}
# Five tabs and a sixth "更多" still leave each tab 65 px on a 390 px phone.
TAB_COUNT = 5


def tab_items(items: list[NavItem], role: str = "") -> list[NavItem]:
    """The phone's bottom tab bar: the role's chosen tabs, else the first four and "我的"."""
    if role in TAB_KEYS:
        by_key = {item.key: item for item in items}
        return [by_key[key] for key in TAB_KEYS[role] if key in by_key]
    return [*items[: TAB_COUNT - 1], items[-1]] if len(items) > TAB_COUNT else items


def more_items(items: list[NavItem], tabs: list[NavItem]) -> list[NavItem]:
    """Everything the tab bar has no room for, in navigation order: the phone's "更多" sheet, one tap away."""
    in_tabs = {item.key for item in tabs}
    return [item for item in items if item.key not in in_tabs]


def navigation(request: HttpRequest) -> dict[str, object]:
    user = request.user
    if not user.is_authenticated:
        return {}
    projects = list(project_list_visible_to(user=user))
    project = current_project(request, projects)
    request.current_project = project  # type: ignore[attr-defined]
    items = nav_items(user.role, project, user.sees_all_projects)
    tabs = tab_items(items, user.role)
    more = more_items(items, tabs)
    return {
        "visible_projects": projects,
        "current_project": project,
        "nav_items": items,
        "tab_items": tabs,
        "more_items": more,
        # The page a view marks active (active_nav) may sit in the sheet: 更多 then lights up instead.
        "more_keys": [item.key for item in more],
    }
