"""The opening-day API: GET /openings/{id}, /units, /buyers and POST /openings/{id}/selections."""

import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from anchang.accounts.models import ProjectMembership, Role
from anchang.accounts.testing import user_in
from anchang.deals.models import Subscription
from anchang.deals.opening import opening_buyers_draw, opening_select
from anchang.deals.tests.test_opening_setup import make_reservations, make_session, open_session
from anchang.inventory.models import Unit, UnitStatus
from anchang.inventory.testing import project_with_units

pytestmark = pytest.mark.django_db


def _units(project, n=3) -> list[Unit]:
    return list(Unit.objects.filter(project=project).order_by("pk")[:n])


def _select(client, headers, session, buyer, unit, **extra_headers):
    return client.post(
        f"/api/v1/openings/{session.pk}/selections",
        {"buyer_id": buyer.pk, "unit_id": unit.pk},
        content_type="application/json",
        headers={**headers, **extra_headers},
    )


def test_session_with_its_counts(client, project, manager, consultant, api_token_for) -> None:
    opened = open_session(project, manager, buyers=3)
    opening_select(buyer_id=opened.buyers[0].pk, unit_id=_units(project)[0].pk, by=None)

    answer = client.get(f"/api/v1/openings/{opened.session.pk}", headers=api_token_for(consultant))

    assert answer.status_code == 200
    body = answer.json()
    assert body["status"] == "open"
    assert (body["buyers"], body["buyers_selected"], body["buyers_done"], body["sold"]) == (3, 1, 1, 1)
    assert body["available"] == Unit.objects.filter(project=project, status=UnitStatus.AVAILABLE).count()
    assert re.match(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d.*\+08:00$", body["starts_at"])


def test_available_units_are_paginated_and_leave_out_taken_ones(
    client, project, manager, api_token_for
) -> None:
    opened = open_session(project, manager)
    taken = _units(project)[0]
    opening_select(buyer_id=opened.buyers[0].pk, unit_id=taken.pk, by=None)
    Unit.objects.filter(pk=_units(project)[1].pk).update(status=UnitStatus.HELD)
    headers = api_token_for(manager)

    answer = client.get(f"/api/v1/openings/{opened.session.pk}/units?limit=5", headers=headers)

    body = answer.json()
    assert answer.status_code == 200
    assert body["count"] == 12 - 2
    assert len(body["items"]) == 5
    assert taken.pk not in [u["id"] for u in body["items"]]
    assert body["items"][0]["total_price"].endswith(".00")
    building = project.buildings.order_by("sort_order").last()
    one_building = client.get(
        f"/api/v1/openings/{opened.session.pk}/units?building_id={building.pk}", headers=headers
    ).json()
    assert one_building["count"] == 6


def test_buyers_are_masked_and_carry_their_selections(client, project, manager, api_token_for) -> None:
    opened = open_session(project, manager, buyers=3)
    unit = _units(project)[0]
    opening_select(buyer_id=opened.buyers[1].pk, unit_id=unit.pk, by=None)

    body = client.get(f"/api/v1/openings/{opened.session.pk}/buyers", headers=api_token_for(manager)).json()

    assert body["count"] == 3
    assert [b["position"] for b in body["items"]] == [1, 2, 3]
    assert body["items"][1]["selected_unit_ids"] == [unit.pk]
    text = str(body)
    assert not re.search(r"1[3-9]\d{9}", text)
    assert opened.buyers[0].customer.name not in text
    assert "****" in body["items"][0]["phone"]


def test_a_selection_is_201_and_the_second_for_the_same_unit_is_409(
    client, project, manager, consultant, api_token_for
) -> None:
    opened = open_session(project, manager)
    unit = _units(project)[0]
    headers = api_token_for(consultant)

    won = _select(client, headers, opened.session, opened.buyers[0], unit)
    lost = _select(client, headers, opened.session, opened.buyers[1], unit)

    assert won.status_code == 201, won.content
    assert won.json()["unit_id"] == unit.pk and won.json()["buyer_id"] == opened.buyers[0].pk
    assert won.json()["price"] == f"{unit.list_price_total:.2f}"
    assert lost.status_code == 409
    assert lost.json()["code"] == "unit_not_available"
    assert "请选择其他房源" in lost.json()["message"]
    assert Subscription.objects.count() == 1


def test_the_rules_answer_409_with_their_codes(client, project, manager, api_token_for) -> None:
    opened = open_session(project, manager, buyers_per_slot=1, slot_minutes=30)
    headers = api_token_for(manager)
    a, b, _c = _units(project)
    assert _select(client, headers, opened.session, opened.buyers[0], a).status_code == 201

    limit = _select(client, headers, opened.session, opened.buyers[0], b)
    slot = _select(client, headers, opened.session, opened.buyers[1], b)

    assert (limit.status_code, limit.json()["code"]) == (409, "limit_reached")
    assert (slot.status_code, slot.json()["code"]) == (409, "slot_not_started")


def test_bad_bodies_are_400_and_change_nothing(client, project, manager, api_token_for) -> None:
    opened = open_session(project, manager)
    headers = api_token_for(manager)
    url = f"/api/v1/openings/{opened.session.pk}/selections"
    for body in (
        {},
        {"buyer_id": "x", "unit_id": 1},
        {"buyer_id": 0, "unit_id": 1},
        {"buyer_id": 2**70, "unit_id": 1},
    ):
        answer = client.post(url, body, content_type="application/json", headers=headers)
        assert answer.status_code == 400, body
        assert answer.json()["code"] == "invalid"
    answer = client.post(url, "not json", content_type="application/json", headers=headers)
    assert answer.status_code == 400
    assert not Subscription.objects.exists()


def test_unknown_buyer_unit_or_session_is_404(client, project, other_project, manager, api_token_for) -> None:
    opened = open_session(project, manager)
    headers = api_token_for(manager)
    elsewhere = Unit.objects.filter(project=other_project).first()
    assert _select(client, headers, opened.session, opened.buyers[0], elsewhere).status_code == 404
    answer = client.post(
        f"/api/v1/openings/{opened.session.pk}/selections",
        {"buyer_id": 999999, "unit_id": _units(project)[0].pk},
        content_type="application/json",
        headers=headers,
    )
    assert answer.status_code == 404
    assert client.get("/api/v1/openings/999999", headers=headers).status_code == 404
    assert client.get(f"/api/v1/openings/{2**63}", headers=headers).status_code in (400, 404)
    assert not Subscription.objects.exists()


def test_other_projects_get_404_and_roles_that_do_not_sell_get_403(
    client, project, other_project, manager, agent, service, api_token_for
) -> None:
    opened = open_session(project, manager)
    stranger = user_in(other_project, role=Role.MANAGER)
    unit = _units(project)[0]
    urls = [
        f"/api/v1/openings/{opened.session.pk}",
        f"/api/v1/openings/{opened.session.pk}/units",
        f"/api/v1/openings/{opened.session.pk}/buyers",
    ]
    for url in urls:
        assert client.get(url, headers=api_token_for(stranger)).status_code == 404
        assert client.get(url, headers=api_token_for(agent)).status_code == 403
        assert client.get(url).status_code == 401
    assert _select(client, api_token_for(stranger), opened.session, opened.buyers[0], unit).status_code == 404
    assert _select(client, api_token_for(service), opened.session, opened.buyers[0], unit).status_code == 403
    assert not Subscription.objects.exists()


def test_a_session_that_is_not_open_answers_409(client, project, manager, api_token_for) -> None:
    make_reservations(project, 1, by=manager)
    session = make_session(project, manager)
    opening_buyers_draw(session_id=session.pk, by=manager)
    answer = _select(client, api_token_for(manager), session, session.buyers.get(), _units(project)[0])
    assert (answer.status_code, answer.json()["code"]) == (409, "opening_not_open")


def test_the_same_idempotency_key_returns_the_first_answer(client, project, manager, api_token_for) -> None:
    opened = open_session(project, manager)
    headers = api_token_for(manager)
    unit = _units(project)[0]
    answers = [
        _select(client, headers, opened.session, opened.buyers[0], unit, **{"Idempotency-Key": "desk-7"})
        for _ in range(2)
    ]
    assert [a.status_code for a in answers] == [201, 201]
    assert answers[0].json() == answers[1].json()
    assert Subscription.objects.count() == 1


def _queries(client, url, headers) -> int:
    with CaptureQueriesContext(connection) as queries:
        assert client.get(url, headers=headers).status_code == 200
    return len(queries)


def test_list_endpoints_have_a_fixed_query_count(client, project, manager, api_token_for) -> None:
    few = open_session(project, manager, buyers=2)
    headers = api_token_for(manager)
    big = project_with_units(buildings=3, floors=10, units_per_floor=4)
    ProjectMembership.objects.create(user=manager, project=big)
    many = open_session(big, manager, buyers=30)
    for buyer, unit in zip(many.buyers[:6], _units(big, 6), strict=True):
        opening_select(buyer_id=buyer.pk, unit_id=unit.pk, by=None)
    for suffix in ("", "/units", "/buyers"):
        small = _queries(client, f"/api/v1/openings/{few.session.pk}{suffix}", headers)
        large = _queries(client, f"/api/v1/openings/{many.session.pk}{suffix}", headers)
        assert small == large, suffix
