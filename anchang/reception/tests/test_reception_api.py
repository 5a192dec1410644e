"""The check-in, rotation and visit rows of api.md, over HTTP with bearer tokens."""

import pytest

from anchang.accounts.models import Role
from anchang.accounts.testing import user_in
from anchang.customers.models import Customer
from anchang.inventory.testing import project_with_units
from anchang.reception.models import QueueState, RotationEntry, Visit

pytestmark = pytest.mark.django_db


def post(client, url, body, headers):
    return client.post(url, body, content_type="application/json", headers=headers)


def test_checkin_answers_the_pinned_shape(client, project, frontdesk, on_duty, api_token_for) -> None:
    response = post(
        client,
        f"/api/v1/projects/{project.pk}/checkins",
        {"phone": "13812345678", "name": "王小明", "consent": True},
        api_token_for(frontdesk),
    )
    assert response.status_code == 201, response.content
    body = response.json()
    assert set(body) == {"visit_id", "customer_id", "visit_kind", "channel_report_id", "attribution"}
    assert body["visit_kind"] == "first" and body["channel_report_id"] is None
    assert body["attribution"] == {
        "rule": "rotation",
        "consultant_id": on_duty[0].pk,
        "consultant_name": on_duty[0].display_name,
        "consumes_turn": True,
        "explanation": body["attribution"]["explanation"],
    }
    assert "首次到访" in body["attribution"]["explanation"]


def test_nobody_waiting_is_answered_waiting_for_consultant(client, project, frontdesk, api_token_for) -> None:
    response = post(
        client,
        f"/api/v1/projects/{project.pk}/checkins",
        {"phone": "13812345678", "consent": True},
        api_token_for(frontdesk),
    )
    assert response.status_code == 201
    assert response.json()["attribution"]["rule"] == "waiting_for_consultant"
    assert response.json()["attribution"]["consultant_id"] is None


def test_same_idempotency_key_twice_returns_the_first_answer_and_one_visit(
    client, project, frontdesk, on_duty, api_token_for
) -> None:
    headers = {**api_token_for(frontdesk), "Idempotency-Key": "kiosk-1-0001"}
    url = f"/api/v1/projects/{project.pk}/checkins"
    first = post(client, url, {"phone": "13812345678", "consent": True}, headers)
    second = post(client, url, {"phone": "13812345678", "consent": True}, headers)
    assert first.status_code == second.status_code == 201
    assert first.json() == second.json()
    assert Visit.objects.count() == 1
    reused = post(client, url, {"phone": "13912345678", "consent": True}, headers)
    assert reused.status_code == 409 and reused.json()["code"] == "idempotency_key_reused"
    assert Visit.objects.count() == 1


@pytest.mark.parametrize("phone", ["12345", "12812345678", "02155551234", "abcdefghijk", "", "1381234abcd"])
def test_invalid_phones_are_400_naming_the_field_and_store_nothing(
    client, project, frontdesk, on_duty, api_token_for, phone
) -> None:
    response = post(
        client,
        f"/api/v1/projects/{project.pk}/checkins",
        {"phone": phone, "consent": True},
        api_token_for(frontdesk),
    )
    assert response.status_code == 400
    assert response.json()["code"] == "phone_invalid" and "phone" in response.json()["fields"]
    assert not Customer.objects.exists() and not Visit.objects.exists()


@pytest.mark.parametrize(
    "body",
    [
        {"phone": "13812345678"},
        {"phone": "13812345678", "consent": "maybe"},
        {"phone": 13812345678, "consent": True, "party_size": "many"},
        {"phone": "13812345678", "consent": True, "gender": "x"},
        {"phone": "13812345678", "consent": True, "name": "名" * 5000},
    ],
)
def test_malformed_bodies_are_400(client, project, frontdesk, on_duty, api_token_for, body) -> None:
    response = post(client, f"/api/v1/projects/{project.pk}/checkins", body, api_token_for(frontdesk))
    assert response.status_code == 400
    assert not Visit.objects.exists()


def test_unknown_codes_are_clear_404s(client, project, frontdesk, on_duty, api_token_for) -> None:
    url = f"/api/v1/projects/{project.pk}/checkins"
    booking = post(client, url, {"appointment_code": "ZZZZZZ", "consent": True}, api_token_for(frontdesk))
    channel = post(
        client, url, {"phone": "13812345678", "channel_code": "X1", "consent": True}, api_token_for(frontdesk)
    )
    assert (booking.status_code, booking.json()["code"]) == (404, "appointment_not_found")
    assert (channel.status_code, channel.json()["code"]) == (404, "channel_report_not_found")


def test_other_projects_and_roles(
    client, project, other_project, frontdesk, agent, on_duty, api_token_for
) -> None:
    body = {"phone": "13812345678", "consent": True}
    assert (
        post(
            client, f"/api/v1/projects/{other_project.pk}/checkins", body, api_token_for(frontdesk)
        ).status_code
        == 404
    )
    assert (
        post(client, f"/api/v1/projects/{project.pk}/checkins", body, api_token_for(agent)).status_code == 403
    )
    assert not Visit.objects.exists()


def test_visit_of_another_project_or_consultant_is_404(
    client, project, frontdesk, on_duty, api_token_for
) -> None:
    created = post(
        client,
        f"/api/v1/projects/{project.pk}/checkins",
        {"phone": "13812345678", "consent": True},
        api_token_for(frontdesk),
    ).json()
    url = f"/api/v1/visits/{created['visit_id']}"
    assert client.get(url, headers=api_token_for(on_duty[0])).status_code == 200
    assert client.get(url, headers=api_token_for(on_duty[1])).status_code == 404
    stranger = user_in(project_with_units(buildings=1, floors=1, units_per_floor=1), role=Role.FRONTDESK)
    assert client.get(url, headers=api_token_for(stranger)).status_code == 404


def test_rotation_sign_in_state_and_queue(client, project, consultants, manager, api_token_for) -> None:
    me = consultants[0]
    assert (
        post(client, f"/api/v1/projects/{project.pk}/rotation/sign-in", {}, api_token_for(me)).status_code
        == 200
    )
    response = post(
        client,
        f"/api/v1/projects/{project.pk}/rotation/sign-in",
        {"consultant_id": consultants[1].pk},
        api_token_for(manager),
    )
    assert response.json() == {
        "consultant_id": consultants[1].pk,
        "name": consultants[1].display_name,
        "state": "waiting",
        "position": 2,
        "team_id": None,
        "team": None,
    }
    away = post(
        client, f"/api/v1/projects/{project.pk}/rotation/{me.pk}/state", {"state": "away"}, api_token_for(me)
    )
    assert away.status_code == 200 and away.json()["state"] == "away"
    queue = client.get(f"/api/v1/projects/{project.pk}/rotation", headers=api_token_for(manager)).json()
    assert [(e["consultant_id"], e["state"], e["position"]) for e in queue["queue"]] == [
        (me.pk, "away", 1),
        (consultants[1].pk, "waiting", 2),
    ]
    bad = post(
        client,
        f"/api/v1/projects/{project.pk}/rotation/{me.pk}/state",
        {"state": "receiving"},
        api_token_for(me),
    )
    assert bad.status_code == 400


def test_a_consultant_cannot_sign_in_someone_else(client, project, consultants, api_token_for) -> None:
    response = post(
        client,
        f"/api/v1/projects/{project.pk}/rotation/sign-in",
        {"consultant_id": consultants[1].pk},
        api_token_for(consultants[0]),
    )
    assert response.status_code == 403
    assert not RotationEntry.objects.exists()


def test_checkout_invalid_gives_the_make_up_turn(client, project, frontdesk, on_duty, api_token_for) -> None:
    created = post(
        client,
        f"/api/v1/projects/{project.pk}/checkins",
        {"phone": "13812345678", "consent": True},
        api_token_for(frontdesk),
    ).json()
    url = f"/api/v1/visits/{created['visit_id']}/checkout"
    assert post(client, url, {"outcome": "invalid"}, api_token_for(frontdesk)).status_code == 400
    done = post(client, url, {"outcome": "invalid", "invalid_reason": "同行踩盘"}, api_token_for(frontdesk))
    assert done.status_code == 200 and done.json()["state"] == "invalid"
    head = RotationEntry.objects.order_by("position").first()
    assert head.consultant_id == on_duty[0].pk and head.state == QueueState.WAITING
    again = post(client, url, {"outcome": "return"}, api_token_for(frontdesk))
    assert again.status_code == 409
