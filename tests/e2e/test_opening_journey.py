"""Opening day in the browser: a manager sets up and opens a session; two buyers on their own phones
try the same unit; one wins and the other is told at once, with the grid already showing it taken."""

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from anchang.accounts.models import Role
from anchang.accounts.testing import user_in
from anchang.deals.models import OpeningSession, OpeningStatus, Subscription
from anchang.deals.tests.test_opening_setup import make_reservations
from anchang.inventory.models import Unit
from anchang.inventory.testing import project_with_units

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def test_manager_opens_a_session_and_two_buyers_race_for_one_unit(browser, page_for, live_server) -> None:
    project = project_with_units(buildings=2, floors=6, units_per_floor=4, name="开盘测试府")
    manager = user_in(project, role=Role.MANAGER, username="e2e_open_manager", name="周经理")
    make_reservations(project, 3, by=manager)

    # 1. The manager creates the session, draws the order and opens it.
    desk = page_for("e2e_open_manager")
    desk.get_by_role("link", name="开盘选房").first.click()
    desk.get_by_role("link", name="新建场次").click()
    desk.fill("#id_name", "首次开盘")
    desk.fill("#id_starts_at", timezone.localtime().strftime("%Y-%m-%dT%H:%M"))
    desk.select_option("#id_order_method", "registration")
    desk.fill("#id_slot_minutes", "30")
    desk.fill("#id_buyers_per_slot", "10")
    desk.fill("#id_units_per_buyer", "1")
    desk.get_by_role("button", name="保存").click()
    desk.get_by_role("button", name="生成选房顺序").click()
    expect(desk.locator("#opening-buyers tbody tr")).to_have_count(3)
    desk.check("#opening-actions input[name=confirm]")
    desk.get_by_role("button", name="开始选房").click()
    expect(desk.locator("[data-opening-status]").first).to_have_text("选房中")
    session = OpeningSession.objects.get(project=project)
    assert session.status == OpeningStatus.OPEN
    links = [desk.locator(f'tr[data-position="{n}"] input').input_value() for n in (1, 2)]

    # 2. Two buyers open their own links on their phones (no login) and pick the same unit.
    unit = Unit.objects.get(project=project, building__name="1栋", floor=6, position=1)
    phones = []
    for link in links:
        context = browser.new_context(viewport={"width": 390, "height": 844}, locale="zh-CN")
        phone = context.new_page()
        phone.goto(link)
        expect(phone.locator("#selection-live")).to_have_attribute("data-state", "selecting")
        phone.locator(f'a.ocell[data-unit="{unit.pk}"]').click()
        expect(phone.get_by_role("heading", name="确认选择这套房源？")).to_be_visible()
        expect(phone.locator("#unit-card")).to_contain_text(unit.number)
        phones.append(phone)
    first, second = phones

    # 3. The first confirms and wins; the second confirms a moment later and is told at once.
    first.get_by_role("button", name="确认选择").click()
    expect(first.locator("#opening-message")).to_contain_text("恭喜，您已成功选定")
    expect(first.locator("#selection-live")).to_have_attribute("data-state", "done")
    expect(first.locator("#my-picks")).to_contain_text(unit.number)

    second.get_by_role("button", name="确认选择").click()
    expect(second.locator("#opening-error")).to_contain_text("刚刚已被认购，请选择其他房源")
    taken = second.locator(f'[data-unit="{unit.pk}"]')
    expect(taken).to_have_attribute("data-status", "subscribed")
    expect(second.locator("#selection-live")).to_have_attribute("data-state", "selecting")
    assert Subscription.objects.filter(unit=unit).count() == 1

    # 4. The manager's live progress picks it up without a reload.
    expect(desk.locator('[data-progress="sold"]')).to_have_text("1", timeout=8000)
    expect(desk.locator('tr[data-position="1"] [data-result]')).to_contain_text(unit.number)
    for phone in phones:
        phone.context.close()
