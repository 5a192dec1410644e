"""The text messages a visitor receives from the sales office (product.md §4, §6): the booking's
confirmation with its code, the reminder before the visit, the thank-you after it.

Each writes one SMS row into the outbox inside the caller's transaction (so it exists exactly when
the booking or visit committed), keyed by the fact it announces, so a second call sends nothing.
Confirmation and reminder answer the visitor's own booking (transactional); the thank-you is
marketing-like and goes only to a customer who consented.
"""

from django.utils import timezone

from anchang.core.models import Notification
from anchang.core.notifications import customer_message_queue
from anchang.core.privacy import public_name
from anchang.core.sms.base import MessageKind
from anchang.reception.models import Appointment, Visit


def _booking_params(appointment: Appointment) -> dict[str, str]:
    start = timezone.localtime(appointment.start_at)
    return {
        "project": appointment.project.name,
        "time": f"{start.month}月{start.day}日 {start:%H:%M}",
        "code": appointment.code,
    }


def booking_confirmation_queue(*, appointment: Appointment) -> Notification | None:
    return customer_message_queue(
        kind=MessageKind.BOOKING_CONFIRMED,
        phone=appointment.phone,
        params=_booking_params(appointment),
        project_id=appointment.project_id,
        dedupe_key=f"{MessageKind.BOOKING_CONFIRMED}:{appointment.pk}",
    )


def booking_reminder_queue(*, appointment: Appointment) -> Notification | None:
    return customer_message_queue(
        kind=MessageKind.BOOKING_REMINDER,
        phone=appointment.phone,
        params=_booking_params(appointment),
        project_id=appointment.project_id,
        # A rescheduled booking is reminded again, of its new time.
        dedupe_key=f"{MessageKind.BOOKING_REMINDER}:{appointment.pk}:{int(appointment.start_at.timestamp())}",
    )


def visit_thank_you_queue(*, visit: Visit, text: str) -> Notification | None:
    """The project's thank-you (`text`, already rendered from its template) to a consenting customer."""
    customer = visit.customer
    if customer.consent_at is None or visit.consultant is None:
        return None
    return customer_message_queue(
        kind=MessageKind.VISIT_THANK_YOU,
        phone=customer.phone,
        params={
            "name": public_name(customer.name, customer.gender),
            "project": visit.project.name,
            "consultant": visit.consultant.display_name,
        },
        project_id=visit.project_id,
        dedupe_key=f"{MessageKind.VISIT_THANK_YOU}:{visit.pk}",
        text=text,
    )
