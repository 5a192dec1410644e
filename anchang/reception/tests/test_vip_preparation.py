"""VIP preparation (product.md §4): default checklists, tasks per booking, who may tick them off."""

from datetime import datetime, time, timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from anchang.accounts.models import Role
from anchang.accounts.testing import user_in
from anchang.core.errors import Conflict, Forbidden, NotFound
from anchang.core.models import Notification, NotificationChannel
from anchang.reception import appointments as svc
from anchang.reception import vip
from anchang.reception.models import BookingChannel, VipTask, VipTaskTemplate, VipTier

pytestmark = [pytest.mark.django_db, pytest.mark.urls("anchang.reception.tests.urls_for_appointments")]


def tomorrow_at(hour: int, minute: int = 0):
    return timezone.make_aware(datetime.combine(timezone.localdate() + timedelta(days=1), time(hour, minute)))


def book_vip(project, tier=VipTier.TIER_1, **overrides):
    values = {
        "project": project,
        "name": "周总",
        "phone": "13812345678",
        "start_at": tomorrow_at(10),
        "consent": True,
        "channel": BookingChannel.DESK,
        "vip_tier": tier,
    }
    values.update(overrides)
    return svc.appointment_create(**values)


def test_default_templates_are_seeded_once(project) -> None:
    assert vip.vip_templates_ensure_defaults(project=project) == 11
    assert vip.vip_templates_ensure_defaults(project=project) == 0
    assert VipTaskTemplate.objects.filter(project=project, tier=VipTier.TIER_1).count() == 6
    assert VipTaskTemplate.objects.filter(project=project, tier=VipTier.TIER_2).count() == 5


def test_tier_1_booking_creates_the_default_checklist_relative_to_arrival(project) -> None:
    arrival = tomorrow_at(10)
    appointment = book_vip(project, start_at=arrival)

    tasks = list(appointment.preparation_tasks.order_by("sort_order"))
    expected = vip.DEFAULT_TEMPLATES[VipTier.TIER_1]
    assert [(t.title, t.assignee_role) for t in tasks] == [(d.title, d.assignee_role) for d in expected]
    assert [t.due_at for t in tasks] == [arrival - timedelta(minutes=d.minutes_before) for d in expected]
    roles = {t.assignee_role for t in tasks}
    assert roles == {Role.MANAGER, Role.ATTENDANT, Role.FRONTDESK}
    assert any(f"{vip.DEFAULT_TIER_1_GUARDS} 人" in t.title for t in tasks)
    assert all(t.done_at is None for t in tasks)


def test_tier_2_and_general_bookings(project) -> None:
    assert book_vip(project, tier=VipTier.TIER_2).preparation_tasks.count() == 5
    assert book_vip(project, tier=VipTier.GENERAL, phone="13912345678").preparation_tasks.count() == 0


def test_a_projects_own_checklist_replaces_the_defaults(project) -> None:
    VipTaskTemplate.objects.create(
        project=project,
        tier=VipTier.TIER_1,
        title="红毯铺设",
        assignee_role=Role.ATTENDANT,
        minutes_before=90,
    )
    appointment = book_vip(project)
    assert list(appointment.preparation_tasks.values_list("title", flat=True)) == ["红毯铺设"]
    # The other tier still got its defaults.
    assert VipTaskTemplate.objects.filter(project=project, tier=VipTier.TIER_2).count() == 5


def test_assignees_are_notified_by_role(project, attendant, manager, frontdesk, consultant) -> None:
    other_attendant = user_in(project, role=Role.ATTENDANT)
    book_vip(project)

    vip_rows = Notification.objects.filter(kind="vip_task", channel=NotificationChannel.IN_APP)
    assert set(vip_rows.values_list("recipient", flat=True)) == {
        attendant.pk,
        other_attendant.pk,
        manager.pk,
        frontdesk.pk,
    }
    attendant_note = vip_rows.get(recipient=attendant)
    assert "礼宾" in attendant_note.body and "周**" in attendant_note.title
    assert "13812345678" not in attendant_note.title + attendant_note.body


def test_tasks_are_created_once_per_appointment(project) -> None:
    appointment = book_vip(project)
    again = vip.vip_tasks_create_for(appointment=appointment)
    assert len(again) == 6 and appointment.preparation_tasks.count() == 6


def test_reschedule_moves_due_times(project, frontdesk) -> None:
    appointment = book_vip(project, start_at=tomorrow_at(10))
    before = dict(appointment.preparation_tasks.values_list("pk", "due_at"))

    svc.appointment_reschedule(appointment=appointment, start_at=tomorrow_at(14, 30), by=frontdesk)

    after = dict(appointment.preparation_tasks.values_list("pk", "due_at"))
    assert {pk: after[pk] - before[pk] for pk in before} == dict.fromkeys(
        before, timedelta(hours=4, minutes=30)
    )


def _task(appointment, role: str) -> VipTask:
    return appointment.preparation_tasks.filter(assignee_role=role).first()


def test_the_assigned_role_completes_its_task_once(project, attendant) -> None:
    task = _task(book_vip(project), Role.ATTENDANT)

    vip.vip_task_complete(task=task, by=attendant)
    first = task.done_at
    vip.vip_task_complete(task=task, by=attendant)

    task.refresh_from_db()
    assert task.done_at == first and task.done_by == attendant


def test_other_roles_may_not_tick_off_a_task(project, attendant, consultant) -> None:
    appointment = book_vip(project)
    with pytest.raises(Forbidden):
        vip.vip_task_complete(task=_task(appointment, Role.MANAGER), by=attendant)
    with pytest.raises(Forbidden):
        vip.vip_task_complete(task=_task(appointment, Role.ATTENDANT), by=consultant)


def test_manager_and_front_desk_may_tick_off_any_task(project, manager, frontdesk) -> None:
    appointment = book_vip(project)
    vip.vip_task_complete(task=_task(appointment, Role.ATTENDANT), by=frontdesk)
    vip.vip_task_complete(task=_task(appointment, Role.FRONTDESK), by=manager)
    assert appointment.preparation_tasks.filter(done_at__isnull=False).count() == 2


def test_staff_of_another_project_cannot_tick_off(project, other_project) -> None:
    stranger = user_in(other_project, role=Role.MANAGER)
    with pytest.raises(NotFound):
        vip.vip_task_complete(task=_task(book_vip(project), Role.ATTENDANT), by=stranger)


def test_tasks_of_a_cancelled_appointment_cannot_be_completed(project, frontdesk, attendant) -> None:
    appointment = book_vip(project)
    svc.appointment_cancel(appointment=appointment, by=frontdesk, reason="行程取消")
    with pytest.raises(Conflict):
        vip.vip_task_complete(task=_task(appointment, Role.ATTENDANT), by=attendant)


def test_selectors_for_my_role_today_and_overdue(project, attendant, manager) -> None:
    appointment = book_vip(project, start_at=tomorrow_at(10))
    tomorrow = timezone.localdate() + timedelta(days=1)

    mine = list(vip.vip_tasks_for_role_on(project=project, day=tomorrow, role=Role.ATTENDANT))
    assert len(mine) == 4 and {t.assignee_role for t in mine} == {Role.ATTENDANT}
    assert len(vip.vip_tasks_for_role_on(project=project, day=tomorrow, role=None)) == 6
    assert not vip.vip_tasks_for_role_on(project=project, day=timezone.localdate(), role=Role.ATTENDANT)

    at_0935 = tomorrow_at(9, 35)  # the 60- and 30-minute tasks are late, the 20- and 15-minute ones not yet
    overdue = list(vip.vip_tasks_overdue(project=project, now=at_0935))
    assert {t.due_at for t in overdue} == {tomorrow_at(9), tomorrow_at(9, 30)}
    vip.vip_task_complete(task=overdue[0], by=attendant)
    assert overdue[0] not in vip.vip_tasks_overdue(project=project, now=at_0935)
    assert not vip.vip_tasks_overdue(project=project, now=timezone.now())

    svc.appointment_cancel(appointment=appointment, by=manager, reason="取消")
    assert not vip.vip_tasks_overdue(project=project, now=at_0935)


# --- pages -----------------------------------------------------------------------------------------


def test_day_view_shows_the_checklist_with_overdue_tasks_in_red(client_for, project, frontdesk) -> None:
    # Arriving in 25 minutes: the four tasks due 60 and 30 minutes before arrival are already late.
    appointment = book_vip(project, start_at=timezone.now() + timedelta(minutes=25))
    day = timezone.localtime(appointment.start_at).date().isoformat()

    html = (
        client_for(frontdesk)
        .get(reverse("appointments:day", args=[project.pk]), {"date": day})
        .content.decode()
    )

    assert "贵宾接待准备" in html
    assert html.count('class="vip-task ') == 6
    assert html.count(" text-danger fw-semibold overdue") == 4
    assert "已超时" in html
    assert html.count(">完成</button>") == 6  # the front desk may tick off every task


def test_attendant_sees_own_tasks_and_ticks_one_off_with_htmx(client_for, project, attendant) -> None:
    appointment = book_vip(project)
    # Due late tonight: on today's list, not overdue.
    late_tonight = timezone.make_aware(datetime.combine(timezone.localdate(), time(23, 59, 59)))
    VipTask.objects.filter(appointment=appointment).update(due_at=late_tonight)
    client = client_for(attendant)

    html = client.get(reverse("appointments:vip_tasks", args=[project.pk])).content.decode()
    assert html.count('class="vip-task ') == 4
    assert "全程陪同" not in html  # the manager's task is not the attendant's business

    task = _task(appointment, Role.ATTENDANT)
    response = client.post(
        reverse("appointments:vip_task_done", args=[task.pk]), headers={"HX-Request": "true"}
    )
    assert response.status_code == 200
    assert "已完成" in response.content.decode() and f'id="vip-task-{task.pk}"' in response.content.decode()
    task.refresh_from_db()
    assert task.done_by == attendant


def test_attendant_cannot_tick_off_a_managers_task(client_for, project, attendant) -> None:
    task = _task(book_vip(project), Role.MANAGER)
    response = client_for(attendant).post(reverse("appointments:vip_task_done", args=[task.pk]))
    assert response.status_code == 302
    task.refresh_from_db()
    assert task.done_at is None


@pytest.mark.parametrize("role", [Role.AGENT, Role.SERVICE])
def test_task_pages_are_404_for_unrelated_roles(client_for, project, role) -> None:
    user = user_in(project, role=role)
    task = _task(book_vip(project), Role.ATTENDANT)
    client = client_for(user)
    assert client.get(reverse("appointments:vip_tasks", args=[project.pk])).status_code == 404
    assert client.post(reverse("appointments:vip_task_done", args=[task.pk])).status_code == 404
    task.refresh_from_db()
    assert task.done_at is None
