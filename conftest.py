"""Personas and factories shared by every app's tests (architecture rule 10)."""

from collections.abc import Iterator
from typing import cast

import pytest
from django.conf import settings
from django.test import Client
from django.test.utils import override_settings

from anchang.accounts.models import Role, User
from anchang.accounts.testing import UserFactory, user_in
from anchang.inventory.models import Project
from anchang.inventory.testing import project_with_units


def pytest_runtest_setup(item: pytest.Item) -> None:
    if item.get_closest_marker("postgres_only"):
        from django.db import connection

        if connection.vendor != "postgresql":
            pytest.skip(
                "needs PostgreSQL row locking; `make test` runs it against a throwaway PostgreSQL cluster"
            )


@pytest.fixture(autouse=True)
def _default_language() -> Iterator[None]:
    # A request with Accept-Language: en leaves English active in the thread; every test starts in
    # the product's default language instead of inheriting whatever the previous test spoke.
    from django.utils import translation

    with translation.override(settings.LANGUAGE_CODE):
        yield


@pytest.fixture
def project(db: None) -> Project:
    return project_with_units(buildings=2, floors=3, units_per_floor=2)


@pytest.fixture
def other_project(db: None) -> Project:
    return project_with_units(buildings=1, floors=2, units_per_floor=2, name="别处项目")


@pytest.fixture(scope="session", autouse=True)
def _plain_static_storage() -> Iterator[None]:
    # Production uses whitenoise's manifest (filled by collectstatic). Tests, and the live server of
    # the browser journeys, render and serve static files straight from the apps instead; session
    # scope so the override is in place before the live server thread starts.
    plain = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }
    # Hashing a password with PBKDF2 costs ~0.2 s; tests create many users and never need the strength.
    fast_hashers = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    with override_settings(STORAGES=plain, PASSWORD_HASHERS=fast_hashers):
        yield


def _persona(project: Project, role: str, username: str, **extra: object) -> User:
    return user_in(project, role=role, username=username, **extra)


@pytest.fixture
def admin_user(db: None) -> User:
    return cast(User, UserFactory(username="admin_p", role=Role.ADMIN, is_staff=True, is_superuser=True))


@pytest.fixture
def manager(project: Project) -> User:
    return _persona(project, Role.MANAGER, "manager_p")


@pytest.fixture
def frontdesk(project: Project) -> User:
    return _persona(project, Role.FRONTDESK, "frontdesk_p")


@pytest.fixture
def consultant(project: Project) -> User:
    return _persona(project, Role.CONSULTANT, "consultant_p")


@pytest.fixture
def other_consultant(project: Project) -> User:
    return _persona(project, Role.CONSULTANT, "consultant_q")


@pytest.fixture
def agent(project: Project) -> User:
    return _persona(project, Role.AGENT, "agent_p")


@pytest.fixture
def attendant(project: Project) -> User:
    return _persona(project, Role.ATTENDANT, "attendant_p")


@pytest.fixture
def service(project: Project) -> User:
    return _persona(project, Role.SERVICE, "service_p")


@pytest.fixture
def client_for(client: Client):
    """`client_for(user)` → the test client logged in as that user."""

    def login(user: User) -> Client:
        client.force_login(user, backend="django.contrib.auth.backends.ModelBackend")
        return client

    return login


@pytest.fixture
def api_token_for(db: None):
    """`api_token_for(user)` → headers with a fresh bearer token for that user."""
    from anchang.accounts.models import ApiToken

    def issue(user: User) -> dict[str, str]:
        _, raw = ApiToken.issue(user)
        return {"Authorization": f"Bearer {raw}"}

    return issue


@pytest.fixture
def consultants(project: Project) -> list[User]:
    """Three consultants of the project (顾问1–3), none on duty yet."""
    return [user_in(project, role=Role.CONSULTANT, username=f"gw{i}", name=f"顾问{i}") for i in (1, 2, 3)]


@pytest.fixture
def on_duty(project: Project, consultants: list[User]) -> list[User]:
    """The three consultants signed in to today's queue, in order gw1, gw2, gw3."""
    from anchang.reception.rotation import rotation_sign_in

    for consultant in consultants:
        rotation_sign_in(project=project, consultant=consultant, by=consultant)
    return consultants
