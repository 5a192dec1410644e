"""The desk records an inbound call on a phone; the consultant who took it finds the new customer."""

import os

import pytest
from playwright.sync_api import expect

from anchang.accounts.models import Role
from anchang.accounts.testing import user_in
from anchang.customers.models import Customer
from anchang.inventory.testing import project_with_units

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

SCROLL_WIDTH = "document.documentElement.scrollWidth"
# Set E2E_SHOTS=/some/dir to keep screenshots of the page at both widths for a look.
SHOTS = os.environ.get("E2E_SHOTS")


def test_the_desk_records_a_call_and_the_consultant_sees_the_customer(page_for, live_server) -> None:
    project = project_with_units(buildings=1, floors=1, units_per_floor=2, name="滨江府")
    user_in(project, role=Role.FRONTDESK, username="e2e_desk")
    user_in(project, role=Role.CONSULTANT, username="e2e_gw", name="陈顾问")

    desk = page_for("e2e_desk", width=390, height=844)
    desk.goto(f"{live_server.url}/projects/{project.pk}/calls/")
    desk.fill("#id_phone", "136 1234 5678")
    desk.fill("#id_name", "周先生")
    desk.select_option("#id_source", "online")
    desk.fill("#id_question", "三房的价格和交房时间，想周末来看样板房")
    desk.select_option("#id_consultant", label="陈顾问")
    desk.fill("#id_next_step", "周六上午来访")
    desk.get_by_role("button", name="登记来电").click()

    expect(desk.get_by_role("status")).to_contain_text("已登记来电并新建客户，归属 陈顾问")
    row = desk.locator("[data-call]").first
    expect(row).to_contain_text("周先生")
    expect(row).to_contain_text("136****5678")
    expect(row).to_contain_text("周六上午来访")
    assert desk.evaluate(SCROLL_WIDTH) <= 390
    if SHOTS:
        desk.screenshot(path=f"{SHOTS}/calls-390.png", full_page=True)
    desk.set_viewport_size({"width": 1366, "height": 900})
    assert desk.evaluate(SCROLL_WIDTH) <= 1366
    if SHOTS:
        desk.screenshot(path=f"{SHOTS}/calls-1366.png", full_page=True)

    consultant = page_for("e2e_gw", width=390, height=844)
    consultant.goto(f"{live_server.url}/projects/{project.pk}/calls/")
    row = consultant.locator("[data-call]").first
    expect(row).to_contain_text("13612345678")
    row.get_by_role("link", name="周先生").click()
    expect(consultant.locator("body")).to_contain_text("三房的价格和交房时间")
    assert Customer.objects.get().owner.username == "e2e_gw"
