"""Issue 11 §2: the subscribe form asks how the buyer pays and why the price is below list; both are
stored on the subscription and the manager's approval card shows the reason beside the threshold."""

from decimal import Decimal

import pytest
from django.urls import reverse

from anchang.core.errors import InvalidInput
from anchang.deals.models import PaymentMethod, Subscription, SubscriptionStatus
from anchang.deals.services import subscription_create
from anchang.deals.tests.helpers import customer_of, units_of
from anchang.inventory.models import ProjectSettings

pytestmark = pytest.mark.django_db


def _post(client, unit, customer, **fields):
    data = {"customer": customer.pk, "deposit": "50000", **fields}
    return client.post(reverse("deals:subscribe", args=[unit.pk]), data)


def test_the_form_shows_the_live_discount_and_asks_payment_and_reason(
    client_for, project, consultant
) -> None:
    unit = units_of(project)[0]
    html = client_for(consultant).get(reverse("deals:subscribe", args=[unit.pk])).content.decode()
    assert 'id="discount-live"' in html and "anchang/discount.js" in html
    assert 'name="payment_method"' in html and "公积金贷款" in html and 'name="discount_reason"' in html


def test_payment_method_is_required_and_a_discount_needs_its_reason(client_for, project, consultant) -> None:
    unit = units_of(project)[0]
    customer = customer_of(project, consultant)
    client = client_for(consultant)
    below = str((unit.list_price_total * Decimal("0.9")).quantize(Decimal("0.01")))
    missing = _post(client, unit, customer, price=str(unit.list_price_total))
    assert missing.status_code == 400 and "请选择付款方式" in missing.content.decode()
    no_reason = _post(client, unit, customer, price=below, payment_method="mortgage")
    assert no_reason.status_code == 400 and "成交价低于表价，请填写优惠原因" in no_reason.content.decode()
    assert not Subscription.objects.exists()

    done = _post(
        client, unit, customer, price=below, payment_method="mortgage", discount_reason="老带新 + 一次性"
    )
    assert done.status_code == 302
    subscription = Subscription.objects.get()
    assert subscription.payment_method == PaymentMethod.MORTGAGE
    assert subscription.discount_reason == "老带新 + 一次性"


def test_at_list_price_no_reason_is_asked(client_for, project, consultant) -> None:
    unit = units_of(project)[0]
    response = _post(
        client_for(consultant),
        unit,
        customer_of(project, consultant),
        price=str(unit.list_price_total),
        payment_method="full",
    )
    assert response.status_code == 302 and Subscription.objects.get().discount_reason == ""


def test_the_service_refuses_an_unknown_payment_method(project, consultant) -> None:
    unit = units_of(project)[0]
    with pytest.raises(InvalidInput) as error:
        subscription_create(
            unit_id=unit.pk,
            customer=customer_of(project, consultant),
            price=unit.list_price_total,
            deposit=Decimal(50000),
            by=consultant,
            payment_method="bitcoin",
        )
    assert "payment_method" in error.value.fields and not Subscription.objects.exists()


def test_the_approval_card_shows_the_reason_and_the_threshold(
    client_for, project, consultant, manager
) -> None:
    ProjectSettings.objects.filter(project=project).update(discount_approval_threshold=Decimal("2.5"))
    unit = units_of(project)[0]
    subscription = subscription_create(
        unit_id=unit.pk,
        customer=customer_of(project, consultant),
        price=(unit.list_price_total * Decimal("0.9")).quantize(Decimal("0.01")),
        deposit=Decimal(50000),
        by=consultant,
        discount_reason="团购 5 套",
        payment_method="combined",
    )
    assert subscription.status == SubscriptionStatus.PENDING_APPROVAL
    html = client_for(manager).get(reverse("deals:approvals", args=[project.pk])).content.decode()
    assert "优惠原因：团购 5 套" in html and "审批阈值 2.50%" in html and "组合贷款" in html
    home = client_for(manager).get(reverse("home")).content.decode()
    assert "团购 5 套" in home and "（阈值 2.50%）" in home
