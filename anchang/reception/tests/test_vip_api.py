"""GET /projects/{pid}/vip-tasks and POST /vip-tasks/{id}/done: the 接待准备 checklist over the API."""

from datetime import datetime, time, timedelta

import pytest
from django.utils import timezone

from anchang.accounts.models import Role
from anchang.accounts.testing import user_in
from anchang.reception import appointments as svc
from anchang.reception.models import AppointmentStatus, BookingChannel, VipTask, VipTier

pytestmark = pytest.mark.django_db


def book_vip(project, day, name="周建国"):
    return svc.appointment_create(
        project=project,
        name=name,
        phone="13812345678",
        start_at=timezone.make_aware(datetime.combine(day, time(15, 0))),
        consent=True,
        channel=BookingChannel.DESK,
        vip_tier=VipTier.TIER_1,
    )


def tasks_url(project) -> str:
    return f"/api/v1/projects/{project.pk}/vip-tasks"


def test_supervisors_see_every_role_s_tasks_of_the_day(client, project, frontdesk, api_token_for) -> None:
    day = timezone.localdate() + timedelta(days=1)
    appointment = book_vip(project, day)
    due = VipTask.objects.filter(appointment=appointment, due_at__date=day).order_by(
        "due_at", "sort_order", "pk"
    )

    response = client.get(tasks_url(project), {"date": str(day)}, headers=api_token_for(frontdesk))

    assert response.status_code == 200, response.content
    body = response.json()
    assert body["count"] == due.count() > 0
    assert [item["id"] for item in body["items"]] == [task.pk for task in due]
    item = body["items"][0]
    assert item["guest"] == "周**" and "13812345678" not in str(body)
    assert item["appointment_id"] == appointment.pk and item["vip_tier"] == "1"
    assert item["start_at"] == f"{day}T15:00:00+08:00" and item["due_at"].endswith("+08:00")
    assert item["assignee_role_label"] and item["overdue"] is False and item["can_complete"] is True


def test_an_attendant_sees_only_the_attendant_s_tasks(client, project, attendant, api_token_for) -> None:
    day = timezone.localdate() + timedelta(days=1)
    book_vip(project, day)

    items = client.get(tasks_url(project), {"date": str(day)}, headers=api_token_for(attendant)).json()[
        "items"
    ]

    assert items and {item["assignee_role"] for item in items} == {Role.ATTENDANT}


def test_overdue_lists_open_tasks_of_any_day(client, project, manager, api_token_for) -> None:
    appointment = book_vip(project, timezone.localdate() + timedelta(days=2))
    late = appointment.preparation_tasks.order_by("pk").first()
    VipTask.objects.filter(pk=late.pk).update(due_at=timezone.now() - timedelta(days=3))

    body = client.get(tasks_url(project), {"overdue": "true"}, headers=api_token_for(manager)).json()

    assert [item["id"] for item in body["items"]] == [late.pk] and body["items"][0]["overdue"] is True


def test_ticking_a_task_off_once(client, project, frontdesk, attendant, api_token_for) -> None:
    appointment = book_vip(project, timezone.localdate() + timedelta(days=1))
    task = appointment.preparation_tasks.exclude(assignee_role=Role.ATTENDANT).order_by("pk").first()

    refused = client.post(f"/api/v1/vip-tasks/{task.pk}/done", headers=api_token_for(attendant))
    first = client.post(f"/api/v1/vip-tasks/{task.pk}/done", headers=api_token_for(frontdesk))
    again = client.post(f"/api/v1/vip-tasks/{task.pk}/done", headers=api_token_for(frontdesk))

    assert refused.status_code == 403 and "负责" in refused.json()["message"]
    assert first.status_code == again.status_code == 200
    assert first.json()["done_at"] == again.json()["done_at"] and first.json()["done_at"].endswith("+08:00")
    assert first.json()["done_by_name"] == frontdesk.display_name
    appointment.status = AppointmentStatus.CANCELLED
    appointment.save(update_fields=["status"])
    other = appointment.preparation_tasks.filter(done_at__isnull=True).exclude(assignee_role=Role.ATTENDANT)
    cancelled = client.post(f"/api/v1/vip-tasks/{other.first().pk}/done", headers=api_token_for(frontdesk))
    assert cancelled.status_code == 409


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ({"date": "tomorrow"}, "date"),
        ({"date": "9999-12-31"}, "date"),
        ({"overdue": "true", "date": "2026-12-04"}, "date"),
    ],
)
def test_bad_input_is_400_naming_the_field(client, project, frontdesk, api_token_for, query, field) -> None:
    response = client.get(tasks_url(project), query, headers=api_token_for(frontdesk))

    assert response.status_code == 400 and field in response.json()["fields"]


def test_strangers_404_other_roles_403(client, project, other_project, agent, api_token_for) -> None:
    task = book_vip(project, timezone.localdate() + timedelta(days=1)).preparation_tasks.first()
    stranger = user_in(other_project, role=Role.MANAGER, username="elsewhere")

    assert client.get(tasks_url(project), headers=api_token_for(stranger)).status_code == 404
    assert (
        client.post(f"/api/v1/vip-tasks/{task.pk}/done", headers=api_token_for(stranger)).status_code == 404
    )
    assert client.get(tasks_url(project), headers=api_token_for(agent)).status_code == 403


@pytest.mark.parametrize("bookings", [1, 4])
def test_query_budget(
    client, project, manager, api_token_for, django_assert_max_num_queries, bookings
) -> None:
    day = timezone.localdate() + timedelta(days=1)
    for n in range(bookings):
        book_vip(project, day, name=f"贵宾{n}")
    headers = api_token_for(manager)

    # the token with its user, the project, one page (appointment and done_by joined), the count
    with django_assert_max_num_queries(4):
        response = client.get(tasks_url(project), {"date": str(day)}, headers=headers)

    assert response.status_code == 200 and response.json()["count"] >= bookings
