import re

import pytest
from playwright.sync_api import expect

from anchang.accounts.models import Role
from anchang.accounts.testing import user_in
from anchang.inventory.testing import project_with_units
from anchang.reception.rotation import rotation_sign_in
from anchang.reception.services import check_in
from anchang.reception.stations import stations_ensure_defaults

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def test_consultant_on_a_phone_runs_a_whole_visit(page_for, live_server) -> None:
    project = project_with_units(buildings=2, floors=6, units_per_floor=3, name="滨江府")
    stations_ensure_defaults(project=project)
    desk = user_in(project, role=Role.FRONTDESK)
    consultant = user_in(project, role=Role.CONSULTANT, username="e2e_phone", name="林顾问")
    rotation_sign_in(project=project, consultant=consultant, by=consultant)
    check_in(project=project, phone="13812345678", name="王小明", gender="male", by=desk, consent=True)

    page = page_for("e2e_phone", width=390, height=844)
    # 1. The visitor assigned to me is on my home screen.
    page.locator("#my-receptions a").first.click()
    expect(page.get_by_role("heading", name="王小明")).to_be_visible()

    # 2. Walk the first stations; the risk-disclosure station records the customer's confirmation.
    for _ in range(8):
        risk = page.get_by_role("button", name="已向客户展示五证及风险提示")
        if risk.count():
            page.locator("input[name=customer_confirmed]").first.check()
            risk.first.click()
            expect(page.get_by_text("客户已确认").first).to_be_visible()
            break
        page.get_by_role("button", name=re.compile("讲完了")).first.click()
        page.wait_for_timeout(300)
    else:
        pytest.fail("never reached the risk-disclosure station")

    # 3. Record needs; recommendations follow from the live inventory.
    page.fill("input[name=budget_max]", "260")
    page.select_option("select[name=bedrooms]", "3")
    page.get_by_role("button", name="保存需求").click()
    expect(page.get_by_text("已保存")).to_be_visible()
    recommendations = page.locator("section[id^=recommendations-] li")
    expect(recommendations.first).to_contain_text("在预算内")

    # 4. Open a recommendation, then come back.
    recommendations.first.get_by_role("link", name="房源详情").click()
    expect(page.get_by_text("表价总价")).to_be_visible()
    page.go_back()

    # 5. Check out: the customer intends to come back.
    page.get_by_text("有意向，会再来").first.click()
    page.get_by_role("button", name="确认离场").click()
    expect(page.get_by_text("首次跟进").first).to_be_visible()

    # 6. The follow-up due within 24 hours is on my list.
    page.locator(".tabbar").get_by_text("跟进").click()
    expect(page.locator("main")).to_contain_text("王小明")
