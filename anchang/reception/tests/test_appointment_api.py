"""POST/GET /projects/{pid}/appointments and POST /appointments/{id}/cancel (api.md)."""

import re
from datetime import datetime, time, timedelta

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from anchang.accounts.models import Role, User
from anchang.accounts.testing import user_in
from anchang.core.models import Notification, NotificationChannel
from anchang.core.testing.mobiles import mobile_for
from anchang.inventory.models import Project
from anchang.reception import appointments as svc
from anchang.reception.models import Appointment, AppointmentStatus, BookingChannel
from anchang.reception.rotation import rotation_sign_in
from anchang.reception.services import check_in
from anchang.reception.tests.urls_for_appointments import API_PREFIX

pytestmark = [pytest.mark.django_db, pytest.mark.urls("anchang.reception.tests.urls_for_appointments")]

CREATED_FIELDS = {"id", "code", "start_at", "status", "preparation_tasks"}
TASK_FIELDS = {"id", "title", "assignee_role", "due_at", "done_at"}
FULL_MOBILE = re.compile(r"1[3-9]\d{9}")


def tomorrow_at(hour: int, minute: int = 0) -> datetime:
    return timezone.make_aware(datetime.combine(timezone.localdate() + timedelta(days=1), time(hour, minute)))


def appointments_url(project: Project) -> str:
    return f"{API_PREFIX}/projects/{project.pk}/appointments"


def body(**overrides) -> dict[str, object]:
    values: dict[str, object] = {
        "name": "赵先生",
        "phone": "13812345678",
        "start_at": tomorrow_at(10).isoformat(),
        "consent": True,
    }
    values.update(overrides)
    return values


@pytest.fixture
def post(client: Client, api_token_for):
    def send(user: User, url: str, payload: object):
        return client.post(url, payload, content_type="application/json", headers=api_token_for(user))

    return send


@pytest.fixture
def get(client: Client, api_token_for):
    def send(user: User, url: str, params: dict[str, str] | None = None):
        return client.get(url, params or {}, headers=api_token_for(user))

    return send


# --- POST /projects/{pid}/appointments ------------------------------------------------------------


def test_create_answers_201_with_the_documented_shape(post, project, frontdesk, consultant) -> None:
    response = post(
        frontdesk,
        appointments_url(project),
        body(party_size=3, consultant_id=consultant.pk, source="friend", vip_tier="general"),
    )

    assert response.status_code == 201
    data = response.json()
    assert set(data) == CREATED_FIELDS
    assert re.fullmatch(r"[23456789ABCDEFGHJKLMNPQRSTUVWXYZ]{6}", data["code"])
    assert data["status"] == "booked" and data["preparation_tasks"] == []
    assert data["start_at"] == tomorrow_at(10).isoformat()
    assert data["start_at"].endswith("+08:00")
    appointment = Appointment.objects.get(pk=data["id"])
    assert appointment.channel == BookingChannel.API
    assert appointment.consultant == consultant and appointment.party_size == 3
    assert appointment.created_by == frontdesk


def test_tier_1_answer_lists_the_preparation_tasks(post, project, manager, attendant) -> None:
    response = post(manager, appointments_url(project), body(vip_tier="1"))

    tasks = response.json()["preparation_tasks"]
    assert response.status_code == 201 and len(tasks) == 6
    assert all(set(task) == TASK_FIELDS for task in tasks)
    assert {task["assignee_role"] for task in tasks} == {"manager", "attendant", "frontdesk"}
    assert all(task["done_at"] is None for task in tasks)
    assert min(task["due_at"] for task in tasks) == (tomorrow_at(9)).isoformat()
    assert Notification.objects.filter(
        recipient=attendant, kind="vip_task", channel=NotificationChannel.IN_APP
    ).exists()


def test_a_time_without_offset_is_read_as_beijing_time(post, project, frontdesk) -> None:
    naive = datetime.combine(timezone.localdate() + timedelta(days=1), time(14, 0)).isoformat()
    response = post(frontdesk, appointments_url(project), body(start_at=naive))
    assert response.status_code == 201
    assert response.json()["start_at"] == tomorrow_at(14).isoformat()


@pytest.mark.parametrize("persona", ["admin_user", "manager", "frontdesk", "consultant"])
def test_roles_that_may_book(request, post, project, persona) -> None:
    user = request.getfixturevalue(persona)
    assert post(user, appointments_url(project), body()).status_code == 201


@pytest.mark.parametrize("role", [Role.AGENT, Role.ATTENDANT, Role.SERVICE, Role.OWNER])
def test_other_roles_are_forbidden(post, project, role) -> None:
    user = user_in(project, role=role)
    response = post(user, appointments_url(project), body())
    assert response.status_code == 403
    assert response.json()["code"] == "forbidden"
    assert not Appointment.objects.exists()


def test_a_project_one_is_not_member_of_is_404(post, project, other_project) -> None:
    stranger = user_in(other_project, role=Role.FRONTDESK)
    for url in (appointments_url(project), f"{API_PREFIX}/projects/999999/appointments"):
        response = post(stranger, url, body())
        assert response.status_code == 404 and response.json()["code"] == "not_found"


def test_huge_ids_in_the_path_are_404(post, get, frontdesk) -> None:
    huge = "9" * 30
    assert get(frontdesk, f"{API_PREFIX}/projects/{huge}/appointments").status_code == 404
    assert post(frontdesk, f"{API_PREFIX}/projects/{huge}/appointments", body()).status_code == 404
    assert post(frontdesk, f"{API_PREFIX}/appointments/{huge}/cancel", {"reason": "x"}).status_code == 404


def test_no_token_is_401(client, project) -> None:
    response = client.post(appointments_url(project), body(), content_type="application/json")
    assert response.status_code == 401


@pytest.mark.parametrize("phone", ["12345", "12812345678", "02188886666", "1381234abcd", "", "phone"])
def test_invalid_phones_are_400_naming_phone(post, project, frontdesk, phone) -> None:
    response = post(frontdesk, appointments_url(project), body(phone=phone))
    assert response.status_code == 400
    assert response.json()["code"] == "phone_invalid"
    assert set(response.json()["fields"]) == {"phone"}
    assert not Appointment.objects.exists()


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"consent": False}, "consent"),
        ({"consent": None}, "consent"),
        ({"start_at": "2020-01-01T10:00:00+08:00"}, "start_at"),
        ({"start_at": "next tuesday"}, "start_at"),
        ({"start_at": "0001-01-01T00:00:00+14:00"}, "start_at"),
        ({"party_size": 0}, "party_size"),
        ({"party_size": 10**30}, "party_size"),
        ({"vip_tier": "3"}, "vip_tier"),
        ({"source": "billboard"}, "source"),
        ({"name": ""}, "name"),
        ({"name": "王" * 51}, "name"),
        ({"name": "王" * 100_000}, "name"),
        ({"name": "王\x00明"}, "name"),
        ({"consultant_id": 10**30}, "consultant_id"),
        ({"consultant_id": "abc"}, "consultant_id"),
    ],
)
def test_bad_input_is_400_naming_the_field(post, project, frontdesk, overrides, field) -> None:
    response = post(frontdesk, appointments_url(project), body(**overrides))
    assert response.status_code == 400, response.content
    assert field in response.json()["fields"]
    assert not Appointment.objects.exists()


def test_consent_message(post, project, frontdesk) -> None:
    response = post(frontdesk, appointments_url(project), body(consent=False))
    assert response.json()["fields"] == {"consent": "请先阅读并同意隐私告知"}


def test_missing_fields_are_400(post, project, frontdesk) -> None:
    response = post(frontdesk, appointments_url(project), {"name": "赵先生"})
    assert response.status_code == 400
    assert {"phone", "start_at", "consent"} <= set(response.json()["fields"])


def test_a_consultant_of_another_project_is_400(post, project, other_project, frontdesk) -> None:
    outsider = user_in(other_project, role=Role.CONSULTANT)
    response = post(frontdesk, appointments_url(project), body(consultant_id=outsider.pk))
    assert response.status_code == 400 and set(response.json()["fields"]) == {"consultant_id"}


def test_body_that_is_not_json_is_400(client, api_token_for, project, frontdesk) -> None:
    response = client.post(
        appointments_url(project),
        "name=x",
        content_type="application/x-www-form-urlencoded",
        headers=api_token_for(frontdesk),
    )
    assert response.status_code == 400


# --- GET /projects/{pid}/appointments -------------------------------------------------------------


def _book(project: Project, n: int, **overrides) -> Appointment:
    values = {
        "project": project,
        "name": f"客户{n}",
        "phone": mobile_for(n),
        "start_at": tomorrow_at(9) + timedelta(minutes=10 * n),
        "consent": True,
        "channel": BookingChannel.DESK,
    }
    values.update(overrides)
    return svc.appointment_create(**values)


def test_list_of_a_day_with_masked_phones(get, project, frontdesk, consultant) -> None:
    _book(project, 1, consultant=consultant)
    _book(project, 2, start_at=tomorrow_at(9) + timedelta(days=1))
    day = (timezone.localdate() + timedelta(days=1)).isoformat()

    response = get(frontdesk, appointments_url(project), {"date": day})

    data = response.json()
    assert response.status_code == 200 and data["count"] == 1
    item = data["items"][0]
    assert item["phone"] == f"{mobile_for(1)[:3]}****{mobile_for(1)[-4:]}"
    assert item["consultant_id"] == consultant.pk and item["status"] == "booked"
    assert not FULL_MOBILE.search(response.content.decode())


def test_the_assigned_consultant_sees_the_full_number(get, project, consultant, other_consultant) -> None:
    _book(project, 1, consultant=consultant)
    _book(project, 2, consultant=other_consultant)
    day = (timezone.localdate() + timedelta(days=1)).isoformat()

    items = get(consultant, appointments_url(project), {"date": day}).json()["items"]

    phones = {item["consultant_id"]: item["phone"] for item in items}
    assert phones[consultant.pk] == mobile_for(1)
    assert "****" in phones[other_consultant.pk]


def test_the_list_says_who_received_a_booked_visitor(get, project, frontdesk, consultant) -> None:
    booked = _book(project, 1, start_at=timezone.now() + timedelta(minutes=5))
    _book(project, 2, start_at=timezone.now() + timedelta(minutes=10))
    rotation_sign_in(project=project, consultant=consultant, by=consultant)
    visit = check_in(project=project, appointment_code=booked.code, by=frontdesk, consent=True).visit

    items = {i["code"]: i for i in get(frontdesk, appointments_url(project)).json()["items"]}

    arrived = items[booked.code]
    assert (arrived["visit_id"], arrived["received_by_id"]) == (visit.pk, consultant.pk)
    assert arrived["received_by_name"] == consultant.display_name
    waiting = next(i for code, i in items.items() if code != booked.code)
    assert (waiting["visit_id"], waiting["received_by_id"], waiting["received_by_name"]) == (None, None, None)


def test_list_defaults_to_today_and_refuses_bad_dates(get, project, frontdesk) -> None:
    assert get(frontdesk, appointments_url(project)).json() == {"items": [], "count": 0}
    for bad in ("2026-13-01", "tomorrow", "9999-12-31T00:00"):
        assert get(frontdesk, appointments_url(project), {"date": bad}).status_code == 400
    assert get(frontdesk, appointments_url(project), {"date": "9999-12-31"}).status_code in (200, 400)


def test_list_has_a_fixed_query_count(get, project, frontdesk) -> None:
    day = (timezone.localdate() + timedelta(days=1)).isoformat()

    def measure() -> int:
        with CaptureQueriesContext(connection) as queries:
            assert get(frontdesk, appointments_url(project), {"date": day}).status_code == 200
        return len(queries)

    for n in range(2):
        _book(project, n, vip_tier="1" if n % 2 else "general")
    few = measure()
    for n in range(2, 30):
        _book(project, n, vip_tier="1" if n % 2 else "general")
    many = measure()
    assert many == few


@pytest.mark.parametrize("role", [Role.AGENT, Role.ATTENDANT, Role.SERVICE])
def test_list_is_forbidden_to_other_roles(get, project, role) -> None:
    user = user_in(project, role=role)
    assert get(user, appointments_url(project)).status_code == 403


# --- POST /appointments/{id}/cancel ---------------------------------------------------------------


def cancel_url(appointment: Appointment) -> str:
    return f"{API_PREFIX}/appointments/{appointment.pk}/cancel"


def test_cancel(post, project, frontdesk) -> None:
    appointment = _book(project, 1, vip_tier="2")

    response = post(frontdesk, cancel_url(appointment), {"reason": "客户改约"})

    assert response.status_code == 200
    assert response.json()["status"] == "cancelled" and len(response.json()["preparation_tasks"]) == 5
    appointment.refresh_from_db()
    assert appointment.status == AppointmentStatus.CANCELLED


def test_cancel_needs_a_reason_and_happens_once(post, project, frontdesk) -> None:
    appointment = _book(project, 1)
    assert post(frontdesk, cancel_url(appointment), {}).status_code == 400
    blank = post(frontdesk, cancel_url(appointment), {"reason": "  "})
    assert blank.status_code == 400 and "reason" in blank.json()["fields"]
    assert post(frontdesk, cancel_url(appointment), {"reason": "改约"}).status_code == 200

    again = post(frontdesk, cancel_url(appointment), {"reason": "改约"})
    assert again.status_code == 409 and again.json()["code"] == "appointment_not_booked"


def test_cancel_visibility_and_roles(post, project, other_project, consultant, other_consultant) -> None:
    appointment = _book(project, 1, consultant=other_consultant)
    stranger = user_in(other_project, role=Role.MANAGER)
    agent = user_in(project, role=Role.AGENT)

    assert post(stranger, cancel_url(appointment), {"reason": "x"}).status_code == 404
    assert post(agent, cancel_url(appointment), {"reason": "x"}).status_code == 403
    # A consultant cancels only their own or unassigned bookings.
    assert post(consultant, cancel_url(appointment), {"reason": "x"}).status_code == 403
    assert post(stranger, f"{API_PREFIX}/appointments/99999999/cancel", {"reason": "x"}).status_code == 404
    appointment.refresh_from_db()
    assert appointment.status == AppointmentStatus.BOOKED


# --- GET /appointments/{id}, reschedule, no-show ----------------------------------------------------


def test_one_booking_with_its_checklist_visit_and_history(get, post, project, frontdesk, consultant) -> None:
    booking = _book(
        project, 1, vip_tier="2", consultant=consultant, start_at=timezone.now() + timedelta(minutes=5)
    )
    rotation_sign_in(project=project, consultant=consultant, by=consultant)
    visit = check_in(project=project, appointment_code=booking.code, by=frontdesk, consent=True).visit

    response = get(frontdesk, f"{API_PREFIX}/appointments/{booking.pk}")

    assert response.status_code == 200
    data = response.json()
    assert (data["code"], data["status"], data["visit_id"]) == (booking.code, "checked_in", visit.pk)
    assert data["received_by_id"] == consultant.pk and len(data["preparation_tasks"]) == 5
    assert [change["what"] for change in data["history"]][-1] == "创建预约"
    assert len(data["history"]) >= 2 and data["can_change"] is False
    assert not FULL_MOBILE.search(response.content.decode())


def test_one_booking_is_the_projects_staffs_only(get, project, other_project, frontdesk) -> None:
    booking = _book(project, 1)
    assert get(frontdesk, f"{API_PREFIX}/appointments/{booking.pk}").json()["can_change"] is True
    stranger = user_in(other_project, role=Role.MANAGER)

    assert get(stranger, f"{API_PREFIX}/appointments/{booking.pk}").status_code == 404
    assert (
        get(user_in(project, role=Role.AGENT), f"{API_PREFIX}/appointments/{booking.pk}").status_code == 403
    )
    assert get(frontdesk, f"{API_PREFIX}/appointments/99999999").status_code == 404


def test_reschedule_moves_the_booking_and_is_in_its_history(get, post, project, frontdesk) -> None:
    booking = _book(project, 1, vip_tier="2")
    later = tomorrow_at(15)

    response = post(
        frontdesk, f"{API_PREFIX}/appointments/{booking.pk}/reschedule", {"start_at": later.isoformat()}
    )

    assert response.status_code == 200
    booking.refresh_from_db()
    assert booking.start_at == later
    first_task = min(task.due_at for task in booking.preparation_tasks.all())
    assert first_task < later and response.json()["start_at"].endswith("+08:00")
    history = get(frontdesk, f"{API_PREFIX}/appointments/{booking.pk}").json()["history"]
    assert history[0]["what"].startswith("改期") and history[0]["by_name"] == frontdesk.display_name


@pytest.mark.parametrize("start_at", ["", "tomorrow", "2020-01-01T10:00:00+08:00"])
def test_reschedule_refuses_bad_times_and_changes_nothing(post, project, frontdesk, start_at) -> None:
    booking = _book(project, 1)
    before = booking.start_at

    response = post(frontdesk, f"{API_PREFIX}/appointments/{booking.pk}/reschedule", {"start_at": start_at})

    assert response.status_code == 400 and "start_at" in str(response.json()["fields"])
    booking.refresh_from_db()
    assert booking.start_at == before


def test_no_show_only_after_the_time_and_only_once(post, project, frontdesk) -> None:
    upcoming = _book(project, 1)
    early = post(frontdesk, f"{API_PREFIX}/appointments/{upcoming.pk}/no-show", {})
    assert early.status_code == 409 and early.json()["code"] == "appointment_not_due"

    Appointment.objects.filter(pk=upcoming.pk).update(start_at=timezone.now() - timedelta(hours=1))
    marked = post(frontdesk, f"{API_PREFIX}/appointments/{upcoming.pk}/no-show", {})
    assert marked.status_code == 200 and marked.json()["status"] == "no_show"
    assert post(frontdesk, f"{API_PREFIX}/appointments/{upcoming.pk}/no-show", {}).status_code == 409
