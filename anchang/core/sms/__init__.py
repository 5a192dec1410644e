"""Text messages to customers (SMS): the backend interface, the message kinds and their settings.

A mainland SMS provider sends only pre-approved templates under an approved signature (签名), so
a message is never free text: it is a template id per message kind plus the values of the
template's variables. The backends:

- `log` (default, used by the demo): writes the message it would send, phone masked, sends nothing;
- `aliyun`: Alibaba Cloud SMS, dysmsapi `SendSms` signed with RPC signature v1 (`sms.aliyun`);
- `tencent`: Tencent Cloud SMS, `SendSms` 2021-01-11 signed with TC3-HMAC-SHA256 (`sms.tencent`).

Each backend answers with an `SmsResult` whose `retry` says whether trying again can help
(throttling, the network, the provider's 5xx) or not (a bad number, an unapproved template or
signature, an account problem). Messages reach a backend only through the outbox
(`core.delivery`), which retries with backoff and records every attempt (`MessageSend`).

Configuration (environment, read in `settings`): `SMS_PROVIDER`, `SMS_KEY_ID`, `SMS_KEY_SECRET`,
`SMS_SIGN_NAME`, `SMS_APP_ID` (Tencent's SmsSdkAppId), `SMS_REGION`, `SMS_ENDPOINT`,
`SMS_TEMPLATES` (`kind=template id` pairs, comma-separated) and `SMS_TIMEOUT_SECONDS`.
"""

from typing import Any

from django.conf import settings
from django.core import checks
from django.core.exceptions import ImproperlyConfigured

from anchang.core.sms.aliyun import AliyunSms
from anchang.core.sms.base import TEMPLATE_PARAMS, SmsBackend
from anchang.core.sms.log import LogBackend
from anchang.core.sms.tencent import TencentSms

PROVIDERS = ("log", "aliyun", "tencent")


def template_codes() -> dict[str, str]:
    """`SMS_TEMPLATES` (`booking_confirmed=SMS_1,one_time_code=SMS_2`) as a mapping of known kinds."""
    codes: dict[str, str] = {}
    for pair in str(getattr(settings, "SMS_TEMPLATES", "") or "").split(","):
        if not pair.strip():
            continue
        kind, sep, code = pair.partition("=")
        kind, code = kind.strip(), code.strip()
        if not sep or not code or kind not in TEMPLATE_PARAMS:
            raise ImproperlyConfigured(
                f"SMS_TEMPLATES: {pair.strip()!r} is not kind=template id with a kind among "
                f"{', '.join(TEMPLATE_PARAMS)}"
            )
        codes[kind] = code
    return codes


def sms_timeout() -> float:
    return float(getattr(settings, "SMS_TIMEOUT_SECONDS", 5))


def sms_backend() -> SmsBackend:
    """The configured backend; a provider without its keys is a configuration error, not a silent log."""
    provider = str(getattr(settings, "SMS_PROVIDER", "log") or "log").strip().lower()
    if provider == "log":
        return LogBackend()
    key_id = str(getattr(settings, "SMS_KEY_ID", "") or "")
    secret = str(getattr(settings, "SMS_KEY_SECRET", "") or "")
    sign_name = str(getattr(settings, "SMS_SIGN_NAME", "") or "")
    endpoint = str(getattr(settings, "SMS_ENDPOINT", "") or "")
    region = str(getattr(settings, "SMS_REGION", "") or "")
    missing = [
        name
        for name, value in (("SMS_KEY_ID", key_id), ("SMS_KEY_SECRET", secret), ("SMS_SIGN_NAME", sign_name))
        if not value
    ]
    if provider == "aliyun":
        if missing:
            raise ImproperlyConfigured(f"SMS_PROVIDER=aliyun needs {', '.join(missing)}")
        return AliyunSms(
            access_key_id=key_id,
            access_key_secret=secret,
            sign_name=sign_name,
            endpoint=endpoint or AliyunSms.DEFAULT_ENDPOINT,
            region=region or AliyunSms.DEFAULT_REGION,
            timeout=sms_timeout(),
        )
    if provider == "tencent":
        app_id = str(getattr(settings, "SMS_APP_ID", "") or "")
        if not app_id:
            missing.append("SMS_APP_ID")
        if missing:
            raise ImproperlyConfigured(f"SMS_PROVIDER=tencent needs {', '.join(missing)}")
        return TencentSms(
            secret_id=key_id,
            secret_key=secret,
            sdk_app_id=app_id,
            sign_name=sign_name,
            endpoint=endpoint or TencentSms.DEFAULT_ENDPOINT,
            region=region or TencentSms.DEFAULT_REGION,
            timeout=sms_timeout(),
        )
    raise ImproperlyConfigured(f"SMS_PROVIDER must be one of {', '.join(PROVIDERS)}, not {provider!r}")


def check_sms_configuration(app_configs: Any = None, **kwargs: Any) -> list[checks.CheckMessage]:
    """`anchang check` (and every start) names a half-configured provider before a text is lost to it."""
    try:
        backend = sms_backend()
        codes = template_codes()
    except ImproperlyConfigured as error:
        return [checks.Error(str(error), id="anchang.sms.E001")]
    missing = [kind for kind in TEMPLATE_PARAMS if kind not in codes]
    if backend.name != "log" and missing:
        return [
            checks.Warning(
                f"SMS_TEMPLATES has no template for {', '.join(missing)}: these texts will not be sent",
                id="anchang.sms.W001",
            )
        ]
    return []
