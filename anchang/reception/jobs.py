"""Periodic jobs of the reception app; imported once from the app's ready() (core.periodic)."""

from anchang.core import periodic
from anchang.reception.appointments import appointment_send_reminders


def appointment_reminders() -> dict[str, int]:
    # A job takes no arguments and returns a short summary for `anchang tick`.
    return {"reminders_sent": appointment_send_reminders()}


# Every minute: a reminder window is counted in minutes (ProjectSettings.reminder_minutes_before),
# and a run that finds nothing due costs one indexed query.
periodic.register("reception.appointment_reminders", appointment_reminders, every_seconds=60)
