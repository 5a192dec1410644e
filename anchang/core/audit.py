"""The access log: one row each time someone sees or takes personal data in full (product.md §13).

Model history (django-simple-history) records who *changed* what; this records who *looked*: a phone
revealed, a list exported. Call it inside the transaction that hands the data out, so that no answer
carrying the data commits without its row (quality P2: every reveal writes exactly one row).
"""

from typing import Any

from django.db import models
from django.http import HttpRequest
from django.utils import timezone

from anchang.core.models import AccessAction, AccessLog

__all__ = ["AccessAction", "access_log_write", "client_ip"]

REASON_MAX_LENGTH = 200


def client_ip(request: HttpRequest | None) -> str | None:
    """REMOTE_ADDR only: X-Forwarded-For is whatever the client wants it to be unless a proxy we
    trust rewrites it, and an audit trail the client can edit proves nothing."""
    if request is None:
        return None
    return request.META.get("REMOTE_ADDR") or None


def access_log_write(
    *,
    user: Any,
    action: str,
    obj: models.Model | None,
    reason: str = "",
    request: HttpRequest | None = None,
    ip: str | None = None,
    project_id: int | None = None,
    data: dict[str, object] | None = None,
) -> AccessLog:
    """Record one access. `obj` names what was seen (its type, id and, when it has one, its project);
    `project_id` overrides or supplies the project (an export of a whole project has no single object)."""
    if project_id is None and obj is not None:
        project_id = getattr(obj, "project_id", None)
    return AccessLog.objects.create(
        user=user if getattr(user, "pk", None) else None,
        username=str(getattr(user, "username", "") or "")[:150],
        at=timezone.now(),
        action=action,
        object_type=obj._meta.label_lower if obj is not None else "",
        object_id=obj.pk if obj is not None else None,
        project_id=project_id,
        reason=reason.strip()[:REASON_MAX_LENGTH],
        ip=ip if ip is not None else client_ip(request),
        data=data or {},
    )
