"""Delivering one outbox row (`core.models.Notification`) to its channel: the work behind the task
`core.tasks.deliver_notification`. It lives apart from `core.notifications`, which writes rows and
enqueues that task, so that the task can run it without the two modules importing each other.

How a delivery is guarded (claim, fence, backoff) is described in `core.notifications`.
"""

import json
import logging
import urllib.error
import urllib.request
from datetime import datetime, timedelta
from http.client import HTTPException
from urllib.parse import urlsplit

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.db.models import F, Q
from django.utils import timezone

from anchang.core.models import (
    DeliveryStatus,
    MessageSend,
    MessageSendStatus,
    Notification,
    NotificationChannel,
)
from anchang.core.privacy import mask_phone
from anchang.core.sms import sms_backend, sms_timeout, template_codes
from anchang.core.sms.base import SECRET_KINDS, TEMPLATE_PARAMS, SmsResult

# The same logger as the outbox: one place to read what happened to a notification.
logger = logging.getLogger("anchang.notifications")

MAX_ATTEMPTS = 5
# 30 s × 2^attempts: 1 min, 2 min, 4 min, 8 min between the five tries, never more than an hour.
BACKOFF_BASE_SECONDS = 30
BACKOFF_CAP_SECONDS = 3600
_LAST_ERROR_MAX = 300  # Notification.last_error max_length


class DeliveryFailed(Exception):
    """The channel refused or did not answer; the row is retried later."""


class DeliveryRejected(DeliveryFailed):
    """The channel refused for good (a bad number, an unapproved template): trying again cannot help."""


def retry_delay(attempts: int) -> timedelta:
    return timedelta(seconds=min(BACKOFF_BASE_SECONDS * 2**attempts, BACKOFF_CAP_SECONDS))


def _wecom_timeout() -> float:
    return float(getattr(settings, "WECOM_TIMEOUT_SECONDS", 5))


def _claim_lease() -> timedelta:
    # Longer than any single send can take (urllib's timeout applies per socket operation), so a live
    # worker never has its row handed to a second one.
    return timedelta(seconds=max(60.0, 10 * max(_wecom_timeout(), sms_timeout())))


def _due(now: datetime) -> Q:
    return Q(next_attempt_at__isnull=True) | Q(next_attempt_at__lte=now)


def notification_deliver(*, notification_id: int) -> str:
    """Deliver one outbox row; returns what happened (`sent`, `retry`, `failed`, `skipped`)."""
    now = timezone.now()
    claimed = (
        Notification.objects.filter(_due(now), pk=notification_id, status=DeliveryStatus.PENDING)
        .filter(attempts__lt=MAX_ATTEMPTS)
        .update(attempts=F("attempts") + 1, next_attempt_at=now + _claim_lease())
    )
    if claimed != 1:
        # Already sent or failed, not due yet, or another worker holds it right now.
        return "skipped"
    row = Notification.objects.get(pk=notification_id)
    try:
        _send(row)
    except DeliveryFailed as error:
        return _record_failure(row, str(error), give_up=isinstance(error, DeliveryRejected))
    fenced = Notification.objects.filter(
        pk=row.pk, status=DeliveryStatus.PENDING, attempts=row.attempts
    ).update(status=DeliveryStatus.SENT, sent_at=timezone.now(), next_attempt_at=None, last_error="")
    if not fenced:
        logger.warning(
            "notification delivered after its lease was taken over", extra={"notification": row.pk}
        )
    return "sent"


def _record_failure(row: Notification, error: str, *, give_up: bool = False) -> str:
    gave_up = give_up or row.attempts >= MAX_ATTEMPTS
    Notification.objects.filter(pk=row.pk, status=DeliveryStatus.PENDING, attempts=row.attempts).update(
        status=DeliveryStatus.FAILED if gave_up else DeliveryStatus.PENDING,
        next_attempt_at=None if gave_up else timezone.now() + retry_delay(row.attempts),
        last_error=error[:_LAST_ERROR_MAX],
    )
    logger.warning(
        "notification delivery failed",
        extra={
            "notification": row.pk,
            "channel": row.channel,
            "kind": row.kind,
            "attempts": row.attempts,
            "gave_up": gave_up,
            "error": error[:_LAST_ERROR_MAX],
        },
    )
    return "failed" if gave_up else "retry"


def _send(row: Notification) -> None:
    if row.channel == NotificationChannel.LOG:
        logger.info(
            "notification: %s",
            row.title,
            extra={
                "notification": row.pk,
                "kind": row.kind,
                "recipient": row.recipient_id,
                "project": row.project_id,
                "body": row.body,
                "url": row.url,
            },
        )
    elif row.channel == NotificationChannel.WECOM:
        _send_wecom(row)
    elif row.channel == NotificationChannel.SMS:
        _send_sms(row)
    # In-app rows need no sending: committing them is what puts them in the bell.


def _send_wecom(row: Notification) -> None:
    if urlsplit(row.target).scheme not in {"http", "https"}:
        # urllib would also open file:// and ftp:// addresses; a webhook is only ever http(s).
        raise DeliveryFailed(f"webhook URL must be http(s): {row.target[:100]!r}")
    content = f"{row.title}\n{row.body}" if row.body else row.title
    payload = json.dumps({"msgtype": "text", "text": {"content": content}}, ensure_ascii=False)
    request = urllib.request.Request(
        row.target,
        data=payload.encode("utf-8"),
        headers={"Content-Type": "application/json; charset=utf-8"},
        method="POST",
    )
    try:
        with urllib.request.urlopen(request, timeout=_wecom_timeout()) as response:
            answer = json.loads(response.read(64 * 1024) or b"{}")
    except urllib.error.HTTPError as error:
        raise DeliveryFailed(f"HTTP {error.code}") from error
    except (OSError, HTTPException, ValueError) as error:
        # URLError, timeouts and refused connections are OSErrors; ValueError covers a non-JSON answer.
        raise DeliveryFailed(f"{type(error).__name__}: {error}") from error
    errcode = answer.get("errcode") if isinstance(answer, dict) else None
    if errcode != 0:
        errmsg = answer.get("errmsg", "") if isinstance(answer, dict) else ""
        raise DeliveryFailed(f"errcode {errcode}: {errmsg}")


def _send_sms(row: Notification) -> None:
    """One call to the configured SMS provider, recorded whatever its outcome (`MessageSend`)."""
    try:
        backend = sms_backend()
        template = template_codes().get(row.kind, "")
    except ImproperlyConfigured as error:
        # Fixing the environment and restarting the worker lets the retries go through.
        raise DeliveryFailed(f"SMS configuration: {error}") from error
    names = TEMPLATE_PARAMS.get(row.kind)
    if names is None:
        result = SmsResult(backend.name, ok=False, error_code="unknown_kind", error_message=row.kind)
    elif not template and backend.name != "log":
        result = SmsResult(
            backend.name, ok=False, error_code="template_not_configured", error_message=row.kind
        )
    else:
        params = row.params if isinstance(row.params, dict) else {}
        result = backend.send(
            phone=row.target,
            # The log backend needs no approved template: it names the kind instead.
            template_code=template or row.kind,
            params={name: str(params.get(name, "")) for name in names},
            text=row.body,
        )
    gives_up = not result.ok and (not result.retry or row.attempts >= MAX_ATTEMPTS)
    MessageSend.objects.create(
        notification=row,
        project_id=row.project_id,
        kind=row.kind,
        provider=result.provider,
        template_code=template,
        phone_masked=mask_phone(row.target),
        status=(
            MessageSendStatus.SENT
            if result.ok
            else MessageSendStatus.FAILED
            if gives_up
            else MessageSendStatus.RETRY
        ),
        provider_message_id=result.message_id[:100],
        error_code=result.error_code[:100],
        error_message=result.error_message[:_LAST_ERROR_MAX],
    )
    if row.kind in SECRET_KINDS and (result.ok or gives_up):
        # A code is no use to anyone after this, least of all to whoever reads the database later.
        Notification.objects.filter(pk=row.pk).update(params={}, body="")
    if result.ok:
        return
    reason = f"{result.provider} {result.error_code}: {result.error_message}"
    if result.retry:
        raise DeliveryFailed(reason)
    raise DeliveryRejected(reason)
