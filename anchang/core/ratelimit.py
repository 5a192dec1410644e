"""Rate limits that hold across processes: a fixed-window counter row per key in the database.

Taking a unit is one conditional `UPDATE … SET count = count + 1 WHERE count < limit`. On
PostgreSQL a second process updating the same row waits for the first one's transaction and then
re-checks the condition against the committed count, so two workers can never both take the last
unit; on SQLite the IMMEDIATE transaction serialises writers. Taken inside the caller's transaction,
a unit is given back when the work it allowed rolls back (a booking refused for a bad field).
"""

from datetime import datetime, timedelta

from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone

from anchang.core.models import RateCounter


@transaction.atomic
def rate_limit_take(*, key: str, limit: int, window: timedelta, now: datetime | None = None) -> bool:
    """Count one use of `key`; False (nothing counted) when `limit` uses were counted in the window."""
    now = now or timezone.now()
    # A window that has run out starts again from now (one row per key, reset in place).
    RateCounter.objects.filter(key=key, window_started_at__lte=now - window).update(
        count=0, window_started_at=now
    )
    if _take(key, limit):
        return True
    if limit < 1:
        return False
    try:
        with transaction.atomic():
            RateCounter.objects.create(key=key, window_started_at=now, count=1)
    except IntegrityError:
        # The row exists: it is full, or another process created it a moment ago.
        return _take(key, limit)
    return True


def _take(key: str, limit: int) -> bool:
    return RateCounter.objects.filter(key=key, count__lt=limit).update(count=F("count") + 1) == 1
