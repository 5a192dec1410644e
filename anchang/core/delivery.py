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
from django.db.models import F, Q
from django.utils import timezone

from anchang.core.models import DeliveryStatus, Notification, NotificationChannel

# The same logger as the outbox: one place to read what happened to a notification.
logger = logging.getLogger("anchang.notifications")

MAX_ATTEMPTS = 5
# 30 s × 2^attempts: 1 min, 2 min, 4 min, 8 min between the five tries, never more than an hour.
BACKOFF_BASE_SECONDS = 30
BACKOFF_CAP_SECONDS = 3600
_LAST_ERROR_MAX = 300  # Notification.last_error max_length


class DeliveryFailed(Exception):
    """The channel refused or did not answer; the row is retried later."""


def retry_delay(attempts: int) -> timedelta:
    return timedelta(seconds=min(BACKOFF_BASE_SECONDS * 2**attempts, BACKOFF_CAP_SECONDS))


def _wecom_timeout() -> float:
    return float(getattr(settings, "WECOM_TIMEOUT_SECONDS", 5))


def _claim_lease() -> timedelta:
    # Longer than any single send can take (urllib's timeout applies per socket operation), so a live
    # worker never has its row handed to a second one.
    return timedelta(seconds=max(60.0, 10 * _wecom_timeout()))


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
        return _record_failure(row, str(error))
    fenced = Notification.objects.filter(
        pk=row.pk, status=DeliveryStatus.PENDING, attempts=row.attempts
    ).update(status=DeliveryStatus.SENT, sent_at=timezone.now(), next_attempt_at=None, last_error="")
    if not fenced:
        logger.warning(
            "notification delivered after its lease was taken over", extra={"notification": row.pk}
        )
    return "sent"


def _record_failure(row: Notification, error: str) -> str:
    gave_up = row.attempts >= MAX_ATTEMPTS
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
