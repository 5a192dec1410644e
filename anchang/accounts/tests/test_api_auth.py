"""POST /api/v1/auth/token and bearer authentication (api.md "Auth", quality.md P6)."""

import json
from datetime import datetime, timedelta

import pytest
from axes.models import AccessAttempt
from django.conf import settings
from django.db import connection
from django.forms.models import model_to_dict
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from anchang.accounts.models import (
    ApiToken,
    Role,
    User,
    _hash_token,
    _member_token_lookup,
    _member_token_query,
)
from anchang.accounts.testing import UserFactory, user_in
from anchang.inventory.models import Project, ProjectSettings
from anchang.inventory.testing import project_with_units

TOKEN_URL = "/api/v1/auth/token"
PASSWORD = "test-pass-123"  # what UserFactory sets


def post_token(client: Client, body: object, *, ip: str = "10.0.0.1", **extra: str):
    raw = body if isinstance(body, bytes | str) else json.dumps(body)
    return client.post(TOKEN_URL, raw, content_type="application/json", REMOTE_ADDR=ip, **extra)


def assert_error(response, status: int, code: str) -> dict:
    assert response.status_code == status, response.content
    assert response["Content-Type"].startswith("application/json")
    body = response.json()
    assert set(body) == {"code", "message", "fields"}
    assert body["code"] == code
    assert body["message"]
    return body


def test_right_password_returns_a_working_token_with_an_aware_expiry(client: Client, manager: User) -> None:
    before = timezone.now()

    response = post_token(client, {"username": "manager_p", "password": PASSWORD})

    assert response.status_code == 200
    body = response.json()
    assert set(body) == {"token", "expires_at"}
    expires_at = datetime.fromisoformat(body["expires_at"])
    assert expires_at.utcoffset() == timedelta(hours=8), "times are ISO 8601 with the Asia/Shanghai offset"
    assert before + settings.API_TOKEN_TTL - timedelta(minutes=1) <= expires_at
    assert expires_at <= timezone.now() + settings.API_TOKEN_TTL
    projects = client.get("/api/v1/projects", headers={"Authorization": f"Bearer {body['token']}"})
    assert projects.status_code == 200
    manager.refresh_from_db()
    assert manager.last_login is not None and manager.last_login >= before


def test_only_a_hash_of_the_token_is_stored(client: Client, manager: User) -> None:
    token = post_token(client, {"username": "manager_p", "password": PASSWORD}).json()["token"]

    stored = ApiToken.objects.get(user=manager)
    assert token not in stored.key_hash


def test_expired_token_is_refused(client: Client, manager: User, api_token_for) -> None:
    headers = api_token_for(manager)
    ApiToken.objects.filter(user=manager).update(expires_at=timezone.now() - timedelta(seconds=1))

    assert_error(client.get("/api/v1/projects", headers=headers), 401, "unauthenticated")


def test_token_of_a_deactivated_user_is_refused(client: Client, manager: User, api_token_for) -> None:
    headers = api_token_for(manager)
    User.objects.filter(pk=manager.pk).update(is_active=False)

    assert_error(client.get("/api/v1/projects", headers=headers), 401, "unauthenticated")


@pytest.mark.parametrize(
    "username, password",
    [("manager_p", "wrong-password"), ("nobody_here", PASSWORD), ("MANAGER_P", PASSWORD)],
    ids=["wrong-password", "unknown-user", "wrong-case-username"],
)
def test_wrong_credentials_answer_401_without_saying_which_part_was_wrong(
    client: Client, manager: User, username: str, password: str
) -> None:
    body = assert_error(
        post_token(client, {"username": username, "password": password}), 401, "invalid_credentials"
    )

    assert body["message"] == "用户名或密码不正确。"
    assert not ApiToken.objects.exists()


def test_inactive_user_cannot_get_a_token(client: Client, manager: User) -> None:
    User.objects.filter(pk=manager.pk).update(is_active=False)

    assert_error(
        post_token(client, {"username": "manager_p", "password": PASSWORD}), 401, "invalid_credentials"
    )


def test_sixth_attempt_is_refused_with_429_even_with_the_right_password(
    client: Client, manager: User
) -> None:
    wrong = {"username": "manager_p", "password": "wrong-password"}
    for _attempt in range(settings.AXES_FAILURE_LIMIT):
        assert_error(post_token(client, wrong, ip="10.0.0.6"), 401, "invalid_credentials")

    body = assert_error(
        post_token(client, {"username": "manager_p", "password": PASSWORD}, ip="10.0.0.6"),
        429,
        "too_many_attempts",
    )

    assert "锁定" in body["message"]
    assert not ApiToken.objects.exists()


def test_lockout_is_per_username_and_address(client: Client, manager: User, consultant: User) -> None:
    wrong = {"username": "manager_p", "password": "wrong-password"}
    for _attempt in range(settings.AXES_FAILURE_LIMIT):
        post_token(client, wrong, ip="10.0.0.7")

    assert (
        post_token(client, {"username": "manager_p", "password": PASSWORD}, ip="10.0.0.8").status_code == 200
    )
    assert (
        post_token(client, {"username": "consultant_p", "password": PASSWORD}, ip="10.0.0.7").status_code
        == 200
    )
    assert (
        post_token(client, {"username": "manager_p", "password": PASSWORD}, ip="10.0.0.7").status_code == 429
    )


def test_a_success_before_the_limit_resets_the_failure_count(client: Client, manager: User) -> None:
    wrong = {"username": "manager_p", "password": "wrong-password"}
    right = {"username": "manager_p", "password": PASSWORD}
    for _attempt in range(settings.AXES_FAILURE_LIMIT - 1):
        post_token(client, wrong, ip="10.0.0.9")
    assert post_token(client, right, ip="10.0.0.9").status_code == 200

    for _attempt in range(settings.AXES_FAILURE_LIMIT - 1):
        assert post_token(client, wrong, ip="10.0.0.9").status_code == 401
    assert post_token(client, right, ip="10.0.0.9").status_code == 200


def test_throttling_holds_whatever_the_language(client: Client, manager: User) -> None:
    wrong = {"username": "manager_p", "password": "wrong-password"}
    for _attempt in range(settings.AXES_FAILURE_LIMIT):
        post_token(client, wrong, ip="10.0.0.10", HTTP_ACCEPT_LANGUAGE="en")

    response = post_token(client, wrong, ip="10.0.0.10", HTTP_ACCEPT_LANGUAGE="en")

    assert_error(response, 429, "too_many_attempts")


@pytest.mark.parametrize(
    "body, field",
    [
        (b"username=manager_p&password=x", "body"),
        (b"{not json", "body"),
        (b"[]", "username"),
        (b"null", "username"),
        (b'"manager_p"', "username"),
        ({}, "username"),
        ({"username": "manager_p"}, "password"),
        ({"password": PASSWORD}, "username"),
        ({"username": 12, "password": PASSWORD}, "username"),
        ({"username": "manager_p", "password": ["x"]}, "password"),
        ({"username": "", "password": PASSWORD}, "username"),
        ({"username": "a" * 151, "password": PASSWORD}, "username"),
        ({"username": "manager_p", "password": "x" * 5000}, "password"),
        ({"username": "manager_p\x00", "password": PASSWORD}, "username"),
    ],
    ids=[
        "form-encoded",
        "broken-json",
        "json-array",
        "json-null",
        "json-string",
        "empty-object",
        "no-password",
        "no-username",
        "username-number",
        "password-list",
        "empty-username",
        "huge-username",
        "huge-password",
        "nul-in-username",
    ],
)
def test_malformed_token_requests_answer_400_and_change_nothing(
    client: Client, manager: User, body: object, field: str
) -> None:
    response = post_token(client, body)

    result = assert_error(response, 400, "invalid")
    assert field in result["fields"]
    assert not ApiToken.objects.exists()
    assert not AccessAttempt.objects.exists(), "malformed requests are not login attempts"


def test_token_endpoint_only_accepts_post(client: Client, db: None) -> None:
    assert client.get(TOKEN_URL).status_code == 405


@pytest.fixture
def endpoints(project: Project) -> list[str]:
    return [
        "/api/v1/projects",
        f"/api/v1/projects/{project.pk}/staff",
        f"/api/v1/projects/{project.pk}/units",
        "/api/v1/projects/999999/units",
    ]


@pytest.mark.parametrize(
    "headers",
    [
        {},
        {"Authorization": ""},
        {"Authorization": "Bearer"},
        {"Authorization": "Bearer "},
        {"Authorization": "Bearer not-a-token"},
        {"Authorization": "Token abc"},
        {"Authorization": "Basic bWFuYWdlcl9wOnRlc3QtcGFzcy0xMjM="},
        {"Authorization": "Bearer " + "x" * 10_000},
    ],
    ids=["none", "empty", "scheme-only", "blank-token", "garbage", "other-scheme", "basic", "huge"],
)
def test_every_endpoint_needs_a_bearer_token(
    client: Client, manager: User, endpoints: list[str], headers: dict[str, str]
) -> None:
    for url in endpoints:
        assert_error(client.get(url, headers=headers), 401, "unauthenticated")


def test_a_session_login_is_not_an_api_login(client: Client, manager: User, endpoints: list[str]) -> None:
    client.force_login(manager)

    for url in endpoints:
        assert_error(client.get(url), 401, "unauthenticated")


def test_a_token_only_ever_acts_as_its_own_user(client: Client, project: Project, api_token_for) -> None:
    outsider = UserFactory(username="outsider", role=Role.MANAGER)
    user_in(project, role=Role.MANAGER, username="insider")

    response = client.get(f"/api/v1/projects/{project.pk}/units", headers=api_token_for(outsider))

    assert_error(response, 404, "not_found")


def test_a_members_token_brings_the_project_of_the_path_in_the_same_read(
    client: Client, project: Project, manager: User, admin_user: User, api_token_for
) -> None:
    """Token, user, membership, project and settings in one statement; an admin (no membership) takes
    the plain path, token then project, and gets the same answer; a stranger still gets 404."""
    url = f"/api/v1/projects/{project.pk}/units"
    project_reads = {}
    for user in (manager, admin_user):
        headers = api_token_for(user)
        with CaptureQueriesContext(connection) as ctx:
            assert client.get(url, headers=headers).status_code == 200
        first, *rest = (q["sql"] for q in ctx.captured_queries)
        assert "accounts_apitoken" in first
        project_reads[user.username] = [sql for sql in rest if 'FROM "inventory_project"' in sql]
        if user == manager:
            assert "inventory_projectsettings" in first
    assert project_reads == {manager.username: [], admin_user.username: project_reads[admin_user.username]}
    assert len(project_reads[admin_user.username]) == 1
    stranger = UserFactory(username="stranger", role=Role.MANAGER)
    assert_error(client.get(url, headers=api_token_for(stranger)), 404, "not_found")


def _compare(user: User | None) -> tuple[object, ...] | None:
    """What the token lookup hands on: the user and the project it carries, with company and settings."""
    if user is None:
        return None
    (project,) = user.api_projects.values()  # type: ignore[attr-defined]
    try:
        settings_row: object = model_to_dict(project.settings)
    except ProjectSettings.DoesNotExist:
        settings_row = "no settings"
    return (model_to_dict(user), model_to_dict(project), model_to_dict(project.company), settings_row)


def test_the_compiled_token_lookup_builds_what_the_orm_builds(project: Project, manager: User) -> None:
    """The member's lookup runs SQL compiled once (core.compiled): the same user, project, company and
    settings as the ORM's own queryset, also without a settings row; no match for another project, an
    expired token or another token."""
    _, raw = ApiToken.issue(manager)
    key_hash = _hash_token(raw)

    def orm() -> tuple[object, ...] | None:
        membership = _member_token_query(project_id=project.pk, key_hash=key_hash, now=timezone.now()).first()
        if membership is None:
            return None
        membership.user.api_projects = {project.pk: membership.project}  # type: ignore[attr-defined]
        return _compare(membership.user)

    expected = orm()
    assert expected is not None and expected[3] != "no settings"
    assert _compare(ApiToken.user_for(raw, project_id=project.pk)) == expected
    ProjectSettings.objects.filter(project=project).delete()
    expected = orm()
    assert expected is not None and expected[3] == "no settings"
    assert _compare(ApiToken.user_for(raw, project_id=project.pk)) == expected

    other = project_with_units(buildings=1, floors=1, units_per_floor=1)
    assert _member_token_lookup.fetch(project_id=other.pk, key_hash=key_hash, now=timezone.now()) == []
    assert (
        _member_token_lookup.fetch(project_id=project.pk, key_hash=_hash_token("x"), now=timezone.now()) == []
    )
    later = timezone.now() + settings.API_TOKEN_TTL + timedelta(minutes=1)
    assert _member_token_lookup.fetch(project_id=project.pk, key_hash=key_hash, now=later) == []


@pytest.mark.postgres_only
def test_the_token_lookup_is_planned_once_per_connection_on_postgresql(
    client: Client, project: Project, manager: User, api_token_for
) -> None:
    """PostgreSQL plans the six-table join once per connection (a prepared statement) instead of on
    every request; the statement is still counted and logged like any other."""
    headers = api_token_for(manager)
    url = f"/api/v1/projects/{project.pk}/units"
    for _ in range(3):
        with CaptureQueriesContext(connection) as ctx:
            assert client.get(url, headers=headers).status_code == 200
        assert "accounts_apitoken" in ctx.captured_queries[0]["sql"]
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT generic_plans + custom_plans FROM pg_prepared_statements WHERE statement LIKE %s",
            ["%accounts_apitoken%"],
        )
        assert cursor.fetchall() == [(3,)]
