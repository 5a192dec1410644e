"""The issue's bad-input list, each case answered with a clear 4xx and code, and nothing changed."""

import pytest
from django.urls import reverse

from anchang.accounts.models import Role
from anchang.accounts.testing import user_in
from anchang.customers.models import CustomerEvent
from anchang.deals.models import Hold, Subscription
from anchang.deals.services import hold_create, subscription_cancel
from anchang.deals.tests.helpers import customer_of, pending, subscribe, units_of
from anchang.inventory.models import Unit, UnitStatus

pytestmark = pytest.mark.django_db

# What the subscribe form asks besides the price: how the buyer pays and why a price is below list.
TERMS = {"payment_method": "full", "discount_reason": "老带新"}

URL = "/api/v1/units/{uid}/subscriptions"


def _snapshot() -> tuple[object, ...]:
    """Everything a subscription attempt could touch."""
    return (
        list(Subscription.objects.order_by("pk").values_list("pk", "status", "updated_at")),
        list(Unit.objects.order_by("pk").values_list("pk", "status")),
        Unit.history.count(),
        Subscription.history.count(),
        CustomerEvent.objects.count(),
        Hold.objects.count(),
    )


def _subscribe_api(client, headers, unit, customer, price="2000000.00", deposit="50000.00"):
    return client.post(
        URL.format(uid=unit.pk),
        {"customer_id": customer.pk, "price": price, "deposit": deposit},
        content_type="application/json",
        headers=headers,
    )


@pytest.mark.parametrize(
    ("price", "deposit", "field"),
    [
        ("0", "0", "price"),
        ("-100", "0", "price"),
        ("2000000.00", "2000000.01", "deposit"),
        ("2000000.00", "-1", "deposit"),
        ("abc", "50000", "price"),
        ("2000000", "五万", "deposit"),
        ("", "50000", "price"),
        ("2000000.001", "50000", "price"),
        ("1e20", "50000", "price"),
        ("NaN", "50000", "price"),
        ("Infinity", "50000", "price"),
        (None, "50000", "price"),
        ([], "50000", "price"),
    ],
)
def test_bad_money_is_400_naming_the_field(
    client, project, consultant, api_token_for, price, deposit, field
) -> None:
    unit = units_of(project)[0]
    customer = customer_of(project, consultant)
    before = _snapshot()

    answer = _subscribe_api(client, api_token_for(consultant), unit, customer, price, deposit)

    assert answer.status_code == 400, answer.content
    body = answer.json()
    assert body["code"] == "invalid"
    assert field in body["fields"], body
    assert body["message"]
    assert _snapshot() == before


def test_subscribing_a_held_unit_is_409(client, project, consultant, manager, api_token_for) -> None:
    unit = units_of(project)[0]
    hold_create(unit_id=unit.pk, reason="领导预留", by=manager)
    before = _snapshot()

    answer = _subscribe_api(client, api_token_for(consultant), unit, customer_of(project, consultant))

    assert answer.status_code == 409
    assert answer.json()["code"] == "unit_not_available"
    assert "销控" in answer.json()["message"]
    assert _snapshot()[:4] == before[:4]


@pytest.mark.parametrize("sold_as", ["subscribed", "contracted"])
def test_subscribing_a_sold_unit_is_409(client, project, consultant, api_token_for, sold_as: str) -> None:
    from anchang.deals.services import subscription_contract

    unit = units_of(project)[0]
    first = subscribe(unit, customer_of(project, consultant), consultant)
    if sold_as == "contracted":
        subscription_contract(subscription_id=first.pk, by=consultant)
    before = _snapshot()

    answer = _subscribe_api(
        client, api_token_for(consultant), unit, customer_of(project, consultant, name="迟到者")
    )

    assert answer.status_code == 409
    assert answer.json()["code"] == "unit_not_available"
    assert _snapshot()[:4] == before[:4]


def test_signing_a_cancelled_subscription_is_409(client, project, consultant, api_token_for) -> None:
    subscription = subscribe(units_of(project)[0], customer_of(project, consultant), consultant)
    subscription_cancel(subscription_id=subscription.pk, by=consultant, reason="客户放弃")
    before = _snapshot()

    answer = client.post(
        f"/api/v1/subscriptions/{subscription.pk}/contract",
        {},
        content_type="application/json",
        headers=api_token_for(consultant),
    )

    assert answer.status_code == 409
    assert answer.json()["code"] == "subscription_cancelled"
    assert "已退订" in answer.json()["message"]
    assert _snapshot() == before


def test_signing_a_pending_subscription_is_409(client, project, consultant, api_token_for) -> None:
    subscription = pending(units_of(project)[0], customer_of(project, consultant), consultant)
    before = _snapshot()
    answer = client.post(
        f"/api/v1/subscriptions/{subscription.pk}/contract",
        {},
        content_type="application/json",
        headers=api_token_for(consultant),
    )
    assert (answer.status_code, answer.json()["code"]) == (409, "approval_pending")
    assert _snapshot() == before


@pytest.mark.parametrize("action", ["approve", "reject"])
def test_an_approval_by_a_consultant_is_403(client, project, consultant, api_token_for, action: str) -> None:
    subscription = pending(units_of(project)[0], customer_of(project, consultant), consultant)
    before = _snapshot()

    answer = client.post(
        f"/api/v1/subscriptions/{subscription.pk}/{action}",
        {"note": "我自己批了"},
        content_type="application/json",
        headers=api_token_for(consultant),
    )

    assert answer.status_code == 403
    assert answer.json()["code"] == "forbidden"
    assert _snapshot() == before


def test_another_projects_unit_is_404(client, project, other_project, consultant, api_token_for) -> None:
    before = _snapshot()
    answer = _subscribe_api(
        client, api_token_for(consultant), units_of(other_project)[0], customer_of(project, consultant)
    )
    assert answer.status_code == 404
    assert _snapshot()[:4] == before[:4]


def test_another_projects_customer_is_404(client, project, other_project, consultant, api_token_for) -> None:
    stranger = customer_of(other_project, None)
    before = _snapshot()
    answer = _subscribe_api(client, api_token_for(consultant), units_of(project)[0], stranger)
    assert answer.status_code == 404
    assert _snapshot() == before


def test_another_consultants_customer_is_404(
    client, project, consultant, other_consultant, api_token_for
) -> None:
    before = _snapshot()
    answer = _subscribe_api(
        client, api_token_for(consultant), units_of(project)[0], customer_of(project, other_consultant)
    )
    assert answer.status_code == 404
    assert _snapshot() == before


def test_a_pool_customer_must_be_claimed_first(client, project, consultant, api_token_for) -> None:
    from django.utils import timezone

    pooled = customer_of(project, None)
    pooled.pooled_at = timezone.now()
    pooled.save()
    before = _snapshot()
    answer = _subscribe_api(client, api_token_for(consultant), units_of(project)[0], pooled)
    assert answer.status_code == 403
    assert "认领" in answer.json()["message"]
    assert _snapshot() == before


@pytest.mark.parametrize("role", [Role.AGENT, Role.ATTENDANT, Role.SERVICE])
def test_roles_that_do_not_sell_cannot_subscribe(client, project, consultant, api_token_for, role) -> None:
    user = user_in(project, role=role)
    before = _snapshot()
    answer = _subscribe_api(
        client, api_token_for(user), units_of(project)[0], customer_of(project, consultant)
    )
    assert answer.status_code in (403, 404)
    assert _snapshot()[:4] == before[:4]


def test_english_is_given_when_asked(client, project, consultant, api_token_for) -> None:
    answer = _subscribe_api(
        client,
        {**api_token_for(consultant), "Accept-Language": "en"},
        units_of(project)[0],
        customer_of(project, consultant),
        price="0",
    )
    assert answer.status_code == 400
    assert "price" in answer.json()["fields"]


def test_the_web_form_refuses_words_for_money_inline(client_for, project, consultant) -> None:
    unit = units_of(project)[0]
    customer = customer_of(project, consultant)
    before = _snapshot()

    response = client_for(consultant).post(
        reverse("deals:subscribe", args=[unit.pk]),
        {"customer": customer.pk, "price": "abc", "deposit": "60000"},
    )

    assert response.status_code == 400
    assert "请输入金额" in response.content.decode()
    assert _snapshot() == before


def test_the_web_form_refuses_a_deposit_above_the_price(client_for, project, consultant) -> None:
    unit = units_of(project)[0]
    customer = customer_of(project, consultant)
    before = _snapshot()
    response = client_for(consultant).post(
        reverse("deals:subscribe", args=[unit.pk]),
        {"customer": customer.pk, "price": "100", "deposit": "200", **TERMS},
    )
    assert response.status_code == 400
    assert "定金不能高于成交总价" in response.content.decode()
    assert _snapshot() == before


def test_the_web_form_refuses_a_held_unit(client_for, project, consultant, manager) -> None:
    unit = units_of(project)[0]
    hold_create(unit_id=unit.pk, reason="领导预留", by=manager)
    before = _snapshot()
    response = client_for(consultant).post(
        reverse("deals:subscribe", args=[unit.pk]),
        {"customer": customer_of(project, consultant).pk, "price": "2000000", "deposit": "50000", **TERMS},
    )
    assert response.status_code == 409
    assert "销控" in response.content.decode()
    assert _snapshot()[:4] == before[:4]
    unit.refresh_from_db()
    assert unit.status == UnitStatus.HELD


@pytest.mark.parametrize(
    "expires_at",
    [
        "0001-01-01T00:00:00+14:00",
        "9999-12-31T23:59:59-12:00",
        "2020-01-01T00:00:00+08:00",
        "2999-01-01T00:00:00",
    ],
)
def test_hold_expiry_out_of_range_is_400(client, project, manager, api_token_for, expires_at: str) -> None:
    unit = units_of(project)[0]
    before = _snapshot()
    answer = client.post(
        f"/api/v1/units/{unit.pk}/hold",
        {"reason": "领导预留", "expires_at": expires_at},
        content_type="application/json",
        headers=api_token_for(manager),
    )
    assert answer.status_code == 400, answer.content
    assert "expires_at" in answer.json()["fields"]
    assert _snapshot() == before


@pytest.mark.parametrize(
    "query", ["date_from=9999-12-31", "date_to=0001-01-01", "date_from=9999-12-20&date_to=9999-12-31"]
)
def test_summary_at_the_ends_of_the_calendar_is_not_a_500(
    client, project, manager, api_token_for, query
) -> None:
    answer = client.get(
        f"/api/v1/projects/{project.pk}/sales-summary?{query}", headers=api_token_for(manager)
    )
    assert answer.status_code in (200, 400), answer.content


def test_huge_ids_are_refused_not_crashed(client_for, client, project, consultant, api_token_for) -> None:
    unit = units_of(project)[0]
    huge = "9" * 25
    page = client_for(consultant).get(reverse("deals:subscribe", args=[unit.pk]) + f"?customer={huge}")
    assert page.status_code == 200
    posted = client_for(consultant).post(
        reverse("deals:subscribe", args=[unit.pk]), {"customer": huge, "price": "1", "deposit": "0"}
    )
    assert posted.status_code == 400
    answer = client.post(
        f"/api/v1/units/{2**64}/subscriptions",
        {"customer_id": 1, "price": "1", "deposit": "0"},
        content_type="application/json",
        headers=api_token_for(consultant),
    )
    assert answer.status_code in (400, 404)
