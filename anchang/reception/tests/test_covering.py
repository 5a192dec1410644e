"""代接待 and 接手: a named consultant who is away or busy is covered by a colleague from the queue,
and takes their visitor over with one tap when they arrive (product.md §2–§3)."""

from datetime import timedelta

import pytest
from django.utils import timezone

from anchang.core.errors import Conflict, Forbidden, NotFound
from anchang.core.models import Notification
from anchang.customers.models import Attribution, AttributionRule, Customer, CustomerEvent, EventKind
from anchang.reception.judging import JudgingInputs, Person, judge
from anchang.reception.models import QueueState, RotationEntry, Visit, VisitState
from anchang.reception.rotation import rotation_set_state
from anchang.reception.services import check_in, visit_end, visit_take_over
from anchang.reception.testing import run_check_in_follow_ups

pytestmark = pytest.mark.django_db
PHONE = "13812345678"
NOW = timezone.now()
WANG, LI = Person(1, "王顾问"), Person(2, "李顾问")


def _queue(**states: str) -> tuple[dict[str, object], ...]:
    ids = {"wang": 1, "li": 2, "zhao": 3}
    return tuple(
        {"consultant_id": ids[name], "state": state, "position": n}
        for n, (name, state) in enumerate(states.items())
    )


def _protected(**extra: object) -> JudgingInputs:
    return JudgingInputs(
        phone="+8613812345678",
        now=NOW,
        rule_set_version=1,
        customer_id=9,
        has_visited=True,
        owner=WANG,
        owner_active=True,
        protected_until=NOW + timedelta(days=5),
        on_duty=(1, 2, 3),
        **extra,
    )


@pytest.mark.parametrize(
    ("state", "why"), [(QueueState.AWAY, "暂时离开"), (QueueState.RECEIVING, "正在接待")]
)
def test_judging_covers_for_an_owner_who_is_away_or_receiving(state: str, why: str) -> None:
    decision = judge(_protected(queue=_queue(wang=state, li="waiting", zhao="waiting")))
    assert (decision.rule, decision.covering_for, decision.from_rotation) == (R_COVER, WANG, True)
    assert not decision.takes_ownership and why in decision.explanation and "接手" in decision.explanation


def test_judging_gives_a_free_owner_their_customer() -> None:
    decision = judge(_protected(queue=_queue(wang="waiting", li="waiting")))
    assert (decision.rule, decision.consultant) == (AttributionRule.OWNER, WANG)


@pytest.mark.parametrize("state", [QueueState.AWAY, QueueState.RECEIVING])
def test_judging_covers_for_a_designated_consultant_who_is_away_or_receiving(state: str) -> None:
    facts = JudgingInputs(
        phone="+8613812345678",
        now=NOW,
        rule_set_version=1,
        designated=LI,
        on_duty=(1, 2),
        queue=_queue(wang="waiting", li=state),
    )
    decision = judge(facts)
    assert (decision.rule, decision.covering_for, decision.from_rotation) == (R_COVER, LI, True)
    assert decision.takes_ownership and "李顾问" in decision.explanation


R_COVER = AttributionRule.COVERING_FOR_OWNER


def _owned_by_first(project, frontdesk, on_duty) -> Customer:
    first = check_in(project=project, phone=PHONE, name="王小明", gender="male", by=frontdesk, consent=True)
    visit_end(visit_id=first.visit.pk, by=on_duty[0], outcome="return")
    return first.customer


def test_an_away_owner_is_covered_by_the_queue_and_notified(project, frontdesk, on_duty) -> None:
    customer = _owned_by_first(project, frontdesk, on_duty)
    rotation_set_state(project=project, consultant=on_duty[0], state="away", by=on_duty[0])
    again = check_in(project=project, phone=PHONE, by=frontdesk, consent=True)
    assert again.attribution.rule == R_COVER
    assert again.visit.consultant == on_duty[1] and again.visit.covering_for == on_duty[0]
    assert Customer.objects.get(pk=customer.pk).owner == on_duty[0]
    run_check_in_follow_ups()  # the notices come from the worker
    assert Notification.objects.filter(recipient=on_duty[0], kind="visit_covered").exists()


def test_an_owner_receiving_another_visitor_is_covered(project, frontdesk, on_duty) -> None:
    _owned_by_first(project, frontdesk, on_duty)
    busy = check_in(
        project=project,
        phone="13912345678",
        by=frontdesk,
        consent=True,
        designated_consultant_id=on_duty[0].pk,
    )
    assert busy.visit.consultant == on_duty[0]
    again = check_in(project=project, phone=PHONE, by=frontdesk, consent=True)
    assert again.attribution.rule == R_COVER and again.visit.covering_for == on_duty[0]
    assert again.visit.consultant == on_duty[1]


def test_a_designated_consultant_who_is_away_is_covered_and_owns_the_new_customer(
    project, frontdesk, on_duty
) -> None:
    rotation_set_state(project=project, consultant=on_duty[2], state="away", by=on_duty[2])
    result = check_in(
        project=project, phone=PHONE, by=frontdesk, consent=True, designated_consultant_id=on_duty[2].pk
    )
    assert result.attribution.rule == R_COVER
    assert result.visit.consultant == on_duty[0] and result.visit.covering_for == on_duty[2]
    assert Customer.objects.get(pk=result.customer.pk).owner == on_duty[2]
    run_check_in_follow_ups()  # the notices come from the worker
    assert Notification.objects.filter(recipient=on_duty[2], kind="visit_covered").exists()


def _covered_visit(project, frontdesk, on_duty) -> Visit:
    _owned_by_first(project, frontdesk, on_duty)
    rotation_set_state(project=project, consultant=on_duty[0], state="away", by=on_duty[0])
    return check_in(project=project, phone=PHONE, by=frontdesk, consent=True).visit


def test_the_owner_takes_over_with_one_tap_and_the_hand_over_is_recorded(project, frontdesk, on_duty) -> None:
    visit = _covered_visit(project, frontdesk, on_duty)
    owner, colleague = on_duty[0], on_duty[1]
    colleague_position = RotationEntry.objects.get(project=project, consultant=colleague).position
    covering = visit.attributions.get()

    record = visit_take_over(visit_id=visit.pk, by=owner)

    visit.refresh_from_db()
    assert (visit.consultant, visit.covering_for, visit.state) == (owner, None, VisitState.RECEIVING)
    assert visit.rule == AttributionRule.OWNER
    assert record.replaces == covering and record.consultant == owner and record.decided_by == owner
    assert record.inputs["covering_consultant_id"] == colleague.pk
    assert record.inputs["previous_attribution_id"] == covering.pk
    assert "代接待" in record.explanation
    assert CustomerEvent.objects.filter(customer=visit.customer, kind=EventKind.COVERED, by=owner).exists()
    # Covering did not cost the colleague a turn (the project's default): same place, waiting again.
    back = RotationEntry.objects.get(project=project, consultant=colleague)
    assert back.state == QueueState.WAITING and back.position == colleague_position
    assert RotationEntry.objects.get(project=project, consultant=owner).state == QueueState.RECEIVING
    assert Notification.objects.filter(recipient=colleague, kind="visit_taken_over").exists()


def test_only_the_owner_may_take_over_and_only_once(project, frontdesk, on_duty) -> None:
    visit = _covered_visit(project, frontdesk, on_duty)
    with pytest.raises(Forbidden):
        visit_take_over(visit_id=visit.pk, by=on_duty[1])
    for stranger in (on_duty[2], frontdesk):
        with pytest.raises(NotFound):
            visit_take_over(visit_id=visit.pk, by=stranger)
    assert Attribution.objects.filter(visit=visit).count() == 1
    visit_take_over(visit_id=visit.pk, by=on_duty[0])
    with pytest.raises(Conflict):
        visit_take_over(visit_id=visit.pk, by=on_duty[0])
    assert Attribution.objects.filter(visit=visit).count() == 2


def test_a_finished_visit_cannot_be_taken_over(project, frontdesk, on_duty) -> None:
    visit = _covered_visit(project, frontdesk, on_duty)
    visit_end(visit_id=visit.pk, by=on_duty[1], outcome="return")
    with pytest.raises(Conflict):
        visit_take_over(visit_id=visit.pk, by=on_duty[0])


def test_the_api_take_over_answers_200_then_409_and_404_to_others(
    client, project, frontdesk, on_duty, api_token_for
) -> None:
    visit = _covered_visit(project, frontdesk, on_duty)
    url = f"/api/v1/visits/{visit.pk}/take-over"
    assert client.post(url, headers=api_token_for(on_duty[2])).status_code == 404
    assert client.post(url, headers=api_token_for(on_duty[1])).status_code == 403
    owner_headers = api_token_for(on_duty[0])
    answer = client.post(url, headers=owner_headers)
    assert answer.status_code == 200 and answer.json()["consultant_id"] == on_duty[0].pk
    assert answer.json()["rule"] == AttributionRule.OWNER
    again = client.post(url, headers=owner_headers)
    assert again.status_code == 409 and again.json()["code"] == "visit_already_taken_over"


def test_the_visit_page_offers_the_owner_the_take_over_button(
    client_for, project, frontdesk, on_duty
) -> None:
    visit = _covered_visit(project, frontdesk, on_duty)
    colleague_page = client_for(on_duty[1]).get(f"/visits/{visit.pk}/")
    assert colleague_page.status_code == 200 and "接手接待" not in colleague_page.content.decode()
    client = client_for(on_duty[0])
    page = client.get(f"/visits/{visit.pk}/")
    assert "我已到场，接手接待" in page.content.decode()
    answer = client.post(f"/visits/{visit.pk}/take-over/", follow=True)
    assert "已接手" in answer.content.decode() and "我已到场，接手接待" not in answer.content.decode()
    assert Visit.objects.get(pk=visit.pk).consultant == on_duty[0]


def test_the_owners_phone_page_lists_the_covered_visitor_with_the_take_over_button(
    client_for, project, frontdesk, on_duty
) -> None:
    visit = _covered_visit(project, frontdesk, on_duty)
    client = client_for(on_duty[0])
    home = client.get("/").content.decode()
    assert "顾问2 正在代您接待这位客户" in home and f"/visits/{visit.pk}/take-over/" in home
    assert client.post(f"/visits/{visit.pk}/take-over/").status_code == 302
    assert "正在代您接待" not in client.get("/").content.decode()
