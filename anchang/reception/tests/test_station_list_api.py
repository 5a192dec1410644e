"""GET /projects/{pid}/stations and …/stations/compliance: the tour route and 动线合规 over the API."""

import pytest
from django.utils import timezone

from anchang.customers.models import AttributionRule, Customer
from anchang.reception.models import Station, Visit, VisitKind, VisitState, VisitStation
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


def _ended_first_visit(project, consultant, phone: str) -> Visit:
    customer = Customer.objects.create(project=project, phone=f"+86{phone}", name="王小明", gender="male")
    return Visit.objects.create(
        project=project,
        customer=customer,
        kind=VisitKind.FIRST,
        state=VisitState.ENDED,
        rule=AttributionRule.ROTATION,
        consultant=consultant,
        checked_in_at=timezone.now(),
        checked_out_at=timezone.now(),
    )


def test_compliance_counts_first_visits_that_skipped_a_required_station(
    client, project, manager, consultant, api_token_for
) -> None:
    stations_ensure_defaults(project=project)
    required = list(Station.objects.filter(project=project, required_on_first_visit=True, is_active=True))
    walked = _ended_first_visit(project, consultant, "13812340001")
    for station in required:
        VisitStation.objects.create(visit=walked, station=station, done_at=timezone.now(), by=consultant)
    skipped = _ended_first_visit(project, consultant, "13812340002")

    response = client.get(
        f"/api/v1/projects/{project.pk}/stations/compliance", headers=api_token_for(manager)
    )

    assert response.status_code == 200, response.content
    body = response.json()
    assert body["first_visits"] == 2 and body["date_from"] == body["date_to"] == str(timezone.localdate())
    assert body["by_consultant"] == [
        {
            "consultant_id": consultant.pk,
            "consultant_name": consultant.display_name,
            "first_visits": 2,
            "flagged": 1,
            "rate": 50,
        }
    ]
    [flagged] = body["flagged"]
    assert flagged["visit_id"] == skipped.pk and flagged["customer_name"] == "王先生"
    assert set(flagged["missing"]) == {s.code for s in required}
    assert {row["code"]: row["missed"] for row in body["by_station"]} == {s.code: 1 for s in required}


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ({"date_from": "2026-12-05", "date_to": "2026-12-01"}, "date_to"),
        ({"date_from": "2026-01-01", "date_to": "2026-12-01"}, "date_to"),
        ({"date_from": "9999-12-31"}, "date_to"),
        ({"date_from": "soon"}, "date_from"),
    ],
)
def test_compliance_bad_dates_are_400(client, project, manager, api_token_for, query, field) -> None:
    response = client.get(
        f"/api/v1/projects/{project.pk}/stations/compliance", query, headers=api_token_for(manager)
    )

    assert response.status_code == 400 and field in response.json()["fields"], response.content


def test_compliance_query_budget(
    client, project, manager, consultant, api_token_for, django_assert_max_num_queries
) -> None:
    stations_ensure_defaults(project=project)
    for i in range(5):
        _ended_first_visit(project, consultant, f"138123400{i:02d}")
    headers = api_token_for(manager)

    # token and user, project, then the report's three: required stations, visits, their stations
    with django_assert_max_num_queries(5):
        response = client.get(f"/api/v1/projects/{project.pk}/stations/compliance", headers=headers)

    assert response.json()["first_visits"] == 5
