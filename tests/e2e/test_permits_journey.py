"""Browser check of the certificates (五证, issue 11 §5) on a 390 px phone and a 1366 px desk: the manager
registers a presale permit on the 五证 page, and the consultant at the risk-disclosure station reads the
project's certificates; nothing scrolls sideways."""

from datetime import timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from anchang.accounts.models import Role
from anchang.accounts.testing import user_in
from anchang.inventory.models import Certificate
from anchang.inventory.testing import project_with_units
from anchang.reception.rotation import rotation_sign_in
from anchang.reception.services import check_in
from anchang.reception.stations import station_tick, stations_ensure_defaults

pytestmark = pytest.mark.django_db(transaction=True)

SIDEWAYS = "document.documentElement.scrollWidth > window.innerWidth"


@pytest.mark.parametrize("width", [390, 1366])
def test_manager_registers_a_permit_and_the_consultant_shows_it_at_the_wall(
    page_for, live_server, width
) -> None:
    project = project_with_units(buildings=3, floors=4, units_per_floor=2, name="五证测试项目")
    user_in(project, role=Role.MANAGER, username="e2e_manager")
    desk = user_in(project, role=Role.FRONTDESK, username="e2e_desk")
    consultant = user_in(project, role=Role.CONSULTANT, username="e2e_consultant")
    rotation_sign_in(project=project, consultant=consultant, by=consultant)

    page = page_for("e2e_manager", width=width, height=844)
    page.goto(f"{live_server.url}/projects/{project.pk}/permits/")
    page.select_option("#id_kind", "presale")
    page.fill("#id_number", "杭售许字(2026)第0012号")
    page.fill("#id_authority", "杭州市住房保障和房产管理局")
    page.get_by_label("1栋").check()
    page.get_by_label("2栋").check()
    page.fill("#id_valid_from", str(timezone.localdate() - timedelta(days=3)))
    page.get_by_role("button", name="登记", exact=True).click()
    expect(page.get_by_text("证号：杭售许字(2026)第0012号")).to_be_visible()
    assert Certificate.objects.filter(number="杭售许字(2026)第0012号").exists()
    assert not page.evaluate(SIDEWAYS)

    stations_ensure_defaults(project=project)
    visit = check_in(project=project, phone="13912345678", by=desk, consent=True).visit
    for code in ("parking", "hall", "region", "sandtable"):
        station_tick(visit=visit, code=code, by=consultant)
    phone = page_for("e2e_consultant", width=width, height=844)
    phone.goto(f"{live_server.url}/visits/{visit.pk}/")
    wall = phone.locator(f"#visit-stations-{visit.pk}")
    expect(wall.get_by_text("本项目五证")).to_be_visible()
    expect(wall.get_by_text("证号：杭售许字(2026)第0012号")).to_be_visible()
    expect(wall.get_by_text("范围：1栋、2栋 · 杭州市住房保障和房产管理局")).to_be_visible()
    assert not phone.evaluate(SIDEWAYS)
