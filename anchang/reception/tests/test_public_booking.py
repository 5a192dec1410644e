"""The public booking page /book/<project code>/: no login, phone first, rate limited, junk-proof."""

import re
from datetime import datetime, time, timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from anchang.accounts.models import Role
from anchang.accounts.testing import user_in
from anchang.core.models import Notification, NotificationChannel
from anchang.core.testing.mobiles import mobile_for
from anchang.inventory.models import Project
from anchang.reception import appointments as svc
from anchang.reception.models import Appointment, AppointmentStatus, BookingChannel

pytestmark = [pytest.mark.django_db, pytest.mark.urls("anchang.reception.tests.urls_for_appointments")]

IPHONE = "Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15 Mobile/15E148"


def book_url(project: Project) -> str:
    return reverse("appointments:book", args=[project.code])


def form_data(**overrides) -> dict[str, str]:
    tomorrow = timezone.localdate() + timedelta(days=1)
    data = {
        "name": "陈女士",
        "phone": "13812345678",
        "day": tomorrow.isoformat(),
        "slot": "10:30",
        "party_size": "2",
        "consultant": "",
        "source": "friend",
        "consent": "on",
    }
    data.update(overrides)
    return data


def freeze_local_time(monkeypatch: pytest.MonkeyPatch, at: time) -> datetime:
    """Make "now" today at `at`, local time (the page's offer depends on the hour)."""
    now = timezone.make_aware(datetime.combine(timezone.localdate(), at))
    monkeypatch.setattr(timezone, "now", lambda: now)
    return now


def test_page_renders_for_a_phone_without_login(client, project, consultant, monkeypatch) -> None:
    freeze_local_time(monkeypatch, time(8, 0))
    consultant.name = "刘顾问"
    consultant.save()
    project.address = "文一西路 88 号"
    project.save()

    response = client.get(book_url(project), headers={"user-agent": IPHONE})

    html = response.content.decode()
    assert response.status_code == 200
    assert 'name="viewport"' in html
    assert 'inputmode="numeric"' in html
    assert "刘顾问" in html and consultant.username not in html
    assert "文一西路 88 号" in html
    assert 'type="checkbox" name="consent"' in html
    assert "个人信息告知" in html and "删除" in html
    # Before opening: today (a same-day visit) and the next 14 days, 09:00 to 17:30 every half hour.
    assert len(re.findall(r'<option value="\d{4}-\d{2}-\d{2}"', html)) == 15
    assert 'value="09:00"' in html and 'value="17:30"' in html and 'value="18:00"' not in html


def test_todays_passed_times_are_neither_offered_nor_accepted(client, project, monkeypatch) -> None:
    now = freeze_local_time(monkeypatch, time(14, 10))
    today, tomorrow = timezone.localdate(now), timezone.localdate(now) + timedelta(days=1)

    html = client.get(book_url(project)).content.decode()
    times = re.findall(r'<option value="(\d\d:\d\d)"', html)
    assert times[0] == "14:30" and "14:00" not in times and times[-1] == "17:30"

    # Picking another day reloads its times: all of them.
    slots = client.get(reverse("appointments:book_slots", args=[project.code]), {"day": tomorrow.isoformat()})
    assert slots.status_code == 200
    assert re.findall(r'<option value="(\d\d:\d\d)"', slots.content.decode())[0] == "09:00"
    again = client.get(reverse("appointments:book_slots", args=[project.code]), {"day": today.isoformat()})
    assert 'value="10:00"' not in again.content.decode()

    response = client.post(book_url(project), form_data(day=today.isoformat(), slot="10:00"))
    assert "该时间已过或不在可预约时段内，请重新选择" in response.content.decode()
    assert not Appointment.objects.exists()


def test_after_the_last_time_today_is_not_offered(client, project, monkeypatch) -> None:
    now = freeze_local_time(monkeypatch, time(17, 45))

    html = client.get(book_url(project)).content.decode()

    days = re.findall(r'<option value="(\d{4}-\d{2}-\d{2})"', html)
    assert timezone.localdate(now).isoformat() not in days and len(days) == 14
    assert 'value="09:00"' in html


def test_required_fields_are_marked_and_errors_use_the_projects_words(client, project) -> None:
    html = client.get(book_url(project)).content.decode()
    name_label = re.search(r'<label[^>]*for="id_name">(.*?)</label>', html, re.S)
    gender_label = re.search(r'<label[^>]*for="id_gender">(.*?)</label>', html, re.S)
    assert name_label and "*" in name_label.group(1)
    assert gender_label and "*" not in gender_label.group(1)

    response = client.post(book_url(project), {"day": "", "slot": "", "party_size": "", "source": ""})

    html = response.content.decode()
    for message in (
        "请填写您的姓名",
        "请填写手机号",
        "请选择到访日期",
        "请选择来访人数",
        "请选择您是如何了解到本项目的",
    ):
        assert message in html
    assert "这个字段是必填项" not in html and "This field is required" not in html
    assert not Appointment.objects.exists()


def test_the_page_shows_the_sales_office_phone_and_the_address_once(client, project) -> None:
    project.city, project.district, project.address = "杭州", "滨江区", "滨江区闻涛路 1 号"
    project.sales_phone = "0571-8688 6600"
    project.save()

    html = client.get(book_url(project)).content.decode()

    assert "杭州滨江区闻涛路 1 号" in html and "滨江区滨江区" not in html
    assert 'href="tel:057186886600"' in html and "0571-8688 6600" in html

    # The success page too: that is where the visitor is told to call to change the booking.
    done = client.get(client.post(book_url(project), form_data())["Location"]).content.decode()
    assert "杭州滨江区闻涛路 1 号" in done and 'href="tel:057186886600"' in done


def test_unknown_or_inactive_projects_are_404(client, project) -> None:
    assert client.get("/book/no-such-project/").status_code == 404
    Project.objects.filter(pk=project.pk).update(is_active=False)
    assert client.get(book_url(project)).status_code == 404
    assert client.post(book_url(project), form_data()).status_code == 404
    assert not Appointment.objects.exists()


def test_booking_shows_the_code_and_a_qr_code(client, project, frontdesk, consultant) -> None:
    response = client.post(
        book_url(project), form_data(consultant=str(consultant.pk)), headers={"user-agent": IPHONE}
    )

    appointment = Appointment.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("appointments:booked", args=[project.code, appointment.code])
    assert appointment.channel == BookingChannel.ONLINE
    assert appointment.phone == "+8613812345678"
    assert appointment.consultant == consultant
    assert appointment.party_size == 2
    assert appointment.consent_at is not None
    assert timezone.localtime(appointment.start_at).strftime("%H:%M") == "10:30"

    done = client.get(response["Location"])
    html = done.content.decode()
    assert done.status_code == 200
    assert appointment.code in html
    assert 'src="data:image/png;base64,' in html
    assert timezone.localtime(appointment.start_at).strftime("%Y-%m-%d 10:30") in html
    assert "13812345678" not in html

    notified = Notification.objects.filter(kind="appointment_booked", channel=NotificationChannel.IN_APP)
    assert set(notified.values_list("recipient", flat=True)) == {frontdesk.pk, consultant.pk}


def test_the_success_page_is_only_for_the_browser_that_booked(client, project) -> None:
    client.post(book_url(project), form_data())
    appointment = Appointment.objects.get()
    client.cookies.clear()
    assert (
        client.get(reverse("appointments:booked", args=[project.code, appointment.code])).status_code == 404
    )


@pytest.mark.parametrize("phone", ["12345", "12812345678", "02188886666", "1381234abcd", "", "一三八"])
def test_invalid_phones_are_shown_inline_and_nothing_is_stored(client, project, phone) -> None:
    response = client.post(book_url(project), form_data(phone=phone))
    html = response.content.decode()
    assert response.status_code == 200
    assert "invalid-feedback" in html
    assert not Appointment.objects.exists()


def test_consent_is_required(client, project) -> None:
    data = form_data()
    del data["consent"]
    html = client.post(book_url(project), data).content.decode()
    assert "请先阅读并同意隐私告知" in html
    assert not Appointment.objects.exists()


@pytest.mark.parametrize(
    "overrides",
    [
        {"day": (timezone.localdate() - timedelta(days=1)).isoformat()},
        {"day": (timezone.localdate() + timedelta(days=40)).isoformat()},
        {"day": "9999-99-99"},
        {"slot": "03:00"},
        {"slot": "25:61"},
    ],
)
def test_days_and_times_outside_the_offer_are_refused(client, project, overrides) -> None:
    response = client.post(book_url(project), form_data(**overrides))
    assert response.status_code == 200
    assert "invalid-feedback" in response.content.decode()
    assert not Appointment.objects.exists()


def test_junk_never_causes_a_500(client, project) -> None:
    huge = "长" * 100_000
    junk_values = [
        {"name": huge},
        {"phone": huge},
        {"party_size": "abc"},
        {"party_size": "-1"},
        {"party_size": "99999999999999999999999"},
        {"consultant": "99999999999999999999999"},
        {"consultant": "abc"},
        {"source": "<script>"},
        {"name": "王\x00明"},
        {"consent": "maybe", "name": ""},
    ]
    for overrides in junk_values:
        response = client.post(book_url(project), form_data(**overrides))
        assert response.status_code == 200, overrides
    assert not Appointment.objects.exists()


def test_a_consultant_of_another_project_cannot_be_chosen(client, project, other_project) -> None:
    outsider = user_in(other_project, role=Role.CONSULTANT)
    response = client.post(book_url(project), form_data(consultant=str(outsider.pk)))
    assert "invalid-feedback" in response.content.decode()
    assert not Appointment.objects.exists()


def test_script_in_the_name_is_rendered_escaped(client, client_for, project, frontdesk) -> None:
    script = "<script>alert(1)</script>"
    refused = client.post(book_url(project), form_data(name=script, phone="12345")).content.decode()
    assert script not in refused and "&lt;script&gt;alert(1)&lt;/script&gt;" in refused

    client.post(book_url(project), form_data(name="<b>x</b>"))
    appointment = Appointment.objects.get()
    day = timezone.localtime(appointment.start_at).date().isoformat()
    staff = client_for(frontdesk).get(reverse("appointments:day", args=[project.pk]), {"date": day})
    assert "<b>x</b>" not in staff.content.decode() and "&lt;b&gt;x&lt;/b&gt;" in staff.content.decode()


def test_one_phone_holds_at_most_three_future_bookings(client, project) -> None:
    for slot in ("10:00", "10:30", "11:00"):
        assert client.post(book_url(project), form_data(slot=slot)).status_code == 302

    refused = client.post(book_url(project), form_data(slot="11:30"))

    assert refused.status_code == 429
    assert "已有 3 个待到访的预约" in refused.content.decode()
    assert Appointment.objects.count() == 3
    # Cancelling one frees a place.
    frontdesk = user_in(project, role=Role.FRONTDESK)
    svc.appointment_cancel(appointment=Appointment.objects.first(), by=frontdesk, reason="改约")
    assert client.post(book_url(project), form_data(slot="11:30")).status_code == 302


def test_one_address_makes_at_most_ten_bookings_an_hour(client, project) -> None:
    for n in range(svc.ONLINE_BOOKINGS_PER_IP_PER_HOUR):
        response = client.post(book_url(project), form_data(phone=mobile_for(n)), REMOTE_ADDR="10.1.1.1")
        assert response.status_code == 302

    refused = client.post(book_url(project), form_data(phone=mobile_for(99)), REMOTE_ADDR="10.1.1.1")
    assert refused.status_code == 429
    assert "一小时后再试" in refused.content.decode()

    elsewhere = client.post(book_url(project), form_data(phone=mobile_for(99)), REMOTE_ADDR="10.1.1.2")
    assert elsewhere.status_code == 302
    assert Appointment.objects.filter(status=AppointmentStatus.BOOKED).count() == 11


def test_the_address_is_kept_only_as_a_keyed_hash() -> None:
    key = svc.booking_client_key("10.1.1.1")
    assert "10.1.1.1" not in key and len(key) == 32
    assert key == svc.booking_client_key("10.1.1.1") != svc.booking_client_key("10.1.1.2")
