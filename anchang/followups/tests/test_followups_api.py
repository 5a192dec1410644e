"""`POST /customers/{id}/follow-ups` and `GET /follow-ups` (api.md)."""

from datetime import timedelta

import pytest
from django.utils import timezone

from anchang.accounts.testing import user_in
from anchang.customers.models import Customer
from anchang.followups.models import FollowUp
from anchang.followups.tests.helpers import customer_of, follow_up_for, queries_of
from anchang.inventory.testing import project_with_units

pytestmark = pytest.mark.django_db

HOUR = timedelta(hours=1)


def post(client, url, body, headers):
    return client.post(url, body, content_type="application/json", headers=headers)


def test_recording_answers_201_with_the_pinned_shape(client, project, consultant, api_token_for) -> None:
    customer = customer_of(project, consultant)
    task = follow_up_for(customer, consultant, due_in=-HOUR)
    next_at = (timezone.now() + timedelta(days=2)).isoformat()
    response = post(
        client,
        f"/api/v1/customers/{customer.pk}/follow-ups",
        {"method": "wechat", "content": "发了价格单", "intent_level": "B", "next_due_at": next_at},
        api_token_for(consultant),
    )
    assert response.status_code == 201, response.content
    body = response.json()
    assert set(body) == {"id", "customer_id", "due_at", "state", "method", "content"}
    assert (body["id"], body["customer_id"], body["state"]) == (task.pk, customer.pk, "done")
    assert (body["method"], body["content"]) == ("wechat", "发了价格单")
    assert Customer.objects.get(pk=customer.pk).intent_level == "B"
    assert FollowUp.objects.filter(done_at__isnull=True).count() == 1


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"method": "phone", "content": ""}, "content"),
        ({"method": "phone", "content": "   "}, "content"),
        ({"method": "phone", "content": "x", "next_due_at": "2020-01-01T10:00:00+08:00"}, "next_due_at"),
        ({"method": "phone", "content": "x", "next_due_at": "soon"}, "next_due_at"),
        ({"method": "fax", "content": "x"}, "method"),
        ({"method": "phone", "content": "x", "intent_level": "Z"}, "intent_level"),
        ({"content": "x"}, "method"),
        ({"method": "phone", "content": "a\x00b"}, "content"),
    ],
)
def test_bad_input_is_a_400_naming_the_field(client, project, consultant, api_token_for, body, field) -> None:
    customer = customer_of(project, consultant)
    response = post(client, f"/api/v1/customers/{customer.pk}/follow-ups", body, api_token_for(consultant))
    assert response.status_code == 400, response.content
    assert field in response.json()["fields"]
    assert not FollowUp.objects.exists()


def test_past_due_message(client, project, consultant, api_token_for) -> None:
    customer = customer_of(project, consultant)
    past = (timezone.now() - HOUR).isoformat()
    response = post(
        client,
        f"/api/v1/customers/{customer.pk}/follow-ups",
        {"method": "phone", "content": "x", "next_due_at": past},
        api_token_for(consultant),
    )
    assert response.json()["fields"]["next_due_at"] == "下次跟进时间不能早于现在"


def test_who_may_record(
    client, project, consultant, other_consultant, frontdesk, agent, api_token_for
) -> None:
    customer = customer_of(project, consultant)
    url = f"/api/v1/customers/{customer.pk}/follow-ups"
    body = {"method": "phone", "content": "x"}
    assert client.post(url, body, content_type="application/json").status_code == 401
    assert post(client, url, body, api_token_for(other_consultant)).status_code == 404
    assert post(client, url, body, api_token_for(agent)).status_code == 404
    assert post(client, url, body, api_token_for(frontdesk)).status_code == 403
    assert (
        post(client, "/api/v1/customers/999999/follow-ups", body, api_token_for(consultant)).status_code
        == 404
    )
    assert not FollowUp.objects.exists()


def test_the_list_filters_and_visibility(
    client, project, consultant, other_consultant, manager, api_token_for
) -> None:
    mine = customer_of(project, consultant)
    overdue = follow_up_for(mine, consultant, due_in=-HOUR)
    upcoming = follow_up_for(mine, consultant, due_in=HOUR)
    done = follow_up_for(mine, consultant, due_in=-HOUR, done=True)
    theirs = customer_of(project, other_consultant)
    their_task = follow_up_for(theirs, other_consultant, due_in=-HOUR)

    def ids(user, query=""):
        response = client.get(f"/api/v1/follow-ups{query}", headers=api_token_for(user))
        assert response.status_code == 200, response.content
        return [row["id"] for row in response.json()]

    assert ids(consultant) == [overdue.pk, done.pk, upcoming.pk]
    assert ids(consultant, "?state=overdue") == [overdue.pk]
    assert ids(consultant, "?state=open") == [upcoming.pk]
    assert ids(consultant, "?state=done") == [done.pk]
    assert ids(consultant, f"?customer_id={mine.pk}&mine=true") == [overdue.pk, done.pk, upcoming.pk]
    assert ids(consultant, "?state=") == [overdue.pk, done.pk, upcoming.pk]
    assert set(ids(manager, "?state=overdue")) == {overdue.pk, their_task.pk}
    assert ids(manager, "?mine=true") == []
    assert ids(consultant, "?limit=1&offset=1") == [done.pk]
    row = client.get("/api/v1/follow-ups?state=overdue", headers=api_token_for(consultant)).json()[0]
    assert row == {
        "id": overdue.pk,
        "customer_id": mine.pk,
        "due_at": row["due_at"],
        "state": "overdue",
        "method": "",
        "content": "",
    }
    assert row["due_at"].endswith("+08:00")


def test_list_errors(client, project, consultant, other_consultant, service, api_token_for) -> None:
    theirs = customer_of(project, other_consultant)
    follow_up_for(theirs, other_consultant, due_in=HOUR)
    headers = api_token_for(consultant)
    bad = client.get("/api/v1/follow-ups?state=late", headers=headers)
    assert bad.status_code == 400 and "state" in bad.json()["fields"]
    assert client.get("/api/v1/follow-ups?limit=0", headers=headers).status_code == 400
    assert client.get("/api/v1/follow-ups?customer_id=abc", headers=headers).status_code == 400
    # Another consultant's customer: as if it did not exist.
    assert client.get(f"/api/v1/follow-ups?customer_id={theirs.pk}", headers=headers).status_code == 404
    assert client.get("/api/v1/follow-ups", headers=api_token_for(service)).status_code == 403
    assert client.get("/api/v1/follow-ups").status_code == 401


def test_the_list_has_a_fixed_query_count(client, project, manager, consultants, api_token_for) -> None:
    headers = api_token_for(manager)

    def seed(n: int) -> None:
        for i in range(n):
            owner = consultants[i % 3]
            follow_up_for(customer_of(project, owner), owner, due_in=(i - n // 2) * HOUR)

    def read() -> None:
        assert client.get("/api/v1/follow-ups", headers=headers).status_code == 200

    seed(3)
    few = queries_of(read)
    seed(27)
    assert queries_of(read) == few
    assert len(client.get("/api/v1/follow-ups", headers=headers).json()) == 30


def test_other_projects_stay_invisible(client, project, manager, api_token_for) -> None:
    elsewhere = project_with_units(buildings=1, floors=1, units_per_floor=1)
    owner = user_in(elsewhere, role="consultant")
    follow_up_for(customer_of(elsewhere, owner), owner, due_in=HOUR)
    assert client.get("/api/v1/follow-ups", headers=api_token_for(manager)).json() == []
