"""`GET /projects/{pid}/checkins/preview`: what the desk's page shows as it types, over the API —
who would receive the visitor and why, without registering anything."""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from anchang.accounts.models import Role
from anchang.accounts.testing import user_in
from anchang.customers.models import Customer
from anchang.reception import appointments as svc
from anchang.reception.models import BookingChannel, Visit
from anchang.reception.rotation import rotation_set_state
from anchang.reception.services import check_in, visit_end

pytestmark = pytest.mark.django_db
PHONE = "13812345678"


@pytest.fixture
def preview(client, api_token_for):
    def ask(user, project, **params):
        return client.get(
            f"/api/v1/projects/{project.pk}/checkins/preview", params, headers=api_token_for(user)
        )

    return ask


def test_a_new_visitor_goes_to_the_head_of_the_queue_and_nothing_is_written(
    preview, project, frontdesk, on_duty
) -> None:
    response = preview(frontdesk, project, phone=PHONE)

    assert response.status_code == 200
    data = response.json()
    assert (data["visit_kind"], data["rule"]) == ("first", "rotation")
    assert (data["next_in_queue_id"], data["next_in_queue_name"]) == (on_duty[0].pk, on_duty[0].display_name)
    assert data["consultant_id"] is None and data["appointment"] is None and data["team_turn"] is None
    assert not Customer.objects.exists() and not Visit.objects.exists()


def test_a_protected_customer_is_named_with_their_owner(preview, project, frontdesk, on_duty) -> None:
    first = check_in(project=project, phone=PHONE, name="王小明", by=frontdesk, consent=True)
    visit_end(visit_id=first.visit.pk, by=on_duty[0], outcome="return")

    data = preview(frontdesk, project, phone=PHONE).json()

    assert (data["visit_kind"], data["rule"], data["consultant_id"]) == ("return", "owner", on_duty[0].pk)
    assert data["next_in_queue_id"] is None


def test_an_owner_on_a_break_is_covered_by_the_next_colleague(preview, project, frontdesk, on_duty) -> None:
    first = check_in(project=project, phone=PHONE, name="王小明", by=frontdesk, consent=True)
    visit_end(visit_id=first.visit.pk, by=on_duty[0], outcome="return")
    rotation_set_state(project=project, consultant=on_duty[0], state="away", by=on_duty[0])

    data = preview(frontdesk, project, phone=PHONE).json()

    assert data["rule"] == "covering_for_owner" and data["covering_for_id"] == on_duty[0].pk


def test_a_booking_code_brings_its_visitor_and_booked_consultant(
    preview, project, frontdesk, on_duty
) -> None:
    booking = svc.appointment_create(
        project=project,
        name="王小明",
        gender="male",
        phone=PHONE,
        start_at=timezone.now() + timedelta(minutes=10),
        party_size=3,
        consultant=on_duty[1],
        consent=True,
        channel=BookingChannel.DESK,
    )

    data = preview(frontdesk, project, appointment_code=booking.code.lower()).json()

    assert data["appointment"]["code"] == booking.code and data["appointment"]["name"] == "王先生"
    assert (data["appointment"]["party_size"], data["appointment"]["consultant_id"]) == (3, on_duty[1].pk)
    assert (data["rule"], data["consultant_id"]) == ("designated", on_duty[1].pk)
    assert PHONE not in str(data)


def test_an_unknown_code_is_404_with_what_to_do(preview, project, frontdesk, on_duty) -> None:
    response = preview(frontdesk, project, appointment_code="ZZZZZZ")

    assert response.status_code == 404
    assert response.json()["code"] == "appointment_not_found" and "改用手机号" in response.json()["message"]


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({}, "phone"),
        ({"phone": "12345"}, "phone"),
        ({"phone": PHONE, "designated_consultant_id": "abc"}, "designated_consultant_id"),
        ({"phone": "1" * 41}, "phone"),
    ],
)
def test_bad_input_is_400_naming_the_field(preview, project, frontdesk, on_duty, params, field) -> None:
    response = preview(frontdesk, project, **params)

    assert response.status_code == 400
    assert field in str(response.json()["fields"])


def test_a_consultant_of_another_project_is_400(preview, project, other_project, frontdesk, on_duty) -> None:
    stranger = user_in(other_project, role=Role.CONSULTANT, username="stranger")
    response = preview(frontdesk, project, phone=PHONE, designated_consultant_id=stranger.pk)

    assert response.status_code == 400 and "designated_consultant_id" in response.json()["fields"]


def test_who_may_ask(preview, project, other_project, frontdesk, consultant, agent, attendant) -> None:
    assert preview(consultant, project, phone=PHONE).status_code == 200
    assert preview(agent, project, phone=PHONE).status_code == 403
    assert preview(attendant, project, phone=PHONE).status_code == 403
    assert preview(frontdesk, other_project, phone=PHONE).status_code == 404


def test_the_page_and_the_api_say_the_same(preview, client_for, project, frontdesk, on_duty) -> None:
    html = (
        client_for(frontdesk)
        .get(reverse("reception:checkin_preview", args=[project.pk]), {"phone_or_code": PHONE})
        .content.decode()
    )
    data = preview(frontdesk, project, phone=PHONE).json()

    assert data["next_in_queue_name"] in html and data["explanation"] in html
