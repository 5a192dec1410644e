"""One queue per team (product.md §3): the team rules, lost and make-up turns within a team, empty teams."""

import pytest
from django.core.exceptions import ValidationError
from django.db import connection
from django.test.utils import CaptureQueriesContext

from anchang.accounts.models import Company, CompanyKind, Role, User
from anchang.accounts.testing import user_in
from anchang.customers.models import AttributionRule
from anchang.inventory.models import Project
from anchang.reception.models import RotationEntry, Visit, VisitState
from anchang.reception.rotation import rotation_lost_turn, rotation_sign_in
from anchang.reception.services import check_in, visit_assign_waiting, visit_end

pytestmark = pytest.mark.django_db


def _phone(i: int) -> str:
    return f"1381234{i:04d}"


@pytest.fixture
def agency() -> Company:
    return Company.objects.create(name="恒信房产代理", short_name="恒信代理", kind=CompanyKind.AGENCY)


def _team(project: Project, company: Company, names: list[str]) -> list[User]:
    return [user_in(project, role=Role.CONSULTANT, company=company, name=name) for name in names]


def _sign_in(project: Project, *people: User) -> None:
    for person in people:
        rotation_sign_in(project=project, consultant=person, by=person)


def _team_mode(project: Project, **settings: object) -> None:
    for field, value in {"rotation_mode": "teams", **settings}.items():
        setattr(project.settings, field, value)
    project.settings.full_clean()
    project.settings.save()


def _walk_in(project: Project, desk: User, i: int, *, end: bool = True) -> Visit:
    """A walk-in checked in; the reception ends at once (so everyone is free again) unless `end=False`."""
    visit = check_in(project=project, phone=_phone(i), by=desk, consent=True).visit
    if end and visit.consultant is not None:
        visit_end(visit_id=visit.pk, by=desk, outcome="return")
    return visit


def test_alternate_rule_takes_turns_between_the_teams_and_stores_why(project, frontdesk, agency) -> None:
    d1, d2 = _team(project, project.company, ["甲一", "甲二"])
    a1, a2 = _team(project, agency, ["乙一", "乙二"])
    _sign_in(project, d1, d2, a1, a2)  # one queue by sign-in: D1 D2 A1 A2
    _team_mode(project, team_rule="alternate")

    visits = [_walk_in(project, frontdesk, i, end=False) for i in range(4)]

    assert [v.consultant for v in visits] == [d1, a1, d2, a2]
    second = visits[1].attributions.get()
    team = second.inputs["team"]
    assert (team["rule"], team["team"], team["received_by_team"]) == (
        "alternate",
        str(agency.pk),
        str(agency.pk),
    )
    assert team["last_team"] == str(project.company_id)
    assert {s["key"]: s["turns"] for s in team["standings"]} == {
        str(project.company_id): 1,
        str(agency.pk): 0,
    }
    assert "团队轮流" in second.explanation and "恒信代理" in second.explanation


def test_share_rule_gives_the_walk_in_to_the_team_furthest_below_its_share(
    project, frontdesk, agency
) -> None:
    d1, d2 = _team(project, project.company, ["甲一", "甲二"])
    (a1,) = _team(project, agency, ["乙一"])
    _sign_in(project, d1, d2, a1)
    _team_mode(project, team_rule="share", team_shares={str(project.company_id): 75, str(agency.pk): 25})

    receivers = [_walk_in(project, frontdesk, i).consultant for i in range(4)]

    # 75/25: the tie at the start goes to the larger share, then whoever is furthest below: D A D D.
    teams = ["D" if r in (d1, d2) else "A" for r in receivers]
    assert teams == ["D", "A", "D", "D"]
    last = Visit.objects.get(customer__phone="+86" + _phone(3)).attributions.get()
    assert last.inputs["team"]["standings"][0]["share"] == 75
    assert "按每日配比" in last.explanation


def test_a_lost_turn_goes_to_the_end_of_the_consultants_own_team(project, frontdesk, manager, agency) -> None:
    d1, d2 = _team(project, project.company, ["甲一", "甲二"])
    (a1,) = _team(project, agency, ["乙一"])
    _sign_in(project, d1, d2, a1)
    _team_mode(project)
    rotation_lost_turn(project=project, consultant=d1, by=manager, reason="拒接")  # queue: D2 A1 D1

    first, second, third = (_walk_in(project, frontdesk, i, end=False) for i in range(3))

    assert first.consultant == d2, "the developer's turn, and D1 lost theirs within the team"
    assert (second.consultant, third.consultant) == (a1, d1)


def test_a_make_up_turn_puts_the_consultant_back_at_the_head_of_their_own_team(
    project, frontdesk, agency
) -> None:
    d1, d2 = _team(project, project.company, ["甲一", "甲二"])
    (a1,) = _team(project, agency, ["乙一"])
    _sign_in(project, d1, d2, a1)
    _team_mode(project)
    invalid = _walk_in(project, frontdesk, 0, end=False)
    visit_end(visit_id=invalid.pk, by=frontdesk, outcome="invalid", invalid_reason="问路")  # 补位 for D1

    to_agency, to_developer = (_walk_in(project, frontdesk, i, end=False) for i in (1, 2))

    assert to_agency.consultant == a1
    assert to_developer.consultant == d1, "D1 is back at the head of the developer's queue, before D2"
    assert RotationEntry.objects.get(consultant=d1).receptions == 1


def test_an_empty_team_without_overflow_keeps_the_visitor_waiting_for_it(
    project, frontdesk, agency, django_capture_on_commit_callbacks
) -> None:
    (d1,) = _team(project, project.company, ["甲一"])
    (a1,) = _team(project, agency, ["乙一"])
    _sign_in(project, d1)  # nobody of the agency has signed in
    _team_mode(
        project,
        team_rule="share",
        team_shares={str(project.company_id): 40, str(agency.pk): 60},
        team_overflow=False,
    )

    waiting = _walk_in(project, frontdesk, 0)

    assert (waiting.state, waiting.consultant) == (VisitState.WAITING, None)
    record = waiting.attributions.get()
    assert record.rule == AttributionRule.WAITING_FOR_CONSULTANT
    assert (
        record.inputs["team"]["team"] == str(agency.pk) and record.inputs["team"]["received_by_team"] is None
    )
    assert "恒信代理 暂无空闲顾问" in record.explanation
    assert RotationEntry.objects.get(consultant=d1).state == "waiting", (
        "the other team's consultant stays free"
    )

    with django_capture_on_commit_callbacks(execute=True):
        _sign_in(project, a1)  # signing in hands the waiting visitor over once it commits
    waiting.refresh_from_db()
    assert (waiting.state, waiting.consultant) == (VisitState.RECEIVING, a1)
    assigned = waiting.attributions.order_by("-pk").first()
    assert assigned is not None and assigned.inputs["team"]["received_by_team"] == str(agency.pk)


def test_a_visitor_waiting_for_one_team_does_not_hold_up_the_other_teams_visitor(
    project, frontdesk, agency
) -> None:
    (d1,) = _team(project, project.company, ["甲一"])
    (a1,) = _team(project, agency, ["乙一"])
    _sign_in(project, d1, a1)
    _team_mode(project, team_overflow=False)
    with_d1 = _walk_in(project, frontdesk, 0, end=False)
    with_a1 = _walk_in(project, frontdesk, 1, end=False)
    for_developer = _walk_in(project, frontdesk, 2)  # both busy: waits for the developer's team
    for_agency = _walk_in(project, frontdesk, 3)  # the alternation goes on: waits for the agency's team
    assert for_developer.state == for_agency.state == VisitState.WAITING

    visit_end(visit_id=with_a1.pk, by=a1, outcome="return")  # the agency's consultant is free again
    visit_assign_waiting(project_id=project.pk)  # what the end of a reception runs after its commit

    for_developer.refresh_from_db()
    for_agency.refresh_from_db()
    assert (for_developer.state, for_agency.consultant) == (VisitState.WAITING, a1)
    visit_end(visit_id=with_d1.pk, by=d1, outcome="return")
    visit_assign_waiting(project_id=project.pk)
    for_developer.refresh_from_db()
    assert for_developer.consultant == d1


def test_an_empty_team_with_overflow_hands_the_visitor_to_the_other_team(project, frontdesk, agency) -> None:
    (d1,) = _team(project, project.company, ["甲一"])
    _team(project, agency, ["乙一"])
    _sign_in(project, d1)
    _team_mode(project, team_rule="share", team_shares={str(project.company_id): 40, str(agency.pk): 60})

    visit = _walk_in(project, frontdesk, 0, end=False)

    assert visit.consultant == d1
    record = visit.attributions.get()
    assert record.inputs["team"]["team"] == str(agency.pk)
    assert record.inputs["team"]["received_by_team"] == str(project.company_id)
    assert "恒信代理 暂无空闲顾问，转由" in record.explanation


def test_returning_customers_still_go_to_their_owner_in_team_mode(project, frontdesk, agency) -> None:
    (d1,) = _team(project, project.company, ["甲一"])
    (a1,) = _team(project, agency, ["乙一"])
    _sign_in(project, d1, a1)
    _team_mode(project)
    _walk_in(project, frontdesk, 0)  # D1 becomes the owner; the next team would be the agency's

    again = _walk_in(project, frontdesk, 0, end=False)

    assert again.consultant == d1 and again.rule == AttributionRule.OWNER
    assert "team" not in again.attributions.get().inputs


def test_the_shared_queue_ignores_teams(project, frontdesk, agency) -> None:
    d1, d2 = _team(project, project.company, ["甲一", "甲二"])
    (a1,) = _team(project, agency, ["乙一"])
    _sign_in(project, d1, d2, a1)

    visits = [_walk_in(project, frontdesk, i, end=False) for i in range(3)]

    assert [v.consultant for v in visits] == [d1, d2, a1]
    assert "team" not in visits[0].attributions.get().inputs


@pytest.mark.parametrize(
    ("shares", "message"),
    [
        ({}, "请为各团队填写配比"),
        ({"DEV": 60, "AGENCY": 30}, "合计须为 100%，现为 90%"),
        ({"DEV": 60, "99999": 40}, "不是本项目的团队：99999"),
        ({"DEV": 120, "AGENCY": -20}, "0–100 的整数"),
        ({"DEV": "60", "AGENCY": 40}, "0–100 的整数"),
    ],
)
def test_team_shares_must_name_the_projects_teams_and_add_up_to_100(project, agency, shares, message) -> None:
    _team(project, project.company, ["甲一"])
    _team(project, agency, ["乙一"])
    keys = {"DEV": str(project.company_id), "AGENCY": str(agency.pk)}
    project.settings.rotation_mode, project.settings.team_rule = "teams", "share"
    project.settings.team_shares = {keys.get(k, k): v for k, v in shares.items()}
    with pytest.raises(ValidationError) as caught:
        project.settings.full_clean()
    assert message in " ".join(caught.value.message_dict["team_shares"])


def test_team_mode_costs_the_lock_the_standings_and_the_last_turn_over_the_shared_queue(
    project, frontdesk, agency
) -> None:
    """The shared queue pays nothing for teams; team mode pins what it adds to a new visitor's check-in:
    the choice's lock and the day's standings, and the alternation's last turn."""
    people = [
        *_team(project, project.company, ["甲一", "甲二", "甲三"]),
        *_team(project, agency, ["乙一", "乙二"]),
    ]
    _sign_in(project, *people)
    _walk_in(project, frontdesk, 0, end=False)  # warm: the first check-in of a test reads more

    def statements(i: int) -> int:
        with CaptureQueriesContext(connection) as done:
            _walk_in(project, frontdesk, i, end=False)
        return len(done.captured_queries)

    shared = statements(1)
    _team_mode(project, team_rule="alternate")
    alternate = statements(2)
    _team_mode(project, team_rule="share", team_shares={str(project.company_id): 50, str(agency.pk): 50})
    share = statements(3)

    assert (alternate - shared, share - shared) == (3, 2)
