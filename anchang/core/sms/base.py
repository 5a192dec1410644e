"""The parts every SMS backend shares: the message kinds, the result, the interface, one HTTP call."""

import urllib.error
import urllib.request
from collections.abc import Mapping
from dataclasses import dataclass
from http.client import HTTPException
from typing import Protocol

from django.db import models
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

# An answer larger than this is not an SMS API's answer.
MAX_ANSWER_BYTES = 64 * 1024


class MessageKind(models.TextChoices):
    """What a customer may receive; each kind is one approved template at the provider."""

    BOOKING_CONFIRMED = "booking_confirmed", _("预约确认")
    BOOKING_REMINDER = "booking_reminder", _("预约提醒")
    VISIT_THANK_YOU = "visit_thank_you", _("到访感谢")
    ONE_TIME_CODE = "one_time_code", _("验证码")


# The template variables of each kind, in the order Tencent's TemplateParamSet expects them
# ({1}, {2}, …); Alibaba's TemplateParam names them. The approved templates must use these.
TEMPLATE_PARAMS: dict[str, tuple[str, ...]] = {
    MessageKind.BOOKING_CONFIRMED: ("project", "time", "code"),
    MessageKind.BOOKING_REMINDER: ("project", "time", "code"),
    MessageKind.VISIT_THANK_YOU: ("name", "project", "consultant"),
    MessageKind.ONE_TIME_CODE: ("code", "minutes"),
}

# Messages whose values are secrets: once sent or given up on, the outbox row forgets them.
SECRET_KINDS = frozenset({MessageKind.ONE_TIME_CODE})


def default_text(kind: str, params: Mapping[str, str]) -> str:
    """The message in our own words, as the approved template at the provider should read."""
    texts = {
        MessageKind.BOOKING_CONFIRMED: gettext(
            "您已预约 %(time)s 到访%(project)s，预约码 %(code)s，到访时出示即可。"
        ),
        MessageKind.BOOKING_REMINDER: gettext(
            "温馨提醒：您预约的%(project)s到访时间为 %(time)s，预约码 %(code)s。"
        ),
        MessageKind.VISIT_THANK_YOU: gettext(
            "%(name)s您好，感谢今天莅临%(project)s，我是置业顾问%(consultant)s。"
        ),
        MessageKind.ONE_TIME_CODE: gettext("您的验证码为 %(code)s，%(minutes)s 分钟内有效，请勿告诉他人。"),
    }
    return texts[MessageKind(kind)] % dict(params)


@dataclass(frozen=True)
class SmsResult:
    """One provider call's outcome. `error_code` is the provider's own code (or ours: `network`,
    `http_503`, `bad_answer`, `template_not_configured`), kept verbatim in the send record."""

    provider: str
    ok: bool
    message_id: str = ""
    error_code: str = ""
    error_message: str = ""
    retry: bool = False


class SmsBackend(Protocol):
    name: str

    def send(self, *, phone: str, template_code: str, params: Mapping[str, str], text: str = "") -> SmsResult:
        """Send one template message to `phone` (E.164). `params` is in the template's order;
        `text` is the message as our own words render it, for backends that show rather than send."""
        ...


@dataclass(frozen=True)
class HttpAnswer:
    status: int
    body: bytes


class NetworkError(Exception):
    """No HTTP answer at all: refused, reset, timed out, DNS."""


def http_post(url: str, *, data: bytes, headers: Mapping[str, str], timeout: float) -> HttpAnswer:
    """POST with the standard library; any HTTP status is an answer, only a missing one raises."""
    request = urllib.request.Request(url, data=data, headers=dict(headers), method="POST")
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return HttpAnswer(response.status, response.read(MAX_ANSWER_BYTES))
    except urllib.error.HTTPError as error:
        # Providers put their error code in the body of a 4xx/5xx too.
        return HttpAnswer(error.code, error.read(MAX_ANSWER_BYTES) if error.fp else b"")
    except (OSError, HTTPException) as error:
        # URLError, timeouts and refused connections are OSErrors.
        raise NetworkError(f"{type(error).__name__}: {error}") from error
