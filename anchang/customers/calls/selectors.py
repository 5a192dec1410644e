"""Reads of inbound calls: a day's calls as the viewer may see them, with phones masked in one place."""

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from django.db.models import QuerySet
from django.utils import timezone

from anchang.accounts.models import Role, User
from anchang.core.phones import national_digits
from anchang.core.privacy import mask_phone, mask_phones_in_text
from anchang.customers.models import InboundCall
from anchang.customers.pool import phone_visible_to
from anchang.inventory.models import Project


def day_bounds(day: date) -> tuple[datetime, datetime]:
    """[00:00, next 00:00) of a local calendar day; OverflowError for a day at the calendar's end."""
    start = timezone.make_aware(datetime.combine(day, time.min))
    return start, timezone.make_aware(datetime.combine(day + timedelta(days=1), time.min))


def calls_visible_to(*, user: User, project: Project, day: date) -> QuerySet[InboundCall]:
    """The project's calls of a local day, newest first: a consultant sees the calls they took, the
    desk and the manager every call of the project."""
    start, end = day_bounds(day)
    calls = InboundCall.objects.filter(project=project, at__gte=start, at__lt=end).select_related(
        "customer", "taken_by"
    )
    if user.role == Role.CONSULTANT and not user.sees_all_projects:
        calls = calls.filter(taken_by=user)
    return calls.order_by("-at", "-pk")


@dataclass(frozen=True)
class CallShown:
    """A call as one viewer may see it: the full phone only for the customer's own consultant."""

    call: InboundCall
    name: str
    phone: str
    phone_is_full: bool
    question: str
    next_step: str
    consultant_name: str
    # The customer page opens for the desk, the managers and the customer's own consultant.
    may_open_customer: bool


def call_shown(*, call: InboundCall, viewer: User) -> CallShown:
    customer = call.customer
    full = phone_visible_to(user=viewer, customer=customer)
    return CallShown(
        call=call,
        # Free text may hold a phone number (a name given as one, "call back on …"): only the customer's
        # consultant sees it whole.
        name=call.name if full else mask_phones_in_text(call.name),
        phone=national_digits(customer.phone) if full else mask_phone(customer.phone),
        phone_is_full=full,
        question=call.question if full else mask_phones_in_text(call.question),
        next_step=call.next_step if full else mask_phones_in_text(call.next_step),
        consultant_name=call.taken_by.display_name if call.taken_by else "",
        may_open_customer=full or viewer.sees_all_projects or viewer.role in (Role.MANAGER, Role.FRONTDESK),
    )
