"""One-time codes sent by SMS, for people who have no account here: a broker reporting a customer,
an owner confirming who they are. The features that ask for a code name their purpose
(`OneTimeCodePurpose`) and call these two services.

Only a keyed hash of a code is stored; a code lives `CODE_TTL`, allows `MAX_TRIES` wrong guesses and
is used once. Sending is limited per number (one a minute, ten a day) in the database, so every app
server shares the limit; the message itself is transactional and needs no marketing consent.
"""

import hashlib
import hmac
import secrets
from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _

from anchang.core.errors import Conflict, InvalidInput
from anchang.core.models import OneTimeCode, OneTimeCodePurpose
from anchang.core.notifications import customer_message_queue
from anchang.core.phones import normalize_mainland_mobile
from anchang.core.ratelimit import rate_limit_take
from anchang.core.sms.base import MessageKind

CODE_TTL = timedelta(minutes=10)
MAX_TRIES = 5
CODE_DIGITS = 6


def _code_hash(*, phone: str, purpose: str, code: str) -> str:
    key = f"one-time-code:{settings.SECRET_KEY}".encode()
    return hmac.new(key, f"{purpose}:{phone}:{code}".encode(), hashlib.sha256).hexdigest()


def _purpose(purpose: str) -> str:
    if purpose not in OneTimeCodePurpose.values:
        raise InvalidInput(fields={"purpose": _("未知的验证码用途。")})
    return purpose


@transaction.atomic
def one_time_code_send(*, phone: str, purpose: str, project_id: int | None = None) -> OneTimeCode:
    """Make a new code for `phone` and put its SMS into the outbox; earlier codes stop working."""
    purpose = _purpose(purpose)
    phone = normalize_mainland_mobile(phone)
    now = timezone.now()
    if not rate_limit_take(key=f"otc:min:{phone}", limit=1, window=timedelta(minutes=1), now=now):
        raise Conflict(_("验证码发送太频繁，请一分钟后再试。"), code="too_many_codes")
    if not rate_limit_take(key=f"otc:day:{phone}", limit=10, window=timedelta(days=1), now=now):
        raise Conflict(_("今天发送的验证码已达上限，请明天再试。"), code="too_many_codes")
    OneTimeCode.objects.filter(phone=phone, purpose=purpose, used_at__isnull=True).update(used_at=now)
    code = f"{secrets.randbelow(10**CODE_DIGITS):0{CODE_DIGITS}d}"
    row = OneTimeCode.objects.create(
        phone=phone,
        purpose=purpose,
        project_id=project_id,
        code_hash=_code_hash(phone=phone, purpose=purpose, code=code),
        expires_at=now + CODE_TTL,
    )
    customer_message_queue(
        kind=MessageKind.ONE_TIME_CODE,
        phone=phone,
        params={"code": code, "minutes": str(int(CODE_TTL.total_seconds() // 60))},
        project_id=project_id,
        dedupe_key=f"one_time_code:{row.pk}",
    )
    return row


@transaction.atomic
def one_time_code_verify(*, phone: str, purpose: str, code: str) -> bool:
    """True once for the latest live code of `phone`; a wrong guess counts against it."""
    purpose = _purpose(purpose)
    phone = normalize_mainland_mobile(phone)
    now = timezone.now()
    row = (
        OneTimeCode.objects.select_for_update()
        .filter(
            phone=phone, purpose=purpose, used_at__isnull=True, expires_at__gt=now, attempts__lt=MAX_TRIES
        )
        .order_by("-pk")
        .first()
    )
    if row is None:
        return False
    expected = _code_hash(phone=phone, purpose=purpose, code=(code or "").strip())
    if not hmac.compare_digest(expected, row.code_hash):
        OneTimeCode.objects.filter(pk=row.pk).update(attempts=F("attempts") + 1)
        return False
    # Conditional: on SQLite, where FOR UPDATE is a no-op, two verifications cannot both use it.
    return OneTimeCode.objects.filter(pk=row.pk, used_at__isnull=True).update(used_at=now) == 1
