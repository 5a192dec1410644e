from datetime import timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from anchang.accounts.models import Role
from anchang.accounts.testing import user_in
from anchang.inventory.testing import project_with_units
from anchang.reception.models import Appointment
from anchang.reception.rotation import rotation_sign_in

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def test_book_online_check_in_at_the_desk_consultant_sees_it_hall_board_shows_it(
    browser, page_for, live_server
) -> None:
    project = project_with_units(buildings=1, floors=2, units_per_floor=2, name="滨江府")
    user_in(project, role=Role.FRONTDESK, username="e2e_desk")
    consultant = user_in(project, role=Role.CONSULTANT, username="e2e_gw", name="陈顾问")
    rotation_sign_in(project=project, consultant=consultant, by=consultant)

    # 1. A visitor books on their phone, no login.
    visitor = browser.new_context(viewport={"width": 390, "height": 844}, locale="zh-CN").new_page()
    visitor.goto(f"{live_server.url}/book/{project.code}/")
    visitor.fill("#id_name", "周敏")
    visitor.fill("#id_phone", "13612345678")
    visitor.select_option("#id_day", index=1)
    visitor.select_option("#id_slot", "10:00")
    visitor.select_option("#id_source", "friend")
    visitor.check("#id_consent")
    visitor.get_by_role("button", name="提交预约").click()
    code = visitor.locator("[data-code]").inner_text().strip()
    assert len(code) == 6
    expect(visitor.locator("img.booking-qr")).to_be_visible()

    # The day of the visit comes: the booking is for a few minutes from now.
    Appointment.objects.filter(code=code).update(start_at=timezone.now() + timedelta(minutes=10))

    # 2. The front desk scans the code (the scanner types it and presses Enter): the booking shows
    # as it is typed, and the consent given when booking counts — no tick needed.
    desk = page_for("e2e_desk")
    expect(desk.get_by_role("heading", name="来访登记")).to_be_visible()
    desk.locator("#id_phone_or_code").press_sequentially(code)
    expect(desk.locator("#booking-preview")).to_contain_text("周**")
    expect(desk.locator("#booking-preview")).to_contain_text("预约时已同意隐私告知")
    desk.locator("#id_phone_or_code").press("Enter")
    expect(desk.locator("#checkin-result")).to_contain_text("请 陈顾问 接待")
    expect(desk.locator("#checkin-result")).to_contain_text("首次到访")

    # 3. The consultant sees the assignment on their phone.
    phone = page_for("e2e_gw", width=390, height=844)
    expect(phone.locator("#my-receptions")).to_contain_text("周敏")
    expect(phone.locator(".tabbar")).to_be_visible()

    # 4. The hall board shows who receives whom, with the public name only.
    hall = page_for("e2e_desk")
    hall.goto(f"{live_server.url}/projects/{project.pk}/hall/")
    expect(hall.locator("#hall-live")).to_contain_text("陈顾问")
    expect(hall.locator("#hall-live")).to_contain_text("周**")
    expect(hall.locator("#hall-live")).not_to_contain_text("周敏")
    expect(hall.locator("#hall-live")).not_to_contain_text("13612345678")


def test_the_desk_preview_names_who_is_next_follows_the_named_consultant_and_clears_the_last_result(
    page_for,
) -> None:
    project = project_with_units(buildings=1, floors=1, units_per_floor=2, name="江南里")
    user_in(project, role=Role.FRONTDESK, username="e2e_desk2")
    first = user_in(project, role=Role.CONSULTANT, username="e2e_gw1", name="甲顾问")
    second = user_in(project, role=Role.CONSULTANT, username="e2e_gw2", name="乙顾问")
    for consultant in (first, second):
        rotation_sign_in(project=project, consultant=consultant, by=consultant)

    desk = page_for("e2e_desk2")
    phone = desk.locator("#id_phone_or_code")
    phone.press_sequentially("13812345678")
    expect(desk.locator("#judging-preview")).to_contain_text("轮排下一位 甲顾问")
    desk.select_option("#id_designated_consultant", label="乙顾问")
    expect(desk.locator("#judging-preview")).to_contain_text("建议接待：乙顾问")
    desk.select_option("#id_designated_consultant", index=0)
    desk.check("#id_consent")
    phone.press("Enter")
    expect(desk.locator("#checkin-result")).to_contain_text("请 甲顾问 接待")
    # The 改派 list starts on an empty choice, never on a consultant.
    expect(desk.locator("#ov-consultant")).to_have_value("")

    # The next visitor is typed: the last result card goes away.
    desk.locator("#id_phone_or_code").press_sequentially("139")
    expect(desk.locator("#checkin-result")).to_have_count(0)
