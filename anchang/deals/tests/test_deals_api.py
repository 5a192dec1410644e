"""The deals API beyond POST /units/{uid}/subscriptions: lists, detail, the life of a subscription,
reservations and the sales summary — visibility, masking and query budgets included."""

import re
from decimal import Decimal

import pytest
from django.utils import timezone

from anchang.accounts.models import Role
from anchang.accounts.testing import user_in
from anchang.customers.models import Customer
from anchang.deals.models import Reservation, Subscription, SubscriptionStatus
from anchang.deals.services import reservation_create, subscription_cancel
from anchang.deals.tests.helpers import contracted, count_queries, customer_of, pending, subscribe, units_of
from anchang.inventory.models import UnitStatus
from anchang.reception.testing import record_risk_disclosure

pytestmark = pytest.mark.django_db

S = SubscriptionStatus
FULL_MOBILE = re.compile(r"1[3-9]\d{9}")


def _post(client, url: str, body: dict | None, headers: dict[str, str]):
    if body is None:
        # A request without any body (curl -X POST): api.md makes the body of these actions optional.
        return client.post(url, data="", content_type="application/json", headers=headers)
    return client.post(url, body, content_type="application/json", headers=headers)


# --- list and detail -------------------------------------------------------------------------------------


def test_a_consultant_lists_only_their_customers_subscriptions_masked_as_needed(
    client, project, consultant, other_consultant, manager, api_token_for
) -> None:
    units = units_of(project)
    mine = subscribe(units[0], customer_of(project, consultant, name="王小明"), consultant)
    theirs = subscribe(units[1], customer_of(project, other_consultant, name="李四"), other_consultant)

    own = client.get(f"/api/v1/subscriptions?project={project.pk}", headers=api_token_for(consultant)).json()
    assert [item["id"] for item in own["items"]] == [mine.pk]
    assert own["count"] == 1
    assert own["items"][0]["customer_name"] == "王小明"
    assert FULL_MOBILE.fullmatch(own["items"][0]["customer_phone"])  # the owner sees their customer's number

    everyone = client.get(
        f"/api/v1/subscriptions?project={project.pk}", headers=api_token_for(manager)
    ).json()
    assert {item["id"] for item in everyone["items"]} == {mine.pk, theirs.pk}
    assert all("****" in item["customer_phone"] for item in everyone["items"])
    assert not FULL_MOBILE.search(str(everyone))
    item = next(i for i in everyone["items"] if i["id"] == mine.pk)
    assert item["price"] == f"{mine.price:.2f}"
    assert item["unit_label"] == units[0].label
    assert item["status"] == "active" and item["status_label"] == "已认购"


def test_the_list_filters_by_status_and_paginates(
    client, project, consultant, manager, api_token_for
) -> None:
    units = units_of(project)
    for unit in units[:3]:
        subscribe(unit, customer_of(project, consultant), consultant)
    pending(units[3], customer_of(project, consultant), consultant)
    headers = api_token_for(manager)

    waiting = client.get(
        f"/api/v1/subscriptions?project={project.pk}&status=pending_approval", headers=headers
    )
    assert [i["status"] for i in waiting.json()["items"]] == ["pending_approval"]
    page = client.get(f"/api/v1/subscriptions?project={project.pk}&limit=2&offset=2", headers=headers).json()
    assert page["count"] == 4 and len(page["items"]) == 2
    bad = client.get(f"/api/v1/subscriptions?project={project.pk}&status=sold", headers=headers)
    assert bad.status_code == 400 and "status" in bad.json()["fields"]


def test_the_list_costs_the_same_for_few_and_many(
    client, project, consultant, manager, api_token_for, django_assert_num_queries
) -> None:
    units = units_of(project)
    headers = api_token_for(manager)
    url = f"/api/v1/subscriptions?project={project.pk}"
    subscribe(units[0], customer_of(project, consultant), consultant)
    few = count_queries(lambda: client.get(url, headers=headers))
    for unit in units[1:9]:
        subscribe(unit, customer_of(project, consultant), consultant)
    with django_assert_num_queries(few):
        answer = client.get(url, headers=headers)
    assert answer.json()["count"] == 9


def test_other_roles_and_projects_get_no_subscriptions(
    client, project, other_project, consultant, api_token_for
) -> None:
    subscribe(units_of(project)[0], customer_of(project, consultant), consultant)
    agent = user_in(project, role=Role.AGENT)
    assert client.get("/api/v1/subscriptions", headers=api_token_for(agent)).status_code == 403
    outsider = user_in(other_project, role=Role.MANAGER)
    answer = client.get(f"/api/v1/subscriptions?project={project.pk}", headers=api_token_for(outsider))
    assert answer.status_code == 404


def test_detail_shows_history_and_hides_other_consultants_deals(
    client, project, consultant, other_consultant, manager, api_token_for
) -> None:
    subscription = subscribe(units_of(project)[0], customer_of(project, consultant), consultant)
    subscription_cancel(subscription_id=subscription.pk, by=manager, reason="客户资金原因")
    url = f"/api/v1/subscriptions/{subscription.pk}"

    detail = client.get(url, headers=api_token_for(consultant)).json()
    assert detail["status"] == "cancelled" and detail["cancel_reason"] == "客户资金原因"
    assert [h["status"] for h in detail["history"]] == ["cancelled", "active"]
    assert detail["history"][0]["by_id"] == manager.pk

    assert client.get(url, headers=api_token_for(other_consultant)).status_code == 404
    assert client.get("/api/v1/subscriptions/999999", headers=api_token_for(manager)).status_code == 404


# --- actions ---------------------------------------------------------------------------------------------


def test_approve_then_contract_through_the_api(client, project, consultant, manager, api_token_for) -> None:
    unit = units_of(project)[0]
    customer = customer_of(project, consultant)
    subscription = pending(unit, customer, consultant)

    approved = _post(
        client, f"/api/v1/subscriptions/{subscription.pk}/approve", {"note": "同意"}, api_token_for(manager)
    )
    assert approved.status_code == 200, approved.content
    assert approved.json()["status"] == "active" and approved.json()["approved_by_id"] == manager.pk

    signed = _post(client, f"/api/v1/subscriptions/{subscription.pk}/contract", {}, api_token_for(consultant))
    assert signed.status_code == 200, signed.content
    assert signed.json()["status"] == "contracted" and signed.json()["contract_number"]
    customer.refresh_from_db()
    assert customer.is_owner


def test_contract_and_cancel_accept_no_body_at_all(
    client, project, consultant, manager, api_token_for
) -> None:
    units = units_of(project)
    first = subscribe(units[0], customer_of(project, consultant), consultant)
    second = subscribe(units[1], customer_of(project, consultant), consultant)
    headers = api_token_for(manager)
    assert _post(client, f"/api/v1/subscriptions/{first.pk}/contract", None, headers).status_code == 200
    cancelled = _post(client, f"/api/v1/subscriptions/{second.pk}/cancel", None, headers)
    assert cancelled.status_code == 200, cancelled.content
    assert cancelled.json()["status"] == "cancelled"


def test_cancel_with_a_reason_frees_the_unit(client, project, consultant, api_token_for) -> None:
    unit = units_of(project)[0]
    subscription = subscribe(unit, customer_of(project, consultant), consultant)
    answer = _post(
        client,
        f"/api/v1/subscriptions/{subscription.pk}/cancel",
        {"reason": "客户改主意"},
        api_token_for(consultant),
    )
    assert answer.status_code == 200
    assert answer.json()["cancel_reason"] == "客户改主意"
    unit.refresh_from_db()
    assert unit.status == UnitStatus.AVAILABLE


def test_a_consultant_cancelling_a_contract_gets_403(client, project, consultant, api_token_for) -> None:
    subscription = contracted(units_of(project)[0], customer_of(project, consultant), consultant)
    answer = _post(client, f"/api/v1/subscriptions/{subscription.pk}/cancel", {}, api_token_for(consultant))
    assert answer.status_code == 403
    subscription.refresh_from_db()
    assert subscription.status == S.CONTRACTED


def test_actions_on_another_consultants_subscription_are_404(
    client, project, consultant, other_consultant, api_token_for
) -> None:
    subscription = subscribe(units_of(project)[0], customer_of(project, consultant), consultant)
    for action in ("contract", "cancel", "approve", "reject"):
        answer = _post(
            client, f"/api/v1/subscriptions/{subscription.pk}/{action}", {}, api_token_for(other_consultant)
        )
        assert answer.status_code == 404, action
    subscription.refresh_from_db()
    assert subscription.status == S.ACTIVE and subscription.history.count() == 1


def test_change_unit_through_the_api(client, project, consultant, api_token_for) -> None:
    units = units_of(project)
    old = subscribe(units[0], customer_of(project, consultant), consultant)
    answer = _post(
        client,
        f"/api/v1/subscriptions/{old.pk}/change-unit",
        {"unit_id": units[2].pk, "price": "2000000.00", "deposit": "30000"},
        api_token_for(consultant),
    )
    assert answer.status_code == 201, answer.content
    new = answer.json()
    assert (new["unit_id"], new["price"], new["deposit"], new["replaces_id"]) == (
        units[2].pk,
        "2000000.00",
        "30000.00",
        old.pk,
    )
    old.refresh_from_db()
    assert old.status == S.CANCELLED and old.replaced_by_id == new["id"]


def test_change_unit_to_a_taken_unit_is_409_and_changes_nothing(
    client, project, consultant, api_token_for
) -> None:
    units = units_of(project)
    old = subscribe(units[0], customer_of(project, consultant), consultant)
    subscribe(units[1], customer_of(project, consultant), consultant)
    answer = _post(
        client,
        f"/api/v1/subscriptions/{old.pk}/change-unit",
        {"unit_id": units[1].pk},
        api_token_for(consultant),
    )
    assert answer.status_code == 409 and answer.json()["code"] == "unit_not_available"
    old.refresh_from_db()
    assert old.status == S.ACTIVE


# --- reservations ----------------------------------------------------------------------------------------


def test_reservations_are_numbered_listed_and_refunded(
    client, project, consultant, manager, api_token_for
) -> None:
    customer = customer_of(project, consultant)
    headers = api_token_for(consultant)
    created = _post(
        client,
        f"/api/v1/projects/{project.pk}/reservations",
        {"customer_id": customer.pk, "amount": "20000"},
        headers,
    )
    assert created.status_code == 201, created.content
    assert (created.json()["number"], created.json()["amount"], created.json()["status"]) == (
        1,
        "20000.00",
        "active",
    )

    again = _post(
        client,
        f"/api/v1/projects/{project.pk}/reservations",
        {"customer_id": customer.pk, "amount": "1"},
        headers,
    )
    assert again.status_code == 409 and again.json()["code"] == "reservation_exists"

    listed = client.get(f"/api/v1/projects/{project.pk}/reservations", headers=headers).json()
    assert listed["count"] == 1 and listed["items"][0]["customer_id"] == customer.pk

    by_consultant = _post(client, f"/api/v1/reservations/{created.json()['id']}/refund", {}, headers)
    assert by_consultant.status_code == 403
    refunded = _post(
        client,
        f"/api/v1/reservations/{created.json()['id']}/refund",
        {"reason": "客户放弃"},
        api_token_for(manager),
    )
    assert refunded.status_code == 200 and refunded.json()["status"] == "refunded"


@pytest.mark.parametrize(("amount", "status"), [("-1", 400), ("abc", 400), ("1.001", 400), ("0", 201)])
def test_reservation_amounts(client, project, consultant, api_token_for, amount: str, status: int) -> None:
    customer = customer_of(project, consultant)
    answer = _post(
        client,
        f"/api/v1/projects/{project.pk}/reservations",
        {"customer_id": customer.pk, "amount": amount},
        api_token_for(consultant),
    )
    assert answer.status_code == status, answer.content
    if status == 400:
        assert "amount" in answer.json()["fields"]
        assert not Reservation.objects.exists()


def test_reservation_for_another_consultants_customer_is_404(
    client, project, consultant, other_consultant, api_token_for
) -> None:
    customer = customer_of(project, other_consultant)
    answer = _post(
        client,
        f"/api/v1/projects/{project.pk}/reservations",
        {"customer_id": customer.pk, "amount": "10"},
        api_token_for(consultant),
    )
    assert answer.status_code == 404
    assert not Reservation.objects.exists()


def test_reservation_list_costs_the_same_for_few_and_many(
    client, project, consultant, manager, api_token_for, django_assert_num_queries
) -> None:
    headers = api_token_for(manager)
    url = f"/api/v1/projects/{project.pk}/reservations"
    reservation_create(
        project=project, customer=customer_of(project, consultant), amount=Decimal(1), by=manager
    )
    few = count_queries(lambda: client.get(url, headers=headers))
    for _ in range(6):
        reservation_create(
            project=project, customer=customer_of(project, consultant), amount=Decimal(1), by=manager
        )
    with django_assert_num_queries(few):
        assert client.get(url, headers=headers).json()["count"] == 7


# --- sales summary ---------------------------------------------------------------------------------------


def test_sales_summary_for_managers(client, project, consultant, manager, api_token_for) -> None:
    units = units_of(project)
    subscribe(units[0], customer_of(project, consultant), consultant)
    contracted(units[1], customer_of(project, consultant), consultant)
    today = timezone.localdate().isoformat()

    answer = client.get(
        f"/api/v1/projects/{project.pk}/sales-summary?date_from={today}&date_to={today}",
        headers=api_token_for(manager),
    )
    assert answer.status_code == 200, answer.content
    body = answer.json()
    assert [row["date"] for row in body["rows"]] == [today]
    total = units[0].list_price_total + units[1].list_price_total
    assert body["totals"]["subscriptions"] == 2
    assert body["totals"]["subscription_amount"] == f"{total:.2f}"
    assert body["totals"]["contracts"] == 1
    assert body["totals"]["contract_amount"] == f"{units[1].list_price_total:.2f}"

    assert (
        client.get(
            f"/api/v1/projects/{project.pk}/sales-summary", headers=api_token_for(consultant)
        ).status_code
        == 403
    )


@pytest.mark.parametrize(
    "query",
    ["date_from=2026-05-02&date_to=2026-05-01", "date_from=2020-01-01&date_to=2026-01-01", "date_from=x"],
)
def test_sales_summary_bad_ranges_are_400(client, project, manager, api_token_for, query: str) -> None:
    answer = client.get(
        f"/api/v1/projects/{project.pk}/sales-summary?{query}", headers=api_token_for(manager)
    )
    assert answer.status_code == 400
    assert answer.json()["fields"]


def test_sales_summary_costs_the_same_for_short_and_long_ranges(
    client, project, consultant, manager, api_token_for, django_assert_num_queries
) -> None:
    subscribe(units_of(project)[0], customer_of(project, consultant), consultant)
    headers = api_token_for(manager)
    base = f"/api/v1/projects/{project.pk}/sales-summary"
    few = count_queries(
        lambda: client.get(f"{base}?date_from=2026-01-01&date_to=2026-01-02", headers=headers)
    )
    with django_assert_num_queries(few):
        client.get(f"{base}?date_from=2025-06-01&date_to=2026-05-31", headers=headers)


def test_every_deals_endpoint_is_in_the_openapi_document(client) -> None:
    paths = client.get("/api/v1/openapi.json").json()["paths"]
    for path in (
        "/api/v1/units/{uid}/hold",
        "/api/v1/units/{uid}/release",
        "/api/v1/subscriptions",
        "/api/v1/subscriptions/{subscription_id}",
        "/api/v1/subscriptions/{subscription_id}/contract",
        "/api/v1/subscriptions/{subscription_id}/cancel",
        "/api/v1/subscriptions/{subscription_id}/approve",
        "/api/v1/subscriptions/{subscription_id}/reject",
        "/api/v1/subscriptions/{subscription_id}/change-unit",
        "/api/v1/projects/{pid}/reservations",
        "/api/v1/projects/{pid}/sales-summary",
    ):
        assert path in paths, path


def test_no_customer_is_left_unmasked_for_a_manager(
    client, project, consultant, manager, api_token_for
) -> None:
    customer = Customer.objects.create(
        project=project, phone="+8613812345678", name="13812345678", owner=consultant
    )
    record_risk_disclosure(customer=customer)
    subscribe(units_of(project)[0], customer, consultant)
    body = client.get(
        f"/api/v1/subscriptions?project={project.pk}", headers=api_token_for(manager)
    ).content.decode()
    assert "13812345678" not in body and "138****5678" in body
    assert Subscription.objects.count() == 1
