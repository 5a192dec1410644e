"""Periodic jobs of the follow-ups app; imported once from `FollowupsConfig.ready()` (core.periodic)."""

from anchang.core import periodic
from anchang.followups.services import followup_send_reminders

REMINDERS_JOB = "followups.reminders"


def followup_reminders() -> dict[str, int]:
    # A job takes no arguments and returns a short summary for `anchang tick`.
    return followup_send_reminders()


# Every minute: the "due soon" window is one hour, and a run that finds nothing costs two indexed
# queries. Running more often or twice changes nothing (each reminder is claimed once, R5).
periodic.register(REMINDERS_JOB, followup_reminders, every_seconds=60)
