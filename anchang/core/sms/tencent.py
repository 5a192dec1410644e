"""Tencent Cloud SMS (腾讯云短信): `SendSms`, API version 2021-01-11, signed with TC3-HMAC-SHA256.

Signing (the provider's "签名方法 v3"): the canonical request is method, `/`, the (empty) query,
the signed headers `content-type` and `host` as lowercase `key:value` lines, their names, and the
SHA-256 of the body; the string to sign is `TC3-HMAC-SHA256`, the timestamp, the credential scope
`<UTC date>/<service>/tc3_request` and the SHA-256 of the canonical request; the key is derived
`HMAC(HMAC(HMAC("TC3" + SecretKey, date), service), "tc3_request")`.
"""

import hashlib
import hmac
import json
import time
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from urllib.parse import urlsplit

from anchang.core.sms.base import NetworkError, SmsResult, http_post

ALGORITHM = "TC3-HMAC-SHA256"
CONTENT_TYPE = "application/json; charset=utf-8"
SIGNED_HEADERS = "content-type;host"

# Codes after which the same request may succeed later.
RETRY_PREFIXES = ("InternalError", "RequestLimitExceeded", "ResourceUnavailable")
RETRY_CODES = frozenset(
    {
        # Per-number flow control that clears within the hour; the daily cap does not.
        "LimitExceeded.PhoneNumberThirtySecondLimit",
        "LimitExceeded.PhoneNumberOneHourLimit",
        "FailedOperation.FailResolvePacket",
        "AuthFailure.SignatureExpire",  # the clock was off: the next attempt signs a new timestamp
    }
)
# Given up on: a bad number (InvalidParameterValue.IncorrectPhoneNumber), an unapproved template or
# signature (FailedOperation.TemplateIncorrectOrUnapproved, FailedOperation.SignatureIncorrectOrUnapproved,
# InvalidParameterValue.TemplateParameterFormatError), the account (AuthFailure.*,
# UnauthorizedOperation.*, FailedOperation.InsufficientBalanceInSmsPackage), the daily cap
# (LimitExceeded.PhoneNumberDailyLimit), a number that unsubscribed (FailedOperation.PhoneNumberInBlacklist).


def is_retryable(code: str) -> bool:
    return code in RETRY_CODES or code.startswith(RETRY_PREFIXES)


@dataclass(frozen=True)
class SignedRequest:
    canonical_request: str
    string_to_sign: str
    signature: str
    authorization: str


def sha256_hex(data: str) -> str:
    return hashlib.sha256(data.encode("utf-8")).hexdigest()


def _hmac(key: bytes, message: str) -> bytes:
    return hmac.new(key, message.encode("utf-8"), hashlib.sha256).digest()


def sign_request(
    *, secret_id: str, secret_key: str, service: str, host: str, payload: str, timestamp: int
) -> SignedRequest:
    date = datetime.fromtimestamp(timestamp, UTC).strftime("%Y-%m-%d")
    canonical_request = "\n".join(
        [
            "POST",
            "/",
            "",
            f"content-type:{CONTENT_TYPE}\nhost:{host}\n",
            SIGNED_HEADERS,
            sha256_hex(payload),
        ]
    )
    scope = f"{date}/{service}/tc3_request"
    to_sign = "\n".join([ALGORITHM, str(timestamp), scope, sha256_hex(canonical_request)])
    signing_key = _hmac(_hmac(_hmac(f"TC3{secret_key}".encode(), date), service), "tc3_request")
    signature = hmac.new(signing_key, to_sign.encode("utf-8"), hashlib.sha256).hexdigest()
    authorization = (
        f"{ALGORITHM} Credential={secret_id}/{scope}, SignedHeaders={SIGNED_HEADERS}, Signature={signature}"
    )
    return SignedRequest(canonical_request, to_sign, signature, authorization)


class TencentSms:
    name = "tencent"
    DEFAULT_ENDPOINT = "https://sms.tencentcloudapi.com/"
    DEFAULT_REGION = "ap-guangzhou"
    SERVICE = "sms"
    HOST = "sms.tencentcloudapi.com"

    def __init__(
        self,
        *,
        secret_id: str,
        secret_key: str,
        sdk_app_id: str,
        sign_name: str,
        endpoint: str = DEFAULT_ENDPOINT,
        region: str = DEFAULT_REGION,
        timeout: float = 5.0,
    ) -> None:
        self.secret_id = secret_id
        self.secret_key = secret_key
        self.sdk_app_id = sdk_app_id
        self.sign_name = sign_name
        self.endpoint = endpoint
        self.region = region
        self.timeout = timeout

    def payload(self, *, phone: str, template_code: str, params: Mapping[str, str]) -> str:
        return json.dumps(
            {
                "PhoneNumberSet": [phone],
                "SmsSdkAppId": self.sdk_app_id,
                "SignName": self.sign_name,
                "TemplateId": template_code,
                "TemplateParamSet": [str(value) for value in params.values()],
            },
            ensure_ascii=False,
            separators=(",", ":"),
        )

    def headers(self, *, payload: str, timestamp: int) -> dict[str, str]:
        # The signed host is the one the request goes to (a proxy or a test server may stand in).
        host = urlsplit(self.endpoint).netloc or self.HOST
        signed = sign_request(
            secret_id=self.secret_id,
            secret_key=self.secret_key,
            service=self.SERVICE,
            host=host,
            payload=payload,
            timestamp=timestamp,
        )
        return {
            "Authorization": signed.authorization,
            "Content-Type": CONTENT_TYPE,
            "Host": host,
            "X-TC-Action": "SendSms",
            "X-TC-Version": "2021-01-11",
            "X-TC-Timestamp": str(timestamp),
            "X-TC-Region": self.region,
        }

    def send(self, *, phone: str, template_code: str, params: Mapping[str, str], text: str = "") -> SmsResult:
        payload = self.payload(phone=phone, template_code=template_code, params=params)
        headers = self.headers(payload=payload, timestamp=int(time.time()))
        try:
            answer = http_post(
                self.endpoint, data=payload.encode("utf-8"), headers=headers, timeout=self.timeout
            )
        except NetworkError as error:
            return SmsResult(self.name, ok=False, error_code="network", error_message=str(error), retry=True)
        try:
            reply = json.loads(answer.body or b"{}").get("Response")
        except (ValueError, AttributeError):
            reply = None
        if not isinstance(reply, dict):
            return SmsResult(
                self.name,
                ok=False,
                error_code=f"http_{answer.status}",
                error_message=answer.body[:200].decode("utf-8", "replace"),
                retry=answer.status >= 500 or answer.status == 429,
            )
        refusal = reply.get("Error")
        if isinstance(refusal, dict):
            code = str(refusal.get("Code") or "")
            return SmsResult(
                self.name,
                ok=False,
                error_code=code,
                error_message=str(refusal.get("Message") or ""),
                retry=is_retryable(code),
            )
        statuses = reply.get("SendStatusSet") or []
        status = statuses[0] if statuses and isinstance(statuses[0], dict) else {}
        # The request as a whole succeeds even when the one number failed: its own Code says.
        code = str(status.get("Code") or "bad_answer")
        if code == "Ok":
            return SmsResult(self.name, ok=True, message_id=str(status.get("SerialNo") or ""))
        return SmsResult(
            self.name,
            ok=False,
            error_code=code,
            error_message=str(status.get("Message") or ""),
            retry=is_retryable(code),
        )
