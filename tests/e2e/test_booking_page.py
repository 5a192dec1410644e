"""The public booking page on a phone: the times follow the day picked, nothing scrolls sideways,
required fields are marked and an empty form answers in the project's own words."""

import re
from datetime import timedelta

import pytest
from django.utils import timezone

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.mark.parametrize("width", [390, 1366])
def test_booking_page_on_a_phone_and_a_desk(browser, live_server, project, tmp_path, width) -> None:
    project.city, project.district, project.address = "杭州", "滨江区", "滨江区闻涛路 1 号"
    project.sales_phone = "0571-8688 6600"
    project.save()
    context = browser.new_context(viewport={"width": width, "height": 900}, locale="zh-CN")
    page = context.new_page()
    page.goto(f"{live_server.url}/book/{project.code}/")

    assert page.locator("text=杭州滨江区闻涛路 1 号").count() == 1
    assert page.locator("a[href='tel:057186886600']").is_visible()
    assert page.locator("label[for=id_name] .text-danger").count() == 1
    assert page.locator("label[for=id_gender] .text-danger").count() == 0
    page.screenshot(path=str(tmp_path / f"booking-{width}.png"), full_page=True)
    assert page.evaluate("document.documentElement.scrollWidth <= document.documentElement.clientWidth")

    # Picking tomorrow reloads the times: the whole day from 09:00.
    tomorrow = (timezone.localdate() + timedelta(days=1)).isoformat()
    with page.expect_response(re.compile(r"/slots/\?day=")):
        page.select_option("#id_day", tomorrow)
    assert page.locator("#id_slot option").first.get_attribute("value") == "09:00"

    page.click("button[type=submit]")
    page.wait_for_selector(".invalid-feedback")
    text = page.inner_text("main")
    assert "请填写您的姓名" in text and "请填写手机号" in text
    assert "这个字段是必填项" not in text and "This field is required" not in text
    page.screenshot(path=str(tmp_path / f"booking-errors-{width}.png"), full_page=True)
    assert page.evaluate("document.documentElement.scrollWidth <= document.documentElement.clientWidth")
    context.close()
