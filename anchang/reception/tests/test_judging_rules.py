"""Every row of the judging table (product.md §2) and its precedence, on the pure rule function."""

from dataclasses import fields
from datetime import timedelta

import pytest
from django.utils import timezone

from anchang.customers.models import AttributionRule as R
from anchang.reception.judging import JudgingInputs, Person, judge
from anchang.reception.models import VisitKind

NOW = timezone.now()
WANG = Person(1, "王顾问")
LI = Person(2, "李顾问")
ZHAO = Person(3, "赵顾问")


def facts(**overrides: object) -> JudgingInputs:
    base: dict[str, object] = {
        "phone": "+8613812345678",
        "now": NOW,
        "rule_set_version": 1,
        "on_duty": (1, 2, 3),
    }
    base.update(overrides)
    return JudgingInputs(**base)


def returning(owner: Person = WANG, days_left: int = 5, **extra: object) -> JudgingInputs:
    return facts(
        customer_id=9,
        has_visited=True,
        owner=owner,
        owner_active=True,
        protected_until=NOW + timedelta(days=days_left),
        **extra,
    )


def test_unknown_phone_is_a_first_visit_for_the_rotation() -> None:
    decision = judge(facts())
    assert (decision.visit_kind, decision.rule, decision.from_rotation) == (VisitKind.FIRST, R.ROTATION, True)
    assert decision.consumes_turn and decision.takes_ownership
    assert "首次到访" in decision.explanation


def test_protected_customer_returns_to_the_owner_without_a_turn() -> None:
    decision = judge(returning())
    assert (decision.visit_kind, decision.rule, decision.consultant) == (VisitKind.RETURN, R.OWNER, WANG)
    assert not decision.consumes_turn and not decision.from_rotation and not decision.takes_ownership
    assert "王顾问" in decision.explanation and "保护期" in decision.explanation


def test_protection_expired_goes_to_rotation_and_ownership_moves() -> None:
    decision = judge(returning(days_left=-1))
    assert (decision.visit_kind, decision.rule, decision.from_rotation) == (
        VisitKind.RETURN,
        R.ROTATION,
        True,
    )
    assert decision.takes_ownership
    assert "公客" in decision.explanation


def test_owner_who_left_the_company_does_not_protect() -> None:
    decision = judge(
        facts(
            customer_id=9,
            has_visited=True,
            owner=WANG,
            owner_active=False,
            protected_until=NOW + timedelta(days=5),
        )
    )
    assert decision.rule == R.ROTATION and decision.takes_ownership


def test_named_consultant_on_duty_receives() -> None:
    decision = judge(facts(designated=LI))
    assert (decision.rule, decision.consultant, decision.from_rotation) == (R.DESIGNATED, LI, False)
    assert not decision.consumes_turn and decision.takes_ownership


def test_named_consultant_off_duty_falls_back_to_rotation_with_a_note() -> None:
    decision = judge(facts(designated=LI, on_duty=(1, 3)))
    assert decision.rule == R.ROTATION and decision.from_rotation
    assert any("不在岗" in note for note in decision.notes)


def test_the_project_may_make_designated_receptions_consume_a_turn() -> None:
    assert judge(facts(designated=LI, designated_consumes_turn=True)).consumes_turn


def test_protected_owner_wins_over_a_named_consultant_and_both_names_are_shown() -> None:
    decision = judge(returning(designated=LI))
    assert (decision.rule, decision.consultant) == (R.OWNER, WANG)
    assert any("李顾问" in note and "王顾问" in note for note in decision.notes)


def test_owner_not_on_duty_is_covered_by_the_rotation_keeping_ownership() -> None:
    decision = judge(returning(on_duty=(2, 3)))
    assert (decision.rule, decision.from_rotation, decision.covering_for) == (
        R.COVERING_FOR_OWNER,
        True,
        WANG,
    )
    assert not decision.takes_ownership
    assert "代接待" in decision.explanation


def test_contract_holder_is_an_owner_visit_for_the_original_consultant() -> None:
    decision = judge(returning(is_company_owner=True, days_left=-100))
    assert (decision.visit_kind, decision.rule, decision.consultant) == (VisitKind.OWNER, R.OWNER_VISIT, WANG)
    assert not decision.consumes_turn


def test_contract_holder_whose_consultant_left_goes_to_rotation_without_a_turn() -> None:
    decision = judge(
        facts(customer_id=9, has_visited=True, is_company_owner=True, owner=WANG, owner_active=False)
    )
    assert (decision.rule, decision.from_rotation, decision.consumes_turn) == (R.OWNER_VISIT, True, False)


def test_owner_visit_wins_over_everything() -> None:
    decision = judge(
        returning(is_company_owner=True, designated=LI, channel_report_id=5, channel_consultant=ZHAO)
    )
    assert decision.rule == R.OWNER_VISIT


def test_valid_channel_report_goes_to_rotation_or_its_named_consultant() -> None:
    assert judge(facts(channel_report_id=5)).rule == R.CHANNEL
    assert judge(facts(channel_report_id=5)).from_rotation
    named = judge(facts(channel_report_id=5, channel_consultant=ZHAO))
    assert (named.consultant, named.from_rotation, named.consumes_turn) == (ZHAO, False, False)


def test_channel_report_wins_over_a_named_consultant_but_not_over_protection() -> None:
    assert judge(facts(channel_report_id=5, designated=LI)).rule == R.CHANNEL
    assert judge(returning(channel_report_id=5)).rule == R.OWNER


@pytest.mark.parametrize("has_visited", [False, True])
def test_inputs_are_recordable_as_json(has_visited: bool) -> None:
    import json

    record = facts(has_visited=has_visited, owner=WANG, protected_until=NOW).as_record()
    assert json.loads(json.dumps(record))["owner"] == {"id": 1, "name": "王顾问"}


def test_the_record_is_what_dataclasses_asdict_gives() -> None:
    """as_record builds the record field by field (cheaper than asdict's deep copy): the same values,
    and rows that are copies, so changing the record leaves the inputs alone."""
    from dataclasses import asdict

    queue = (
        {"consultant_id": 1, "state": "free", "position": 1},
        {"consultant_id": 2, "state": "off", "position": 2},
    )
    inputs = facts(owner=WANG, designated=WANG, protected_until=NOW, on_duty=(1,), queue=queue)
    record = inputs.as_record()
    expected = asdict(inputs)
    expected.update(
        now=NOW.isoformat(), protected_until=NOW.isoformat(), on_duty=[1], queue=[dict(row) for row in queue]
    )
    assert record == expected
    assert set(record) == {item.name for item in fields(inputs)}
    record["queue"][0]["state"] = "changed"
    assert inputs.queue[0]["state"] == "free"
