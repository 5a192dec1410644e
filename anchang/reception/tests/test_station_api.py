"""POST /visits/{id}/stations/{code} (api.md) and the station rows of GET /visits/{id}."""

from datetime import timedelta

import pytest
from django.test import Client
from django.utils.dateparse import parse_datetime

from anchang.accounts.models import User
from anchang.reception.models import VisitStation
from anchang.reception.services import check_in, visit_end
from anchang.reception.stations import stations_ensure_defaults, visit_station_rows

pytestmark = pytest.mark.django_db

TICK_FIELDS = {"code", "name", "required", "done_at"}
ERROR_FIELDS = {"code", "message", "fields"}


@pytest.fixture
def visit(project, frontdesk, on_duty):
    stations_ensure_defaults(project=project)
    return check_in(project=project, phone="13812345678", by=frontdesk, consent=True).visit


@pytest.fixture
def post(client: Client, api_token_for):
    def send(user: User, url: str, payload: object):
        return client.post(url, payload, content_type="application/json", headers=api_token_for(user))

    return send


def url(visit, code: str) -> str:
    return f"/api/v1/visits/{visit.pk}/stations/{code}"


def test_tick_answers_200_with_the_documented_shape(post, visit) -> None:
    response = post(visit.consultant, url(visit, "hall"), {"note": "带父母来"})

    assert response.status_code == 200
    data = response.json()
    assert set(data) == TICK_FIELDS
    assert data["code"] == "hall" and data["required"] is True
    assert data["name"] == "销售大厅·迎宾"
    assert parse_datetime(data["done_at"]).utcoffset() is not None
    assert data["done_at"].endswith("+08:00")
    assert VisitStation.objects.get(visit=visit).note == "带父母来"


def test_ticking_again_answers_the_first_record(post, visit) -> None:
    first = post(visit.consultant, url(visit, "hall"), {}).json()
    again = post(visit.consultant, url(visit, "hall"), {}).json()

    assert again == first
    assert VisitStation.objects.filter(visit=visit).count() == 1


def test_a_body_is_optional(client, api_token_for, visit) -> None:
    response = client.generic("POST", url(visit, "parking"), b"", headers=api_token_for(visit.consultant))

    assert response.status_code == 200
    assert response.json()["required"] is False


def test_risk_disclosure_with_the_customers_confirmation(post, visit) -> None:
    response = post(visit.consultant, url(visit, "disclosure"), {"customer_confirmed": True})

    assert response.status_code == 200
    record = VisitStation.objects.get(visit=visit, station__code="disclosure")
    assert record.customer_confirmed is True and record.by == visit.consultant


def test_the_desk_may_tick(post, visit, frontdesk) -> None:
    assert post(frontdesk, url(visit, "hall"), {}).status_code == 200


@pytest.mark.parametrize("who", ["other_consultant", "agent", "service"])
def test_someone_elses_visit_is_404(request, post, visit, who) -> None:
    response = post(request.getfixturevalue(who), url(visit, "hall"), {})

    assert response.status_code == 404
    assert set(response.json()) == ERROR_FIELDS
    assert response.json()["code"] == "not_found"
    assert not VisitStation.objects.exists()


def test_a_missing_visit_is_404(post, visit) -> None:
    response = post(visit.consultant, f"/api/v1/visits/{visit.pk + 999}/stations/hall", {})

    assert response.status_code == 404


def test_unknown_code_is_404_with_a_clear_message(post, visit) -> None:
    response = post(visit.consultant, url(visit, "rooftop"), {})

    assert response.status_code == 404
    body = response.json()
    assert body["code"] == "station_not_found"
    assert "rooftop" in body["message"]


def test_ended_visit_is_409(post, visit, frontdesk) -> None:
    visit_end(visit_id=visit.pk, by=frontdesk, outcome="no_interest")

    response = post(visit.consultant, url(visit, "hall"), {})

    assert response.status_code == 409
    assert response.json()["code"] == "visit_already_ended"


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({"note": "长" * 201}, "note"),
        ({"customer_confirmed": "maybe"}, "customer_confirmed"),
        ({"note": 12}, "note"),
        ([1, 2], "body"),
        ("just text", "body"),
    ],
)
def test_bad_input_is_400_naming_the_field(post, visit, payload, field) -> None:
    response = post(visit.consultant, url(visit, "hall"), payload)

    assert response.status_code == 400
    body = response.json()
    assert set(body) == ERROR_FIELDS and body["code"] == "invalid"
    assert field in body["fields"]
    assert not VisitStation.objects.exists()


def test_a_body_that_is_not_json_is_400(client, api_token_for, visit) -> None:
    response = client.post(
        url(visit, "hall"),
        "note=hi",
        content_type="application/json",
        headers=api_token_for(visit.consultant),
    )

    assert response.status_code == 400
    assert not VisitStation.objects.exists()


def test_without_a_token_is_401(client, visit) -> None:
    assert client.post(url(visit, "hall"), {}, content_type="application/json").status_code == 401


def test_the_endpoint_is_in_the_openapi_document(client) -> None:
    paths = client.get("/api/v1/openapi.json").json()["paths"]

    assert "post" in paths["/api/v1/visits/{visit_id}/stations/{code}"]


def test_station_rows_for_get_visit_follow_the_ticks(post, visit) -> None:
    post(visit.consultant, url(visit, "hall"), {})

    rows = visit_station_rows(visit=visit)

    done = [r for r in rows if r["done_at"] is not None]
    assert [r["code"] for r in done] == ["hall"]
    assert done[0]["done_at"].utcoffset() == timedelta(hours=8)
    assert [r["code"] for r in rows if r["required"]] == [
        "hall",
        "region",
        "sandtable",
        "disclosure",
        "registration",
        "showflat",
        "negotiation",
    ]
