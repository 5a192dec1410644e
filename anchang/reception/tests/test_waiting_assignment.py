"""A consultant who is free again takes the oldest waiting visitor once their change is committed.

rotation does not import the assignment (services builds on rotation); ReceptionConfig.ready plugs
`visit_assign_waiting` in. These tests fail if that wiring is lost.
"""

import pytest

from anchang.reception.models import QueueState, Visit, VisitState
from anchang.reception.rotation import rotation_set_state, rotation_sign_in
from anchang.reception.services import check_in, visit_end

pytestmark = pytest.mark.django_db


def test_back_from_a_break_the_consultant_takes_the_waiting_visitor(
    project, frontdesk, consultants, django_capture_on_commit_callbacks
) -> None:
    consultant = consultants[0]
    rotation_sign_in(project=project, consultant=consultant, by=consultant)
    rotation_set_state(project=project, consultant=consultant, state=QueueState.AWAY, by=consultant)
    waiting = check_in(project=project, phone="13812345678", by=frontdesk, consent=True).visit
    assert waiting.state == VisitState.WAITING

    with django_capture_on_commit_callbacks(execute=True):
        rotation_set_state(project=project, consultant=consultant, state=QueueState.WAITING, by=consultant)

    waiting.refresh_from_db()
    assert (waiting.state, waiting.consultant) == (VisitState.RECEIVING, consultant)


def test_ending_a_reception_hands_the_receiver_the_next_waiting_visitor(
    project, frontdesk, consultants, django_capture_on_commit_callbacks
) -> None:
    consultant = consultants[0]
    rotation_sign_in(project=project, consultant=consultant, by=consultant)
    first = check_in(project=project, phone="13812345678", by=frontdesk, consent=True).visit
    second = check_in(project=project, phone="13912345678", by=frontdesk, consent=True).visit
    assert first.consultant == consultant and second.state == VisitState.WAITING

    with django_capture_on_commit_callbacks(execute=True):
        visit_end(visit_id=first.pk, by=consultant, outcome="return")

    assert Visit.objects.get(pk=second.pk).consultant == consultant
