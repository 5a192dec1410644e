"""GET /projects, /projects/{pid}/staff and /projects/{pid}/units (api.md core endpoints, P1, S7)."""

from decimal import Decimal

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from anchang.accounts.models import ProjectMembership, Role, User
from anchang.accounts.testing import CompanyFactory, TeamFactory, UserFactory, user_in
from anchang.inventory.models import Project, Unit, UnitStatus
from anchang.inventory.testing import ProjectFactory, project_with_units

UNIT_FIELDS = {
    "id",
    "building",
    "number",
    "floor",
    "bedrooms",
    "area",
    "orientation",
    "total_price",
    "status",
}
STAFF_FIELDS = {"id", "username", "name", "role", "team", "company"}

# Who may do what, as rules.py states it; everyone else gets 403 on a project they belong to.
MAY_SEE_UNITS = {Role.ADMIN, Role.MANAGER, Role.FRONTDESK, Role.CONSULTANT, Role.ATTENDANT}
MAY_SEE_STAFF = {Role.ADMIN, Role.MANAGER, Role.FRONTDESK, Role.CONSULTANT}
PERSONA_FIXTURES: dict[str, str] = {
    Role.ADMIN: "admin_user",
    Role.MANAGER: "manager",
    Role.FRONTDESK: "frontdesk",
    Role.CONSULTANT: "consultant",
    Role.AGENT: "agent",
    Role.ATTENDANT: "attendant",
    Role.SERVICE: "service",
}


@pytest.fixture
def persona(request: pytest.FixtureRequest, project: Project):
    """`persona(role)` → a user of that role who is a member of `project` (admins need no membership)."""

    def make(role: str) -> User:
        if role == Role.OWNER:
            return user_in(project, role=Role.OWNER, username="owner_p")
        return request.getfixturevalue(PERSONA_FIXTURES[role])

    return make


@pytest.fixture
def get(client: Client, api_token_for):
    """`get(user, url)` → the response to a GET with that user's bearer token."""

    def request(user: User, url: str):
        return client.get(url, headers=api_token_for(user))

    return request


def units_url(project: Project, query: str = "") -> str:
    return f"/api/v1/projects/{project.pk}/units{query}"


def numbers(response) -> list[str]:
    return [f"{item['building']}-{item['number']}" for item in response.json()["items"]]


# --- GET /projects ---------------------------------------------------------------------------------


def test_admin_sees_every_project(get, admin_user: User, project: Project, other_project: Project) -> None:
    response = get(admin_user, "/api/v1/projects")

    assert response.status_code == 200
    assert {p["id"] for p in response.json()} == {project.pk, other_project.pk}


@pytest.mark.parametrize("role", [r for r in Role if r != Role.ADMIN])
def test_other_roles_see_only_the_projects_they_are_members_of(
    get,
    persona,
    role: str,
    project: Project,
    other_project: Project,
) -> None:
    response = get(persona(role), "/api/v1/projects")

    assert response.status_code == 200
    assert response.json() == [{"id": project.pk, "name": project.name, "city": project.city}]


def test_a_member_of_two_projects_sees_both_once(
    get, manager: User, project: Project, other_project: Project
) -> None:
    ProjectMembership.objects.create(user=manager, project=other_project)

    response = get(manager, "/api/v1/projects")

    assert sorted(p["id"] for p in response.json()) == sorted([project.pk, other_project.pk])


def test_a_user_without_membership_sees_no_project(get, project: Project) -> None:
    loner = UserFactory(username="loner", role=Role.MANAGER)

    response = get(loner, "/api/v1/projects")

    assert response.status_code == 200
    assert response.json() == []


# --- GET /projects/{pid}/staff -----------------------------------------------------------------------


def test_staff_lists_the_project_members_with_team_and_company(get, project: Project, manager: User) -> None:
    team = TeamFactory(name="销售一组", company=CompanyFactory(name="某代理公司", short_name="某代理"))
    teamed = user_in(
        project, role=Role.CONSULTANT, username="teamed", name="李雷", team=team, company=team.company
    )
    user_in(project, role=Role.CONSULTANT, username="gone", is_active=False)
    user_in(ProjectFactory(), role=Role.CONSULTANT, username="elsewhere")

    response = get(manager, f"/api/v1/projects/{project.pk}/staff")

    assert response.status_code == 200
    rows = {row["username"]: row for row in response.json()}
    assert set(rows) == {"manager_p", "teamed"}, "only active members of this project"
    assert all(set(row) == STAFF_FIELDS for row in rows.values())
    assert rows["teamed"] == {
        "id": teamed.pk,
        "username": "teamed",
        "name": "李雷",
        "role": "consultant",
        "team": "销售一组",
        "company": "某代理",
    }
    assert rows["manager_p"]["team"] is None and rows["manager_p"]["company"] is None


def test_staff_role_filter_narrows_the_list(
    get, project: Project, manager: User, consultant: User, other_consultant: User, frontdesk: User
) -> None:
    consultants = get(manager, f"/api/v1/projects/{project.pk}/staff?role=consultant").json()
    managers = get(manager, f"/api/v1/projects/{project.pk}/staff?role=manager").json()
    everyone = get(manager, f"/api/v1/projects/{project.pk}/staff?role=").json()

    assert {row["username"] for row in consultants} == {"consultant_p", "consultant_q"}
    assert [row["username"] for row in managers] == ["manager_p"]
    assert {row["username"] for row in everyone} == {
        "manager_p",
        "consultant_p",
        "consultant_q",
        "frontdesk_p",
    }


@pytest.mark.parametrize("role", [Role.AGENT, Role.ATTENDANT, Role.SERVICE, Role.OWNER])
def test_staff_is_forbidden_to_roles_outside_the_sales_team(
    get, persona, project: Project, role: str
) -> None:
    response = get(persona(role), f"/api/v1/projects/{project.pk}/staff")

    assert response.status_code == 403
    assert response.json()["code"] == "forbidden"


def test_staff_of_another_project_is_not_found(get, manager: User, other_project: Project) -> None:
    user_in(other_project, role=Role.CONSULTANT, username="their_consultant")

    response = get(manager, f"/api/v1/projects/{other_project.pk}/staff")

    assert response.status_code == 404
    assert b"their_consultant" not in response.content


# --- GET /projects/{pid}/units -----------------------------------------------------------------------


def test_units_answer_every_field_with_money_and_area_as_decimal_strings(
    get, manager: User, project: Project
) -> None:
    response = get(manager, units_url(project))

    assert response.status_code == 200
    body = response.json()
    assert set(body) == {"items", "count"}
    assert body["count"] == 12 and len(body["items"]) == 12
    first = body["items"][0]
    unit = Unit.objects.get(pk=first["id"])
    assert first == {
        "id": unit.pk,
        "building": "1栋",
        "number": "101",
        "floor": 1,
        "bedrooms": 3,
        "area": "100.00",
        "orientation": "NS",
        "total_price": "2310000.00",
        "status": "available",
    }
    for item in body["items"]:
        assert set(item) == UNIT_FIELDS
        assert isinstance(item["total_price"], str) and isinstance(item["area"], str)
        assert Decimal(item["total_price"]).as_tuple().exponent == -2


def test_units_come_in_board_order(get, manager: User, project: Project) -> None:
    assert numbers(get(manager, units_url(project))) == [
        f"{building}栋-{floor}{position:02d}"
        for building in (1, 2)
        for floor in (1, 2, 3)
        for position in (1, 2)
    ]


@pytest.mark.parametrize(
    "query, expected",
    [
        ("?building=1栋", ["1栋-101", "1栋-102", "1栋-201", "1栋-202", "1栋-301", "1栋-302"]),
        ("?bedrooms=4", ["1栋-102", "1栋-202", "1栋-302", "2栋-102", "2栋-202", "2栋-302"]),
        ("?min_total=2600000", ["1栋-102", "1栋-202", "1栋-302", "2栋-102", "2栋-202", "2栋-302"]),
        ("?min_total=2620000.00", ["1栋-202", "1栋-302", "2栋-202", "2栋-302"]),
        ("?max_total=2310000", ["1栋-101", "2栋-101"]),
        ("?min_total=2310000&max_total=2320000", ["1栋-101", "1栋-201", "2栋-101", "2栋-201"]),
        ("?status=held", ["1栋-301", "2栋-102"]),
        ("?status=available&building=2栋&bedrooms=3", ["2栋-101", "2栋-201", "2栋-301"]),
        ("?building=3栋", []),
        ("?bedrooms=2", []),
        ("?status=&building=&bedrooms=&min_total=&max_total=", None),
    ],
    ids=[
        "building",
        "bedrooms",
        "min_total",
        "min_total-cents",
        "max_total",
        "price-range",
        "status",
        "combined",
        "no-such-building",
        "no-such-layout",
        "blank-filters-mean-all",
    ],
)
def test_each_filter_narrows_the_units(
    get, manager: User, project: Project, query: str, expected: list[str] | None
) -> None:
    Unit.objects.filter(project=project, building__name="1栋", number="301").update(status=UnitStatus.HELD)
    Unit.objects.filter(project=project, building__name="2栋", number="102").update(status=UnitStatus.HELD)

    response = get(manager, units_url(project, query))

    assert response.status_code == 200
    body = response.json()
    if expected is None:
        assert body["count"] == 12
        return
    assert numbers(response) == expected
    assert body["count"] == len(expected)


def test_pagination_slices_and_counts_all_matches(get, manager: User, project: Project) -> None:
    everything = numbers(get(manager, units_url(project)))

    page = get(manager, units_url(project, "?limit=5&offset=0")).json()
    second = get(manager, units_url(project, "?limit=5&offset=5"))
    last = get(manager, units_url(project, "?limit=5&offset=10"))
    beyond = get(manager, units_url(project, "?limit=5&offset=50")).json()
    filtered = get(manager, units_url(project, "?bedrooms=3&limit=2&offset=1")).json()

    assert len(page["items"]) == 5 and page["count"] == 12
    assert numbers(second) == everything[5:10] and second.json()["count"] == 12
    assert numbers(last) == everything[10:]
    assert beyond == {"items": [], "count": 12}
    assert [i["number"] for i in filtered["items"]] == ["201", "301"] and filtered["count"] == 6


def test_limit_zero_is_clamped_to_one(get, manager: User, project: Project) -> None:
    body = get(manager, units_url(project, "?limit=0")).json()

    assert len(body["items"]) == 1 and body["count"] == 12


@pytest.fixture
def big_project(manager: User) -> Project:
    big = project_with_units(buildings=2, floors=15, units_per_floor=10, name="大盘")  # 300 units
    ProjectMembership.objects.create(user=manager, project=big)
    return big


def test_limit_above_the_maximum_is_clamped_to_200(get, manager: User, big_project: Project) -> None:
    default = get(manager, units_url(big_project)).json()
    clamped = get(manager, units_url(big_project, "?limit=100000")).json()

    assert len(default["items"]) == 100 and default["count"] == 300
    assert len(clamped["items"]) == 200 and clamped["count"] == 300


def test_units_need_the_same_number_of_queries_for_12_and_200_units(
    client: Client,
    api_token_for,
    manager: User,
    project: Project,
    big_project: Project,
) -> None:
    headers = api_token_for(manager)

    def queries_for(target: Project) -> tuple[int, int]:
        with CaptureQueriesContext(connection) as queries:
            response = client.get(units_url(target, "?limit=200"), headers=headers)
        assert response.status_code == 200
        return len(queries), len(response.json()["items"])

    small_queries, small_items = queries_for(project)
    big_queries, big_items = queries_for(big_project)

    assert (small_items, big_items) == (12, 200)
    assert small_queries == big_queries
    assert big_queries <= 4, "token, project visibility, page, count"


def test_staff_and_projects_need_a_fixed_number_of_queries(
    client: Client,
    api_token_for,
    manager: User,
    project: Project,
    django_assert_max_num_queries,
) -> None:
    for n in range(20):
        user_in(
            project,
            role=Role.CONSULTANT,
            username=f"c{n}",
            team=TeamFactory(),
            company=CompanyFactory(),
        )
    headers = api_token_for(manager)

    with django_assert_max_num_queries(3, info="token, project visibility, staff with team and company"):
        assert len(client.get(f"/api/v1/projects/{project.pk}/staff", headers=headers).json()) == 21
    with django_assert_max_num_queries(2, info="token, projects"):
        assert client.get("/api/v1/projects", headers=headers).status_code == 200


def test_units_of_another_project_are_not_found(get, manager: User, other_project: Project) -> None:
    response = get(manager, units_url(other_project))

    assert response.status_code == 404
    assert response.json()["code"] == "not_found"


def test_unknown_and_other_projects_answer_alike(get, manager: User, other_project: Project) -> None:
    unknown = get(manager, "/api/v1/projects/987654/units")
    hidden = get(manager, units_url(other_project))

    assert unknown.status_code == hidden.status_code == 404
    assert unknown.json() == hidden.json(), "never reveal that a project exists"


@pytest.mark.parametrize("role", [Role.AGENT, Role.SERVICE, Role.OWNER])
def test_units_are_forbidden_to_roles_without_the_board(get, persona, project: Project, role: str) -> None:
    response = get(persona(role), units_url(project))

    assert response.status_code == 403
    assert response.json()["code"] == "forbidden"
    assert b"total_price" not in response.content


# --- access matrix (quality.md P1) -------------------------------------------------------------------


@pytest.mark.parametrize("endpoint", ["staff", "units"])
@pytest.mark.parametrize("whose", ["own", "other"])
@pytest.mark.parametrize("role", list(Role))
def test_access_matrix_has_no_unauthorised_success(
    get,
    persona,
    project: Project,
    other_project: Project,
    role: str,
    whose: str,
    endpoint: str,
) -> None:
    user = persona(role)
    target = project if whose == "own" else other_project
    allowed = MAY_SEE_UNITS if endpoint == "units" else MAY_SEE_STAFF
    visible = whose == "own" or role == Role.ADMIN

    response = get(user, f"/api/v1/projects/{target.pk}/{endpoint}")

    if not visible:
        expected = 404
    elif role in allowed:
        expected = 200
    else:
        expected = 403
    assert response.status_code == expected, (role, whose, endpoint, response.content)
