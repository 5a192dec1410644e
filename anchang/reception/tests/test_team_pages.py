"""Team queues at the desk and over the API: the rotation page and API grouped per team, the preview
naming the team whose turn it is, the manager's fairness page and its JSON, and the queue settings."""

import json

import pytest
from django.forms import model_to_dict, modelform_factory
from django.urls import reverse

from anchang.accounts.models import Company, CompanyKind, Role, User
from anchang.accounts.navigation import nav_items
from anchang.accounts.testing import user_in
from anchang.inventory.models import Project, ProjectSettings
from anchang.reception.rotation import rotation_lost_turn, rotation_set_state, rotation_sign_in
from anchang.reception.services import check_in, visit_end
from anchang.reception.teams.fairness import fairness_for

pytestmark = pytest.mark.django_db


@pytest.fixture
def agency() -> Company:
    return Company.objects.create(name="恒信房产代理", short_name="恒信代理", kind=CompanyKind.AGENCY)


@pytest.fixture
def teams(project: Project, agency: Company) -> dict[str, list[User]]:
    """Two developer and two agency consultants signed in as D1 D2 A1 A2; the project in team mode."""
    people = {
        "D": [
            user_in(project, role=Role.CONSULTANT, company=project.company, name=n) for n in ("甲一", "甲二")
        ],
        "A": [user_in(project, role=Role.CONSULTANT, company=agency, name=n) for n in ("乙一", "乙二")],
    }
    for person in [*people["D"], *people["A"]]:
        rotation_sign_in(project=project, consultant=person, by=person)
    ProjectSettings.objects.filter(project=project).update(rotation_mode="teams")
    project.settings.refresh_from_db()
    return people


def _day_of_receptions(project: Project, desk: User, manager: User, teams: dict[str, list[User]]) -> None:
    """Four walk-ins (one invalid: a make-up turn) and a lost turn."""
    for i in range(4):
        visit = check_in(project=project, phone=f"1381234{i:04d}", by=desk, consent=True).visit
        outcome = "invalid" if i == 1 else "return"
        visit_end(visit_id=visit.pk, by=desk, outcome=outcome, invalid_reason="问路" if i == 1 else "")
    rotation_lost_turn(project=project, consultant=teams["A"][1], by=manager, reason="拒接")


def test_the_rotation_page_groups_the_queue_per_team_with_positions_in_each(
    client_for, project, frontdesk, manager, teams
) -> None:
    rotation_lost_turn(project=project, consultant=teams["D"][0], by=manager, reason="拒接")  # D2 A1 A2 D1

    page = client_for(frontdesk).get(reverse("reception:rotation", args=[project.pk]))

    assert page.status_code == 200
    groups = page.context["groups"]
    assert [g.name for g in groups] == [str(project.company), "恒信代理"]
    assert [(pos, e.consultant) for pos, e in groups[0].entries] == [(1, teams["D"][1]), (2, teams["D"][0])]
    assert [(pos, e.consultant) for pos, e in groups[1].entries] == [(1, teams["A"][0]), (2, teams["A"][1])]
    html = page.content.decode()
    assert "恒信代理 队列" in html and html.count('class="panel mb-3 team-queue"') == 2
    assert "分团队排队 · 团队轮流" in html and "设置与接待公平性" not in html, (
        "the settings are the manager's"
    )
    assert (
        "设置与接待公平性"
        in client_for(manager).get(reverse("reception:rotation", args=[project.pk])).content.decode()
    )


def test_the_shared_queue_page_is_one_list_naming_each_consultants_team(
    client_for, project, frontdesk, teams
) -> None:
    ProjectSettings.objects.filter(project=project).update(rotation_mode="single")
    page = client_for(frontdesk).get(reverse("reception:rotation", args=[project.pk]))
    (only,) = page.context["groups"]
    assert only.key is None and [pos for pos, _ in only.entries] == [1, 2, 3, 4]
    assert "恒信代理" in page.content.decode() and "队列" not in page.content.decode().split("今日轮排")[1]


def test_the_rotation_api_adds_the_team_and_groups_the_queue_in_team_mode(
    client, project, manager, teams, agency, api_token_for
) -> None:
    body = client.get(f"/api/v1/projects/{project.pk}/rotation", headers=api_token_for(manager)).json()

    assert body["mode"] == "teams"
    assert [(e["name"], e["team"], e["team_id"], e["position"]) for e in body["queue"]] == [
        ("甲一", str(project.company), project.company_id, 1),
        ("甲二", str(project.company), project.company_id, 2),
        ("乙一", "恒信代理", agency.pk, 1),
        ("乙二", "恒信代理", agency.pk, 2),
    ]
    assert [(t["team_id"], t["team"], t["waiting"], len(t["queue"])) for t in body["teams"]] == [
        (project.company_id, str(project.company), 2, 2),
        (agency.pk, "恒信代理", 2, 2),
    ]
    assert set(body["queue"][0]) == {"consultant_id", "name", "state", "position", "team_id", "team"}


def test_the_desk_preview_names_the_team_whose_turn_it_is(client_for, project, frontdesk, teams) -> None:
    check_in(project=project, phone="13812340000", by=frontdesk, consent=True)  # the developer's turn

    preview = client_for(frontdesk).get(
        reverse("reception:checkin_preview", args=[project.pk]), {"phone_or_code": "13912345678"}
    )

    html = preview.content.decode()
    assert "轮到 恒信代理 团队" in html
    assert preview.context["next_up"] == teams["A"][0], (
        "the head of the agency's queue, not of the whole queue"
    )


def test_the_fairness_page_counts_per_consultant_and_team_in_a_fixed_number_of_queries(
    client_for, project, frontdesk, manager, teams, django_assert_num_queries
) -> None:
    _day_of_receptions(project, frontdesk, manager, teams)
    with django_assert_num_queries(4):
        fairness = fairness_for(project=project, settings=project.settings)
    rows = {row.name: row.counts for row in fairness.consultants}
    # Alternating D A D A: D1 received, A1's was invalid (made up), D2 received, A1 again (back at the head).
    assert (rows["甲一"].received_today, rows["甲二"].received_today) == (1, 1)
    assert (rows["乙一"].received_today, rows["乙一"].made_up_today, rows["乙一"].turns_today) == (1, 1, 1)
    assert rows["乙二"].lost_today == rows["乙二"].lost_month == 1
    developer, agency_row = fairness.teams
    assert (developer.counts.received_month, agency_row.counts.received_month) == (2, 1)
    assert fairness.total.turns_today == 3

    client = client_for(manager)
    url = reverse("teams:fairness", args=[project.pk])
    client.get(url)  # the session and the navigation's first reads
    with django_assert_num_queries(12) as few:
        page = client.get(url)
    for i in range(3):  # more people and visits: the same number of queries
        extra = user_in(project, role=Role.CONSULTANT, company=project.company, name=f"甲{i + 3}")
        rotation_sign_in(project=project, consultant=extra, by=extra)
        check_in(project=project, phone=f"1391234{i:04d}", by=frontdesk, consent=True)
    with django_assert_num_queries(len(few.captured_queries)):
        page = client.get(url)
    assert page.status_code == 200
    html = page.content.decode()
    assert "接待公平性" in html and "恒信代理" in html and "甲3" in html


def test_the_fairness_page_is_the_managers(client_for, project, frontdesk, consultant, manager) -> None:
    url = reverse("teams:fairness", args=[project.pk])
    assert client_for(frontdesk).get(url).status_code == 404
    assert client_for(consultant).get(url).status_code == 404
    assert "fairness" in [item.key for item in nav_items(Role.MANAGER, project, False)]
    assert "fairness" not in [item.key for item in nav_items(Role.FRONTDESK, project, False)]
    assert "fairness" not in [item.key for item in nav_items(Role.CONSULTANT, project, False)]


def test_the_fairness_api_answers_the_same_counts(
    client, project, frontdesk, manager, teams, agency, api_token_for
) -> None:
    _day_of_receptions(project, frontdesk, manager, teams)
    response = client.get(f"/api/v1/projects/{project.pk}/rotation/fairness", headers=api_token_for(manager))
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["settings"] == {
        "rotation_mode": "teams",
        "team_rule": "alternate",
        "team_overflow": True,
        "team_shares": {},
    }
    by_team = {t["team_id"]: t for t in body["teams"]}
    assert by_team[agency.pk]["received_today"] == 1 and by_team[agency.pk]["lost_today"] == 1
    assert by_team[agency.pk]["made_up_month"] == 1 and by_team[project.company_id]["turns_today"] == 2
    assert body["total"]["received_month"] == 3
    forbidden = client.get(
        f"/api/v1/projects/{project.pk}/rotation/fairness", headers=api_token_for(frontdesk)
    )
    assert forbidden.status_code == 403


def test_the_manager_sets_a_share_rule_on_the_page(client_for, project, manager, teams, agency) -> None:
    url = reverse("teams:fairness", args=[project.pk])
    version = project.settings.rule_set_version
    response = client_for(manager).post(
        url,
        {
            "rotation_mode": "teams",
            "team_rule": "share",
            "team_overflow": "",
            f"share_{project.company_id}": "60",
            f"share_{agency.pk}": "40",
        },
    )
    assert response.status_code == 302
    settings = ProjectSettings.objects.get(project=project)
    assert (settings.team_rule, settings.team_overflow) == ("share", False)
    assert settings.team_shares == {str(project.company_id): 60, str(agency.pk): 40}
    assert settings.rule_set_version == version + 1, "attributions name the rules they were decided by"


def test_shares_that_do_not_add_up_are_refused_on_the_page_and_nothing_changes(
    client_for, project, manager, teams, agency
) -> None:
    response = client_for(manager).post(
        reverse("teams:fairness", args=[project.pk]),
        {
            "rotation_mode": "teams",
            "team_rule": "share",
            "team_overflow": "on",
            f"share_{project.company_id}": "60",
            f"share_{agency.pk}": "30",
        },
    )
    assert response.status_code == 400
    assert "各团队配比合计须为 100%，现为 90%" in response.content.decode()
    settings = ProjectSettings.objects.get(project=project)
    assert (settings.team_rule, settings.team_shares) == ("alternate", {})


def test_the_settings_api_validates_teams_and_shares(
    client, project, manager, frontdesk, teams, agency, api_token_for
) -> None:
    url = f"/api/v1/projects/{project.pk}/rotation/settings"
    headers = api_token_for(manager)
    unknown = client.put(
        url,
        {"rotation_mode": "teams", "team_rule": "share", "team_shares": {"999999": 100}},
        content_type="application/json",
        headers=headers,
    )
    assert unknown.status_code == 400
    assert "不是本项目的团队" in str(unknown.json())
    ok = client.put(
        url,
        {"rotation_mode": "teams", "team_rule": "share", "team_shares": {str(agency.pk): 100}},
        content_type="application/json",
        headers=headers,
    )
    assert ok.status_code == 200 and ok.json()["team_shares"] == {str(agency.pk): 100}
    refused = client.put(
        url, {"rotation_mode": "single"}, content_type="application/json", headers=api_token_for(frontdesk)
    )
    assert refused.status_code == 403
    assert ProjectSettings.objects.get(project=project).rotation_mode == "teams"


def test_a_visitor_waiting_for_an_empty_team_is_on_the_hall_board(
    client_for, project, frontdesk, agency, teams
) -> None:
    ProjectSettings.objects.filter(project=project).update(
        team_rule="share", team_shares={str(project.company_id): 40, str(agency.pk): 60}, team_overflow=False
    )
    project.settings.refresh_from_db()
    for person in teams["A"]:
        rotation_set_state(project=project, consultant=person, state="off", by=person)

    visit = check_in(project=project, phone="13812345678", name="王小明", by=frontdesk, consent=True).visit

    board = client_for(frontdesk).get(reverse("reception:hall", args=[project.pk]))
    assert [w.visit for w in board.context["waiting"]] == [visit]
    assert "等 恒信代理" in board.content.decode(), "whom the visitor waits for"
    desk = client_for(frontdesk).get(reverse("reception:desk_live", args=[project.pk]))
    assert "等 恒信代理" in desk.content.decode()


def test_the_admin_form_of_project_settings_refuses_shares_that_do_not_add_up(project, agency, teams) -> None:
    form_class = modelform_factory(ProjectSettings, exclude=["project"])
    data = {
        **model_to_dict(project.settings, exclude=["id", "project"]),
        "rotation_mode": "teams",
        "team_rule": "share",
        "team_shares": json.dumps({str(project.company_id): 70, str(agency.pk): 40}),
        "mandatory_registration_fields": json.dumps(project.settings.mandatory_registration_fields),
    }
    form = form_class(data, instance=project.settings)
    assert not form.is_valid()
    assert "各团队配比合计须为 100%，现为 110%" in form.errors["team_shares"][0]
