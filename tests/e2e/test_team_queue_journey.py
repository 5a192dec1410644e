"""A manager on a phone and at a desk reads the team queues and the fairness page (no sideways scroll)."""

import pytest
from playwright.sync_api import expect

from anchang.accounts.models import Company, CompanyKind, Role
from anchang.accounts.testing import user_in
from anchang.inventory.models import ProjectSettings
from anchang.inventory.testing import project_with_units
from anchang.reception.rotation import rotation_lost_turn, rotation_sign_in
from anchang.reception.services import check_in, visit_end

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

NO_SIDEWAYS_SCROLL = "document.scrollingElement.scrollWidth <= window.innerWidth"


@pytest.fixture
def team_site():
    project = project_with_units(buildings=1, floors=2, units_per_floor=2, name="团队轮排项目")
    agency = Company.objects.create(name="恒信房产代理", short_name="恒信代理", kind=CompanyKind.AGENCY)
    manager = user_in(project, role=Role.MANAGER, username="e2e_team_manager", name="陈经理")
    desk = user_in(project, role=Role.FRONTDESK, username="e2e_team_desk")
    people = [
        *(
            user_in(project, role=Role.CONSULTANT, company=project.company, name=n)
            for n in ("李明", "王芳", "赵磊")
        ),
        *(user_in(project, role=Role.CONSULTANT, company=agency, name=n) for n in ("孙强", "周丽")),
    ]
    for person in people:
        rotation_sign_in(project=project, consultant=person, by=person)
    ProjectSettings.objects.filter(project=project).update(
        rotation_mode="teams",
        team_rule="share",
        team_shares={str(project.company_id): 60, str(agency.pk): 40},
    )
    project.settings.refresh_from_db()  # the factory's instance is cached on the project
    for i in range(5):
        visit = check_in(project=project, phone=f"1381234{i:04d}", by=desk, consent=True).visit
        if i < 3:
            visit_end(
                visit_id=visit.pk, by=desk, outcome="invalid" if i == 1 else "return", invalid_reason="问路"
            )
    rotation_lost_turn(project=project, consultant=people[4], by=manager, reason="拒接")
    return project


@pytest.mark.parametrize("width", [390, 1366])
def test_the_manager_reads_team_queues_and_fairness(
    page_for, live_server, team_site, width, tmp_path
) -> None:
    page = page_for("e2e_team_manager", width=width, height=844 if width == 390 else 900)

    page.goto(f"{live_server.url}/projects/{team_site.pk}/rotation/")
    expect(page.locator(".team-queue")).to_have_count(2)
    expect(page.get_by_role("heading", name="恒信代理 队列")).to_be_visible()
    assert page.evaluate(NO_SIDEWAYS_SCROLL)
    page.screenshot(path=str(tmp_path / f"rotation-{width}.png"), full_page=True)

    page.goto(f"{live_server.url}/projects/{team_site.pk}/rotation/fairness/")
    expect(page.get_by_role("heading", name="接待公平性")).to_be_visible()
    expect(page.locator("#fairness-teams .panel")).to_have_count(2)
    expect(page.locator("#fairness-consultants tbody tr")).to_have_count(5)
    assert page.evaluate(NO_SIDEWAYS_SCROLL)
    page.screenshot(path=str(tmp_path / f"fairness-{width}.png"), full_page=True)
