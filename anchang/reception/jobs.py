"""Periodic jobs of the reception app; imported once from the app's ready() (core.periodic)."""

from django.db.models import Q

from anchang.core import periodic
from anchang.customers.pool import RecoveryInputs, pool_recover
from anchang.followups.models import FollowUp
from anchang.reception.appointments import appointment_send_reminders
from anchang.reception.models import Visit, VisitState


def appointment_reminders() -> dict[str, int]:
    # A job takes no arguments and returns a short summary for `anchang tick`.
    return {"reminders_sent": appointment_send_reminders()}


def pool_recovery_inputs() -> RecoveryInputs:
    """The visits and follow-ups the public pool's recovery rules read (customers.pool)."""
    invalid = Q(state=VisitState.INVALID) | Q(outcome="invalid")
    return RecoveryInputs(
        invalid_visits=Visit.objects.filter(invalid),
        other_visits=Visit.objects.filter(~invalid),
        on_site_visits=Visit.objects.filter(state__in=(VisitState.WAITING, VisitState.RECEIVING)),
        open_follow_ups=FollowUp.objects.filter(done_at__isnull=True),
    )


def pool_recovery() -> dict[str, int]:
    # The public pool is the customer archive's, but its rules read visits and follow-ups, which build
    # on customers: the job is wired here, where both are known, under its original name.
    return pool_recover(inputs=pool_recovery_inputs())


# Every minute: a reminder window is counted in minutes (ProjectSettings.reminder_minutes_before),
# and a run that finds nothing due costs one indexed query.
periodic.register("reception.appointment_reminders", appointment_reminders, every_seconds=60)
# Every five minutes: protection and follow-up deadlines are counted in hours and days, so a customer
# reaches the pool at most five minutes late.
periodic.register("customers.pool_recovery", pool_recovery, every_seconds=300)
