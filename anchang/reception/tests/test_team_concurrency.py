"""R1 in team mode on PostgreSQL with real threads: desks checking in walk-ins at the same moment never
get the same consultant, each team's queue included; with a control that shows the race in one team's
queue without the guard."""

import threading

import pytest
from django.db import transaction

from anchang.accounts.models import Company, CompanyKind, Role, User
from anchang.accounts.testing import user_in
from anchang.core.testing.races import run_in_parallel
from anchang.inventory.models import Project, ProjectSettings
from anchang.inventory.testing import project_with_units
from anchang.reception.models import QueueState, RotationEntry, Visit, VisitState
from anchang.reception.rotation import rotation_sign_in, today
from anchang.reception.services import check_in

pytestmark = [pytest.mark.postgres_only, pytest.mark.django_db(transaction=True)]


def _team_site(per_team: int, **settings: object) -> tuple[Project, User, dict[str, list[User]]]:
    project = project_with_units(buildings=1, floors=1, units_per_floor=1)
    agency = Company.objects.create(name="恒信房产代理", short_name="恒信代理", kind=CompanyKind.AGENCY)
    desk = user_in(project, role=Role.FRONTDESK)
    teams = {
        "D": [user_in(project, role=Role.CONSULTANT, company=project.company) for _ in range(per_team)],
        "A": [user_in(project, role=Role.CONSULTANT, company=agency) for _ in range(per_team)],
    }
    for consultant in [*teams["D"], *teams["A"]]:
        rotation_sign_in(project=project, consultant=consultant, by=consultant)
    ProjectSettings.objects.filter(project=project).update(rotation_mode="teams", **settings)
    return project, desk, teams


def _walk_ins(project: Project, desk: User, n: int) -> list[object]:
    project = Project.objects.get(pk=project.pk)  # the settings as saved, read by every thread
    return run_in_parallel(
        lambda i: check_in(project=project, phone=f"1381234{i:04d}", by=desk, consent=True), n
    )


@pytest.mark.parametrize("rule", ["alternate", "share"])
def test_desks_in_team_mode_never_get_the_same_consultant(rule: str) -> None:
    project, desk, teams = _team_site(per_team=2, team_rule=rule, team_shares={})
    if rule == "share":
        ProjectSettings.objects.filter(project=project).update(
            team_shares={str(teams["D"][0].company_id): 50, str(teams["A"][0].company_id): 50}
        )

    outcomes = _walk_ins(project, desk, 10)

    assert not [o for o in outcomes if isinstance(o, Exception)], outcomes
    receivers = list(
        Visit.objects.filter(project=project, consultant__isnull=False).values_list(
            "consultant_id", flat=True
        )
    )
    assert sorted(receivers) == sorted(u.pk for u in [*teams["D"], *teams["A"]]), (
        "four people, one visitor each"
    )
    assert Visit.objects.filter(project=project, state=VisitState.WAITING).count() == 6, (
        "the rest wait, none lost"
    )
    assert set(RotationEntry.objects.filter(project=project).values_list("state", "receptions")) == {
        (QueueState.RECEIVING, 1)
    }


def test_desks_racing_for_a_team_with_one_consultant_and_no_overflow_give_them_one_visitor() -> None:
    project, desk, teams = _team_site(per_team=1, team_overflow=False)

    outcomes = _walk_ins(project, desk, 6)

    assert not [o for o in outcomes if isinstance(o, Exception)], outcomes
    for consultant in [*teams["D"], *teams["A"]]:
        assert Visit.objects.filter(consultant=consultant).count() == 1
    assert Visit.objects.filter(project=project).count() == 6
    assert Visit.objects.filter(project=project, state=VisitState.WAITING).count() == 4


def test_control_a_team_claim_without_lock_or_condition_double_assigns() -> None:
    """The race the guard prevents, within one team's queue: read its head, then write unconditionally."""
    project, _desk, teams = _team_site(per_team=1)
    team_key = str(teams["A"][0].company_id)
    read_done = threading.Barrier(6)

    def naive_team_claim(_: int) -> int:
        with transaction.atomic():
            head = (
                RotationEntry.objects.filter(
                    project=project, day=today(), state=QueueState.WAITING, team_key=team_key
                )
                .order_by("position")
                .first()
            )
            read_done.wait()
            if head is None:
                return 0
            RotationEntry.objects.filter(pk=head.pk).update(state=QueueState.RECEIVING)
            return head.consultant_id

    claimed = run_in_parallel(naive_team_claim, 6)
    assert claimed.count(teams["A"][0].pk) > 1
