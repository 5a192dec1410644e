"""Recording an inbound call (来电): the customer is found or created, and the call protection starts."""

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from anchang.accounts.models import Role, User
from anchang.accounts.selectors import project_visible_to
from anchang.core.errors import Forbidden, InvalidInput
from anchang.core.notifications import notify
from anchang.core.phones import normalize_mainland_mobile
from anchang.core.privacy import mask_phone, mask_phones_in_text
from anchang.customers.models import Customer, CustomerEvent, EventKind, InboundCall, Source, Stage
from anchang.customers.pool import is_project_consultant, settings_of
from anchang.customers.services import protection_after_contact
from anchang.inventory.models import Project

NAME_MAX_LENGTH = 50
QUESTION_MAX_LENGTH = 500
NEXT_STEP_MAX_LENGTH = 200
# Who answers the sales office's phone and writes the call down.
RECORDER_ROLES = (Role.FRONTDESK, Role.CONSULTANT, Role.MANAGER)


def may_record_calls(user: User) -> bool:
    return user.is_active and (user.role in RECORDER_ROLES or user.sees_all_projects)


@dataclass(frozen=True)
class CallRecorded:
    call: InboundCall
    customer: Customer
    # The consultant who took the call became the customer's owner with this call.
    now_owner: bool


def _checked(
    *,
    project: Project,
    by: User,
    phone: str,
    name: str,
    source: str,
    question: str,
    next_step: str,
    taken_by_id: int | None,
) -> tuple[str, User]:
    """The normalised phone and the consultant who took the call; every bad field named at once."""
    fields: dict[str, str] = {}
    normalized = ""
    try:
        normalized = normalize_mainland_mobile(phone)
    except InvalidInput as error:
        fields.update(error.fields)
    if len(name.strip()) > NAME_MAX_LENGTH:
        fields["name"] = _("称呼最多 %(n)d 个字。") % {"n": NAME_MAX_LENGTH}
    if source not in Source.values:
        fields["source"] = _("请选择客户是从哪里知道本项目的。")
    if not question.strip():
        fields["question"] = _("请填写客户问了什么。")
    elif len(question.strip()) > QUESTION_MAX_LENGTH:
        fields["question"] = _("咨询内容最多 %(n)d 个字。") % {"n": QUESTION_MAX_LENGTH}
    if len(next_step.strip()) > NEXT_STEP_MAX_LENGTH:
        fields["next_step"] = _("下一步最多 %(n)d 个字。") % {"n": NEXT_STEP_MAX_LENGTH}
    # A consultant records the calls they took; the desk and the manager name the consultant.
    if by.role == Role.CONSULTANT and taken_by_id in (None, by.pk):
        taken_by: User | None = by
    else:
        taken_by = User.objects.filter(pk=taken_by_id).first() if taken_by_id else None
        if taken_by is None or not is_project_consultant(taken_by, project.pk) or by.role == Role.CONSULTANT:
            taken_by = None
            fields["consultant_id"] = _("请选择接听来电的本项目置业顾问。")
    if fields:
        raise InvalidInput(fields=fields)
    assert taken_by is not None
    return normalized, taken_by


@transaction.atomic
def inbound_call_record(
    *,
    project: Project,
    by: User,
    phone: str,
    source: str,
    question: str,
    name: str = "",
    next_step: str = "",
    taken_by_id: int | None = None,
    at: datetime | None = None,
) -> CallRecorded:
    """Record a call to the sales office and give the customer the call's protection (product.md §7).

    - A phone the project does not know becomes a new customer (线索) of the consultant who took the
      call, protected for `protection_days_after_call` days.
    - A known customer nobody owns (never owned, or in the public pool) becomes theirs the same way.
    - A customer calling their own consultant is an effective contact: protection is extended as by a
      follow-up, never shortened and never past the ceiling without a visit.
    - A customer owned by someone else stays theirs: the call is written in their file, protection
      is not extended by a colleague's call.
    """
    if not may_record_calls(by) or project_visible_to(user=by, project_id=project.pk) is None:
        raise Forbidden(_("只有本项目的前台、置业顾问和经理可以登记来电。"))
    normalized, taken_by = _checked(
        project=project,
        by=by,
        phone=phone,
        name=name,
        source=source,
        question=question,
        next_step=next_step,
        taken_by_id=taken_by_id,
    )
    now = at or timezone.now()
    name, question, next_step = name.strip(), question.strip(), next_step.strip()
    settings = settings_of(project)
    found = Customer.objects.select_for_update().filter(project=project, phone=normalized).first()
    created = found is None
    customer = found or Customer(
        project=project, phone=normalized, name=name, source=source, stage=Stage.LEAD
    )
    events: list[CustomerEvent] = []
    changed: list[str] = []
    now_owner = False
    if customer.owner_id is None and not customer.is_owner:
        previous_pool_reason = customer.pool_reason
        customer.owner = taken_by
        customer.protected_until = now + timedelta(days=settings.protection_days_after_call)
        customer.pooled_at, customer.pool_reason = None, ""
        customer.last_contact_at = now
        changed += ["owner", "protected_until", "pooled_at", "pool_reason", "last_contact_at"]
        now_owner = True
        if not created:
            events.append(
                CustomerEvent(
                    customer=customer,
                    kind=EventKind.OWNER_CHANGED,
                    by=by,
                    at=now,
                    text=(_("归属顾问：无 → %(new)s（来电）") % {"new": taken_by.display_name})[:300],
                    data={"from": None, "to": taken_by.pk, "pool_reason": previous_pool_reason},
                )
            )
    elif customer.owner_id == taken_by.pk:
        extended = protection_after_contact(customer=customer, settings=settings, at=now)
        customer.last_contact_at = now
        changed.append("last_contact_at")
        if extended is not None:
            customer.protected_until = extended
            changed.append("protected_until")
    if not created:
        for field, value in (("name", name), ("source", source)):
            if value and not getattr(customer, field):
                setattr(customer, field, value)
                changed.append(field)
    if created:
        customer._change_reason = _("来电建档")  # type: ignore[attr-defined]
        try:
            with transaction.atomic():
                customer.save()
        except IntegrityError:
            # A check-in or another call created this phone between our read and our insert (the
            # unique (project, phone) constraint keeps one customer per phone): only the insert is
            # rolled back, and the call is recorded again against the row the other one wrote.
            return inbound_call_record(
                project=project,
                by=by,
                phone=normalized,
                source=source,
                question=question,
                name=name,
                next_step=next_step,
                taken_by_id=taken_by.pk,
                at=now,
            )
    elif changed:
        customer._change_reason = _("来电")  # type: ignore[attr-defined]
        customer.save(update_fields=[*changed, "updated_at"])
    call = InboundCall.objects.create(
        project=project,
        customer=customer,
        at=now,
        name=name,
        source=source,
        question=question,
        next_step=next_step,
        taken_by=taken_by,
        recorded_by=by,
        new_customer=created,
    )
    text = _("来电（%(source)s），%(taker)s 接听：%(question)s") % {
        "source": Source(source).label,
        "taker": taken_by.display_name,
        "question": question,
    }
    events.append(
        CustomerEvent(
            customer=customer,
            kind=EventKind.CALL,
            by=by,
            at=now,
            text=text[:300],
            data={"call_id": call.pk, "taken_by": taken_by.pk, "new_customer": created},
        )
    )
    CustomerEvent.objects.bulk_create(events)
    _tell_consultants(call=call, customer=customer, by=by)
    return CallRecorded(call=call, customer=customer, now_owner=now_owner)


def _tell_consultants(*, call: InboundCall, customer: Customer, by: User) -> None:
    """The customer's own consultant hears of a call a colleague took, and the consultant who took it
    hears of a call the desk wrote down for them: either way they know to call back."""
    taker = call.taken_by
    assert taker is not None
    url = reverse("customers:detail", args=[customer.pk])
    who = customer.name or call.name or mask_phone(customer.phone)
    if customer.owner is not None and customer.owner_id != taker.pk and customer.owner.is_active:
        notify(
            recipients=[customer.owner],
            kind="customer_called",
            project_id=call.project_id,
            title=_("您的客户 %(who)s 来电") % {"who": who},
            body=_("%(taker)s 接听：%(question)s") % {"taker": taker.display_name, "question": call.question},
            url=url,
        )
    if taker.pk != by.pk:
        notify(
            recipients=[taker],
            kind="call_recorded_for_you",
            project_id=call.project_id,
            title=_("%(by)s 为您登记了一通来电") % {"by": by.display_name},
            # The taker's own customer (new or not) is named; someone else's stays masked.
            body=(
                _("%(who)s：%(question)s") % {"who": who, "question": call.question}
                if customer.owner_id == taker.pk
                else _("该客户归属其他顾问：%(question)s") % {"question": mask_phones_in_text(call.question)}
            ),
            url=url if customer.owner_id == taker.pk else "",
        )
