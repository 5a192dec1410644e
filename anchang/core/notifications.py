"""Notifications go through the outbox (`core.models.Notification`).

`notify` writes the rows inside the caller's transaction, so a notification exists exactly when the
fact it announces was committed; delivery of log, WeCom and SMS rows happens after commit, in the
worker (`core.tasks.deliver_notification`, run by `anchang worker`, does the work of `core.delivery`).
Texts to customers (`customer_message_queue`) are SMS rows: one per fact, keyed by `dedupe_key`.

Delivery is at-least-once towards the outside world and exactly-once in the outbox:

- a task first *claims* its row with one conditional UPDATE (pending, due, attempts left) that pushes
  `next_attempt_at` one lease into the future and counts the attempt. A second task for the same row,
  or a concurrent worker, matches nothing and skips; a worker that dies mid-send leaves a row whose
  lease expires, and the sweep hands it out again.
- the outcome is written only while the row still carries the claimed attempt number (a fence), so a
  late answer from a worker whose lease was taken over cannot overwrite the newer attempt.
- failures back off exponentially; after `MAX_ATTEMPTS` the row is `failed` and stays visible.

The periodic sweep (`notification_sweep_due`, registered in `core.periodic`) re-enqueues due rows: retries
whose backoff has passed, leases of dead workers, and rows whose enqueue after commit was lost.
"""

import logging
from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import Q, QuerySet
from django.utils import timezone

from anchang.core.delivery import MAX_ATTEMPTS
from anchang.core.errors import NotFound
from anchang.core.models import DeliveryStatus, Notification, NotificationChannel
from anchang.core.privacy import mask_phone
from anchang.core.sms.base import TEMPLATE_PARAMS, default_text
from anchang.core.tasks import deliver_notification

logger = logging.getLogger("anchang.notifications")

# A freshly written row has its own task enqueued on commit; the sweep only steps in when that task
# evidently got lost (enqueue failed, queue wiped), so it leaves young rows alone for this long.
SWEEP_GRACE = timedelta(seconds=60)
SWEEP_BATCH = 500


def notify(
    *,
    recipients: Iterable[Any],
    kind: str,
    title: str,
    body: str = "",
    url: str = "",
    project_id: int | None = None,
    webhook_url: str = "",
) -> list[Notification]:
    """In-app (bell) and log rows per recipient, plus one WeCom group message when a webhook is set."""

    def row(channel: str, **extra: Any) -> Notification:
        return Notification(
            project_id=project_id, channel=channel, kind=kind, title=title, body=body, url=url, **extra
        )

    rows: list[Notification] = []
    for recipient in {r.pk: r for r in recipients if r is not None}.values():
        # In-app rows are delivered the moment they commit: the bell reads them.
        rows.append(
            row(
                NotificationChannel.IN_APP,
                recipient=recipient,
                status=DeliveryStatus.SENT,
                sent_at=timezone.now(),
            )
        )
        rows.append(row(NotificationChannel.LOG, recipient=recipient))
    if webhook_url:
        rows.append(row(NotificationChannel.WECOM, target=webhook_url))
    created = Notification.objects.bulk_create(rows)
    pending = [row.pk for row in created if row.status == DeliveryStatus.PENDING]
    if pending:
        transaction.on_commit(lambda: _enqueue_delivery(pending))
    return created


def customer_message_queue(
    *,
    kind: str,
    phone: str,
    params: dict[str, str],
    project_id: int | None,
    dedupe_key: str,
    text: str = "",
) -> Notification | None:
    """Put one SMS to a customer into the outbox, in the caller's transaction; None if the message
    for `dedupe_key` exists already (the fact was announced before: running twice sends once).

    `kind` is a `core.sms.base.MessageKind`; `params` must give every variable of its template.
    `text` is the message in our words (the project's own thank-you), shown by the log backend and
    kept on the row; it defaults to the kind's standard wording.
    """
    names = TEMPLATE_PARAMS[kind]
    missing = [name for name in names if not str(params.get(name, "")).strip()]
    if missing or not phone:
        raise ValueError(f"SMS {kind} needs a phone and {', '.join(names)}; missing {missing}")
    values = {name: str(params[name]) for name in names}
    row = Notification(
        project_id=project_id,
        channel=NotificationChannel.SMS,
        kind=kind,
        title=f"{mask_phone(phone)} · {kind}"[:120],
        body=text or default_text(kind, values),
        target=phone,
        params=values,
        dedupe_key=dedupe_key,
    )
    try:
        # The savepoint keeps the caller's transaction usable when the key exists already.
        with transaction.atomic():
            row.save(force_insert=True)
    except IntegrityError:
        if Notification.objects.filter(dedupe_key=dedupe_key).exists():
            return None
        raise
    row_id = row.pk
    transaction.on_commit(lambda: _enqueue_delivery([row_id]))
    return row


def _enqueue_delivery(notification_ids: list[int]) -> None:
    """Hand pending rows to the worker (called after commit)."""
    for notification_id in notification_ids:
        try:
            deliver_notification.enqueue(notification_id=notification_id)
        except Exception:
            # The fact is committed and the row is pending: the sweep will enqueue it again. Failing
            # here would turn a committed business action into an error page.
            logger.exception(
                "could not enqueue notification delivery", extra={"notification": notification_id}
            )


def notification_sweep_due(*, now: datetime | None = None) -> dict[str, int]:
    """Re-enqueue pending rows that are due; give up on rows whose final attempt's worker vanished.

    Safe to run twice or concurrently (R5): it only reads due rows and enqueues after commit, and a
    second task for the same row finds it claimed or sent and skips.
    """
    now = now or timezone.now()
    given_up = Notification.objects.filter(
        status=DeliveryStatus.PENDING, attempts__gte=MAX_ATTEMPTS, next_attempt_at__lte=now
    ).update(
        status=DeliveryStatus.FAILED, next_attempt_at=None, last_error="worker lost during the last attempt"
    )
    due_ids = list(
        Notification.objects.filter(status=DeliveryStatus.PENDING, attempts__lt=MAX_ATTEMPTS)
        .filter(
            Q(next_attempt_at__lte=now) | Q(next_attempt_at__isnull=True, created_at__lte=now - SWEEP_GRACE)
        )
        .order_by("pk")
        .values_list("pk", flat=True)[:SWEEP_BATCH]
    )
    if due_ids:
        transaction.on_commit(lambda: _enqueue_delivery(due_ids))
    if due_ids or given_up:
        logger.info("notification sweep", extra={"requeued": len(due_ids), "given_up": given_up})
    return {"requeued": len(due_ids), "given_up": given_up}


# --- the bell: selectors and services for the in-app channel ---------------------------------------


def notification_list_for(*, user: Any) -> QuerySet[Notification]:
    """The user's own in-app notifications, newest first (nobody else's, whatever their role)."""
    return Notification.objects.filter(recipient=user, channel=NotificationChannel.IN_APP).order_by(
        "-created_at", "-pk"
    )


def notification_unread_count_for(*, user: Any) -> int:
    return notification_list_for(user=user).filter(read_at__isnull=True).count()


@transaction.atomic
def notification_mark_read(*, user: Any, notification_id: int) -> Notification:
    try:
        row = notification_list_for(user=user).get(pk=notification_id)
    except Notification.DoesNotExist:
        raise NotFound() from None
    if row.read_at is None:
        row.read_at = timezone.now()
        Notification.objects.filter(pk=row.pk, read_at__isnull=True).update(read_at=row.read_at)
    return row


@transaction.atomic
def notification_mark_all_read(*, user: Any) -> int:
    return notification_list_for(user=user).filter(read_at__isnull=True).update(read_at=timezone.now())
