"""GET /projects/{pid}/visits (api.md): the day's visits, filtered, paged and masked per viewer."""

from datetime import UTC, datetime, time, timedelta

import pytest
from django.utils import timezone

from anchang.accounts.models import Role
from anchang.accounts.testing import user_in
from anchang.customers.models import AttributionRule, Customer
from anchang.reception.models import Visit, VisitKind, VisitState

pytestmark = pytest.mark.django_db

QUERY_BUDGET = 4

ITEM_FIELDS = {
    "id",
    "customer_id",
    "name",
    "phone",
    "visit_kind",
    "consultant_id",
    "consultant_name",
    "rule",
    "state",
    "party_size",
    "checked_in_at",
    "checked_out_at",
}


def visit(
    project,
    phone: str,
    *,
    name: str = "王小明",
    gender: str = "",
    consultant=None,
    state: str = VisitState.RECEIVING,
    kind: str = VisitKind.FIRST,
    at=None,
    **extra,
) -> Visit:
    """A visit as the desk's check-in leaves it: the receiving consultant owns a new customer.

    Made directly rather than through check_in, whose routing is not what these tests are about."""
    customer, _created = Customer.objects.get_or_create(
        project=project,
        phone=f"+86{phone}",
        defaults={"name": name, "gender": gender, "owner": consultant},
    )
    return Visit.objects.create(
        project=project,
        customer=customer,
        kind=kind,
        state=state,
        rule=AttributionRule.ROTATION if consultant else AttributionRule.WAITING_FOR_CONSULTANT,
        consultant=consultant,
        checked_in_at=at or timezone.now(),
        checked_out_at=timezone.now() if state in (VisitState.ENDED, VisitState.INVALID) else None,
        **extra,
    )


def get(client, project, headers, **query):
    return client.get(f"/api/v1/projects/{project.pk}/visits", query, headers=headers)


def days_ago(visit: Visit, days: int) -> None:
    Visit.objects.filter(pk=visit.pk).update(checked_in_at=visit.checked_in_at - timedelta(days=days))


def test_today_by_default_in_the_pinned_shape(client, project, frontdesk, consultant, api_token_for) -> None:
    today = visit(project, "13812341234", consultant=consultant, party_size=3)
    days_ago(visit(project, "13912341234", consultant=consultant), 1)

    response = get(client, project, api_token_for(frontdesk))

    assert response.status_code == 200, response.content
    body = response.json()
    assert body["count"] == 1 and [item["id"] for item in body["items"]] == [today.pk]
    item = body["items"][0]
    assert set(item) == ITEM_FIELDS
    assert item["phone"] == "138****1234" and item["name"] == "王小明"
    assert item["visit_kind"] == "first" and item["rule"] == "rotation" and item["state"] == "with_consultant"
    assert item["consultant_id"] == consultant.pk and item["consultant_name"] == consultant.display_name
    assert item["party_size"] == 3 and item["checked_out_at"] is None
    assert item["checked_in_at"] == timezone.localtime(today.checked_in_at).isoformat(timespec="seconds")
    assert item["checked_in_at"].endswith("+08:00")


def test_date_and_date_range(client, project, manager, api_token_for) -> None:
    today = visit(project, "13812340001")
    yesterday = visit(project, "13812340002")
    last_week = visit(project, "13812340003")
    days_ago(yesterday, 1)
    days_ago(last_week, 7)
    headers = api_token_for(manager)
    local_today = timezone.localdate()

    def ids(**query) -> list[int]:
        response = get(client, project, headers, **query)
        assert response.status_code == 200, response.content
        return [item["id"] for item in response.json()["items"]]

    assert ids(date=str(local_today - timedelta(days=1))) == [yesterday.pk]
    assert ids(date_from=str(local_today - timedelta(days=1)), date_to=str(local_today)) == [
        yesterday.pk,
        today.pk,
    ]
    assert ids(date_from=str(local_today - timedelta(days=7))) == [last_week.pk, yesterday.pk, today.pk]
    assert ids(date_to=str(local_today - timedelta(days=1))) == [last_week.pk, yesterday.pk]
    assert ids(date_from=str(local_today), date_to=str(local_today)) == [today.pk]


def test_the_day_is_the_project_local_day(client, project, manager, api_token_for) -> None:
    # 23:30 UTC is already 07:30 the next morning in Beijing: the visit belongs to the Beijing day.
    day = timezone.localdate() - timedelta(days=2)
    utc_evening = datetime.combine(day, time(23, 30), tzinfo=UTC)
    late = visit(project, "13812340001", at=utc_evening)
    next_day = day + timedelta(days=1)

    on_utc_day = get(client, project, api_token_for(manager), date=str(day)).json()
    on_local_day = get(client, project, api_token_for(manager), date=str(next_day)).json()

    assert on_utc_day["items"] == []
    assert [item["id"] for item in on_local_day["items"]] == [late.pk]
    assert on_local_day["items"][0]["checked_in_at"] == f"{next_day}T07:30:00+08:00"


def test_state_and_consultant_filters(client, project, frontdesk, consultants, api_token_for) -> None:
    received = visit(project, "13812340001", consultant=consultants[0])
    left = visit(project, "13812340002", consultant=consultants[1], state=VisitState.ENDED)
    invalid = visit(project, "13812340003", consultant=consultants[2], state=VisitState.INVALID)
    waiting = visit(project, "13812340004", state=VisitState.WAITING)
    headers = api_token_for(frontdesk)

    def ids(**query) -> set[int]:
        response = get(client, project, headers, **query)
        assert response.status_code == 200, response.content
        return {item["id"] for item in response.json()["items"]}

    assert ids(state="waiting") == {waiting.pk}
    assert ids(state="with_consultant") == {received.pk}
    assert ids(state="checked_out") == {left.pk, invalid.pk}
    assert ids(consultant_id=consultants[1].pk) == {left.pk}
    assert ids(consultant_id=consultants[1].pk, state="waiting") == set()
    assert ids(state="", consultant_id="") == {received.pk, left.pk, invalid.pk, waiting.pk}
    answered = get(client, project, headers, state="checked_out").json()["items"]
    assert {item["state"] for item in answered} == {"checked_out"}
    assert all(item["checked_out_at"].endswith("+08:00") for item in answered)


def test_kind_filter(client, project, frontdesk, consultant, api_token_for) -> None:
    first = visit(project, "13812340002", consultant=consultant)
    returning = visit(project, "13812340001", consultant=consultant, kind=VisitKind.RETURN)
    owner = visit(project, "13812340003", consultant=consultant, kind=VisitKind.OWNER)
    headers = api_token_for(frontdesk)

    def ids(kind: str) -> list[int]:
        return [item["id"] for item in get(client, project, headers, kind=kind).json()["items"]]

    assert ids("return") == [returning.pk]
    assert ids("first") == [first.pk]
    assert ids("owner") == [owner.pk]


def test_a_consultant_sees_the_hall_but_only_own_customers_unmasked(
    client, project, consultant, other_consultant, api_token_for
) -> None:
    own = visit(project, "13812340001", name="张三丰", gender="male", consultant=consultant)
    others = visit(project, "13812340002", name="李四娘", gender="female", consultant=other_consultant)
    unknown_gender = visit(project, "13812340003", name="王五", consultant=other_consultant)
    # Received by this consultant, but the customer belongs to a colleague (代接待): still masked.
    covering = visit(project, "13812340004", name="赵六", consultant=other_consultant)
    Visit.objects.filter(pk=covering.pk).update(consultant=consultant)

    response = get(client, project, api_token_for(consultant))

    assert response.status_code == 200
    by_id = {item["id"]: (item["name"], item["phone"]) for item in response.json()["items"]}
    assert by_id == {
        own.pk: ("张三丰", "13812340001"),
        others.pk: ("李女士", "138****0002"),
        unknown_gender.pk: ("王**", "138****0003"),
        covering.pk: ("赵**", "138****0004"),
    }


def test_desk_and_manager_see_names_but_masked_phones(
    client, project, frontdesk, manager, consultant, api_token_for
) -> None:
    visit(project, "13812340001", name="张三丰 13812340001", consultant=consultant)
    for viewer in (frontdesk, manager):
        item = get(client, project, api_token_for(viewer)).json()["items"][0]
        assert (item["name"], item["phone"]) == ("张三丰 138****0001", "138****0001")


def test_limit_offset_pagination(client, project, frontdesk, api_token_for) -> None:
    visits = [visit(project, f"138123400{i:02d}") for i in range(5)]
    headers = api_token_for(frontdesk)

    first = get(client, project, headers, limit=2).json()
    second = get(client, project, headers, limit=2, offset=2).json()
    last = get(client, project, headers, limit=2, offset=4).json()

    assert first["count"] == second["count"] == last["count"] == 5
    assert [i["id"] for i in first["items"] + second["items"] + last["items"]] == [v.pk for v in visits]


@pytest.mark.parametrize("rows", [1, 12])
def test_query_budget_does_not_grow_with_rows(
    client, project, consultant, api_token_for, django_assert_max_num_queries, rows
) -> None:
    for i in range(rows):
        visit(project, f"138123400{i:02d}", consultant=consultant)
    headers = api_token_for(consultant)

    # the token with its user, the project visible to the caller, one page (customer and consultant
    # joined), the count: at most that, however many rows there are
    with django_assert_max_num_queries(QUERY_BUDGET):
        response = get(client, project, headers)

    assert response.status_code == 200 and response.json()["count"] == rows


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ({"date_from": "2026-12-05", "date_to": "2026-12-01"}, "date_to"),
        ({"date": "2026-12-01", "date_from": "2026-11-01"}, "date"),
        ({"date": "yesterday"}, "date"),
        ({"date": "9999-12-31"}, "date"),
        ({"date_to": "9999-12-31"}, "date_to"),
        ({"state": "receiving"}, "state"),
        ({"kind": "vip"}, "kind"),
        ({"consultant_id": "abc"}, "consultant_id"),
        ({"consultant_id": str(2**63)}, "consultant_id"),
        ({"limit": "-1"}, "limit"),
        ({"status": "waiting"}, "status"),
    ],
)
def test_bad_filters_are_400_naming_the_field(
    client, project, frontdesk, api_token_for, query, field
) -> None:
    visit(project, "13812340001")

    response = get(client, project, api_token_for(frontdesk), **query)

    assert response.status_code == 400, response.content
    body = response.json()
    assert body["code"] == "invalid" and field in body["fields"], body
    assert all(any("\u4e00" <= ch <= "\u9fff" for ch in message) for message in body["fields"].values())


def test_other_project_is_404_and_other_roles_403(
    client, project, other_project, frontdesk, agent, attendant, api_token_for
) -> None:
    visit(project, "13812340001")
    stranger = user_in(other_project, role=Role.MANAGER, username="elsewhere")

    assert get(client, project, api_token_for(stranger)).status_code == 404
    assert get(client, other_project, api_token_for(frontdesk)).status_code == 404
    assert client.get("/api/v1/projects/999999/visits", headers=api_token_for(frontdesk)).status_code == 404
    assert get(client, project, api_token_for(agent)).status_code == 403
    assert get(client, project, api_token_for(attendant)).status_code == 403
    assert get(client, project, {}).status_code == 401
