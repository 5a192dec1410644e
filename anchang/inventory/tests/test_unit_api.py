"""GET /units/{uid} and GET /projects/{pid}/unit-changes: the unit page and the manager's latest changes."""

import pytest

from anchang.accounts.models import Role
from anchang.accounts.testing import user_in
from anchang.inventory.models import Unit, UnitStatus
from anchang.inventory.services import unit_change_status

pytestmark = pytest.mark.django_db


def test_a_unit_with_its_history_newest_first(client, project, manager, consultant, api_token_for) -> None:
    unit = Unit.objects.filter(project=project).order_by("pk").first()
    unit_change_status(unit_id=unit.pk, to_status=UnitStatus.RESERVED, by=manager, reason="认筹客户保留")
    unit_change_status(unit_id=unit.pk, to_status=UnitStatus.AVAILABLE, by=manager, reason="解除")

    response = client.get(f"/api/v1/units/{unit.pk}", headers=api_token_for(consultant))

    assert response.status_code == 200, response.content
    body = response.json()
    assert body["id"] == unit.pk and body["status"] == "available" and body["status_label"] == "可售"
    assert body["total_price"] == f"{unit.list_price_total:.2f}"
    assert [(h["status"], h["reason"]) for h in body["history"][:2]] == [
        ("available", "解除"),
        ("reserved", "认筹客户保留"),
    ]
    assert body["history"][0]["by_name"] == manager.display_name and body["history"][0]["at"].endswith(
        "+08:00"
    )


def test_latest_changes_of_the_project(client, project, manager, api_token_for) -> None:
    first, second = Unit.objects.filter(project=project).order_by("pk")[:2]
    unit_change_status(unit_id=first.pk, to_status=UnitStatus.RESERVED, by=manager, reason="预留")
    unit_change_status(unit_id=second.pk, to_status=UnitStatus.RESERVED, by=manager, reason="预留")
    headers = api_token_for(manager)

    items = client.get(f"/api/v1/projects/{project.pk}/unit-changes", headers=headers).json()["items"]
    one = client.get(f"/api/v1/projects/{project.pk}/unit-changes", {"limit": 1}, headers=headers).json()

    assert [item["unit_id"] for item in items[:2]] == [second.pk, first.pk]
    assert items[0]["unit"] == second.label and items[0]["status_label"] == "认筹"
    assert len(one["items"]) == 1
    bad = client.get(f"/api/v1/projects/{project.pk}/unit-changes", {"limit": 0}, headers=headers)
    assert bad.status_code == 400 and "limit" in bad.json()["fields"]


def test_strangers_and_roles_without_the_board(
    client, project, other_project, agent, service, api_token_for
) -> None:
    unit = Unit.objects.filter(project=project).first()
    stranger = user_in(other_project, role=Role.MANAGER, username="elsewhere")

    assert client.get(f"/api/v1/units/{unit.pk}", headers=api_token_for(stranger)).status_code == 404
    assert client.get("/api/v1/units/999999", headers=api_token_for(agent)).status_code == 404
    assert client.get(f"/api/v1/units/{unit.pk}", headers=api_token_for(service)).status_code == 403
    assert (
        client.get(f"/api/v1/projects/{project.pk}/unit-changes", headers=api_token_for(agent)).status_code
        == 403
    )


def test_query_budgets(client, project, manager, api_token_for, django_assert_max_num_queries) -> None:
    units = list(Unit.objects.filter(project=project).order_by("pk")[:4])
    for unit in units:
        unit_change_status(unit_id=unit.pk, to_status=UnitStatus.RESERVED, by=manager, reason="预留")
    headers = api_token_for(manager)

    # token and user, the unit, membership, the permission's role check, history with its users
    with django_assert_max_num_queries(6):
        assert client.get(f"/api/v1/units/{units[0].pk}", headers=headers).status_code == 200
    with django_assert_max_num_queries(4):  # token and user, project, changes with users and buildings
        assert client.get(f"/api/v1/projects/{project.pk}/unit-changes", headers=headers).status_code == 200
