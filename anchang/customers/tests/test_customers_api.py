"""`GET /customers` and `GET /customers/{id}` (api.md): who sees which customers, and masking (P1, P2)."""

import re
from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from anchang.accounts.models import Role
from anchang.accounts.testing import user_in
from anchang.customers.models import PoolReason
from anchang.customers.tests.test_pool import make_customer, pooled
from anchang.reception.services import check_in
from anchang.reception.testing import run_check_in_follow_ups

pytestmark = pytest.mark.django_db

FULL_MOBILE = re.compile(r"1[3-9]\d{9}")


@pytest.fixture
def site(project, consultants):
    """Two consultants' customers and one pool customer in the project, one customer elsewhere."""
    mine, colleagues = consultants[0], consultants[1]
    return {
        "mine": make_customer(project, owner=mine, name="王小明", phone="+8613712345678", intent_level="A"),
        "colleagues": make_customer(
            project, owner=colleagues, name="李丽", gender="female", phone="+8613812345678"
        ),
        "pool": pooled(project, name="张伟", phone="+8618612349999", reason=PoolReason.FOLLOWUP_OVERDUE),
    }


@pytest.fixture
def get(client, api_token_for):
    def call(user, path: str, **params: object):
        return client.get(f"/api/v1{path}", params, headers=api_token_for(user))

    return call


def _ids(response) -> set[int]:
    return {item["id"] for item in response.json()["items"]}


def test_a_consultant_lists_their_own_customers_in_full_and_the_pool_masked(
    get, project, site, consultants
) -> None:
    response = get(consultants[0], "/customers", project=project.pk)

    assert response.status_code == 200
    body = response.json()
    assert _ids(response) == {site["mine"].pk, site["pool"].pk} and body["count"] == 2
    items = {item["id"]: item for item in body["items"]}
    mine = items[site["mine"].pk]
    assert mine["phone"] == "13712345678" and mine["name"] == "王小明"
    assert mine["owner_id"] == consultants[0].pk and mine["owner_name"] == consultants[0].display_name
    assert (
        mine["intent_level"] == "A"
        and mine["stage"] == "visited"
        and mine["protected_until"].endswith("+08:00")
    )
    in_pool = items[site["pool"].pk]
    assert in_pool["phone"] == "186****9999" and in_pool["name"] == "张先生" and in_pool["in_pool"] is True
    assert in_pool["owner_id"] is None


@pytest.mark.parametrize("role", ["frontdesk", "manager", "admin_user"])
def test_the_desk_managers_and_admins_see_the_whole_project_masked(get, project, site, role, request) -> None:
    user = request.getfixturevalue(role)
    response = get(user, "/customers", project=project.pk)
    assert response.status_code == 200
    assert _ids(response) == {c.pk for c in site.values()}
    assert not FULL_MOBILE.search(response.content.decode())
    names = {item["name"] for item in response.json()["items"]}
    assert names == {"王小明", "李丽", "张伟"}


@pytest.mark.parametrize("role", ["agent", "service", "attendant"])
def test_roles_without_customer_access_get_403_everywhere(get, project, site, role, request) -> None:
    user = request.getfixturevalue(role)
    assert get(user, "/customers", project=project.pk).status_code == 403
    for customer in site.values():
        response = get(user, f"/customers/{customer.pk}")
        assert response.status_code == 403
        assert not FULL_MOBILE.search(response.content.decode())


def test_search_is_limited_to_what_the_caller_may_list(get, project, site, consultants, manager) -> None:
    assert _ids(get(consultants[0], "/customers", project=project.pk, q="5678")) == {site["mine"].pk}
    assert _ids(get(manager, "/customers", project=project.pk, q="5678")) == {
        site["mine"].pk,
        site["colleagues"].pk,
    }
    assert _ids(get(consultants[0], "/customers", project=project.pk, q="ll")) == set()
    assert _ids(get(consultants[0], "/customers", project=project.pk, q="zw")) == {site["pool"].pk}
    assert _ids(get(consultants[0], "/customers", project=project.pk, q="13812345678")) == set()
    assert _ids(get(manager, "/customers", project=project.pk, q="12345")) == set()


def test_another_projects_list_is_404(get, consultant, other_project) -> None:
    make_customer(other_project, owner=None)
    response = get(consultant, "/customers", project=other_project.pk)
    assert response.status_code == 404 and response.json()["code"] == "not_found"


def test_without_a_project_the_callers_first_project_is_listed(get, project, site, manager) -> None:
    assert _ids(get(manager, "/customers")) == {c.pk for c in site.values()}


def test_bad_list_parameters_are_400(get, manager) -> None:
    for params in ({"project": "x"}, {"limit": -1}, {"offset": -5}, {"q": "x" * 101}, {"q": "a\x00"}):
        response = get(manager, "/customers", **params)
        assert response.status_code == 400, params


def test_the_list_is_paginated(get, project, manager) -> None:
    for _ in range(5):
        make_customer(project)
    first = get(manager, "/customers", project=project.pk, limit=2).json()
    second = get(manager, "/customers", project=project.pk, limit=2, offset=2).json()
    assert first["count"] == second["count"] == 5 and not first["count_is_estimate"]
    assert len(first["items"]) == len(second["items"]) == 2
    assert not {i["id"] for i in first["items"]} & {i["id"] for i in second["items"]}


def test_a_count_beyond_the_cap_is_marked_as_an_estimate(get, project, manager, monkeypatch) -> None:
    from anchang.customers import api

    monkeypatch.setattr(api, "COUNT_CAP", 3)
    for _ in range(5):
        make_customer(project)
    body = get(manager, "/customers", project=project.pk, limit=2).json()
    assert (body["count"], body["count_is_estimate"]) == (3, True)


def test_list_query_count_is_the_same_for_3_and_40_customers(get, project, consultants, manager) -> None:
    for _ in range(3):
        make_customer(project, owner=consultants[0])
    get(manager, "/customers", project=project.pk, limit=2)
    with CaptureQueriesContext(connection) as few:
        get(manager, "/customers", project=project.pk, limit=2)
    for i in range(37):
        make_customer(project, owner=consultants[i % 3])
    with CaptureQueriesContext(connection) as many:
        response = get(manager, "/customers", project=project.pk, limit=2)
    assert response.json()["count"] == 40
    assert len(many) == len(few)
    with CaptureQueriesContext(connection) as one_page:
        response = get(manager, "/customers", project=project.pk, limit=200)
    # token, project, the page; a page that holds the whole answer needs no separate count.
    assert len(response.json()["items"]) == 40 and len(one_page) == len(few) - 1


# --- one customer ----------------------------------------------------------------------------------


def test_the_owner_sees_the_customer_with_timeline_in_full(get, project, frontdesk, on_duty) -> None:
    customer = check_in(
        project=project, phone="13712345678", name="王小明", gender="male", by=frontdesk, consent=True
    ).customer
    owner = on_duty[0]
    run_check_in_follow_ups()  # the timeline rows come from the worker

    response = get(owner, f"/customers/{customer.pk}")

    assert response.status_code == 200
    body = response.json()
    assert body["phone"] == "13712345678" and body["phone_is_masked"] is False
    assert body["owner_id"] == owner.pk and body["protected_until"] is not None
    kinds = [event["kind"] for event in body["timeline"]]
    assert "visit" in kinds and "owner_changed" in kinds
    assert all(event["at"].endswith("+08:00") for event in body["timeline"])


def test_another_consultants_customer_is_404(get, site, consultants) -> None:
    response = get(consultants[0], f"/customers/{site['colleagues'].pk}")
    assert response.status_code == 404
    assert "李丽" not in response.content.decode()


def test_a_customer_of_another_project_is_404_even_for_its_manager_elsewhere(
    get, manager, other_project
) -> None:
    elsewhere = make_customer(other_project)
    assert get(manager, f"/customers/{elsewhere.pk}").status_code == 404
    assert get(manager, "/customers/999999999").status_code == 404


def test_pool_customers_are_visible_masked_to_the_projects_consultants(
    get, site, consultants, other_project
) -> None:
    customer = site["pool"]
    response = get(consultants[1], f"/customers/{customer.pk}")
    assert response.status_code == 200
    body = response.json()
    assert body["phone"] == "186****9999" and body["name"] == "张先生" and body["in_pool"] is True
    assert body["pool_reason"] == "followup_overdue"
    assert not FULL_MOBILE.search(response.content.decode())
    outsider = user_in(other_project, role=Role.CONSULTANT)
    assert get(outsider, f"/customers/{customer.pk}").status_code == 404


def test_numbers_typed_into_the_timeline_are_masked_for_non_owners(get, site, manager, consultants) -> None:
    from anchang.customers.services import customer_record_event

    customer = site["mine"]
    customer_record_event(
        customer=customer, kind="note", text="客户说另一个号码 13912345678 也能联系", by=consultants[0]
    )
    masked = get(manager, f"/customers/{customer.pk}").content.decode()
    assert "139****5678" in masked and not FULL_MOBILE.search(masked)
    assert "13912345678" in get(consultants[0], f"/customers/{customer.pk}").content.decode()


ROLES = ["consultant", "other_consultant", "frontdesk", "manager", "agent", "service", "attendant"]


@pytest.mark.parametrize("role", ROLES)
def test_no_full_mobile_reaches_anyone_but_the_owner(get, project, role, request, consultant) -> None:
    """P2 over every list and detail answer: only the owner's own customers come back in full."""
    user = request.getfixturevalue(role)
    theirs = make_customer(project, owner=consultant, name="王小明", phone="+8613712345678")
    in_pool = pooled(project, name="张伟", phone="+8618612349999")
    answers = [
        get(user, "/customers", project=project.pk),
        get(user, "/customers", project=project.pk, q="zw"),
    ]
    answers += [get(user, f"/customers/{c.pk}") for c in (theirs, in_pool)]
    for response in answers:
        assert response.status_code in (200, 403, 404)
        text = response.content.decode()
        if user == consultant:
            assert set(FULL_MOBILE.findall(text)) <= {"13712345678"}
        else:
            assert not FULL_MOBILE.search(text), (role, text)


def test_detail_query_count_does_not_grow_with_the_timeline(get, site, consultants) -> None:
    from anchang.customers.services import customer_record_event

    customer = site["mine"]
    owner = consultants[0]
    get(owner, f"/customers/{customer.pk}")
    with CaptureQueriesContext(connection) as few:
        get(owner, f"/customers/{customer.pk}")
    for i in range(10):
        customer_record_event(
            customer=customer,
            kind="note",
            text=f"备注 {i}",
            by=consultants[i % 2],
            at=timezone.now() - timedelta(minutes=i),
        )
    with CaptureQueriesContext(connection) as many:
        response = get(owner, f"/customers/{customer.pk}")
    assert len(response.json()["timeline"]) == 10
    assert len(many) == len(few)


def test_unauthenticated_is_401(client, site) -> None:
    assert client.get("/api/v1/customers").status_code == 401
    assert client.get(f"/api/v1/customers/{site['mine'].pk}").status_code == 401


def test_a_consultant_claims_a_pool_customer_through_the_api(
    client, api_token_for, site, consultants, manager
) -> None:
    url = f"/api/v1/customers/{site['pool'].pk}/claim"
    claimed = client.post(url, headers=api_token_for(consultants[1]))
    assert claimed.status_code == 200
    assert claimed.json()["owner_id"] == consultants[1].pk and claimed.json()["phone"] == "18612349999"
    taken = client.post(url, headers=api_token_for(consultants[0]))
    assert taken.status_code == 404  # no longer in the pool, and not theirs
    assert client.post(url, headers=api_token_for(manager)).status_code == 403
    mine = client.post(f"/api/v1/customers/{site['mine'].pk}/claim", headers=api_token_for(consultants[0]))
    assert mine.status_code == 409 and mine.json()["code"] == "pool_customer_taken"
