"""The attendant ticks a preparation task off from the home page, as on the task list."""

from datetime import datetime, time, timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from anchang.accounts.models import Role
from anchang.reception import appointments as svc
from anchang.reception.models import BookingChannel, VipTask, VipTier

pytestmark = pytest.mark.django_db


def test_the_attendants_home_has_a_done_button_on_todays_preparation_task(
    client_for, project, attendant
) -> None:
    appointment = svc.appointment_create(
        project=project,
        name="周建国",
        phone="13812345678",
        start_at=timezone.make_aware(datetime.combine(timezone.localdate() + timedelta(days=1), time(15, 0))),
        consent=True,
        channel=BookingChannel.DESK,
        vip_tier=VipTier.TIER_1,
    )
    task = VipTask.objects.filter(appointment=appointment, assignee_role=Role.ATTENDANT).first()
    assert task is not None
    # Due later today, so it is on today's list whatever the hour the test runs at.
    end_of_today = timezone.make_aware(datetime.combine(timezone.localdate(), time(23, 59)))
    VipTask.objects.filter(pk=task.pk).update(due_at=end_of_today)
    client = client_for(attendant)
    html = client.get(reverse("home")).content.decode()
    done_url = reverse("appointments:vip_task_done", args=[task.pk])
    assert f'action="{done_url}"' in html and "完成</button>" in html

    response = client.post(done_url, {"next": reverse("home")})
    assert response.status_code == 302 and response["Location"] == reverse("home")
    task.refresh_from_db()
    assert task.done_at is not None and task.done_by == attendant
    assert "已完成" in client.get(reverse("home")).content.decode()
