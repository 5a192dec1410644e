from datetime import datetime, timedelta

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from anchang.accounts.models import User
from anchang.customers.models import Customer, CustomerEvent, EventKind, Stage
from anchang.inventory.models import Project, ProjectSettings


def protection_after_visit(*, settings: ProjectSettings, at: datetime) -> datetime:
    """Protection runs N days from the last effective contact; a visit is the strongest (product.md §7)."""
    return at + timedelta(days=settings.protection_days_after_visit)


def customer_get_or_create(
    *,
    project: Project,
    phone: str,
    name: str = "",
    gender: str = "",
    source: str = "",
    consent_at: datetime | None,
) -> tuple[Customer, bool]:
    """The project's customer for a normalised phone, created on first sight.

    Two desks registering the same new phone at once: the unique constraint lets one insert win;
    the other reads the winner's row instead of failing.
    """
    customer = Customer.objects.select_for_update().filter(project=project, phone=phone).first()
    if customer is None:
        try:
            with transaction.atomic():
                customer = Customer.objects.create(
                    project=project,
                    phone=phone,
                    name=name,
                    gender=gender,
                    source=source,
                    consent_at=consent_at,
                )
        except IntegrityError:
            customer = Customer.objects.select_for_update().get(project=project, phone=phone)
        else:
            return customer, True
    changed = []
    for field, value in (("name", name), ("gender", gender), ("source", source)):
        if value and not getattr(customer, field):
            setattr(customer, field, value)
            changed.append(field)
    if consent_at and not customer.consent_at:
        customer.consent_at = consent_at
        changed.append("consent_at")
    if changed:
        customer.save(update_fields=[*changed, "name_pinyin", "name_initials", "phone_last4", "updated_at"])
    return customer, False


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
    previous = customer.owner
    customer.owner = consultant
    customer.protected_until = protection_after_visit(settings=settings, at=at)
    # Taking a customer from the public pool takes them out of it.
    customer.pooled_at, customer.pool_reason = None, ""
    customer._change_reason = why[:100]  # type: ignore[attr-defined]
    customer.save(update_fields=["owner", "protected_until", "pooled_at", "pool_reason", "updated_at"])
    if previous is None or previous.pk != consultant.pk:
        customer_record_event(
            customer=customer,
            kind=EventKind.OWNER_CHANGED,
            by=by,
            at=at,
            text=_("归属顾问：%(old)s → %(new)s（%(why)s）")
            % {
                "old": previous.display_name if previous else _("无"),
                "new": consultant.display_name,
                "why": why,
            },
            data={"from": previous.pk if previous else None, "to": consultant.pk},
        )


def customer_record_visit(
    *, customer: Customer, settings: ProjectSettings, at: datetime, extends_protection: bool
) -> None:
    """A visit happened: stage, visit times, and the owner's protection extended."""
    customer.last_visit_at = at
    fields = ["last_visit_at", "updated_at"]
    if customer.first_visit_at is None:
        customer.first_visit_at = at
        fields.append("first_visit_at")
    if customer.stage == Stage.LEAD:
        customer.stage = Stage.VISITED
        fields.append("stage")
    if extends_protection and customer.owner_id:
        customer.protected_until = protection_after_visit(settings=settings, at=at)
        fields.append("protected_until")
    customer.save(update_fields=fields)
