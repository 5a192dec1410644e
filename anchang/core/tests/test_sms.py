"""Text messages to customers (core.sms): the providers' request signing checked against their
documented examples, their error codes mapped to retry or give up, and whole deliveries through the
outbox against a local HTTP server standing in for Alibaba Cloud and Tencent Cloud."""

import json
import logging
import threading
from collections.abc import Iterator
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.urls import reverse
from django.utils import timezone

from anchang.core.delivery import MAX_ATTEMPTS, notification_deliver
from anchang.core.models import (
    DeliveryStatus,
    MessageSend,
    MessageSendStatus,
    Notification,
    NotificationChannel,
)
from anchang.core.notifications import customer_message_queue
from anchang.core.sms import aliyun, check_sms_configuration, sms_backend, template_codes, tencent
from anchang.core.sms.aliyun import AliyunSms
from anchang.core.sms.base import MessageKind
from anchang.core.sms.tencent import TencentSms

PHONE = "+8613812345678"

# --- signing: the providers' documented examples ---------------------------------------------------

# Alibaba Cloud SMS, "签名机制": the SendSms example signed with AccessKeySecret testSecret.
ALIYUN_SMS_EXAMPLE = {
    "AccessKeyId": "testId",
    "Action": "SendSms",
    "Format": "XML",
    "OutId": "123",
    "PhoneNumbers": "15300000001",
    "RegionId": "cn-hangzhou",
    "SignName": "阿里云短信测试专用",
    "SignatureMethod": "HMAC-SHA1",
    "SignatureNonce": "45e25e9b-0a6f-4070-8c85-2956eda1b466",
    "SignatureVersion": "1.0",
    "TemplateCode": "SMS_71390007",
    "TemplateParam": '{"customer":"test"}',
    "Timestamp": "2017-07-12T02:42:19Z",
    "Version": "2017-05-25",
}
ALIYUN_SMS_EXAMPLE_STRING_TO_SIGN = (
    "GET&%2F&AccessKeyId%3DtestId%26Action%3DSendSms%26Format%3DXML%26OutId%3D123"
    "%26PhoneNumbers%3D15300000001%26RegionId%3Dcn-hangzhou"
    "%26SignName%3D%25E9%2598%25BF%25E9%2587%258C%25E4%25BA%2591%25E7%259F%25AD%25E4%25BF%25A1"
    "%25E6%25B5%258B%25E8%25AF%2595%25E4%25B8%2593%25E7%2594%25A8"
    "%26SignatureMethod%3DHMAC-SHA1%26SignatureNonce%3D45e25e9b-0a6f-4070-8c85-2956eda1b466"
    "%26SignatureVersion%3D1.0%26TemplateCode%3DSMS_71390007"
    "%26TemplateParam%3D%257B%2522customer%2522%253A%2522test%2522%257D"
    "%26Timestamp%3D2017-07-12T02%253A42%253A19Z%26Version%3D2017-05-25"
)

# Alibaba Cloud RPC signature v1, "签名机制": the DescribeRegions example with AccessKeySecret testsecret.
ALIYUN_RPC_EXAMPLE = {
    "AccessKeyId": "testid",
    "Action": "DescribeRegions",
    "Format": "XML",
    "SignatureMethod": "HMAC-SHA1",
    "SignatureNonce": "3ee8c1b8-83d3-44af-a94f-4e0ad82fd6cf",
    "SignatureVersion": "1.0",
    "Timestamp": "2016-02-23T12:46:24Z",
    "Version": "2014-05-26",
}

# Tencent Cloud API 3.0, "签名方法 v3": the CVM DescribeInstances example.
TC3_SECRET_ID = "AKIDz8krbsJ5yKBZQpn74WFkmLPx3EXAMPLE"
TC3_SECRET_KEY = "Gu5t9xGARNpq86cd98joQYCN3EXAMPLE"
TC3_PAYLOAD = '{"Limit": 1, "Filters": [{"Values": ["\\u672a\\u547d\\u540d"], "Name": "instance-name"}]}'


def test_aliyun_signs_the_documented_sms_example() -> None:
    assert aliyun.string_to_sign("GET", ALIYUN_SMS_EXAMPLE) == ALIYUN_SMS_EXAMPLE_STRING_TO_SIGN
    assert aliyun.sign("GET", ALIYUN_SMS_EXAMPLE, "testSecret") == "zJDF+Lrzhj/ThnlvIToysFRq6t4="


def test_aliyun_signs_the_documented_rpc_example_with_testsecret() -> None:
    assert aliyun.string_to_sign("GET", ALIYUN_RPC_EXAMPLE) == (
        "GET&%2F&AccessKeyId%3Dtestid%26Action%3DDescribeRegions%26Format%3DXML"
        "%26SignatureMethod%3DHMAC-SHA1%26SignatureNonce%3D3ee8c1b8-83d3-44af-a94f-4e0ad82fd6cf"
        "%26SignatureVersion%3D1.0%26Timestamp%3D2016-02-23T12%253A46%253A24Z%26Version%3D2014-05-26"
    )
    assert aliyun.sign("GET", ALIYUN_RPC_EXAMPLE, "testsecret") == "OLeaidS1JvxuMvnyHOwuJ+uX5qY="


def test_aliyun_percent_encoding_rules() -> None:
    # RFC 3986 unreserved characters stay; a space is %20 (never +), * is %2A, ~ is kept.
    assert aliyun.percent_encode("aZ09-_.~") == "aZ09-_.~"
    assert aliyun.percent_encode("a b*c+d/e=f&g") == "a%20b%2Ac%2Bd%2Fe%3Df%26g"
    assert aliyun.percent_encode("短信") == "%E7%9F%AD%E4%BF%A1"
    # The signature leaves out Signature itself, whatever its place.
    assert aliyun.canonical_query({"Signature": "x", **ALIYUN_RPC_EXAMPLE}) == aliyun.canonical_query(
        ALIYUN_RPC_EXAMPLE
    )


def test_tencent_signs_the_documented_tc3_example() -> None:
    signed = tencent.sign_request(
        secret_id=TC3_SECRET_ID,
        secret_key=TC3_SECRET_KEY,
        service="cvm",
        host="cvm.tencentcloudapi.com",
        payload=TC3_PAYLOAD,
        timestamp=1551113065,
    )
    assert (
        tencent.sha256_hex(TC3_PAYLOAD) == "35e9c5b0e3ae67532d3c9f17ead6c90222632e5b1ff7f6e89887f1398934f064"
    )
    assert signed.canonical_request == (
        "POST\n/\n\ncontent-type:application/json; charset=utf-8\nhost:cvm.tencentcloudapi.com\n\n"
        "content-type;host\n35e9c5b0e3ae67532d3c9f17ead6c90222632e5b1ff7f6e89887f1398934f064"
    )
    assert signed.string_to_sign == (
        "TC3-HMAC-SHA256\n1551113065\n2019-02-25/cvm/tc3_request\n"
        "5ffe6a04c0664d6b969fab9a13bdab201d63ee709638e2749d62a09ca18d7031"
    )
    assert signed.signature == "72e494ea809ad7a8c8f7a4507b9bddcbaa8e581f516e8da2f66e2c5a96525168"
    assert signed.authorization == (
        f"TC3-HMAC-SHA256 Credential={TC3_SECRET_ID}/2019-02-25/cvm/tc3_request, "
        "SignedHeaders=content-type;host, "
        "Signature=72e494ea809ad7a8c8f7a4507b9bddcbaa8e581f516e8da2f66e2c5a96525168"
    )


def test_tencent_dates_the_scope_in_utc_not_beijing_time() -> None:
    # 1551113065 is 2019-02-26 00:44 in Beijing: the documented pitfall; the scope must say the 25th.
    signed = tencent.sign_request(
        secret_id="id", secret_key="key", service="sms", host="h", payload="{}", timestamp=1551113065
    )
    assert "\n2019-02-25/sms/tc3_request\n" in signed.string_to_sign


# --- error codes: retry or give up ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("code", "status", "retry"),
    [
        ("isv.BUSINESS_LIMIT_CONTROL", 200, True),
        ("Throttling.User", 400, True),
        ("isp.SYSTEM_ERROR", 200, True),
        ("ServiceUnavailable", 503, True),
        ("InternalError", 500, True),
        ("isv.MOBILE_NUMBER_ILLEGAL", 200, False),
        ("isv.SMS_TEMPLATE_ILLEGAL", 200, False),
        ("isv.SMS_SIGNATURE_ILLEGAL", 200, False),
        ("isv.TEMPLATE_MISSING_PARAMETERS", 200, False),
        ("isv.AMOUNT_NOT_ENOUGH", 200, False),
        ("isv.OUT_OF_SERVICE", 200, False),
        ("isv.DAY_LIMIT_CONTROL", 200, False),
        ("InvalidAccessKeyId.NotFound", 404, False),
        ("SignatureDoesNotMatch", 400, False),
    ],
)
def test_aliyun_error_codes(code: str, status: int, retry: bool) -> None:
    assert aliyun.is_retryable(code, status) is retry


@pytest.mark.parametrize(
    ("code", "retry"),
    [
        ("LimitExceeded.PhoneNumberThirtySecondLimit", True),
        ("LimitExceeded.PhoneNumberOneHourLimit", True),
        ("RequestLimitExceeded", True),
        ("InternalError.Timeout", True),
        ("InternalError.SendAndRecvFail", True),
        ("AuthFailure.SignatureExpire", True),
        ("LimitExceeded.PhoneNumberDailyLimit", False),
        ("InvalidParameterValue.IncorrectPhoneNumber", False),
        ("FailedOperation.TemplateIncorrectOrUnapproved", False),
        ("FailedOperation.SignatureIncorrectOrUnapproved", False),
        ("FailedOperation.InsufficientBalanceInSmsPackage", False),
        ("FailedOperation.PhoneNumberInBlacklist", False),
        ("AuthFailure.SecretIdNotFound", False),
        ("AuthFailure.SignatureFailure", False),
        ("UnauthorizedOperation.SmsSdkAppIdVerifyFail", False),
    ],
)
def test_tencent_error_codes(code: str, retry: bool) -> None:
    assert tencent.is_retryable(code) is retry


# --- a provider on 127.0.0.1 ------------------------------------------------------------------------


class ProviderStub:
    """Stands in for dysmsapi.aliyuncs.com or sms.tencentcloudapi.com: records each request (path,
    headers, body) and answers with the next queued (status, body); `b"slow"` answers too late."""

    def __init__(self) -> None:
        self.requests: list[dict[str, Any]] = []
        self.answers: list[tuple[int, bytes]] = []
        self.release = threading.Event()
        stub = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                stub.requests.append({"path": self.path, "headers": dict(self.headers), "body": body})
                status, payload = stub.answers.pop(0) if stub.answers else (200, b"{}")
                if payload == b"slow":
                    stub.release.wait(3)
                    return
                try:
                    self.send_response(status)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(payload)))
                    self.end_headers()
                    self.wfile.write(payload)
                except OSError:
                    pass

            def log_message(self, format: str, *args: object) -> None:
                pass

        class Server(ThreadingHTTPServer):
            daemon_threads = True

        self.server = Server(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}/"

    def answer(self, status: int, body: dict[str, Any] | bytes) -> None:
        self.answers.append((status, body if isinstance(body, bytes) else json.dumps(body).encode()))

    def stop(self) -> None:
        self.release.set()
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def provider() -> Iterator[ProviderStub]:
    stub = ProviderStub()
    yield stub
    stub.stop()


def aliyun_ok(biz_id: str = "900619746936498440^0") -> dict[str, str]:
    return {
        "Code": "OK",
        "Message": "OK",
        "BizId": biz_id,
        "RequestId": "F655A8D5-B967-440B-8683-DAD6FF8DE990",
    }


def aliyun_error(code: str) -> dict[str, str]:
    return {"Code": code, "Message": "refused", "RequestId": "F655A8D5"}


def tencent_answer(code: str = "Ok", serial: str = "2028:f825e6b16e23f73f4123") -> dict[str, Any]:
    status = {"SerialNo": serial, "PhoneNumber": PHONE, "Fee": 1, "Code": code, "Message": "send success"}
    return {"Response": {"SendStatusSet": [status], "RequestId": "a0aabda6-cf91-4f3e-a81f-9198114a2279"}}


@pytest.fixture
def aliyun_settings(settings: Any, provider: ProviderStub) -> Any:
    settings.SMS_PROVIDER = "aliyun"
    settings.SMS_KEY_ID = "testId"
    settings.SMS_KEY_SECRET = "testSecret"
    settings.SMS_SIGN_NAME = "锦澜滨江"
    settings.SMS_ENDPOINT = provider.url
    settings.SMS_TIMEOUT_SECONDS = 0.5
    settings.SMS_TEMPLATES = "booking_confirmed=SMS_100,one_time_code=SMS_200"
    return settings


@pytest.fixture
def tencent_settings(settings: Any, provider: ProviderStub) -> Any:
    settings.SMS_PROVIDER = "tencent"
    settings.SMS_KEY_ID = TC3_SECRET_ID
    settings.SMS_KEY_SECRET = TC3_SECRET_KEY
    settings.SMS_APP_ID = "1400006666"
    settings.SMS_SIGN_NAME = "锦澜滨江"
    settings.SMS_ENDPOINT = provider.url
    settings.SMS_TIMEOUT_SECONDS = 0.5
    settings.SMS_TEMPLATES = "booking_confirmed=1110,one_time_code=1112"
    return settings


def test_aliyun_request_is_signed_and_carries_the_template(provider: ProviderStub) -> None:
    provider.answer(200, aliyun_ok())
    backend = AliyunSms(
        access_key_id="testId", access_key_secret="testSecret", sign_name="锦澜滨江", endpoint=provider.url
    )
    result = backend.send(
        phone=PHONE, template_code="SMS_100", params={"project": "锦澜府", "code": "K7Q2MX"}
    )
    assert result.ok and result.message_id == "900619746936498440^0" and result.provider == "aliyun"
    [request] = provider.requests
    assert request["headers"]["Content-Type"].startswith("application/x-www-form-urlencoded")
    form = dict(parse_qsl(request["body"].decode(), keep_blank_values=True))
    assert form["Action"] == "SendSms" and form["Version"] == "2017-05-25"
    assert form["PhoneNumbers"] == "13812345678" and form["SignName"] == "锦澜滨江"
    assert form["TemplateCode"] == "SMS_100"
    assert json.loads(form["TemplateParam"]) == {"project": "锦澜府", "code": "K7Q2MX"}
    # What the provider would check: the signature over everything else, POST this time.
    assert form["Signature"] == aliyun.sign("POST", form, "testSecret")


def test_tencent_request_is_signed_and_carries_the_template_in_order(provider: ProviderStub) -> None:
    provider.answer(200, tencent_answer())
    backend = TencentSms(
        secret_id=TC3_SECRET_ID,
        secret_key=TC3_SECRET_KEY,
        sdk_app_id="1400006666",
        sign_name="锦澜滨江",
        endpoint=provider.url,
    )
    params = {"project": "锦澜府", "time": "12月5日 14:30", "code": "K7Q2MX"}
    result = backend.send(phone=PHONE, template_code="1110", params=params)
    assert result.ok and result.message_id == "2028:f825e6b16e23f73f4123"
    [request] = provider.requests
    headers = {key.lower(): value for key, value in request["headers"].items()}
    body = request["body"].decode()
    assert json.loads(body) == {
        "PhoneNumberSet": [PHONE],
        "SmsSdkAppId": "1400006666",
        "SignName": "锦澜滨江",
        "TemplateId": "1110",
        "TemplateParamSet": ["锦澜府", "12月5日 14:30", "K7Q2MX"],
    }
    assert headers["x-tc-action"] == "SendSms" and headers["x-tc-version"] == "2021-01-11"
    assert headers["x-tc-region"] == "ap-guangzhou"
    assert headers["content-type"] == "application/json; charset=utf-8"
    # What the provider would check: the same signature from the body and headers it received.
    expected = tencent.sign_request(
        secret_id=TC3_SECRET_ID,
        secret_key=TC3_SECRET_KEY,
        service="sms",
        host=headers["host"],
        payload=body,
        timestamp=int(headers["x-tc-timestamp"]),
    )
    assert headers["authorization"] == expected.authorization


def test_provider_answers_are_mapped(provider: ProviderStub) -> None:
    backend = AliyunSms(
        access_key_id="i", access_key_secret="s", sign_name="n", endpoint=provider.url, timeout=0.3
    )
    provider.answer(200, aliyun_error("isv.BUSINESS_LIMIT_CONTROL"))
    provider.answer(200, aliyun_error("isv.MOBILE_NUMBER_ILLEGAL"))
    provider.answer(502, b"<html>bad gateway</html>")
    provider.answer(200, b"slow")
    outcomes = [backend.send(phone=PHONE, template_code="T", params={}) for _ in range(4)]
    assert [(r.error_code, r.retry) for r in outcomes] == [
        ("isv.BUSINESS_LIMIT_CONTROL", True),
        ("isv.MOBILE_NUMBER_ILLEGAL", False),
        ("http_502", True),
        ("network", True),
    ]
    tencent_backend = TencentSms(
        secret_id="i", secret_key="k", sdk_app_id="1", sign_name="n", endpoint=provider.url, timeout=0.3
    )
    provider.answer(200, {"Response": {"Error": {"Code": "AuthFailure.SecretIdNotFound", "Message": "x"}}})
    provider.answer(200, tencent_answer("LimitExceeded.PhoneNumberOneHourLimit"))
    provider.answer(200, tencent_answer("InvalidParameterValue.IncorrectPhoneNumber"))
    outcomes = [tencent_backend.send(phone=PHONE, template_code="T", params={}) for _ in range(3)]
    assert [(r.error_code, r.retry) for r in outcomes] == [
        ("AuthFailure.SecretIdNotFound", False),
        ("LimitExceeded.PhoneNumberOneHourLimit", True),
        ("InvalidParameterValue.IncorrectPhoneNumber", False),
    ]


def test_a_refused_connection_is_a_network_error_to_retry() -> None:
    backend = AliyunSms(
        access_key_id="i", access_key_secret="s", sign_name="n", endpoint="http://127.0.0.1:9/", timeout=0.3
    )
    result = backend.send(phone=PHONE, template_code="T", params={})
    assert not result.ok and result.error_code == "network" and result.retry


# --- configuration ----------------------------------------------------------------------------------


def test_configuration_picks_the_backend_and_refuses_half_a_setup(settings: Any) -> None:
    assert sms_backend().name == "log"  # the default
    settings.SMS_PROVIDER = "aliyun"
    with pytest.raises(ImproperlyConfigured, match="SMS_KEY_ID, SMS_KEY_SECRET, SMS_SIGN_NAME"):
        sms_backend()
    settings.SMS_KEY_ID, settings.SMS_KEY_SECRET, settings.SMS_SIGN_NAME = "i", "s", "n"
    assert isinstance(sms_backend(), AliyunSms)
    settings.SMS_PROVIDER = "tencent"
    with pytest.raises(ImproperlyConfigured, match="SMS_APP_ID"):
        sms_backend()
    settings.SMS_APP_ID = "1400006666"
    backend = sms_backend()
    assert isinstance(backend, TencentSms) and backend.endpoint == "https://sms.tencentcloudapi.com/"
    settings.SMS_PROVIDER = "twilio"
    with pytest.raises(ImproperlyConfigured, match="log, aliyun, tencent"):
        sms_backend()
    settings.SMS_TEMPLATES = " booking_confirmed = SMS_1 ,visit_thank_you=SMS_3"
    assert template_codes() == {"booking_confirmed": "SMS_1", "visit_thank_you": "SMS_3"}
    settings.SMS_TEMPLATES = "thanks=SMS_3"
    with pytest.raises(ImproperlyConfigured, match="thanks=SMS_3"):
        template_codes()


# --- through the outbox -----------------------------------------------------------------------------


def queue(kind: str = MessageKind.BOOKING_CONFIRMED, key: str = "booking_confirmed:1") -> Notification:
    params = {"project": "锦澜府", "time": "12月5日 14:30", "code": "K7Q2MX"}
    if kind == MessageKind.ONE_TIME_CODE:
        params = {"code": "493027", "minutes": "10"}
    row = customer_message_queue(kind=kind, phone=PHONE, params=params, project_id=7, dedupe_key=key)
    assert row is not None
    return row


def make_due(row: Notification) -> None:
    Notification.objects.filter(pk=row.pk).update(next_attempt_at=timezone.now() - timedelta(seconds=1))


@pytest.mark.django_db
def test_the_outbox_row_holds_the_number_the_record_only_its_mask(
    aliyun_settings: Any, provider: ProviderStub
) -> None:
    provider.answer(200, aliyun_ok("BIZ-1"))
    row = queue()
    assert row.channel == NotificationChannel.SMS and row.target == PHONE
    assert "138****5678" in row.title and "13812345678" not in row.title
    assert notification_deliver(notification_id=row.pk) == "sent"
    row.refresh_from_db()
    assert row.status == DeliveryStatus.SENT
    [send] = MessageSend.objects.all()
    assert (send.provider, send.template_code, send.phone_masked, send.status, send.provider_message_id) == (
        "aliyun",
        "SMS_100",
        "138****5678",
        MessageSendStatus.SENT,
        "BIZ-1",
    )
    assert send.notification_id == row.pk and send.project_id == 7 and send.kind == "booking_confirmed"


@pytest.mark.django_db
def test_throttled_then_sent_on_the_retry(aliyun_settings: Any, provider: ProviderStub) -> None:
    provider.answer(200, aliyun_error("isv.BUSINESS_LIMIT_CONTROL"))
    provider.answer(200, aliyun_ok("BIZ-2"))
    row = queue()
    assert notification_deliver(notification_id=row.pk) == "retry"
    row.refresh_from_db()
    assert row.status == DeliveryStatus.PENDING
    assert row.next_attempt_at is not None and row.next_attempt_at > timezone.now()
    assert "isv.BUSINESS_LIMIT_CONTROL" in row.last_error
    # Not due yet: the worker leaves it alone.
    assert notification_deliver(notification_id=row.pk) == "skipped"
    make_due(row)
    assert notification_deliver(notification_id=row.pk) == "sent"
    assert len(provider.requests) == 2
    assert list(
        MessageSend.objects.order_by("pk").values_list("status", "error_code", "provider_message_id")
    ) == [
        (MessageSendStatus.RETRY, "isv.BUSINESS_LIMIT_CONTROL", ""),
        (MessageSendStatus.SENT, "", "BIZ-2"),
    ]


@pytest.mark.django_db
def test_a_bad_number_is_given_up_at_once(tencent_settings: Any, provider: ProviderStub) -> None:
    provider.answer(200, tencent_answer("InvalidParameterValue.IncorrectPhoneNumber"))
    row = queue()
    assert notification_deliver(notification_id=row.pk) == "failed"
    row.refresh_from_db()
    assert row.status == DeliveryStatus.FAILED and row.attempts == 1 and row.next_attempt_at is None
    make_due(row)
    assert notification_deliver(notification_id=row.pk) == "skipped"
    assert len(provider.requests) == 1
    [send] = MessageSend.objects.all()
    assert (send.provider, send.status, send.error_code) == (
        "tencent",
        MessageSendStatus.FAILED,
        "InvalidParameterValue.IncorrectPhoneNumber",
    )


@pytest.mark.django_db
def test_a_provider_down_is_retried_until_the_last_attempt(
    tencent_settings: Any, provider: ProviderStub
) -> None:
    for _ in range(MAX_ATTEMPTS):
        provider.answer(503, b"service unavailable")
    row = queue()
    outcomes = []
    for _ in range(MAX_ATTEMPTS):
        outcomes.append(notification_deliver(notification_id=row.pk))
        make_due(row)
    assert outcomes == ["retry"] * (MAX_ATTEMPTS - 1) + ["failed"]
    assert notification_deliver(notification_id=row.pk) == "skipped"
    assert len(provider.requests) == MAX_ATTEMPTS
    statuses = list(MessageSend.objects.order_by("pk").values_list("status", flat=True))
    assert statuses == [MessageSendStatus.RETRY] * (MAX_ATTEMPTS - 1) + [MessageSendStatus.FAILED]


@pytest.mark.django_db
def test_delivering_twice_sends_once_and_queueing_twice_writes_once(
    aliyun_settings: Any, provider: ProviderStub
) -> None:
    provider.answer(200, aliyun_ok())
    row = queue()
    assert (
        customer_message_queue(
            kind=MessageKind.BOOKING_CONFIRMED,
            phone=PHONE,
            params={"project": "锦澜府", "time": "12月5日 14:30", "code": "K7Q2MX"},
            project_id=7,
            dedupe_key="booking_confirmed:1",
        )
        is None
    )
    assert Notification.objects.filter(channel=NotificationChannel.SMS).count() == 1
    assert notification_deliver(notification_id=row.pk) == "sent"
    assert notification_deliver(notification_id=row.pk) == "skipped"
    assert len(provider.requests) == 1 and MessageSend.objects.count() == 1


@pytest.mark.django_db
def test_a_kind_without_an_approved_template_is_given_up_without_calling(
    aliyun_settings: Any, provider: ProviderStub
) -> None:
    row = queue(MessageKind.BOOKING_REMINDER, key="booking_reminder:1")
    assert notification_deliver(notification_id=row.pk) == "failed"
    assert provider.requests == []
    send = MessageSend.objects.get()
    assert (send.status, send.error_code) == (MessageSendStatus.FAILED, "template_not_configured")


@pytest.mark.django_db
def test_a_broken_configuration_is_retried_not_lost(settings: Any) -> None:
    settings.SMS_PROVIDER = "aliyun"  # no keys
    row = queue()
    assert notification_deliver(notification_id=row.pk) == "retry"
    row.refresh_from_db()
    assert row.status == DeliveryStatus.PENDING and "SMS_KEY_ID" in row.last_error


@pytest.mark.django_db
def test_the_log_backend_writes_the_message_with_the_phone_masked(caplog: pytest.LogCaptureFixture) -> None:
    row = queue()
    with caplog.at_level(logging.INFO, logger="anchang.sms"):
        assert notification_deliver(notification_id=row.pk) == "sent"
    [record] = [r for r in caplog.records if r.name == "anchang.sms"]
    line = record.getMessage()
    assert "138****5678" in line and "13812345678" not in line
    assert "您已预约 12月5日 14:30 到访锦澜府，预约码 K7Q2MX" in line
    assert record.__dict__["params"] == {"project": "锦澜府", "time": "12月5日 14:30", "code": "K7Q2MX"}
    send = MessageSend.objects.get()
    assert (send.provider, send.status, send.phone_masked) == ("log", MessageSendStatus.SENT, "138****5678")


@pytest.mark.django_db
def test_a_message_without_its_values_is_refused_before_it_is_written() -> None:
    with pytest.raises(ValueError, match="code"):
        customer_message_queue(
            kind=MessageKind.BOOKING_CONFIRMED,
            phone=PHONE,
            params={"project": "锦澜府", "time": "12月5日"},
            project_id=None,
            dedupe_key="booking_confirmed:2",
        )
    assert not Notification.objects.exists()


@pytest.mark.django_db
def test_the_administrator_reads_the_send_records_and_cannot_change_them(
    client: Any, admin_user: Any, manager: Any
) -> None:
    row = queue()
    notification_deliver(notification_id=row.pk)
    send = MessageSend.objects.get()
    client.force_login(admin_user, backend="django.contrib.auth.backends.ModelBackend")
    listing = client.get(reverse("admin:core_messagesend_changelist")).content.decode()
    assert "138****5678" in listing and "13812345678" not in listing
    assert client.get(reverse("admin:core_messagesend_add")).status_code == 403
    assert (
        client.post(reverse("admin:core_messagesend_delete", args=[send.pk]), {"post": "yes"}).status_code
        == 403
    )
    manager.is_staff = True
    manager.save(update_fields=["is_staff"])
    client.force_login(manager, backend="django.contrib.auth.backends.ModelBackend")
    assert client.get(reverse("admin:core_messagesend_changelist")).status_code == 403


def test_the_system_check_names_a_half_configured_provider(settings: Any) -> None:
    assert check_sms_configuration() == []
    settings.SMS_PROVIDER = "aliyun"
    [error] = check_sms_configuration()
    assert error.id == "anchang.sms.E001" and "SMS_KEY_ID" in error.msg
    settings.SMS_KEY_ID, settings.SMS_KEY_SECRET, settings.SMS_SIGN_NAME = "i", "s", "n"
    settings.SMS_TEMPLATES = "booking_confirmed=SMS_1"
    [warning] = check_sms_configuration()
    assert warning.id == "anchang.sms.W001" and "visit_thank_you" in warning.msg
    settings.SMS_TEMPLATES = "booking_confirmed=1,booking_reminder=2,visit_thank_you=3,one_time_code=4"
    assert check_sms_configuration() == []


@pytest.mark.django_db
def test_a_sent_code_is_not_kept_in_the_outbox(aliyun_settings: Any, provider: ProviderStub) -> None:
    provider.answer(200, aliyun_ok())
    row = queue(MessageKind.ONE_TIME_CODE, key="one_time_code:1")
    assert "493027" in row.body
    assert notification_deliver(notification_id=row.pk) == "sent"
    row.refresh_from_db()
    assert row.params == {} and row.body == "" and row.status == DeliveryStatus.SENT
    form = dict(parse_qsl(provider.requests[0]["body"].decode()))
    assert json.loads(form["TemplateParam"]) == {"code": "493027", "minutes": "10"}
