"""GET /customers?scope=pool|mine: the 公客池 and 我的客户 pages' lists over the API."""

from datetime import timedelta

import pytest
from django.utils import timezone

from anchang.customers.models import Customer

pytestmark = pytest.mark.django_db


def customer(project, phone: str, **fields) -> Customer:
    return Customer.objects.create(
        project=project, phone=f"+86{phone}", name="王小明", gender="male", **fields
    )


def ids(client, headers, project, **query) -> list[int]:
    response = client.get("/api/v1/customers", {"project": project.pk, **query}, headers=headers)
    assert response.status_code == 200, response.content
    return [item["id"] for item in response.json()["items"]]


def test_pool_and_mine_in_their_pages_order(
    client, project, consultant, other_consultant, api_token_for
) -> None:
    now = timezone.now()
    later_ending = customer(
        project, "13812340001", owner=consultant, protected_until=now + timedelta(days=20)
    )
    sooner_ending = customer(
        project, "13812340002", owner=consultant, protected_until=now + timedelta(days=2)
    )
    customer(project, "13812340003", owner=other_consultant)
    pooled_first = customer(project, "13812340004", pooled_at=now - timedelta(days=3))
    pooled_last = customer(project, "13812340005", pooled_at=now - timedelta(days=1))
    headers = api_token_for(consultant)

    assert ids(client, headers, project, scope="mine") == [sooner_ending.pk, later_ending.pk]
    assert ids(client, headers, project, scope="pool") == [pooled_last.pk, pooled_first.pk]
    assert set(ids(client, headers, project)) == {
        later_ending.pk,
        sooner_ending.pk,
        pooled_first.pk,
        pooled_last.pk,
    }
    pool_item = client.get("/api/v1/customers", {"scope": "pool"}, headers=headers).json()["items"][0]
    assert pool_item["name"] == "王先生" and pool_item["phone"] == "138****0005" and pool_item["in_pool"]


def test_who_has_which_scope(client, project, manager, frontdesk, api_token_for) -> None:
    customer(project, "13812340004", pooled_at=timezone.now())

    assert len(ids(client, api_token_for(manager), project, scope="pool")) == 1
    mine = client.get("/api/v1/customers", {"scope": "mine"}, headers=api_token_for(manager))
    assert mine.status_code == 403 and "置业顾问" in mine.json()["message"]
    assert (
        client.get("/api/v1/customers", {"scope": "pool"}, headers=api_token_for(frontdesk)).status_code
        == 403
    )
    bad = client.get("/api/v1/customers", {"scope": "everyone"}, headers=api_token_for(manager))
    assert bad.status_code == 400 and "scope" in bad.json()["fields"]


@pytest.mark.parametrize("rows", [1, 8])
def test_query_budget(
    client, project, consultant, api_token_for, django_assert_max_num_queries, rows
) -> None:
    for i in range(rows):
        customer(project, f"138123400{i:02d}", owner=consultant)
    headers = api_token_for(consultant)

    # token and user, project, one page with the owner joined (the count comes free on a short page)
    with django_assert_max_num_queries(4):
        assert len(ids(client, headers, project, scope="mine")) == rows
