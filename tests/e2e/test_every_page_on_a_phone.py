"""Every demo role walks every page of its navigation on a 390 px phone and on a 1366 px desk, and
once more on the phone in English.

On the phone each page must be reachable from the tab bar or its "更多" sheet (two taps at most), open
with 200, keep the tab bar, and never scroll sideways; on the desk it must not scroll sideways either.
One browser for the whole walk, one context per role.
"""

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from anchang.customers.models import Customer, PoolReason
from anchang.demo.loader import DEMO_PASSWORD, HIGH_RISE, load_demo
from anchang.inventory.models import Project

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

# One login per role of the demo (ui.md: where each role lands).
DEMO_ROLES = ("admin", "manager", "frontdesk", "consultant1", "agent1", "attendant1", "service1")
PHONE = {"width": 390, "height": 844}
DESK = {"width": 1366, "height": 900}
# Screens of their own, without the app's chrome: the hall's big screen and Django's admin site.
WITHOUT_TABBAR = ("/hall/", "/admin/")

SCROLL_WIDTH = "document.documentElement.scrollWidth"


def _hrefs(page, selector: str) -> list[str]:
    return page.eval_on_selector_all(selector, "links => links.map(a => a.getAttribute('href'))")


def _signed_in(browser, live_server, username: str, locale: str):
    """A phone-sized browser context in that language, signed in as the demo user."""
    context = browser.new_context(
        viewport=PHONE,
        is_mobile=True,
        has_touch=True,
        locale=locale,
        extra_http_headers={"Accept-Language": locale},
    )
    page = context.new_page()
    page.goto(f"{live_server.url}/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", DEMO_PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(lambda url: "/login/" not in url)
    return context, page


def _board_fills_the_desk(page, username: str) -> list[str]:
    """The board's buildings use the desk's width (a third stayed empty) and each has a jump link."""
    main = page.locator("#main .board-buildings").bounding_box()
    rights = page.eval_on_selector_all(
        "#main .building", "sections => sections.map(s => s.getBoundingClientRect().right)"
    )
    jumps = _hrefs(page, ".board-jump a")
    found = []
    if not main or not rights or max(rights) < main["x"] + main["width"] - 2:
        found.append(f"{username} board at 1366 px: buildings leave the right of the page empty")
    if sorted(jumps) != sorted(
        f"#{i}" for i in page.eval_on_selector_all("#main .building", "s => s.map(e => e.id)")
    ):
        found.append(f"{username} board: not every building has a jump link")
    return found


def test_every_role_reaches_every_page_on_a_phone_without_sideways_scrolling(browser, live_server) -> None:
    load_demo()
    # The demo's pool may be empty at this hour; a few pooled customers put 认领 rows on the page.
    project = Project.objects.get(code=HIGH_RISE)
    pooled = Customer.objects.filter(project=project, owner__isnull=False).order_by("pk")[:3]
    Customer.objects.filter(pk__in=[c.pk for c in pooled]).update(
        owner=None, pooled_at=timezone.now(), pool_reason=PoolReason.PROTECTION_EXPIRED
    )

    problems: list[str] = []
    visited = 0
    for username in DEMO_ROLES:
        context, page = _signed_in(browser, live_server, username, "zh-CN")

        everything = _hrefs(page, ".sidenav a")
        tabs = _hrefs(page, ".tabbar a")
        sheet = _hrefs(page, "#more-sheet a")
        assert everything, username
        # Two taps at most: every page of the role is a tab or in the sheet behind 更多.
        assert sorted(tabs + sheet) == sorted(everything), username
        if sheet:
            page.click("#more-toggle")
            expect(page.locator("#more-sheet")).to_be_visible()
            expect(page.locator("#more-sheet a").first).to_be_in_viewport()
            page.locator("#more-sheet .btn-close").click()
        # The project switcher sits whole on the top bar, left of the bell (it was cut off).
        switcher = page.locator("#project-switcher")
        if switcher.count():
            box, bell = switcher.bounding_box(), page.locator(".topbar .dropdown").bounding_box()
            assert box and bell and box["x"] >= 0 and box["x"] + box["width"] <= bell["x"], username

        for href in everything:
            response = page.goto(f"{live_server.url}{href}")
            visited += 1
            status = response.status if response else 0
            width = page.evaluate(SCROLL_WIDTH)
            if status != 200 or width > PHONE["width"]:
                problems.append(f"{username} {href} at 390 px: HTTP {status}, {width} px wide")
            if not href.endswith(WITHOUT_TABBAR) and not page.locator(".tabbar").is_visible():
                problems.append(f"{username} {href} at 390 px: no tab bar")

        page.set_viewport_size(DESK)
        for href in everything:
            page.goto(f"{live_server.url}{href}")
            width = page.evaluate(SCROLL_WIDTH)
            if width > DESK["width"]:
                problems.append(f"{username} {href} at 1366 px: {width} px wide")
            if href.endswith("/board/"):
                problems += _board_fills_the_desk(page, username)

        context.close()

        # English labels run longer than Chinese ones: the phone must still not scroll sideways.
        context, page = _signed_in(browser, live_server, username, "en")
        assert page.evaluate("document.documentElement.lang") == "en", username
        for href in everything:
            page.goto(f"{live_server.url}{href}")
            width = page.evaluate(SCROLL_WIDTH)
            if width > PHONE["width"]:
                problems.append(f"{username} {href} at 390 px in English: {width} px wide")
        context.close()

    assert visited > 50
    assert not problems, "\n".join(problems)
