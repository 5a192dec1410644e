from io import StringIO

import pytest
from django.contrib.auth import authenticate
from django.core.management import call_command
from django.db import models
from django.test import RequestFactory
from pytest_django.fixtures import Settings
from simple_history.utils import get_history_model_for_model

from anchang.accounts.models import Company, CompanyKind, ProjectMembership, Role, Team, User
from anchang.core.phones import normalize_mainland_mobile
from anchang.demo.loader import DEMO_PASSWORD, HIGH_RISE, TOWNHOUSE, load_demo
from anchang.inventory.models import Building, Project, ProjectKind, ProjectSettings, Unit, UnitStatus
from anchang.inventory.services import unit_change_status

EXPECTED_ROLES = {
    "admin": Role.ADMIN,
    "manager": Role.MANAGER,
    "frontdesk": Role.FRONTDESK,
    **{f"consultant{n}": Role.CONSULTANT for n in range(1, 9)},
    "agent1": Role.AGENT,
    "agent2": Role.AGENT,
    "attendant1": Role.ATTENDANT,
    "service1": Role.SERVICE,
}


def _row_counts() -> dict[str, int]:
    tables: list[type[models.Model]] = [
        Company,
        Team,
        User,
        ProjectMembership,
        Project,
        ProjectSettings,
        Building,
        Unit,
        get_history_model_for_model(Unit),
    ]
    return {model._meta.label: model._default_manager.count() for model in tables}


@pytest.mark.django_db
def test_demo_loads_two_projects_with_a_full_sales_board() -> None:
    call_command("demo", "--quiet")

    high_rise = Project.objects.get(code=HIGH_RISE)
    townhouse = Project.objects.get(code=TOWNHOUSE)
    assert Project.objects.count() == 2
    assert (high_rise.kind, townhouse.kind) == (ProjectKind.HIGH_RISE, ProjectKind.LOW_RISE)
    assert high_rise.company.kind == CompanyKind.DEVELOPER == townhouse.company.kind
    assert ProjectSettings.objects.filter(project__in=[high_rise, townhouse]).count() == 2

    buildings = list(high_rise.buildings.all())
    assert len(buildings) == 6
    for building in buildings:
        assert 18 <= building.floors <= 33
        assert building.units_per_floor == 4
        slots = set(building.units.values_list("floor", "position"))
        assert slots == {(f, p) for f in range(1, building.floors + 1) for p in range(1, 5)}
    assert high_rise.units.count() == sum(b.floors * 4 for b in buildings) >= 500
    assert high_rise.units.get(building=buildings[0], floor=18, position=1).number == "1801"
    assert high_rise.units.get(building=buildings[0], floor=1, position=1).number == "101"

    assert townhouse.buildings.count() == 6
    for unit in townhouse.units.all():
        assert 180 <= unit.gross_area <= 260
        assert 6_000_000 <= unit.list_price_total <= 12_000_000
    for unit in Unit.objects.all():
        assert 0 < unit.usable_area <= unit.gross_area
        assert unit.list_price_total % 100 == 0
        assert (unit.status == UnitStatus.AVAILABLE) == (unit.status_changed_at is None)

    # The same slot costs more per ㎡ higher up.
    column = high_rise.units.filter(building=buildings[0], position=2).order_by("floor")
    prices = [unit.list_price_per_m2 for unit in column]
    assert prices == sorted(prices) and prices[0] < prices[-1]

    statuses = set(high_rise.units.values_list("status", flat=True))
    assert statuses == set(UnitStatus.values)
    available = high_rise.units.filter(status=UnitStatus.AVAILABLE).count()
    assert 0.45 <= available / high_rise.units.count() <= 0.65
    assert get_history_model_for_model(Unit).objects.count() == Unit.objects.count()


@pytest.mark.django_db
def test_demo_users_have_their_roles_companies_and_the_demo_password(settings: Settings) -> None:
    call_command("demo", "--quiet")

    users = User.objects.select_related("company", "team__company").in_bulk(
        list(EXPECTED_ROLES), field_name="username"
    )
    assert {username: user.role for username, user in users.items()} == EXPECTED_ROLES
    assert users["admin"].is_staff and users["admin"].is_superuser
    assert not any(user.is_superuser for username, user in users.items() if username != "admin")

    request = RequestFactory().post("/login/")
    for username in EXPECTED_ROLES:
        assert authenticate(request=request, username=username, password=DEMO_PASSWORD) == users[username]

    agent1, agent2 = users["agent1"], users["agent2"]
    assert agent1.company and agent2.company
    assert agent1.company != agent2.company
    assert agent1.company.kind == agent2.company.kind == CompanyKind.AGENCY

    def team_companies(numbers: range) -> set[Company]:
        teams = [users[f"consultant{n}"].team for n in numbers]
        assert all(team is not None for team in teams)
        return {team.company for team in teams if team}

    own, agency = team_companies(range(1, 5)), team_companies(range(5, 9))
    assert len(own) == len(agency) == 1
    assert own != agency
    assert own.pop().kind == CompanyKind.DEVELOPER and agency.pop().kind == CompanyKind.AGENCY

    mobiles = [user.mobile for user in users.values()]
    assert all(normalize_mainland_mobile(mobile) == mobile for mobile in mobiles)
    assert len(set(mobiles)) == len(mobiles)
    assert all(user.name for user in users.values())


@pytest.mark.django_db
def test_demo_memberships_follow_the_staffing_plan() -> None:
    call_command("demo", "--quiet")

    def members(code: str) -> set[str]:
        return set(
            ProjectMembership.objects.filter(project__code=code).values_list("user__username", flat=True)
        )

    staff = {"manager", "frontdesk", "attendant1", "service1"}
    assert members(HIGH_RISE) == staff | {f"consultant{n}" for n in range(1, 9)} | {"agent1", "agent2"}
    assert members(TOWNHOUSE) == staff | {"consultant1", "consultant2", "consultant5", "consultant6"}


@pytest.mark.django_db
def test_running_demo_twice_changes_nothing() -> None:
    first = load_demo()
    counts = _row_counts()
    second = load_demo()

    assert _row_counts() == counts
    assert first.created_anything and not second.created_anything
    assert second.projects == first.projects
    assert second.logins == first.logins


@pytest.mark.django_db
def test_rerun_keeps_what_users_did_in_the_demo() -> None:
    call_command("demo", "--quiet")
    manager = User.objects.get(username="manager")
    unit = Unit.objects.filter(project__code=HIGH_RISE, status=UnitStatus.AVAILABLE).first()
    assert unit is not None
    unit_change_status(unit_id=unit.pk, to_status=UnitStatus.HELD, by=manager, reason="留给老业主")
    consultant = User.objects.get(username="consultant1")
    consultant.set_password("changed-by-user-1")
    consultant.save()
    counts = _row_counts()

    call_command("demo", "--quiet")

    unit.refresh_from_db()
    assert unit.status == UnitStatus.HELD
    consultant.refresh_from_db()
    assert consultant.check_password("changed-by-user-1")
    assert _row_counts() == counts


@pytest.mark.django_db
def test_demo_prints_logins_password_and_address(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PORT", "8123")
    out = StringIO()
    call_command("demo", stdout=out)
    text = out.getvalue()

    high_rise = Project.objects.get(code=HIGH_RISE)
    assert high_rise.name in text and f"{high_rise.units.count()} 套房源" in text
    assert DEMO_PASSWORD in text
    assert "agent2" in text and "渠道经纪人" in text
    assert "http://127.0.0.1:8123" in text

    quiet = StringIO()
    call_command("demo", "--quiet", stdout=quiet)
    assert quiet.getvalue() == ""
