"""`Idempotency-Key` (api.md, R4): the same key and body within 24 h return the first answer.

The answer is stored in the same transaction as the work it describes. Two copies of one request
racing each other both do the work, but only one can insert the key (unique constraint); the loser
rolls back its work and replays the winner's answer — so one visit, one subscription.
"""

import hashlib
import json
from collections.abc import Callable
from datetime import timedelta
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from anchang.core.errors import Conflict, InvalidInput
from anchang.core.models import IdempotencyRecord

WINDOW = timedelta(hours=24)


def _hash(body: dict[str, Any]) -> str:
    return hashlib.sha256(json.dumps(body, sort_keys=True, default=str).encode()).hexdigest()


def _replay(record: IdempotencyRecord, body_hash: str) -> tuple[int, dict[str, Any]]:
    if record.body_hash != body_hash:
        raise Conflict(_("该 Idempotency-Key 已用于另一个请求。"), code="idempotency_key_reused")
    return record.status_code, record.response


def run_idempotent(
    *,
    user: Any,
    scope: str,
    key: str | None,
    body: dict[str, Any],
    work: Callable[[], tuple[int, dict[str, Any]]],
) -> tuple[int, dict[str, Any]]:
    if not key:
        return work()
    if len(key) > 100:
        raise InvalidInput(fields={"Idempotency-Key": _("Idempotency-Key 不能超过 100 个字符。")})
    body_hash = _hash(body)
    cutoff = timezone.now() - WINDOW
    IdempotencyRecord.objects.filter(user=user, scope=scope, key=key, created_at__lt=cutoff).delete()
    existing = IdempotencyRecord.objects.filter(user=user, scope=scope, key=key).first()
    if existing is not None:
        return _replay(existing, body_hash)
    try:
        with transaction.atomic():
            status, response = work()
            IdempotencyRecord.objects.create(
                user=user, scope=scope, key=key, body_hash=body_hash, status_code=status, response=response
            )
    except IntegrityError:
        winner = IdempotencyRecord.objects.filter(user=user, scope=scope, key=key).first()
        if winner is None:
            raise
        return _replay(winner, body_hash)
    return status, response
