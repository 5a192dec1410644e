"""The desk's live preview (来访预判): what check-in would decide for a phone or a booking code, and who
in the queue would receive a walk-in — without writing anything.

The check-in page (as the desk types) and `GET /projects/{pid}/checkins/preview` (kiosks, the desk on
another client) answer from this one function, so both always say the same.
"""

from dataclasses import dataclass

from anchang.accounts.models import User
from anchang.inventory.models import Project
from anchang.reception import selectors
from anchang.reception.appointments import appointment_for_code
from anchang.reception.judging import Decision
from anchang.reception.models import Appointment
from anchang.reception.services import preview_check_in
from anchang.reception.teams.queues import TeamChoice, is_team_mode, next_in_line, team_choose


@dataclass(frozen=True)
class CheckInPreview:
    decision: Decision
    appointment: Appointment | None  # the booking a code named
    next_up: User | None  # for a rotation decision: who the queue gives the visitor to now
    team_turn: TeamChoice | None  # in team mode: whose turn it is, and why


def check_in_preview(
    *,
    project: Project,
    phone: str = "",
    appointment_code: str = "",
    designated_consultant_id: int | None = None,
) -> CheckInPreview:
    """Judge without registering. A booking code brings its phone and its booked consultant (a
    consultant named at the desk comes first). Raises `NotFound` for an unknown code and
    `InvalidInput` (field `phone`, `designated_consultant_id`) for what check-in would refuse."""
    appointment = None
    if appointment_code:
        appointment = appointment_for_code(project=project, code=appointment_code)
        phone = appointment.phone
        designated_consultant_id = designated_consultant_id or appointment.consultant_id
    decision = preview_check_in(
        project=project, phone=phone, designated_consultant_id=designated_consultant_id
    )
    next_up, team_turn = None, None
    if decision.from_rotation:
        # In team mode the walk-in goes to the team whose turn it is, and to the head of its queue.
        if is_team_mode(project.settings):
            team_turn = team_choose(project=project, settings=project.settings)
        entry = next_in_line(selectors.queue_for(project=project), team_turn)
        next_up = entry.consultant if entry is not None else None
    return CheckInPreview(decision=decision, appointment=appointment, next_up=next_up, team_turn=team_turn)
