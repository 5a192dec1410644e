"""销控: the one way to hold a unit (services, API, unit page), the holds page and the expiry job."""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from anchang.accounts.testing import user_in
from anchang.core import periodic
from anchang.core.errors import Conflict, Forbidden, InvalidInput
from anchang.deals.jobs import release_expired_holds
from anchang.deals.models import Hold
from anchang.deals.services import hold_create, hold_release, holds_release_expired
from anchang.deals.tests.helpers import count_queries, customer_of, subscribe, units_of
from anchang.inventory.models import UnitStatus
from anchang.inventory.services import UnitNotAvailable

pytestmark = pytest.mark.django_db


def _status(unit) -> str:
    unit.refresh_from_db()
    return unit.status


def test_a_manager_holds_with_a_reason_and_the_unit_cannot_be_subscribed(
    project, manager, consultant
) -> None:
    unit = units_of(project)[0]
    until = timezone.now() + timedelta(days=2)

    hold = hold_create(unit_id=unit.pk, reason="领导预留", expires_at=until, by=manager)

    assert (hold.reason, hold.expires_at, hold.created_by) == ("领导预留", until, manager)
    assert _status(unit) == UnitStatus.HELD
    last = unit.history.order_by("-history_date").first()
    assert (last.history_user, last.history_change_reason) == (manager, "销控：领导预留")
    with pytest.raises(UnitNotAvailable) as caught:
        subscribe(unit, customer_of(project, consultant), consultant)
    assert "销控" in caught.value.message


def test_release_puts_the_unit_back_on_sale(project, manager) -> None:
    unit = units_of(project)[0]
    hold_create(unit_id=unit.pk, reason="领导预留", by=manager)

    hold = hold_release(unit_id=unit.pk, by=manager, reason="按计划放盘")

    assert (hold.released_by, hold.release_reason) == (manager, "按计划放盘")
    assert hold.released_at is not None
    assert _status(unit) == UnitStatus.AVAILABLE


def test_only_managers_hold_and_release(project, manager, consultant, frontdesk) -> None:
    unit = units_of(project)[0]
    for user in (consultant, frontdesk):
        with pytest.raises(Forbidden):
            hold_create(unit_id=unit.pk, reason="x", by=user)
    assert _status(unit) == UnitStatus.AVAILABLE
    hold_create(unit_id=unit.pk, reason="领导预留", by=manager)
    with pytest.raises(Forbidden):
        hold_release(unit_id=unit.pk, by=consultant, reason="x")
    assert _status(unit) == UnitStatus.HELD


@pytest.mark.parametrize(
    ("reason", "expires_in", "field"),
    [
        ("", timedelta(days=1), "reason"),
        ("   ", None, "reason"),
        ("领导预留", -timedelta(minutes=1), "expires_at"),
    ],
)
def test_a_hold_needs_a_reason_and_a_future_end(project, manager, reason, expires_in, field) -> None:
    unit = units_of(project)[0]
    expires_at = timezone.now() + expires_in if expires_in is not None else None
    with pytest.raises(InvalidInput) as caught:
        hold_create(unit_id=unit.pk, reason=reason, expires_at=expires_at, by=manager)
    assert field in caught.value.fields
    assert _status(unit) == UnitStatus.AVAILABLE
    assert not Hold.objects.exists()


def test_a_sold_unit_cannot_be_held(project, manager, consultant) -> None:
    unit = units_of(project)[0]
    subscribe(unit, customer_of(project, consultant), consultant)
    with pytest.raises(Conflict) as caught:
        hold_create(unit_id=unit.pk, reason="领导预留", by=manager)
    assert caught.value.code == "unit_not_available"
    assert _status(unit) == UnitStatus.SUBSCRIBED
    assert not Hold.objects.exists()


def test_releasing_a_unit_that_is_not_held_is_a_conflict(project, manager) -> None:
    with pytest.raises(Conflict) as caught:
        hold_release(unit_id=units_of(project)[0].pk, by=manager, reason="x")
    assert caught.value.code == "not_held"


# --- the expiry job (R5) -----------------------------------------------------------------------------------


def _holds(project, manager):
    units = units_of(project)
    now = timezone.now()
    due = [
        hold_create(unit_id=u.pk, reason="短期预留", expires_at=now + timedelta(hours=1), by=manager)
        for u in units[:2]
    ]
    later = hold_create(
        unit_id=units[2].pk, reason="下周放盘", expires_at=now + timedelta(days=7), by=manager
    )
    forever = hold_create(unit_id=units[3].pk, reason="领导预留", by=manager)
    return units, due, later, forever


def test_the_job_releases_due_holds_and_leaves_the_others(project, manager) -> None:
    units, due, later, forever = _holds(project, manager)
    moment = timezone.now() + timedelta(hours=2)

    assert holds_release_expired(now=moment) == 2

    assert [_status(u) for u in units[:4]] == [
        UnitStatus.AVAILABLE,
        UnitStatus.AVAILABLE,
        UnitStatus.HELD,
        UnitStatus.HELD,
    ]
    for hold in due:
        hold.refresh_from_db()
        assert hold.released_at is not None and hold.released_by is None
        assert hold.release_reason == "到期自动解除"
    later.refresh_from_db()
    forever.refresh_from_db()
    assert later.released_at is None and forever.released_at is None


def test_running_the_job_twice_is_the_same_as_once(project, manager) -> None:
    units, _due, _later, _forever = _holds(project, manager)
    moment = timezone.now() + timedelta(hours=2)

    first = holds_release_expired(now=moment)
    statuses = [_status(u) for u in units]
    history = sum(u.history.count() for u in units)
    second = holds_release_expired(now=moment)

    assert (first, second) == (2, 0)
    assert [_status(u) for u in units] == statuses
    assert sum(u.history.count() for u in units) == history


def test_the_job_is_registered_with_the_periodic_runner(project, manager) -> None:
    unit = units_of(project)[0]
    hold = hold_create(
        unit_id=unit.pk, reason="短期预留", expires_at=timezone.now() + timedelta(hours=1), by=manager
    )
    Hold.objects.filter(pk=hold.pk).update(expires_at=timezone.now() - timedelta(minutes=1))

    [outcome] = periodic.tick(["deals.release_expired_holds"])

    assert (outcome.status, outcome.result) == ("ran", {"holds_released": 1})
    assert _status(unit) == UnitStatus.AVAILABLE
    assert release_expired_holds() == {"holds_released": 0}


# --- API ------------------------------------------------------------------------------------------------


def _in_a_month() -> str:
    return (timezone.localdate() + timedelta(days=30)).isoformat()


def test_api_hold_and_release(client, project, manager, api_token_for) -> None:
    unit = units_of(project)[0]
    headers = api_token_for(manager)
    day = _in_a_month()

    held = client.post(
        f"/api/v1/units/{unit.pk}/hold",
        {"reason": "领导预留", "expires_at": f"{day}T18:00:00+08:00"},
        content_type="application/json",
        headers=headers,
    )
    assert held.status_code == 201, held.content
    assert held.json()["reason"] == "领导预留"
    assert held.json()["expires_at"].startswith(f"{day}T18:00:00")
    assert _status(unit) == UnitStatus.HELD

    released = client.post(
        f"/api/v1/units/{unit.pk}/release",
        {"reason": "按计划放盘"},
        content_type="application/json",
        headers=headers,
    )
    assert released.status_code == 200, released.content
    assert released.json()["release_reason"] == "按计划放盘"
    assert _status(unit) == UnitStatus.AVAILABLE


def test_api_hold_by_a_consultant_is_403_and_changes_nothing(
    client, project, consultant, api_token_for
) -> None:
    unit = units_of(project)[0]
    answer = client.post(
        f"/api/v1/units/{unit.pk}/hold",
        {"reason": "x"},
        content_type="application/json",
        headers=api_token_for(consultant),
    )
    assert answer.status_code == 403
    assert answer.json()["code"] == "forbidden"
    assert _status(unit) == UnitStatus.AVAILABLE


def test_api_hold_of_another_projects_unit_is_404(client, other_project, manager, api_token_for) -> None:
    unit = units_of(other_project)[0]
    answer = client.post(
        f"/api/v1/units/{unit.pk}/hold",
        {"reason": "x"},
        content_type="application/json",
        headers=api_token_for(manager),
    )
    assert answer.status_code == 404
    assert _status(unit) == UnitStatus.AVAILABLE


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({}, "reason"),
        ({"reason": "x", "expires_at": "明天"}, "expires_at"),
        ({"reason": "x" * 201}, "reason"),
    ],
)
def test_api_hold_bad_input_is_400(client, project, manager, api_token_for, body, field) -> None:
    unit = units_of(project)[0]
    answer = client.post(
        f"/api/v1/units/{unit.pk}/hold", body, content_type="application/json", headers=api_token_for(manager)
    )
    assert answer.status_code == 400
    assert field in answer.json()["fields"]
    assert _status(unit) == UnitStatus.AVAILABLE


def test_api_hold_list_costs_the_same_for_few_and_many(client, project, manager, api_token_for) -> None:
    headers = api_token_for(manager)
    units = units_of(project)
    url = f"/api/v1/projects/{project.pk}/holds"
    hold_create(unit_id=units[0].pk, reason="一", by=manager)
    few = count_queries(lambda: client.get(url, headers=headers))
    for unit in units[1:6]:
        hold_create(unit_id=unit.pk, reason="多", by=manager)
    many = count_queries(lambda: client.get(url, headers=headers))
    answer = client.get(url, headers=headers).json()
    assert answer["count"] == 6 and len(answer["items"]) == 6
    assert few == many


# --- pages ----------------------------------------------------------------------------------------------


def test_manager_holds_from_the_unit_panel(client_for, project, manager) -> None:
    unit = units_of(project)[0]
    day = _in_a_month()
    client = client_for(manager)
    panel = client.get(reverse("deals:unit_panel", args=[unit.pk]), headers={"HX-Request": "true"})
    assert panel.status_code == 200
    html = panel.content.decode()
    assert "<html" not in html and "确认销控" in html and 'type="datetime-local"' in html

    response = client.post(
        reverse("deals:hold", args=[unit.pk]), {"reason": "领导预留", "expires_at": f"{day}T18:00"}
    )
    assert response.status_code == 302
    assert response["Location"] == reverse("inventory:unit", args=[unit.pk])
    assert _status(unit) == UnitStatus.HELD
    hold = Hold.objects.get(unit=unit)
    assert timezone.localtime(hold.expires_at).strftime("%Y-%m-%d %H:%M") == f"{day} 18:00"
    panel = client.get(
        reverse("deals:unit_panel", args=[unit.pk]), headers={"HX-Request": "true"}
    ).content.decode()
    assert "领导预留" in panel and f"{day} 18:00" in panel and "解除销控" in panel


def test_a_hold_without_reason_from_the_page_shows_the_error_inline(client_for, project, manager) -> None:
    unit = units_of(project)[0]
    response = client_for(manager).post(reverse("deals:hold", args=[unit.pk]), {"reason": ""})
    assert response.status_code == 400
    assert "请填写原因" in response.content.decode()
    assert _status(unit) == UnitStatus.AVAILABLE


def test_a_consultant_sees_no_hold_form_and_cannot_post_one(client_for, project, consultant) -> None:
    unit = units_of(project)[0]
    client = client_for(consultant)
    panel = client.get(
        reverse("deals:unit_panel", args=[unit.pk]), headers={"HX-Request": "true"}
    ).content.decode()
    assert "确认销控" not in panel and "认购" in panel
    response = client.post(reverse("deals:hold", args=[unit.pk]), {"reason": "x"})
    assert response.status_code == 403
    assert _status(unit) == UnitStatus.AVAILABLE


def test_holds_page_lists_who_why_until_and_releases(client_for, project, manager) -> None:
    units = units_of(project)
    hold_create(
        unit_id=units[0].pk, reason="领导预留", expires_at=timezone.now() + timedelta(days=1), by=manager
    )
    client = client_for(manager)
    page = client.get(reverse("deals:holds", args=[project.pk])).content.decode()
    assert "领导预留" in page and manager.display_name in page and "解除" in page

    response = client.post(
        reverse("deals:release", args=[units[0].pk]),
        {"reason": "放盘", "next": reverse("deals:holds", args=[project.pk])},
    )
    assert response.status_code == 302
    assert response["Location"] == reverse("deals:holds", args=[project.pk])
    assert _status(units[0]) == UnitStatus.AVAILABLE


def test_holds_page_costs_the_same_for_few_and_many(client_for, project, manager) -> None:
    units = units_of(project)
    client = client_for(manager)
    url = reverse("deals:holds", args=[project.pk])
    hold_create(unit_id=units[0].pk, reason="一", by=manager)
    client.get(url)
    few = count_queries(lambda: client.get(url))
    for unit in units[1:8]:
        hold_create(unit_id=unit.pk, reason="多", by=manager)
    many = count_queries(lambda: client.get(url))
    assert few == many


def test_holds_page_of_another_project_is_404(client_for, other_project, manager) -> None:
    assert client_for(manager).get(reverse("deals:holds", args=[other_project.pk])).status_code == 404


def test_holds_page_is_not_for_agents(client_for, project) -> None:
    agent = user_in(project, role="agent")
    assert client_for(agent).get(reverse("deals:holds", args=[project.pk])).status_code == 404
