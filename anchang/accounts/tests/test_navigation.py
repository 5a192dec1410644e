"""The phone navigation: every page of a role is in the tab bar or its "更多" sheet, with real icons."""

import json
import re
from pathlib import Path

import pytest
from django.conf import settings
from django.contrib.staticfiles import finders
from django.templatetags.static import static
from django.urls import reverse

from anchang.accounts.models import Role
from anchang.accounts.navigation import PROJECT_PAGES, more_items, nav_items, tab_items
from anchang.accounts.testing import user_in

pytestmark = pytest.mark.django_db

ROLES = [Role.MANAGER, Role.FRONTDESK, Role.CONSULTANT, Role.AGENT, Role.ATTENDANT, Role.SERVICE]


def _links(html: str, container: str) -> list[str]:
    """The hrefs inside the element whose opening tag contains `container` (up to its closing tag)."""
    start = html.index(container)
    end = html.index("</nav>" if "tabbar" in container else "</ul>", start)
    return re.findall(r'href="([^"]+)"', html[start:end])


@pytest.mark.parametrize("role", ROLES)
def test_every_page_of_a_role_is_in_the_tab_bar_or_the_more_sheet(client_for, project, role) -> None:
    user = user_in(project, role=role)
    html = client_for(user).get(reverse("home"), follow=True).content.decode()
    items = nav_items(role, project, False)
    on_phone = _links(html, 'class="tabbar') + (
        _links(html, 'class="more-grid"') if 'id="more-sheet"' in html else []
    )
    assert sorted(on_phone) == sorted(item.url for item in items)
    # One tap on the tab bar, a second in the sheet: the bar never holds more than five pages and 更多.
    assert len(tab_items(items, role)) <= 5
    assert ('id="more-toggle"' in html) == bool(more_items(items, tab_items(items, role)))


def test_a_manager_on_a_phone_reaches_approvals_deals_summary_openings_and_compliance(
    client_for, project
) -> None:
    manager = user_in(project, role=Role.MANAGER)
    html = client_for(manager).get(reverse("home"), follow=True).content.decode()
    phone_links = _links(html, 'class="tabbar') + _links(html, 'class="more-grid"')
    for name in (
        "deals:approvals",
        "deals:subscriptions",
        "deals:sales_summary",
        "openings:list",
        "stations:compliance",
    ):
        assert reverse(name, args=[project.pk]) in phone_links, name


def test_a_consultant_on_a_phone_reaches_appointments_and_subscriptions(client_for, project) -> None:
    consultant = user_in(project, role=Role.CONSULTANT)
    html = client_for(consultant).get(reverse("home"), follow=True).content.decode()
    tabs = _links(html, 'class="tabbar')
    # ui.md: the consultant's bar is 接待 · 客户 · 跟进 · 房源 · 我的; the rest is in the sheet.
    assert tabs == [
        reverse("home"),
        reverse("pool:mine", args=[project.pk]),
        reverse("followups:mine", args=[project.pk]),
        reverse("inventory:board", args=[project.pk]),
        reverse("profile"),
    ]
    sheet = _links(html, 'class="more-grid"')
    assert reverse("appointments:day", args=[project.pk]) in sheet
    assert reverse("deals:subscriptions", args=[project.pk]) in sheet


def test_tabs_and_the_side_navigation_show_bootstrap_icons_served_by_the_app(client_for, project) -> None:
    html = client_for(user_in(project, role=Role.MANAGER)).get(reverse("home"), follow=True).content.decode()
    assert static("vendor/bootstrap-icons/bootstrap-icons.min.css") in html
    assert "tab-icon" not in html  # the grey squares are gone
    tabbar = html[html.index('class="tabbar') : html.index("</nav>", html.index('class="tabbar'))]
    assert len(re.findall(r'<i class="bi bi-[a-z0-9-]+" aria-hidden="true"></i>', tabbar)) == 6
    # Every icon named in the navigation exists in the installed icon font (a typo shows nothing).
    names = json_icon_names()
    assert {icon for *_, icon, _roles in PROJECT_PAGES} <= names
    assert {item.icon for item in nav_items(Role.MANAGER, None, True)} <= names


def json_icon_names() -> set[str]:
    path = Path(settings.PROJECT_ROOT) / "node_modules/bootstrap-icons/font/bootstrap-icons.json"
    if not path.exists():
        pytest.skip("npm packages are not installed (make assets installs them)")
    return set(json.loads(path.read_text()))


def test_the_icon_font_is_among_the_static_files() -> None:
    css = finders.find("vendor/bootstrap-icons/bootstrap-icons.min.css")
    if css is None:
        pytest.skip("front-end assets are not copied (make assets copies them)")
    assert 'url("fonts/bootstrap-icons.woff2' in Path(css).read_text()
    assert finders.find("vendor/bootstrap-icons/fonts/bootstrap-icons.woff2") is not None


def test_the_administrator_is_offered_only_pages_that_open(client_for, project, admin_user) -> None:
    client = client_for(admin_user)
    for item in nav_items(admin_user.role, project, True):
        if item.key == "admin":
            continue
        assert client.get(item.url).status_code == 200, item.key


def test_the_more_tab_lights_up_on_a_page_from_the_sheet(client_for, project) -> None:
    consultant = user_in(project, role=Role.CONSULTANT)
    client = client_for(consultant)
    toggle = re.compile(r'<button type="button" class="tab ([a-z ]*)" id="more-toggle"')
    page = client.get(reverse("deals:subscriptions", args=[project.pk])).content.decode()
    match = toggle.search(page)
    assert match and "active" in match.group(1)
    sheet = page[page.index('class="more-grid"') :]
    assert f'class="more-link active" href="{reverse("deals:subscriptions", args=[project.pk])}"' in sheet
    home = toggle.search(client.get(reverse("home")).content.decode())
    assert home and "active" not in home.group(1)
