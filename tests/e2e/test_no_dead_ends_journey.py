"""Issue 11 §2 in a browser: the customer page calls and records a follow-up that leads back to it,
the subscribe form shows the discount as it is typed, the manager's workbench shows what waits."""

import os
from decimal import Decimal

import pytest
from playwright.sync_api import expect

from anchang.accounts.models import Role
from anchang.accounts.testing import user_in
from anchang.deals.tests.helpers import customer_of, pending, units_of
from anchang.followups.models import FollowUp
from anchang.inventory.models import ProjectSettings
from anchang.inventory.testing import project_with_units

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

SCROLL_WIDTH = "document.documentElement.scrollWidth"
# Set E2E_SHOTS=/some/dir to keep screenshots of the pages at both widths for a look.
SHOTS = os.environ.get("E2E_SHOTS")


def _shot(page, name: str) -> None:
    if SHOTS:
        page.screenshot(path=os.path.join(SHOTS, f"{name}.png"), full_page=True)


@pytest.mark.parametrize("width", [390, 1366])
def test_customer_page_follow_up_and_back(page_for, live_server, width) -> None:
    project = project_with_units(buildings=1, floors=2, units_per_floor=2, name="滨江府")
    consultant = user_in(project, role=Role.CONSULTANT, username="e2e_gw", name="陈顾问")
    customer = customer_of(project, consultant, name="李梅")
    customer.phone = "+8613536343703"
    customer.intent_level = "B"
    customer.save(update_fields=["phone", "intent_level"])

    page = page_for("e2e_gw", width=width, height=844 if width == 390 else 900)
    page.goto(f"{live_server.url}/customers/{customer.pk}/")
    call = page.get_by_role("link", name="拨打 135 3634 3703")
    expect(call).to_have_attribute("href", "tel:13536343703")
    assert page.evaluate(SCROLL_WIDTH) <= width
    _shot(page, f"customer-{width}")
    page.get_by_role("link", name="记录跟进").click()
    page.get_by_label("跟进内容").fill("电话沟通了三房的价格")
    _shot(page, f"record-{width}")
    page.get_by_role("button", name="保存跟进").click()
    page.wait_for_url(f"**/customers/{customer.pk}/")
    expect(page.get_by_text("跟进已记录。")).to_be_visible()
    assert FollowUp.objects.filter(customer=customer, done_at__isnull=False).count() == 1


@pytest.mark.parametrize("width", [390, 1366])
def test_subscribe_form_discount_and_the_managers_workbench(page_for, live_server, width) -> None:
    project = project_with_units(buildings=1, floors=2, units_per_floor=2, name="滨江府")
    ProjectSettings.objects.filter(project=project).update(discount_approval_threshold=Decimal(3))
    consultant = user_in(project, role=Role.CONSULTANT, username="e2e_gw", name="陈顾问")
    user_in(project, role=Role.MANAGER, username="e2e_jl", name="王经理")
    units = units_of(project)
    customer_of(project, consultant, name="李梅")
    pending(units[1], customer_of(project, consultant, name="张三"), consultant)

    page = page_for("e2e_gw", width=width, height=844 if width == 390 else 900)
    page.goto(f"{live_server.url}/units/{units[0].pk}/subscribe/")
    live = page.locator("#discount-live")
    expect(live).to_have_text("按表价成交，无优惠")
    price = page.locator("#id_price")
    price.fill("")
    price.press_sequentially(str((units[0].list_price_total * Decimal("0.98")).quantize(Decimal("1"))))
    expect(live).to_contain_text("在阈值内")
    price.fill("")
    price.press_sequentially(str((units[0].list_price_total * Decimal("0.9")).quantize(Decimal("1"))))
    expect(live).to_contain_text("超过 3% 阈值，需经理审批")
    expect(page.get_by_label("付款方式")).to_be_visible()
    assert page.evaluate(SCROLL_WIDTH) <= width
    _shot(page, f"subscribe-{width}")

    manager = page_for("e2e_jl", width=width, height=844 if width == 390 else 900)
    manager.goto(f"{live_server.url}/")
    expect(manager.get_by_role("heading", name="待审批认购")).to_be_visible()
    expect(manager.get_by_text("（阈值 3%）")).to_be_visible()
    assert manager.evaluate(SCROLL_WIDTH) <= width
    _shot(manager, f"manager-{width}")
