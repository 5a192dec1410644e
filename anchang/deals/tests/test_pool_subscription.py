"""A consultant subscribes a public-pool customer (公客池) by claiming them in the same step, within the
daily claim cap: one transaction, so a refused subscription leaves the customer in the pool."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from anchang.core.errors import Conflict, Forbidden
from anchang.customers.models import Customer, CustomerEvent, EventKind, PoolReason
from anchang.customers.pool import pool_claim
from anchang.deals.models import Subscription
from anchang.deals.services import subscription_create
from anchang.deals.tests.helpers import customer_of, units_of
from anchang.inventory.models import ProjectSettings, UnitStatus
from anchang.inventory.services import UnitNotAvailable

pytestmark = pytest.mark.django_db

# What the subscribe form asks besides the price: how the buyer pays and why a price is below list.
TERMS = {"payment_method": "full", "discount_reason": "老带新"}
DEPOSIT = Decimal("50000.00")


def _pooled(project, name: str = "王小明") -> Customer:
    customer = customer_of(project, None, name=name)
    Customer.objects.filter(pk=customer.pk).update(
        pooled_at=timezone.now() - timedelta(hours=1),
        pool_reason=PoolReason.PROTECTION_EXPIRED,
        protected_until=None,
    )
    customer.refresh_from_db()
    return customer


def _subscribe_claiming(unit, customer, by) -> Subscription:
    return subscription_create(
        unit_id=unit.pk,
        customer=customer,
        price=unit.list_price_total,
        deposit=DEPOSIT,
        by=by,
        claim_from_pool=True,
    )


def test_claim_and_subscribe_in_one_step(project, consultant) -> None:
    unit, customer = units_of(project)[0], _pooled(project)
    subscription = _subscribe_claiming(unit, customer, consultant)
    customer.refresh_from_db()
    unit.refresh_from_db()
    assert (customer.owner, customer.pooled_at) == (consultant, None)
    assert subscription.consultant_id == consultant.pk and unit.status == UnitStatus.SUBSCRIBED
    kinds = set(CustomerEvent.objects.filter(customer=customer).values_list("kind", flat=True))
    assert {EventKind.CLAIMED, EventKind.SUBSCRIBED} <= kinds


def test_over_the_daily_claim_cap_nothing_changes(project, consultant) -> None:
    ProjectSettings.objects.filter(project=project).update(pool_claims_per_day=1)
    pool_claim(customer=_pooled(project, "李四"), consultant=consultant)
    unit, customer = units_of(project)[0], _pooled(project)
    with pytest.raises(Conflict) as refused:
        _subscribe_claiming(unit, customer, consultant)
    assert refused.value.code == "pool_claim_limit" and "上限" in refused.value.message
    customer.refresh_from_db()
    unit.refresh_from_db()
    assert customer.owner_id is None and customer.pooled_at is not None
    assert unit.status == UnitStatus.AVAILABLE and not Subscription.objects.exists()


def test_a_unit_sold_meanwhile_undoes_the_claim(project, consultant, other_consultant) -> None:
    unit = units_of(project)[0]
    subscription_create(
        unit_id=unit.pk,
        customer=customer_of(project, other_consultant),
        price=unit.list_price_total,
        deposit=DEPOSIT,
        by=other_consultant,
    )
    customer = _pooled(project)
    with pytest.raises(UnitNotAvailable):
        _subscribe_claiming(unit, customer, consultant)
    customer.refresh_from_db()
    assert customer.owner_id is None and customer.pooled_at is not None
    assert not CustomerEvent.objects.filter(customer=customer, kind=EventKind.CLAIMED).exists()


def test_only_a_consultant_of_the_project_claims(project, manager) -> None:
    with pytest.raises(Forbidden):
        _subscribe_claiming(units_of(project)[0], _pooled(project), manager)


def test_the_subscription_page_offers_pool_customers_and_claims_when_ticked(
    client_for, project, consultant
) -> None:
    unit, customer = units_of(project)[0], _pooled(project, "赵公客")
    client = client_for(consultant)
    url = reverse("deals:subscribe", args=[unit.pk])
    options = client.get(url + "?q=赵", headers={"HX-Request": "true"}).content.decode()
    assert "赵公客" in options and "公客" in options
    form = {"customer": customer.pk, "price": str(unit.list_price_total), "deposit": "50000", **TERMS}
    refused = client.post(url, form)
    assert refused.status_code == 400 and "认领并认购" in refused.content.decode()
    assert Customer.objects.get(pk=customer.pk).owner_id is None
    done = client.post(url, {**form, "claim_from_pool": "on"})
    assert done.status_code == 302
    assert Customer.objects.get(pk=customer.pk).owner == consultant


def test_the_api_claims_only_when_asked(client, project, consultant, api_token_for) -> None:
    unit, customer = units_of(project)[0], _pooled(project)
    url = f"/api/v1/units/{unit.pk}/subscriptions"
    body = {"customer_id": customer.pk, "price": str(unit.list_price_total), "deposit": "50000.00"}
    headers = api_token_for(consultant)
    refused = client.post(url, body, content_type="application/json", headers=headers)
    assert refused.status_code == 403 and "claim_from_pool" in refused.json()["message"]
    made = client.post(
        url, {**body, "claim_from_pool": True}, content_type="application/json", headers=headers
    )
    assert made.status_code == 201, made.content
    assert Customer.objects.get(pk=customer.pk).owner == consultant
