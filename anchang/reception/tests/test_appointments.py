"""Appointment services (book, cancel, reschedule, no-show, check-in look-up, reminders) and staff pages."""

import re
import threading
from datetime import datetime, time, timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from anchang.accounts.models import Role
from anchang.accounts.testing import user_in
from anchang.core.errors import Conflict, Forbidden, InvalidInput, PhoneInvalid
from anchang.core.models import Notification, NotificationChannel
from anchang.core.testing.mobiles import mobile_for
from anchang.inventory.models import ProjectSettings
from anchang.reception import appointments as svc
from anchang.reception.models import Appointment, AppointmentStatus, BookingChannel, VipTier

pytestmark = [pytest.mark.django_db, pytest.mark.urls("anchang.reception.tests.urls_for_appointments")]

CODE_PATTERN = re.compile(r"^[23456789ABCDEFGHJKLMNPQRSTUVWXYZ]{6}$")
FULL_MOBILE = re.compile(r"1[3-9]\d{9}")


def tomorrow_at(hour: int, minute: int = 0):
    return timezone.make_aware(datetime.combine(timezone.localdate() + timedelta(days=1), time(hour, minute)))


def book(project, **overrides):
    values = {
        "project": project,
        "name": "王小明",
        "phone": "13812345678",
        "start_at": tomorrow_at(10),
        "consent": True,
        "channel": BookingChannel.DESK,
    }
    values.update(overrides)
    return svc.appointment_create(**values)


def in_app(kind: str):
    return Notification.objects.filter(kind=kind, channel=NotificationChannel.IN_APP)


# --- booking ---------------------------------------------------------------------------------------


def test_booking_stores_normalised_phone_consent_and_a_short_code(project, frontdesk) -> None:
    appointment = book(project, name="  王小明  ", phone="138 1234 5678", party_size=3, by=frontdesk)

    assert CODE_PATTERN.match(appointment.code)
    assert appointment.name == "王小明"
    assert appointment.phone == "+8613812345678"
    assert appointment.party_size == 3
    assert appointment.status == AppointmentStatus.BOOKED
    assert appointment.consent_at is not None
    assert appointment.created_by == frontdesk


def test_codes_are_unique_and_never_use_ambiguous_characters(project) -> None:
    codes = {book(project, phone=mobile_for(n)).code for n in range(60)}
    assert len(codes) == 60
    assert not any(set(code) & set("0O1I") for code in codes)


def test_a_code_collision_is_retried_with_another_code(project, monkeypatch) -> None:
    first = book(project)
    proposals = iter([first.code, "ABCDEF"])
    monkeypatch.setattr(svc, "_new_code", lambda: next(proposals))

    second = book(project, phone="13912345678")

    assert second.code == "ABCDEF"


def test_consent_is_required(project) -> None:
    with pytest.raises(InvalidInput) as caught:
        book(project, consent=False)
    assert caught.value.fields == {"consent": "请先阅读并同意隐私告知"}
    assert not Appointment.objects.exists()


@pytest.mark.parametrize(
    "phone",
    [
        "12345",
        "12812345678",
        "02188886666",
        "021-8888 6666",
        "1381234abcd",
        "abcdefghijk",
        "",
        "   ",
        "+14155552671",
    ],
)
def test_invalid_phones_name_the_phone_field_and_store_nothing(project, phone: str) -> None:
    with pytest.raises(PhoneInvalid) as caught:
        book(project, phone=phone)
    assert set(caught.value.fields) == {"phone"}
    assert not Appointment.objects.exists()


def test_all_invalid_fields_are_reported_together(project) -> None:
    with pytest.raises(InvalidInput) as caught:
        book(project, name="", phone="12345", party_size=0, consent=False)
    assert {"name", "phone", "party_size", "consent"} <= set(caught.value.fields)


def test_past_times_are_refused_with_a_little_grace(project) -> None:
    now = timezone.now()
    with pytest.raises(InvalidInput) as caught:
        book(project, start_at=now - timedelta(hours=1))
    assert "start_at" in caught.value.fields
    assert book(project, start_at=now - timedelta(minutes=2)).pk


def test_times_too_far_ahead_are_refused(project) -> None:
    with pytest.raises(InvalidInput) as caught:
        book(project, start_at=timezone.now() + timedelta(days=svc.MAX_DAYS_AHEAD + 1))
    assert "start_at" in caught.value.fields


def test_extreme_datetimes_are_refused_not_crashed(project) -> None:
    from datetime import timezone as dt_timezone

    for value in (
        datetime(1, 1, 1, tzinfo=dt_timezone(timedelta(hours=14))),
        datetime(9999, 12, 31, 23, 59, tzinfo=dt_timezone(timedelta(hours=-12))),
    ):
        with pytest.raises(InvalidInput):
            book(project, start_at=value)


@pytest.mark.parametrize("party_size", [0, 21, -1, True])
def test_party_size_between_1_and_20(project, party_size) -> None:
    with pytest.raises(InvalidInput) as caught:
        book(project, party_size=party_size)
    assert "party_size" in caught.value.fields


@pytest.mark.parametrize("name", ["", "   ", "王" * 51, "王\x00明"])
def test_names_must_be_1_to_50_printable_characters(project, name: str) -> None:
    with pytest.raises(InvalidInput) as caught:
        book(project, name=name)
    assert "name" in caught.value.fields


def test_consultant_must_be_an_active_consultant_of_the_project(
    project, other_project, consultant, frontdesk
) -> None:
    outsider = user_in(other_project, role=Role.CONSULTANT)
    retired = user_in(project, role=Role.CONSULTANT, is_active=False)
    for wrong in (outsider, frontdesk, retired):
        with pytest.raises(InvalidInput) as caught:
            book(project, consultant=wrong)
        assert "consultant" in caught.value.fields
    assert book(project, consultant=consultant).consultant == consultant


def test_unknown_source_tier_and_channel_are_refused(project) -> None:
    with pytest.raises(InvalidInput) as caught:
        book(project, source="billboard", vip_tier="3", channel="fax")
    assert {"source", "vip_tier", "channel"} <= set(caught.value.fields)


def test_booking_notifies_the_consultant_and_the_front_desk_but_not_the_booker(
    project, consultant, frontdesk, manager
) -> None:
    colleague = user_in(project, role=Role.FRONTDESK)
    book(project, consultant=consultant, by=frontdesk)

    recipients = set(in_app("appointment_booked").values_list("recipient", flat=True))
    assert recipients == {consultant.pk, colleague.pk}
    note = in_app("appointment_booked").first()
    assert "王**" in note.title and not FULL_MOBILE.search(note.title + note.body)


def test_a_project_webhook_gets_the_booking_too(project, frontdesk) -> None:
    ProjectSettings.objects.filter(project=project).update(wecom_webhook_url="https://qyapi.example/hook")
    book(project)
    assert (
        Notification.objects.filter(kind="appointment_booked", channel=NotificationChannel.WECOM).count() == 1
    )


# --- cancel, reschedule, no-show, check-in ------------------------------------------------------


def test_cancel_needs_a_reason_and_records_it(project, frontdesk) -> None:
    appointment = book(project)
    with pytest.raises(InvalidInput) as caught:
        svc.appointment_cancel(appointment=appointment, by=frontdesk, reason="  ")
    assert "reason" in caught.value.fields

    svc.appointment_cancel(appointment=appointment, by=frontdesk, reason="客户来电改约")

    appointment.refresh_from_db()
    assert appointment.status == AppointmentStatus.CANCELLED
    last = appointment.history.order_by("-history_id").first()
    assert last.history_change_reason == "客户来电改约" and last.history_user == frontdesk


def test_cancel_twice_or_after_check_in_is_a_conflict(project, frontdesk) -> None:
    cancelled = book(project)
    svc.appointment_cancel(appointment=cancelled, by=frontdesk, reason="改约")
    with pytest.raises(Conflict) as caught:
        svc.appointment_cancel(appointment=cancelled, by=frontdesk, reason="再取消")
    assert "已取消" in caught.value.message

    arrived = book(project, phone="13912345678")
    svc.appointment_mark_checked_in(appointment=arrived, visit_id=7)
    with pytest.raises(Conflict) as caught:
        svc.appointment_cancel(appointment=arrived, by=frontdesk, reason="取消")
    assert "已到访" in caught.value.message


def test_a_consultant_changes_only_own_or_unassigned_bookings(project, consultant, other_consultant) -> None:
    theirs = book(project, consultant=other_consultant)
    unassigned = book(project, phone="13912345678")
    with pytest.raises(Forbidden):
        svc.appointment_cancel(appointment=theirs, by=consultant, reason="不是我的")
    svc.appointment_cancel(appointment=unassigned, by=consultant, reason="客户改约")


def test_reschedule_moves_the_time_and_rearms_the_reminder(project, frontdesk) -> None:
    appointment = book(project)
    Appointment.objects.filter(pk=appointment.pk).update(reminder_sent_at=timezone.now())

    moved = svc.appointment_reschedule(appointment=appointment, start_at=tomorrow_at(15, 30), by=frontdesk)

    moved.refresh_from_db()
    assert moved.start_at == tomorrow_at(15, 30)
    assert moved.reminder_sent_at is None
    assert "改期" in moved.history.order_by("-history_id").first().history_change_reason


def test_reschedule_refuses_past_times_and_finished_bookings(project, frontdesk) -> None:
    appointment = book(project)
    with pytest.raises(InvalidInput):
        svc.appointment_reschedule(
            appointment=appointment, start_at=timezone.now() - timedelta(days=1), by=frontdesk
        )
    svc.appointment_cancel(appointment=appointment, by=frontdesk, reason="改约")
    with pytest.raises(Conflict):
        svc.appointment_reschedule(appointment=appointment, start_at=tomorrow_at(11), by=frontdesk)


def test_no_show_only_after_the_booked_time(project, frontdesk) -> None:
    appointment = book(project)
    with pytest.raises(Conflict) as caught:
        svc.appointment_mark_no_show(appointment=appointment, by=frontdesk)
    assert "还没到" in caught.value.message

    Appointment.objects.filter(pk=appointment.pk).update(start_at=timezone.now() - timedelta(hours=2))
    svc.appointment_mark_no_show(appointment=appointment, by=frontdesk)
    appointment.refresh_from_db()
    assert appointment.status == AppointmentStatus.NO_SHOW


def today_at(hour: int, minute: int = 0):
    return timezone.make_aware(datetime.combine(timezone.localdate(), time(hour, minute)))


def test_find_for_checkin_by_code_in_any_case_or_by_phone(project, other_project) -> None:
    # Booked through the service (tomorrow), then moved to fixed times today: the look-up takes `now`.
    morning, afternoon = book(project), book(project)
    elsewhere = book(other_project)
    tomorrow = book(project, phone="13712345678")
    Appointment.objects.filter(pk=morning.pk).update(start_at=today_at(10))
    Appointment.objects.filter(pk__in=[afternoon.pk, elsewhere.pk]).update(start_at=today_at(15))
    now = today_at(14)

    def find(text: str):
        return svc.appointment_find_for_checkin(project=project, code_or_phone=text, now=now)

    assert find(afternoon.code.lower()) == afternoon
    assert find(f" {morning.code} ") == morning
    # Two bookings of one phone today: the nearest to now wins.
    assert find("138-1234-5678") == afternoon
    assert find(elsewhere.code) is None
    assert find(tomorrow.code) is None
    for junk in ("", "ZZZZZZ", "12345", "<script>", "x" * 5000):
        assert find(junk) is None


def test_find_for_checkin_ignores_cancelled_and_checked_in(project, frontdesk) -> None:
    arrived, cancelled = book(project), book(project, phone="13912345678")
    Appointment.objects.filter(pk__in=[arrived.pk, cancelled.pk]).update(start_at=today_at(15))
    svc.appointment_mark_checked_in(appointment=arrived, visit_id=1)
    svc.appointment_cancel(appointment=cancelled, by=frontdesk, reason="改约")
    for code in (arrived.code, cancelled.code, "13812345678", "13912345678"):
        assert svc.appointment_find_for_checkin(project=project, code_or_phone=code, now=today_at(14)) is None


def test_mark_checked_in_once(project) -> None:
    appointment = book(project)
    svc.appointment_mark_checked_in(appointment=appointment, visit_id=42)
    appointment.refresh_from_db()
    assert appointment.status == AppointmentStatus.CHECKED_IN
    assert "42" in appointment.history.order_by("-history_id").first().history_change_reason
    with pytest.raises(Conflict):
        svc.appointment_mark_checked_in(appointment=appointment, visit_id=43)


# --- reminders -------------------------------------------------------------------------------------


def test_reminder_job_twice_sends_once(project, consultant) -> None:
    soon = book(project, consultant=consultant, start_at=timezone.now() + timedelta(minutes=30))
    book(project, phone="13912345678", consultant=consultant, start_at=timezone.now() + timedelta(hours=3))

    assert svc.appointment_send_reminders() == 1
    assert svc.appointment_send_reminders() == 0

    reminders = in_app("appointment_reminder")
    assert list(reminders.values_list("recipient", flat=True)) == [consultant.pk]
    soon.refresh_from_db()
    assert soon.reminder_sent_at is not None


def test_reminder_goes_to_the_front_desk_when_nobody_is_assigned(project, frontdesk, consultant) -> None:
    book(project, start_at=timezone.now() + timedelta(minutes=10))
    assert svc.appointment_send_reminders() == 1
    assert list(in_app("appointment_reminder").values_list("recipient", flat=True)) == [frontdesk.pk]


def test_reminder_window_is_the_project_setting(project, frontdesk) -> None:
    ProjectSettings.objects.filter(project=project).update(reminder_minutes_before=240)
    book(project, start_at=timezone.now() + timedelta(hours=3))
    assert svc.appointment_send_reminders() == 1


def test_reminders_skip_cancelled_bookings_and_rearm_after_reschedule(project, frontdesk) -> None:
    cancelled = book(project, start_at=timezone.now() + timedelta(minutes=30))
    svc.appointment_cancel(appointment=cancelled, by=frontdesk, reason="改约")
    moved = book(project, phone="13912345678", start_at=timezone.now() + timedelta(minutes=30))
    assert svc.appointment_send_reminders() == 1

    svc.appointment_reschedule(
        appointment=moved, start_at=timezone.now() + timedelta(minutes=45), by=frontdesk
    )
    assert svc.appointment_send_reminders() == 1
    assert svc.appointment_send_reminders(now=timezone.now() + timedelta(minutes=1)) == 0


@pytest.mark.postgres_only
@pytest.mark.django_db(transaction=True)
def test_concurrent_reminder_runs_send_each_reminder_once(project, consultant) -> None:
    for n in range(6):
        book(
            project,
            phone=mobile_for(n),
            consultant=consultant,
            start_at=timezone.now() + timedelta(minutes=30),
        )
    barrier = threading.Barrier(4)
    sent: list[int] = []

    def run() -> None:
        try:
            barrier.wait(timeout=10)
            sent.append(svc.appointment_send_reminders())
        finally:
            connection.close()

    threads = [threading.Thread(target=run) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)

    assert len(sent) == 4 and sum(sent) == 6
    assert in_app("appointment_reminder").count() == 6


def test_reminder_job_is_registered_as_a_periodic_job() -> None:
    from anchang.core import periodic
    from anchang.reception import jobs

    names = {job.name for job in periodic.registered_jobs()}
    assert "reception.appointment_reminders" in names
    assert jobs.appointment_reminders() == {"reminders_sent": 0}


# --- staff pages -----------------------------------------------------------------------------------


def day_url(project, day=None, **query) -> str:
    url = reverse("appointments:day", args=[project.pk])
    params = {**({"date": day.isoformat()} if day else {}), **query}
    return url + ("?" + "&".join(f"{k}={v}" for k, v in params.items()) if params else "")


def test_day_view_lists_the_days_bookings(client_for, project, frontdesk) -> None:
    tomorrow = timezone.localdate() + timedelta(days=1)
    book(project, name="李雷", start_at=tomorrow_at(9, 30), vip_tier=VipTier.TIER_2)
    book(project, name="韩梅梅", phone="13912345678", start_at=tomorrow_at(23, 30) + timedelta(days=1))

    html = client_for(frontdesk).get(day_url(project, tomorrow)).content.decode()

    assert "李雷" in html and "09:30" in html and "二级贵宾" in html
    assert "韩梅梅" not in html


@pytest.mark.parametrize("role", [Role.AGENT, Role.ATTENDANT, Role.SERVICE])
def test_other_roles_get_404(client_for, project, role) -> None:
    user = user_in(project, role=role)
    assert client_for(user).get(day_url(project)).status_code == 404
    assert client_for(user).get(reverse("appointments:week", args=[project.pk])).status_code == 404
    appointment = book(project)
    assert client_for(user).get(reverse("appointments:detail", args=[appointment.pk])).status_code == 404


def test_staff_of_another_project_get_404(client_for, project, other_project) -> None:
    stranger = user_in(other_project, role=Role.MANAGER)
    appointment = book(project)
    client = client_for(stranger)
    assert client.get(day_url(project)).status_code == 404
    assert client.get(reverse("appointments:detail", args=[appointment.pk])).status_code == 404
    assert client.post(reverse("appointments:no_show", args=[appointment.pk])).status_code == 404


def test_login_is_required(client, project) -> None:
    response = client.get(day_url(project))
    assert response.status_code == 302 and "/login/" in response["Location"]


def _day_queries(client, url: str) -> int:
    client.get(url)
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url)
    assert response.status_code == 200
    return len(queries)


@pytest.mark.parametrize("persona", ["frontdesk", "consultant"])
def test_day_and_week_views_have_a_fixed_query_count(
    request, client_for, project, consultant, persona
) -> None:
    viewer = request.getfixturevalue(persona)
    client = client_for(viewer)
    tomorrow = timezone.localdate() + timedelta(days=1)
    week_url = reverse("appointments:week", args=[project.pk]) + f"?date={tomorrow.isoformat()}"

    def add(n: int, offset: int) -> None:
        for i in range(offset, offset + n):
            book(
                project,
                phone=mobile_for(i),
                start_at=tomorrow_at(9) + timedelta(minutes=15 * i),
                consultant=consultant if i % 2 else None,
                vip_tier=[VipTier.GENERAL, VipTier.TIER_1, VipTier.TIER_2][i % 3],
            )

    add(2, 0)
    few_day, few_week = _day_queries(client, day_url(project, tomorrow)), _day_queries(client, week_url)
    add(28, 2)
    many_day, many_week = _day_queries(client, day_url(project, tomorrow)), _day_queries(client, week_url)

    assert many_day == few_day
    assert many_week == few_week


def test_phones_are_masked_except_for_the_assigned_consultant(
    client_for, project, consultant, other_consultant, frontdesk
) -> None:
    tomorrow = timezone.localdate() + timedelta(days=1)
    book(project, phone="13812345678", consultant=consultant, start_at=tomorrow_at(10))
    book(project, phone="13987654321", consultant=other_consultant, start_at=tomorrow_at(11))

    mine = client_for(consultant).get(day_url(project, tomorrow)).content.decode()
    assert "13812345678" in mine
    assert "13987654321" not in mine and "139****4321" in mine

    desk = client_for(frontdesk).get(day_url(project, tomorrow)).content.decode()
    assert not FULL_MOBILE.search(desk.replace("****", ""))  # masked numbers only
    assert "138****5678" in desk and "139****4321" in desk


def test_consultant_can_filter_mine(client_for, project, consultant, other_consultant) -> None:
    tomorrow = timezone.localdate() + timedelta(days=1)
    book(project, name="自己的客户", consultant=consultant, start_at=tomorrow_at(10))
    book(
        project, name="同事的客户", phone="13912345678", consultant=other_consultant, start_at=tomorrow_at(11)
    )
    client = client_for(consultant)

    everything = client.get(day_url(project, tomorrow)).content.decode()
    mine = client.get(day_url(project, tomorrow, mine=1)).content.decode()

    assert "自己的客户" in everything and "同事的客户" in everything
    assert "自己的客户" in mine and "同事的客户" not in mine


def test_junk_dates_fall_back_to_today(client_for, project, frontdesk) -> None:
    client = client_for(frontdesk)
    for junk in ("9999-12-31", "0001-01-01", "2026-13-45", "<script>", "x" * 3000):
        assert client.get(reverse("appointments:day", args=[project.pk]), {"date": junk}).status_code == 200
        assert client.get(reverse("appointments:week", args=[project.pk]), {"date": junk}).status_code == 200


def test_front_desk_books_through_the_form(client_for, project, frontdesk, consultant) -> None:
    tomorrow = timezone.localdate() + timedelta(days=1)
    response = client_for(frontdesk).post(
        reverse("appointments:new", args=[project.pk]),
        {
            "name": "张三",
            "phone": "13812345678",
            "day": tomorrow.isoformat(),
            "at": "14:30",
            "party_size": "2",
            "consultant": consultant.pk,
            "source": "friend",
            "vip_tier": "1",
            "note": "",
            "consent": "on",
        },
    )
    appointment = Appointment.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("appointments:detail", args=[appointment.pk])
    assert appointment.channel == BookingChannel.DESK
    assert appointment.start_at == tomorrow_at(14, 30)
    assert appointment.preparation_tasks.count() == 6


def test_consultant_bookings_are_marked_as_such(client_for, project, consultant) -> None:
    tomorrow = timezone.localdate() + timedelta(days=1)
    client_for(consultant).post(
        reverse("appointments:new", args=[project.pk]),
        {
            "name": "张三",
            "phone": "13812345678",
            "day": tomorrow.isoformat(),
            "at": "10:00",
            "party_size": "1",
            "vip_tier": "general",
            "consent": "on",
        },
    )
    assert Appointment.objects.get().channel == BookingChannel.CONSULTANT


def test_booking_form_shows_errors_inline_and_escapes_input(client_for, project, frontdesk) -> None:
    response = client_for(frontdesk).post(
        reverse("appointments:new", args=[project.pk]),
        {
            "name": "<script>alert(1)</script>",
            "phone": "12345",
            "day": "2020-01-01",
            "at": "25:99",
            "party_size": "999",
            "consultant": "99999999999999999999",
            "vip_tier": "9",
        },
    )
    html = response.content.decode()
    assert response.status_code == 200
    assert "<script>alert(1)</script>" not in html and "&lt;script&gt;" in html
    assert "请输入正确的中国大陆手机号码" in html and "请先阅读并同意隐私告知" in html
    assert not Appointment.objects.exists()


def test_booking_form_reports_a_past_time_next_to_the_time(client_for, project, frontdesk) -> None:
    yesterday = timezone.localdate() - timedelta(days=1)
    response = client_for(frontdesk).post(
        reverse("appointments:new", args=[project.pk]),
        {
            "name": "张三",
            "phone": "13812345678",
            "day": yesterday.isoformat(),
            "at": "10:00",
            "party_size": "1",
            "vip_tier": "general",
            "consent": "on",
        },
    )
    assert "预约时间已过" in response.content.decode()
    assert not Appointment.objects.exists()


def test_cancel_page_asks_for_reason_and_confirmation(client_for, project, frontdesk) -> None:
    appointment = book(project)
    client = client_for(frontdesk)
    url = reverse("appointments:cancel", args=[appointment.pk])

    assert "取消原因" in client.get(url).content.decode()
    refused = client.post(url, {"reason": "", "confirm": ""})
    assert refused.status_code == 400 and "请填写取消原因" in refused.content.decode()
    appointment.refresh_from_db()
    assert appointment.status == AppointmentStatus.BOOKED

    done = client.post(url, {"reason": "客户改约", "confirm": "on", "next": day_url(project)})
    assert done.status_code == 302 and done["Location"] == day_url(project)
    appointment.refresh_from_db()
    assert appointment.status == AppointmentStatus.CANCELLED


def test_cancel_page_ignores_foreign_redirects(client_for, project, frontdesk) -> None:
    appointment = book(project)
    response = client_for(frontdesk).post(
        reverse("appointments:cancel", args=[appointment.pk]),
        {"reason": "改约", "confirm": "on", "next": "https://evil.example/"},
    )
    assert response.status_code == 302 and "evil" not in response["Location"]


def test_reschedule_and_no_show_pages(client_for, project, frontdesk) -> None:
    appointment = book(project)
    client = client_for(frontdesk)
    day = (timezone.localdate() + timedelta(days=2)).isoformat()

    response = client.post(
        reverse("appointments:reschedule", args=[appointment.pk]), {"day": day, "at": "16:00"}
    )
    assert response.status_code == 302
    appointment.refresh_from_db()
    assert timezone.localtime(appointment.start_at).strftime("%Y-%m-%d %H:%M") == f"{day} 16:00"

    early = client.post(reverse("appointments:no_show", args=[appointment.pk]), follow=True)
    assert "还没到" in early.content.decode()
    Appointment.objects.filter(pk=appointment.pk).update(start_at=timezone.now() - timedelta(hours=1))
    client.post(reverse("appointments:no_show", args=[appointment.pk]))
    appointment.refresh_from_db()
    assert appointment.status == AppointmentStatus.NO_SHOW


def test_detail_page_shows_masked_phone_and_history(client_for, project, frontdesk) -> None:
    appointment = book(project, by=frontdesk)
    html = client_for(frontdesk).get(reverse("appointments:detail", args=[appointment.pk])).content.decode()
    assert appointment.code in html and "138****5678" in html and "13812345678" not in html
