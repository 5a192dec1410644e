"""One-time codes by SMS (a broker's, an owner's): the code reaches the phone through the outbox,
works once, dies after its time or five wrong guesses, and a number cannot be flooded."""

import re
from datetime import timedelta

import pytest
from django.utils import timezone

from anchang.core import one_time_codes
from anchang.core.errors import Conflict, InvalidInput
from anchang.core.models import Notification, NotificationChannel, OneTimeCode
from anchang.core.one_time_codes import MAX_TRIES, one_time_code_send, one_time_code_verify
from anchang.core.sms.base import MessageKind

pytestmark = pytest.mark.django_db


def sent_code(phone: str = "+8613812345678") -> str:
    row = Notification.objects.filter(channel=NotificationChannel.SMS, target=phone).latest("pk")
    assert row.kind == MessageKind.ONE_TIME_CODE
    return str(row.params["code"])


def test_the_code_goes_to_the_phone_and_works_once() -> None:
    one_time_code_send(phone="138 1234 5678", purpose="broker", project_id=3)
    code = sent_code()
    assert re.fullmatch(r"\d{6}", code)
    row = OneTimeCode.objects.get()
    assert row.phone == "+8613812345678" and code not in row.code_hash
    sms = Notification.objects.get(channel=NotificationChannel.SMS)
    assert sms.params == {"code": code, "minutes": "10"} and sms.project_id == 3
    assert not one_time_code_verify(phone="13812345678", purpose="owner", code=code)  # another purpose
    assert one_time_code_verify(phone="13812345678", purpose="broker", code=f" {code} ")
    assert not one_time_code_verify(phone="13812345678", purpose="broker", code=code)  # used


def test_wrong_guesses_lock_the_code() -> None:
    one_time_code_send(phone="13812345678", purpose="owner")
    code = sent_code()
    wrong = "000000" if code != "000000" else "111111"
    for _ in range(MAX_TRIES):
        assert not one_time_code_verify(phone="13812345678", purpose="owner", code=wrong)
    assert not one_time_code_verify(phone="13812345678", purpose="owner", code=code)


def test_an_expired_code_fails() -> None:
    one_time_code_send(phone="13812345678", purpose="owner")
    first = sent_code()
    OneTimeCode.objects.update(expires_at=timezone.now() - timedelta(seconds=1))
    assert not one_time_code_verify(phone="13812345678", purpose="owner", code=first)


def test_a_number_gets_one_code_a_minute_and_ten_a_day(monkeypatch) -> None:
    one_time_code_send(phone="13812345678", purpose="broker")
    with pytest.raises(Conflict) as error:
        one_time_code_send(phone="13812345678", purpose="broker")
    assert error.value.code == "too_many_codes" and "一分钟" in error.value.message
    assert OneTimeCode.objects.count() == 1 and Notification.objects.count() == 1
    now = timezone.now()
    for minute in range(1, 10):
        monkeypatch.setattr(one_time_codes.timezone, "now", lambda m=minute: now + timedelta(minutes=m))
        one_time_code_send(phone="13812345678", purpose="broker")
    monkeypatch.setattr(one_time_codes.timezone, "now", lambda: now + timedelta(minutes=11))
    with pytest.raises(Conflict, match="上限"):
        one_time_code_send(phone="13812345678", purpose="broker")
    # Only the latest code works: a resend replaces the earlier ones.
    assert OneTimeCode.objects.filter(used_at__isnull=True).count() == 1


@pytest.mark.parametrize(
    ("phone", "purpose", "field"), [("12345", "broker", "phone"), ("13812345678", "x", "purpose")]
)
def test_bad_input_names_its_field_and_sends_nothing(phone: str, purpose: str, field: str) -> None:
    with pytest.raises(InvalidInput) as error:
        one_time_code_send(phone=phone, purpose=purpose)
    assert field in error.value.fields
    assert not Notification.objects.exists() and not OneTimeCode.objects.exists()
    with pytest.raises(InvalidInput):
        one_time_code_verify(phone=phone, purpose=purpose, code="123456")
