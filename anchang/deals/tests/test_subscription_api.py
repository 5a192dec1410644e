"""POST /units/{uid}/subscriptions as api.md pins it: 201 for the first buyer, 409 for the next."""

from decimal import Decimal

import pytest

from anchang.customers.models import Customer
from anchang.deals.models import Subscription, SubscriptionStatus
from anchang.inventory.models import UnitStatus
from anchang.reception.testing import record_risk_disclosure

pytestmark = pytest.mark.django_db

URL = "/api/v1/units/{uid}/subscriptions"


def _customer(project, owner, phone="+8613800138000", name="王小明") -> Customer:
    customer = Customer.objects.create(project=project, phone=phone, name=name, owner=owner)
    record_risk_disclosure(customer=customer)
    return customer


def test_first_subscription_wins_and_the_second_gets_409(client, project, consultant, api_token_for):
    unit = project.units.first()
    first = _customer(project, consultant)
    second = _customer(project, consultant, phone="+8613900139000", name="李四")
    headers = api_token_for(consultant)

    won = client.post(
        URL.format(uid=unit.pk),
        {"customer_id": first.pk, "price": "2850000.00", "deposit": "50000.00"},
        content_type="application/json",
        headers=headers,
    )
    lost = client.post(
        URL.format(uid=unit.pk),
        {"customer_id": second.pk, "price": "2850000.00", "deposit": "50000.00"},
        content_type="application/json",
        headers=headers,
    )

    assert won.status_code == 201, won.content
    assert won.json()["status"] == SubscriptionStatus.ACTIVE
    assert won.json()["price"] == "2850000.00"
    assert lost.status_code == 409
    assert lost.json()["code"] == "unit_not_available"
    unit.refresh_from_db()
    assert unit.status == UnitStatus.SUBSCRIBED
    assert list(Subscription.objects.values_list("customer_id", flat=True)) == [first.pk]


def test_same_idempotency_key_returns_the_first_answer_and_creates_one(
    client, project, consultant, api_token_for
):
    unit = project.units.first()
    customer = _customer(project, consultant)
    headers = {**api_token_for(consultant), "Idempotency-Key": "kiosk-42"}
    body = {"customer_id": customer.pk, "price": "2850000.00", "deposit": "50000.00"}

    answers = [
        client.post(URL.format(uid=unit.pk), body, content_type="application/json", headers=headers)
        for _ in range(2)
    ]

    assert [a.status_code for a in answers] == [201, 201]
    assert answers[0].json() == answers[1].json()
    assert Subscription.objects.count() == 1


def test_a_deep_discount_waits_for_a_manager(client, project, consultant, api_token_for):
    unit = project.units.first()
    unit.list_price_total = Decimal("1000000.00")
    unit.save()
    customer = _customer(project, consultant)

    answer = client.post(
        URL.format(uid=unit.pk),
        {"customer_id": customer.pk, "price": "900000.00", "deposit": "20000.00"},
        content_type="application/json",
        headers=api_token_for(consultant),
    )

    assert answer.status_code == 201
    assert answer.json()["status"] == SubscriptionStatus.PENDING_APPROVAL
