from datetime import datetime, timedelta

from django.utils import timezone
from django.utils.translation import gettext as _

from anchang.accounts.models import User
from anchang.customers.models import Customer, CustomerEvent, EventKind, Stage
from anchang.inventory.models import ProjectSettings


def protection_after_visit(*, settings: ProjectSettings, at: datetime) -> datetime:
    """Protection runs N days from the last effective contact; a visit is the strongest (product.md §7)."""
    return at + timedelta(days=settings.protection_days_after_visit)


def protection_after_contact(
    *, customer: Customer, settings: ProjectSettings, at: datetime
) -> datetime | None:
    """The protection end after an effective contact at `at` (product.md §7), or None to keep it.

    An effective follow-up, or the customer calling their own consultant, extends protection to
    `at + protection_days_after_call`, never shortens it, and never carries it past the ceiling:
    `protection_ceiling_days` after the last visit (or, for a customer who never came, after they were
    registered) — without a visit a customer cannot be kept forever by phone calls alone.
    """
    anchor = customer.last_visit_at or customer.created_at
    ceiling = anchor + timedelta(days=settings.protection_ceiling_days)
    proposed = min(at + timedelta(days=settings.protection_days_after_call), ceiling)
    current = customer.protected_until
    if current is not None and current >= proposed:
        return None
    return proposed


def customer_record_event(
    *,
    customer: Customer,
    kind: str,
    text: str,
    by: User | None,
    data: dict[str, object] | None = None,
    at: datetime | None = None,
) -> CustomerEvent:
    return CustomerEvent.objects.create(
        customer=customer, kind=kind, text=text[:300], by=by, data=data or {}, at=at or timezone.now()
    )


def customer_apply_ownership(
    *,
    customer: Customer,
    consultant: User,
    settings: ProjectSettings,
    at: datetime,
    by: User | None,
    why: str,
) -> tuple[list[str], CustomerEvent | None]:
    """Make `consultant` the owner in memory: the changed fields and the timeline row, both unsaved.

    Check-in applies ownership and the visit to the customer and writes the row once (one UPDATE,
    one history row); the other callers use `customer_take_ownership`.
    """
    previous = customer.owner
    customer.owner = consultant
    customer.protected_until = protection_after_visit(settings=settings, at=at)
    # Taking a customer from the public pool takes them out of it.
    customer.pooled_at, customer.pool_reason = None, ""
    customer._change_reason = why[:100]  # type: ignore[attr-defined]
    event = None
    if previous is None or previous.pk != consultant.pk:
        event = CustomerEvent(
            customer=customer,
            kind=EventKind.OWNER_CHANGED,
            by=by,
            at=at,
            text=(
                _("归属顾问：%(old)s → %(new)s（%(why)s）")
                % {
                    "old": previous.display_name if previous else _("无"),
                    "new": consultant.display_name,
                    "why": why,
                }
            )[:300],
            data={"from": previous.pk if previous else None, "to": consultant.pk},
        )
    return ["owner", "protected_until", "pooled_at", "pool_reason"], event


def customer_take_ownership(
    *,
    customer: Customer,
    consultant: User,
    settings: ProjectSettings,
    at: datetime,
    by: User | None,
    why: str,
) -> None:
    """The receiver of a first visit (or of a public-pool customer) becomes the owner; protection starts."""
    fields, event = customer_apply_ownership(
        customer=customer, consultant=consultant, settings=settings, at=at, by=by, why=why
    )
    customer.save(update_fields=[*fields, "updated_at"])
    if event is not None:
        event.save()


def customer_apply_visit(
    *, customer: Customer, settings: ProjectSettings, at: datetime, extends_protection: bool
) -> list[str]:
    """A visit happened, in memory: stage, visit times, the owner's protection; returns the changed fields."""
    customer.last_visit_at = at
    fields = ["last_visit_at"]
    if customer.first_visit_at is None:
        customer.first_visit_at = at
        fields.append("first_visit_at")
    if customer.stage == Stage.LEAD:
        customer.stage = Stage.VISITED
        fields.append("stage")
    if extends_protection and customer.owner_id:
        customer.protected_until = protection_after_visit(settings=settings, at=at)
        fields.append("protected_until")
    return fields
