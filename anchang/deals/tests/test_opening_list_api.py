"""GET /projects/{pid}/openings: the opening-day sessions list (开盘选房 page) over the API."""

import pytest

from anchang.accounts.models import Role
from anchang.accounts.testing import user_in
from anchang.deals.tests.test_opening_setup import make_session, open_session

pytestmark = pytest.mark.django_db


def test_sessions_newest_first_with_their_counts(client, project, manager, consultant, api_token_for) -> None:
    opened = open_session(project, manager, buyers=2)

    response = client.get(f"/api/v1/projects/{project.pk}/openings", headers=api_token_for(consultant))

    assert response.status_code == 200, response.content
    body = response.json()
    assert body["count"] == 1
    [item] = body["items"]
    assert item["id"] == opened.session.pk and item["status"] == "open"
    assert item["buyers"] == 2 and item["sold"] == 0
    assert item["starts_at"].endswith("+08:00")


def test_who_may_see_them(client, project, other_project, manager, agent, api_token_for) -> None:
    make_session(project, manager)
    stranger = user_in(other_project, role=Role.MANAGER, username="elsewhere")

    assert (
        client.get(f"/api/v1/projects/{project.pk}/openings", headers=api_token_for(agent)).status_code == 403
    )
    assert (
        client.get(f"/api/v1/projects/{project.pk}/openings", headers=api_token_for(stranger)).status_code
        == 404
    )


def test_query_budget(client, project, manager, api_token_for, django_assert_max_num_queries) -> None:
    for name in ("首开", "加推"):
        make_session(project, manager, name=name)
    headers = api_token_for(manager)

    # token and user, project, then the sessions, their buyer counts and their sold counts
    with django_assert_max_num_queries(5):
        response = client.get(f"/api/v1/projects/{project.pk}/openings", headers=headers)

    assert response.json()["count"] == 2
