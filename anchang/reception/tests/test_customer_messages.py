"""The texts a visitor receives (booking confirmation with its code, reminder, thank-you after the
visit): written into the outbox with the booking or visit, once per fact, the thank-you only with
consent; delivered by the log backend unless a provider is configured."""

import json
import logging
from datetime import timedelta

import pytest
from django.core.management import call_command
from django.db import transaction
from django.utils import timezone

from anchang.core.delivery import notification_deliver
from anchang.core.errors import InvalidInput
from anchang.core.models import MessageSend, Notification, NotificationChannel
from anchang.core.sms.base import MessageKind
from anchang.core.tests.test_sms import ProviderStub, tencent_answer
from anchang.customers.models import Customer
from anchang.reception import appointments as svc
from anchang.reception.checkout import checkout_send_thank_you, visit_check_out
from anchang.reception.models import Appointment, AppointmentStatus, BookingChannel
from anchang.reception.services import check_in
from anchang.reception.tests.test_appointments import book, tomorrow_at

pytestmark = [pytest.mark.django_db, pytest.mark.urls("anchang.reception.tests.urls_for_appointments")]


def sms(kind: str):
    return Notification.objects.filter(channel=NotificationChannel.SMS, kind=kind)


def test_a_booking_texts_the_visitor_its_code(project) -> None:
    appointment = book(project, start_at=tomorrow_at(14, 30), channel=BookingChannel.ONLINE)
    row = sms(MessageKind.BOOKING_CONFIRMED).get()
    start = timezone.localtime(appointment.start_at)
    assert row.target == "+8613812345678" and row.project_id == project.pk
    assert row.params == {
        "project": project.name,
        "time": f"{start.month}月{start.day}日 14:30",
        "code": appointment.code,
    }
    assert appointment.code in row.body and "13812345678" not in row.title


def test_a_refused_booking_texts_nobody(project) -> None:
    with pytest.raises(InvalidInput):
        book(project, consent=False)
    with transaction.atomic():
        book(project, phone="13912345678")
        transaction.set_rollback(True)
    assert not sms(MessageKind.BOOKING_CONFIRMED).exists()


def test_the_reminder_texts_the_visitor_once_and_again_after_a_reschedule(
    project, frontdesk, consultant
) -> None:
    appointment = book(project, consultant=consultant, start_at=timezone.now() + timedelta(minutes=30))
    assert svc.appointment_send_reminders() == 1
    assert svc.appointment_send_reminders() == 0
    [row] = sms(MessageKind.BOOKING_REMINDER)
    assert row.params["code"] == appointment.code and row.target == appointment.phone
    # Moved to later and due again: a second reminder, of the new time.
    Appointment.objects.filter(pk=appointment.pk).update(
        start_at=timezone.now() + timedelta(minutes=40), reminder_sent_at=None
    )
    assert svc.appointment_send_reminders() == 1
    assert sms(MessageKind.BOOKING_REMINDER).count() == 2


def _ended_visit(project, frontdesk, on_duty, django_capture_on_commit_callbacks):
    visit = check_in(
        project=project, phone="13812345678", by=frontdesk, consent=True, name="王小明", gender="male"
    ).visit
    with django_capture_on_commit_callbacks(execute=True):
        visit_check_out(visit_id=visit.pk, by=on_duty[0], outcome="return")
    return visit


def test_the_thank_you_texts_a_consenting_customer_the_projects_words(
    project, frontdesk, on_duty, django_capture_on_commit_callbacks
) -> None:
    visit = _ended_visit(project, frontdesk, on_duty, django_capture_on_commit_callbacks)
    row = sms(MessageKind.VISIT_THANK_YOU).get()
    assert row.target == "+8613812345678"
    assert row.params == {"name": "王先生", "project": project.name, "consultant": on_duty[0].display_name}
    assert row.body.startswith(
        f"王先生您好，感谢今天莅临{project.name}，我是置业顾问{on_duty[0].display_name}"
    )
    assert checkout_send_thank_you(visit_id=visit.pk) is False
    assert sms(MessageKind.VISIT_THANK_YOU).count() == 1


def test_no_thank_you_text_without_consent(
    project, frontdesk, on_duty, django_capture_on_commit_callbacks
) -> None:
    visit = check_in(
        project=project, phone="13812345678", by=frontdesk, consent=True, name="王小明", gender="male"
    ).visit
    # Consent withdrawn (or never given for a file made another way): marketing-like texts stop.
    Customer.objects.filter(pk=visit.customer_id).update(consent_at=None)
    with django_capture_on_commit_callbacks(execute=True):
        visit_check_out(visit_id=visit.pk, by=on_duty[0], outcome="return")
    assert not sms(MessageKind.VISIT_THANK_YOU).exists()
    # The consultant's own copy is unaffected.
    assert Notification.objects.filter(kind="thank_you", channel=NotificationChannel.IN_APP).exists()


def test_the_demo_setup_sends_through_the_log_backend(project, caplog) -> None:
    book(project, phone="13912345678")
    row = sms(MessageKind.BOOKING_CONFIRMED).get()
    with caplog.at_level(logging.INFO, logger="anchang.sms"):
        assert notification_deliver(notification_id=row.pk) == "sent"
    assert "139****5678" in caplog.text and "13912345678" not in caplog.text
    assert MessageSend.objects.get().provider == "log"


def test_the_demo_texts_its_bookings_through_the_log(caplog) -> None:
    call_command("demo", "--quiet")
    booked = Appointment.objects.filter(status=AppointmentStatus.BOOKED)
    rows = sms(MessageKind.BOOKING_CONFIRMED)
    assert booked.exists()
    assert set(rows.values_list("params__code", flat=True)) >= set(booked.values_list("code", flat=True))
    with caplog.at_level(logging.INFO, logger="anchang.sms"):
        outcomes = {notification_deliver(notification_id=pk) for pk in rows.values_list("pk", flat=True)}
    assert outcomes == {"sent"}
    assert set(MessageSend.objects.values_list("provider", flat=True)) == {"log"}
    lines = [r.getMessage() for r in caplog.records if r.name == "anchang.sms"]
    assert len(lines) == rows.count()
    for phone in booked.values_list("phone", flat=True):
        assert not any(phone[3:] in line for line in lines)


def test_a_booking_reaches_the_provider_through_the_worker_after_commit(
    project, settings, django_capture_on_commit_callbacks
) -> None:
    stub = ProviderStub()
    try:
        settings.TASKS = {
            "default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend", "QUEUES": ["default"]}
        }
        settings.SMS_PROVIDER, settings.SMS_ENDPOINT = "tencent", stub.url
        settings.SMS_KEY_ID, settings.SMS_KEY_SECRET, settings.SMS_APP_ID = "AKID", "key", "1400006666"
        settings.SMS_SIGN_NAME, settings.SMS_TEMPLATES = "锦澜滨江", "booking_confirmed=1110"
        stub.answer(200, tencent_answer(serial="2028:booked"))
        with django_capture_on_commit_callbacks(execute=False) as callbacks:
            appointment = book(project, start_at=tomorrow_at(9, 5))
        assert stub.requests == []  # nothing leaves before the booking commits
        for callback in callbacks:
            callback()
        [request] = stub.requests
        sent = json.loads(request["body"])
        assert sent["PhoneNumberSet"] == ["+8613812345678"] and sent["TemplateId"] == "1110"
        assert sent["TemplateParamSet"][0] == project.name and sent["TemplateParamSet"][2] == appointment.code
        record = MessageSend.objects.get()
        assert (record.provider, record.status, record.provider_message_id) == (
            "tencent",
            "sent",
            "2028:booked",
        )
    finally:
        stub.stop()
