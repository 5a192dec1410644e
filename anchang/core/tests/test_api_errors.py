"""The API's error contract (api.md "Errors are JSON") and the bad-input catalogue (quality.md P4)."""

import re
from urllib.parse import quote

import pytest
from django.test import Client

from anchang.accounts.models import ApiToken, ProjectMembership, Role, User
from anchang.accounts.testing import user_in
from anchang.inventory.models import Building, Project, Unit

CJK = re.compile(r"[\u4e00-\u9fff]")


@pytest.fixture
def headers(api_token_for, manager: User) -> dict[str, str]:
    return api_token_for(manager)


def assert_error_format(response, status: int, code: str) -> dict:
    assert response.status_code == status, response.content
    assert response["Content-Type"].startswith("application/json")
    body = response.json()
    assert set(body) == {"code", "message", "fields"}
    assert body["code"] == code
    assert isinstance(body["message"], str) and body["message"]
    assert isinstance(body["fields"], dict)
    assert all(isinstance(k, str) and isinstance(v, str) and v for k, v in body["fields"].items())
    return body


def database_snapshot() -> tuple[object, ...]:
    """Everything a GET must leave alone, so that "nothing changed" is checked, not assumed."""
    return (
        list(Unit.objects.order_by("pk").values_list("pk", "status", "list_price_total", "building__name")),
        list(Project.objects.order_by("pk").values_list("pk", "name")),
        list(Building.objects.order_by("pk").values_list("pk", "name")),
        list(User.objects.order_by("pk").values_list("pk", "username", "role", "is_active")),
        ProjectMembership.objects.count(),
        ApiToken.objects.count(),
    )


# --- one format for every error ----------------------------------------------------------------------


def test_every_error_status_uses_the_same_json_shape(
    client: Client,
    headers: dict[str, str],
    project: Project,
    other_project: Project,
    agent: User,
    api_token_for,
) -> None:
    units = f"/api/v1/projects/{project.pk}/units"

    invalid = assert_error_format(client.get(units + "?limit=abc", headers=headers), 400, "invalid")
    assert_error_format(client.get(units), 401, "unauthenticated")
    assert_error_format(client.get(units, headers=api_token_for(agent)), 403, "forbidden")
    assert_error_format(
        client.get(f"/api/v1/projects/{other_project.pk}/units", headers=headers), 404, "not_found"
    )

    assert invalid["fields"] == {"limit": "请输入数字。"}


@pytest.mark.parametrize(
    "url",
    [
        "/api/v1/nope",
        "/api/v1/projects/1/nope",
        "/api/v1/projects/",
        "/api/v1/",
        "/api/v1/auth/token/extra",
        "/api/v1/projects//%0A/units",
    ],
)
@pytest.mark.parametrize("with_token", [True, False], ids=["token", "anonymous"])
def test_unknown_routes_under_the_api_answer_a_json_404(
    client: Client, headers: dict[str, str], url: str, with_token: bool
) -> None:
    request_headers = headers if with_token else {}

    assert_error_format(client.get(url, headers=request_headers), 404, "not_found")
    assert_error_format(
        client.post(url, "{}", content_type="application/json", headers=request_headers), 404, "not_found"
    )


@pytest.mark.parametrize("pid", ["abc", "1.5", "1e3", "<script>", "1; DROP TABLE inventory_unit", "%00"])
@pytest.mark.parametrize("endpoint", ["units", "staff"])
def test_a_non_integer_project_id_is_invalid_input(
    client: Client, headers: dict[str, str], project: Project, pid: str, endpoint: str
) -> None:
    response = client.get(f"/api/v1/projects/{quote(pid, safe='%')}/{endpoint}", headers=headers)

    body = assert_error_format(response, 400, "invalid")
    assert set(body["fields"]) == {"pid"}


@pytest.mark.parametrize("pid", ["0", "-1", "987654", "99999999999999999999999"])
def test_a_project_id_that_matches_nothing_is_not_found(
    client: Client, headers: dict[str, str], project: Project, pid: str
) -> None:
    assert_error_format(client.get(f"/api/v1/projects/{pid}/units", headers=headers), 404, "not_found")


def test_messages_default_to_chinese(client: Client, headers: dict[str, str], project: Project) -> None:
    units = f"/api/v1/projects/{project.pk}/units"

    for response in (
        client.get(units + "?bedrooms=x", headers=headers),
        client.get(units),
        client.get("/api/v1/projects/987654/units", headers=headers),
    ):
        body = response.json()
        assert CJK.search(body["message"]), body
        assert all(CJK.search(message) for message in body["fields"].values())


@pytest.mark.parametrize("language", ["en", "en-US,en;q=0.9", "zh-CN", "fr", "xx-invalid;;q=abc"])
def test_status_and_code_do_not_depend_on_the_language(
    client: Client,
    headers: dict[str, str],
    project: Project,
    agent: User,
    api_token_for,
    language: str,
) -> None:
    units = f"/api/v1/projects/{project.pk}/units"
    lang = {"HTTP_ACCEPT_LANGUAGE": language}

    assert_error_format(client.get(units + "?bedrooms=x", headers=headers, **lang), 400, "invalid")
    assert_error_format(client.get(units, **lang), 401, "unauthenticated")
    assert_error_format(client.get(units, headers=api_token_for(agent), **lang), 403, "forbidden")
    assert_error_format(
        client.get("/api/v1/projects/987654/units", headers=headers, **lang), 404, "not_found"
    )
    assert client.get(units, headers=headers, **lang).status_code == 200


# --- the bad-input catalogue -------------------------------------------------------------------------

INVALID_UNIT_QUERIES = [
    ("limit=abc", "limit"),
    ("limit=-1", "limit"),
    ("limit=1.5", "limit"),
    ("limit=" + "9" * 5000, "limit"),
    ("limit=1;DROP TABLE inventory_unit", "limit"),
    ("offset=-5", "offset"),
    ("offset=99999999999999999999999", "offset"),
    ("offset=ten", "offset"),
    ("bedrooms=three", "bedrooms"),
    ("bedrooms=0", "bedrooms"),
    ("bedrooms=99999999999999999999", "bedrooms"),
    ("bedrooms=1 OR 1=1", "bedrooms"),
    ("min_total=abc", "min_total"),
    ("min_total=NaN", "min_total"),
    ("min_total=Infinity", "min_total"),
    ("min_total=1e400", "min_total"),
    ("min_total=-1", "min_total"),
    ("min_total=2000000.001", "min_total"),
    ("max_total=0x10", "max_total"),
    ("max_total=" + "9" * 5000, "max_total"),
    ("min_total=3000000&max_total=1", "min_total"),
    ("status=bogus", "status"),
    ("status=AVAILABLE", "status"),
    ("status=available' OR '1'='1", "status"),
    ("status=<script>alert(1)</script>", "status"),
    ("building=" + "栋" * 31, "building"),
    ("building=" + "x" * 100_000, "building"),
    ("building=1栋%00", "building"),
]


@pytest.mark.parametrize(
    "query, field",
    INVALID_UNIT_QUERIES,
    ids=[f"{i}:{q[:30]}" for i, (q, _) in enumerate(INVALID_UNIT_QUERIES)],
)
def test_invalid_unit_filters_answer_400_naming_the_field(
    client: Client, headers: dict[str, str], project: Project, query: str, field: str
) -> None:
    before = database_snapshot()

    response = client.get(f"/api/v1/projects/{project.pk}/units?{query}", headers=headers)

    body = assert_error_format(response, 400, "invalid")
    assert field in body["fields"], body
    assert b"<script>" not in response.content
    assert database_snapshot() == before


HARMLESS_BUILDING_FILTERS = [
    "1; DROP TABLE inventory_unit",
    "1栋'; DELETE FROM inventory_unit; --",  # longer than any building name: refused, not searched
    "' OR '1'='1",
    '" OR ""="',
    "<script>alert(1)</script>",
    "<img src=x onerror=alert(1)>",
    "%",
    "_",
    "\\",
    "1栋\u202e",
    "🏠",
]


@pytest.mark.parametrize("building", HARMLESS_BUILDING_FILTERS)
def test_injection_strings_in_the_building_filter_find_nothing_and_change_nothing(
    client: Client, headers: dict[str, str], project: Project, building: str
) -> None:
    before = database_snapshot()

    response = client.get(f"/api/v1/projects/{project.pk}/units", {"building": building}, headers=headers)

    if len(building) > Building._meta.get_field("name").max_length:  # type: ignore[operator]
        assert_error_format(response, 400, "invalid")
    else:
        assert response.status_code == 200
        assert response.json() == {"items": [], "count": 0}
    assert b"<script>" not in response.content and b"<img" not in response.content
    assert database_snapshot() == before


@pytest.mark.parametrize(
    "query, field",
    [
        ("role=bogus", "role"),
        ("role=<script>alert(1)</script>", "role"),
        ("role=manager' OR '1'='1", "role"),
        ("role=" + "x" * 100_000, "role"),
    ],
    ids=["unknown", "script", "sql", "huge"],
)
def test_invalid_staff_filters_answer_400_naming_the_field(
    client: Client, headers: dict[str, str], project: Project, query: str, field: str
) -> None:
    before = database_snapshot()

    response = client.get(f"/api/v1/projects/{project.pk}/staff?{query}", headers=headers)

    body = assert_error_format(response, 400, "invalid")
    assert field in body["fields"]
    assert database_snapshot() == before


def test_unknown_query_parameters_are_ignored(
    client: Client, headers: dict[str, str], project: Project
) -> None:
    response = client.get(f"/api/v1/projects/{project.pk}/units?colour=red&limit=2", headers=headers)

    assert response.status_code == 200
    assert len(response.json()["items"]) == 2


def test_a_huge_bearer_token_is_just_unauthenticated(client: Client, project: Project) -> None:
    response = client.get("/api/v1/projects", headers={"Authorization": "Bearer " + "€" * 100_000})

    assert_error_format(response, 401, "unauthenticated")


def test_a_token_for_one_project_does_not_open_another(
    client: Client,
    project: Project,
    other_project: Project,
    api_token_for,
) -> None:
    theirs = user_in(other_project, role=Role.MANAGER, username="their_manager")
    headers = api_token_for(theirs)

    assert_error_format(client.get(f"/api/v1/projects/{project.pk}/units", headers=headers), 404, "not_found")
    assert_error_format(client.get(f"/api/v1/projects/{project.pk}/staff", headers=headers), 404, "not_found")
    assert client.get(f"/api/v1/projects/{other_project.pk}/units", headers=headers).status_code == 200
