"""The site manager on a phone: 项目设置 opens from the navigation, a wrong value is refused next to
its field, a right one saves and shows in the recent changes; the VIP checklist editor fits the phone."""

import os

import pytest

from anchang.accounts.models import Role
from anchang.accounts.testing import user_in
from anchang.inventory.models import ProjectSettings

pytestmark = pytest.mark.django_db(transaction=True)

NO_SIDEWAYS_SCROLL = "document.documentElement.scrollWidth <= window.innerWidth"
# Set to a folder to keep what the browser saw (for looking at the pages by eye).
SHOTS = os.environ.get("ANCHANG_SCREENSHOTS", "")


def _shot(page, name: str) -> None:
    if SHOTS:
        page.screenshot(path=os.path.join(SHOTS, f"{name}.png"), full_page=True)


@pytest.mark.parametrize("width", [390, 1366])
def test_a_manager_edits_the_project_settings_on_a_phone_and_a_desk(
    page_for, live_server, project, width
) -> None:
    manager = user_in(project, role=Role.MANAGER)
    page = page_for(manager.username, width=width, height=844 if width == 390 else 900)
    page.goto(f"{live_server.url}/projects/{project.pk}/settings/")
    assert page.evaluate(NO_SIDEWAYS_SCROLL)
    _shot(page, f"settings-{width}")

    page.fill("#id_protection-protection_ceiling_days", "3")
    page.locator("#protection button[type=submit]").click()
    error = page.locator("#id_protection-protection_ceiling_days_error")
    assert "不能短于来电后保护天数" in error.inner_text()
    assert page.evaluate(NO_SIDEWAYS_SCROLL)
    _shot(page, f"settings-error-{width}")
    assert ProjectSettings.objects.get(project=project).protection_ceiling_days == 40

    page.fill("#id_protection-protection_ceiling_days", "60")
    page.locator("#protection button[type=submit]").click()
    page.wait_for_selector(".alert-success")
    assert "40 → 60" in page.locator("#settings-history").inner_text()
    assert ProjectSettings.objects.get(project=project).protection_ceiling_days == 60

    page.locator("#settings-links a").first.click()
    page.wait_for_selector("#tier-1")
    assert page.evaluate(NO_SIDEWAYS_SCROLL)
    _shot(page, f"settings-vip-{width}")
