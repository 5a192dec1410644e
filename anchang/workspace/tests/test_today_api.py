"""GET /projects/{pid}/today: the manager's and the desk's day in figures."""

from datetime import timedelta

import pytest
from django.utils import timezone

from anchang.accounts.models import Role
from anchang.accounts.testing import user_in
from anchang.customers.models import AttributionRule, Customer
from anchang.followups.models import FollowUp
from anchang.reception.models import Visit, VisitKind, VisitState
from anchang.reception.rotation import rotation_set_state

pytestmark = pytest.mark.django_db


def visit(project, phone, *, kind=VisitKind.FIRST, state=VisitState.RECEIVING, at=None) -> Visit:
    customer, _ = Customer.objects.get_or_create(
        project=project, phone=f"+86{phone}", defaults={"name": "王小明"}
    )
    return Visit.objects.create(
        project=project,
        customer=customer,
        kind=kind,
        state=state,
        rule=AttributionRule.ROTATION,
        checked_in_at=at or timezone.now(),
    )


def url(project) -> str:
    return f"/api/v1/projects/{project.pk}/today"


def test_the_day_in_figures(client, project, manager, on_duty, api_token_for) -> None:
    visit(project, "13812340001")
    visit(project, "13812340002", kind=VisitKind.RETURN, state=VisitState.WAITING)
    visit(project, "13812340003", kind=VisitKind.OWNER, state=VisitState.ENDED)
    visit(project, "13812340004", state=VisitState.INVALID)
    visit(project, "13812340005", at=timezone.now() - timedelta(days=1))  # yesterday: not counted
    rotation_set_state(project=project, consultant=on_duty[2], state="away", by=on_duty[2])
    customer = Customer.objects.get(phone="+8613812340001")
    FollowUp.objects.create(
        customer=customer, consultant=on_duty[0], method="phone", due_at=timezone.now() - timedelta(days=2)
    )

    response = client.get(url(project), headers=api_token_for(manager))

    assert response.status_code == 200, response.content
    body = response.json()
    assert body["date"] == str(timezone.localdate())
    assert body["visits"] == {
        "total": 4,
        "first": 2,
        "returning": 1,
        "owner": 1,
        "waiting": 1,
        "with_consultant": 1,
        "checked_out": 2,
    }
    assert body["queue"] == {"waiting": 2, "receiving": 0, "away": 1, "off": 0}
    assert body["appointments"] == {"booked": 0, "checked_in": 0, "cancelled": 0, "no_show": 0}
    assert body["vip_tasks_overdue"] == 0
    [overdue] = body["follow_ups_overdue"]
    assert overdue["consultant_id"] == on_duty[0].pk and overdue["count"] == 1
    assert overdue["oldest_due_at"].endswith("+08:00")
    assert body["units"]["total"] == 12 and body["units"]["available"] == 12
    assert body["units"]["sold_amount"] == "0.00"


def test_the_desk_may_consultants_and_strangers_may_not(
    client, project, other_project, frontdesk, consultant, api_token_for
) -> None:
    stranger = user_in(other_project, role=Role.MANAGER, username="elsewhere")

    assert client.get(url(project), headers=api_token_for(frontdesk)).status_code == 200
    assert client.get(url(project), headers=api_token_for(consultant)).status_code == 403
    assert client.get(url(project), headers=api_token_for(stranger)).status_code == 404


@pytest.mark.parametrize("rows", [1, 10])
def test_query_budget(client, project, manager, api_token_for, django_assert_max_num_queries, rows) -> None:
    for i in range(rows):
        visit(project, f"138123400{i:02d}")
    headers = api_token_for(manager)

    # token and user, project, then one aggregate each: visits, queue, appointments, VIP tasks overdue,
    # follow-ups overdue, units
    with django_assert_max_num_queries(8):
        response = client.get(url(project), headers=headers)

    assert response.json()["visits"]["total"] == rows


def test_the_administrator_s_overview(
    client, project, admin_user, manager, consultant, api_token_for
) -> None:
    response = client.get("/api/v1/overview", headers=api_token_for(admin_user))

    assert response.status_code == 200, response.content
    body = response.json()
    assert {"id": project.pk, "name": project.name, "city": project.city, "units": 12} in body["projects"]
    by_role = {row["role"]: row for row in body["active_users_by_role"]}
    assert by_role["manager"]["users"] == 1 and by_role["consultant"]["role_label"] == "置业顾问"
    assert all(set(company) == {"id", "name", "kind", "users"} for company in body["companies"])
    assert client.get("/api/v1/overview", headers=api_token_for(manager)).status_code == 403


def test_the_overview_query_budget(
    client, project, admin_user, api_token_for, django_assert_max_num_queries
) -> None:
    headers = api_token_for(admin_user)

    # token and user, companies, projects, users per role
    with django_assert_max_num_queries(4):
        assert client.get("/api/v1/overview", headers=headers).status_code == 200
