"""GET /projects/{pid}/stations: the tour route (讲解点管理 page) over the API."""

import pytest

from anchang.reception.models import Station
from anchang.reception.stations import stations_ensure_defaults

pytestmark = pytest.mark.django_db


def test_the_route_in_order_deactivated_ones_included(client, project, manager, api_token_for) -> None:
    stations_ensure_defaults(project=project)
    last = Station.objects.filter(project=project).order_by("-sort_order").first()
    Station.objects.filter(pk=last.pk).update(is_active=False)

    response = client.get(f"/api/v1/projects/{project.pk}/stations", headers=api_token_for(manager))

    assert response.status_code == 200, response.content
    body = response.json()
    expected = list(Station.objects.filter(project=project).order_by("sort_order", "pk"))
    assert [item["id"] for item in body["items"]] == [s.pk for s in expected] and body["count"] == len(
        expected
    )
    assert body["items"][-1]["is_active"] is False
    assert any(item["is_risk_disclosure"] for item in body["items"])
    assert all(isinstance(item["key_points"], list) for item in body["items"])


def test_only_managers(client, project, consultant, frontdesk, api_token_for) -> None:
    for user in (consultant, frontdesk):
        assert (
            client.get(f"/api/v1/projects/{project.pk}/stations", headers=api_token_for(user)).status_code
            == 403
        )


def test_query_budget(client, project, manager, api_token_for, django_assert_max_num_queries) -> None:
    stations_ensure_defaults(project=project)
    headers = api_token_for(manager)

    with django_assert_max_num_queries(3):  # token and user, project, the stations
        response = client.get(f"/api/v1/projects/{project.pk}/stations", headers=headers)

    assert response.status_code == 200
