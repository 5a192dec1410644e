import pytest
from playwright.sync_api import expect

from anchang.accounts.models import Role
from anchang.accounts.testing import user_in
from anchang.customers.models import Customer
from anchang.deals.services import subscription_create
from anchang.inventory.models import Unit
from anchang.inventory.testing import project_with_units
from anchang.reception.testing import record_risk_disclosure

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def test_manager_watches_the_board_update_by_itself(page_for, live_server) -> None:
    project = project_with_units(buildings=2, floors=5, units_per_floor=4, name="浏览器测试项目")
    manager = user_in(project, role=Role.MANAGER, username="e2e_manager")
    page = page_for("e2e_manager")

    expect(page.get_by_role("heading", name="经理看板")).to_be_visible()
    page.get_by_role("link", name="打开销控表").click()
    expect(page.locator(".cell[data-status]")).to_have_count(40)
    expect(page.locator('[data-status-count="available"]')).to_have_text("40")

    unit = Unit.objects.get(project=project, building__name="1栋", floor=5, position=1)
    cell = page.locator(f"#unit-{unit.pk}")
    expect(cell).to_have_attribute("data-status", "available")

    # Another desk sells the unit; the open board picks it up on its next poll, without a reload.
    buyer = Customer.objects.create(project=project, phone="+8613800138000", name="王小明")
    record_risk_disclosure(customer=buyer)
    subscription_create(
        unit_id=unit.pk,
        customer=buyer,
        price=unit.list_price_total,
        deposit=unit.list_price_total / 10,
        by=manager,
    )
    expect(cell).to_have_attribute("data-status", "subscribed", timeout=8000)
    expect(page.locator('[data-status-count="subscribed"]')).to_have_text("1")


def test_consultant_on_a_phone_filters_the_board_and_opens_a_unit(page_for) -> None:
    project = project_with_units(buildings=1, floors=4, units_per_floor=3, name="手机测试项目")
    user_in(project, role=Role.CONSULTANT, username="e2e_consultant")
    page = page_for("e2e_consultant", width=390, height=844)

    expect(page.locator(".tabbar")).to_be_visible()
    page.locator(".tabbar").get_by_text("销控表").click()
    page.select_option("#id_bedrooms", "3")
    page.get_by_role("button", name="筛选").click()
    matching = Unit.objects.filter(project=project, bedrooms=3).count()
    expect(page.locator(".cell[data-status]:not(.dim)")).to_have_count(matching)

    page.locator(".cell[data-status]:not(.dim)").first.click()
    expect(page.get_by_text("表价总价")).to_be_visible()
    expect(page.get_by_text("元/㎡")).to_be_visible()
