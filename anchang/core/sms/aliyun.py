"""Alibaba Cloud SMS (阿里云短信服务): dysmsapi `SendSms`, version 2017-05-25, RPC signature v1.

Signing (the provider's "签名机制"): every parameter except `Signature`, sorted by name, each name
and value percent-encoded (RFC 3986: only A–Z a–z 0–9 - _ . ~ stay, a space is %20, never +),
joined with = and &; the string to sign is `POST&%2F&` + that query percent-encoded once more;
the signature is Base64(HMAC-SHA1(AccessKeySecret + "&", string to sign)).
"""

import base64
import hashlib
import hmac
import json
import uuid
from collections.abc import Mapping
from datetime import UTC, datetime
from urllib.parse import quote

from anchang.core.phones import national_digits
from anchang.core.sms.base import NetworkError, SmsResult, http_post

# Codes after which the same request may succeed later: flow control and the provider's own trouble.
RETRY_CODES = frozenset(
    {
        "isv.BUSINESS_LIMIT_CONTROL",  # per-number flow control (1/min, 5/h)
        "isv.SYSTEM_ERROR",
        "isp.SYSTEM_ERROR",
        "isp.RAM_PERMISSION_DENY",  # RAM policy propagation lags a few minutes after a change
        "Throttling",
        "Throttling.User",
        "Throttling.Api",
        "ServiceUnavailable",
        "InternalError",
        "SignatureNonceUsed",  # a repeated nonce: the next attempt draws a new one
    }
)
# Everything else is given up on: a bad number (isv.MOBILE_NUMBER_ILLEGAL), an unapproved or
# mismatched template or signature (isv.SMS_TEMPLATE_ILLEGAL, isv.SMS_SIGNATURE_ILLEGAL,
# isv.TEMPLATE_MISSING_PARAMETERS), the account (isv.AMOUNT_NOT_ENOUGH, isv.OUT_OF_SERVICE,
# InvalidAccessKeyId.NotFound, SignatureDoesNotMatch), the daily cap per number
# (isv.DAY_LIMIT_CONTROL), a blocked number (isv.BLACK_KEY_CONTROL_LIMIT): retrying sends nothing.


def percent_encode(value: str) -> str:
    return quote(value, safe="-_.~", encoding="utf-8")


def canonical_query(params: Mapping[str, str]) -> str:
    return "&".join(
        f"{percent_encode(key)}={percent_encode(params[key])}" for key in sorted(params) if key != "Signature"
    )


def string_to_sign(method: str, params: Mapping[str, str]) -> str:
    return f"{method}&{percent_encode('/')}&{percent_encode(canonical_query(params))}"


def sign(method: str, params: Mapping[str, str], access_key_secret: str) -> str:
    digest = hmac.new(
        f"{access_key_secret}&".encode(), string_to_sign(method, params).encode(), hashlib.sha1
    ).digest()
    return base64.b64encode(digest).decode()


def is_retryable(code: str, http_status: int) -> bool:
    return code in RETRY_CODES or http_status >= 500 or http_status == 429


class AliyunSms:
    name = "aliyun"
    DEFAULT_ENDPOINT = "https://dysmsapi.aliyuncs.com/"
    DEFAULT_REGION = "cn-hangzhou"

    def __init__(
        self,
        *,
        access_key_id: str,
        access_key_secret: str,
        sign_name: str,
        endpoint: str = DEFAULT_ENDPOINT,
        region: str = DEFAULT_REGION,
        timeout: float = 5.0,
    ) -> None:
        self.access_key_id = access_key_id
        self.access_key_secret = access_key_secret
        self.sign_name = sign_name
        self.endpoint = endpoint
        self.region = region
        self.timeout = timeout

    def signed_params(
        self,
        *,
        phone: str,
        template_code: str,
        params: Mapping[str, str],
        now: datetime | None = None,
        nonce: str | None = None,
    ) -> dict[str, str]:
        query = {
            "AccessKeyId": self.access_key_id,
            "Action": "SendSms",
            "Format": "JSON",
            "PhoneNumbers": national_digits(phone),
            "RegionId": self.region,
            "SignName": self.sign_name,
            "SignatureMethod": "HMAC-SHA1",
            # A fresh nonce per call: the provider refuses a nonce it saw in the last 15 minutes.
            "SignatureNonce": nonce or uuid.uuid4().hex,
            "SignatureVersion": "1.0",
            "TemplateCode": template_code,
            "TemplateParam": json.dumps(dict(params), ensure_ascii=False, separators=(",", ":")),
            "Timestamp": (now or datetime.now(UTC)).strftime("%Y-%m-%dT%H:%M:%SZ"),
            "Version": "2017-05-25",
        }
        query["Signature"] = sign("POST", query, self.access_key_secret)
        return query

    def send(self, *, phone: str, template_code: str, params: Mapping[str, str], text: str = "") -> SmsResult:
        query = self.signed_params(phone=phone, template_code=template_code, params=params)
        body = "&".join(f"{percent_encode(key)}={percent_encode(value)}" for key, value in query.items())
        try:
            answer = http_post(
                self.endpoint,
                data=body.encode(),
                headers={"Content-Type": "application/x-www-form-urlencoded; charset=utf-8"},
                timeout=self.timeout,
            )
        except NetworkError as error:
            return SmsResult(self.name, ok=False, error_code="network", error_message=str(error), retry=True)
        try:
            reply = json.loads(answer.body or b"{}")
        except ValueError:
            reply = None
        if not isinstance(reply, dict):
            return SmsResult(
                self.name,
                ok=False,
                error_code=f"http_{answer.status}",
                error_message=answer.body[:200].decode("utf-8", "replace"),
                retry=answer.status >= 500 or answer.status == 429,
            )
        code = str(reply.get("Code") or f"http_{answer.status}")
        if answer.status == 200 and code == "OK":
            return SmsResult(self.name, ok=True, message_id=str(reply.get("BizId") or ""))
        return SmsResult(
            self.name,
            ok=False,
            error_code=code,
            error_message=str(reply.get("Message") or ""),
            retry=is_retryable(code, answer.status),
        )
