"""GET /me: the caller's own id, role and projects (a client's "mine" filters start from here)."""

import pytest

pytestmark = pytest.mark.django_db


def test_me_names_the_caller_and_their_projects(
    client, project, other_project, consultant, api_token_for
) -> None:
    response = client.get("/api/v1/me", headers=api_token_for(consultant))

    assert response.status_code == 200
    assert response.json() == {
        "id": consultant.pk,
        "username": consultant.username,
        "name": consultant.display_name,
        "role": "consultant",
        "role_label": "置业顾问",
        "team": consultant.team.name if consultant.team else None,
        "projects": [{"id": project.pk, "name": project.name}],
    }


def test_me_needs_a_token(client, db) -> None:
    assert client.get("/api/v1/me").status_code == 401
