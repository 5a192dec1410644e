"""Issue 11 §5: a unit is sold only under a valid presale permit, and only to a customer who confirmed
the risk disclosure (or with a manager's written reason); a reservation (认筹) needs the disclosure, so
opening-day selections, which convert one, count as disclosure-checked."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from anchang.core.errors import Conflict, Forbidden
from anchang.customers.models import Customer
from anchang.deals.models import Subscription
from anchang.deals.opening import opening_select
from anchang.deals.opening_selectors import opening_available_units
from anchang.deals.services import reservation_create, subscription_change_unit, subscription_create
from anchang.deals.tests.helpers import customer_of, subscribe, units_of
from anchang.deals.tests.test_opening_setup import open_session
from anchang.inventory.models import Building, Unit, UnitStatus
from anchang.inventory.testing import factory_permit
from anchang.reception.services import check_in
from anchang.reception.stations import station_tick, stations_ensure_defaults

pytestmark = pytest.mark.django_db


def _unpermit(building: Building) -> None:
    permit = factory_permit(building.project)
    assert permit is not None
    permit.buildings.remove(building)


def _undisclosed(project, owner) -> Customer:
    return Customer.objects.create(project=project, phone="+8613912345678", name="赵六", owner=owner)


def _subscribe(unit: Unit, customer: Customer, by, **extra) -> Subscription:
    return subscription_create(
        unit_id=unit.pk,
        customer=customer,
        price=unit.list_price_total,
        deposit=Decimal(50000),
        by=by,
        **extra,
    )


# --- rule 1: the presale permit -----------------------------------------------------------------------


def test_a_unit_of_a_building_without_a_permit_is_refused_with_the_reason(project, consultant) -> None:
    unit = units_of(project)[0]
    _unpermit(unit.building)
    with pytest.raises(Conflict) as refused:
        subscribe(unit, customer_of(project, consultant), consultant)
    assert refused.value.code == "unit_not_permitted"
    assert "预售许可证" in refused.value.message and unit.building.name in refused.value.message
    unit.refresh_from_db()
    assert unit.status == UnitStatus.AVAILABLE and not Subscription.objects.exists()


@pytest.mark.parametrize(
    ("valid_from_days", "valid_until_days"),
    [(1, None), (-30, -1)],
    ids=["not_yet_valid", "expired"],
)
def test_a_permit_outside_its_validity_does_not_count(
    project, consultant, valid_from_days, valid_until_days
) -> None:
    today = timezone.localdate()
    permit = factory_permit(project)
    permit.valid_from = today + timedelta(days=valid_from_days)
    permit.valid_until = today + timedelta(days=valid_until_days) if valid_until_days is not None else None
    permit.save()
    with pytest.raises(Conflict) as refused:
        subscribe(units_of(project)[0], customer_of(project, consultant), consultant)
    assert refused.value.code == "unit_not_permitted"


def test_the_api_answers_409_unit_not_permitted(client, project, consultant, api_token_for) -> None:
    unit = units_of(project)[0]
    _unpermit(unit.building)
    customer = customer_of(project, consultant)
    response = client.post(
        f"/api/v1/units/{unit.pk}/subscriptions",
        {"customer_id": customer.pk, "price": "2000000", "deposit": "50000"},
        content_type="application/json",
        headers=api_token_for(consultant),
    )
    assert response.status_code == 409
    assert response.json()["code"] == "unit_not_permitted"


def test_changing_to_a_unit_without_a_permit_changes_nothing(project, consultant) -> None:
    first, second = units_of(project)[0], units_of(project)[-1]
    subscription = subscribe(first, customer_of(project, consultant), consultant)
    _unpermit(second.building)
    with pytest.raises(Conflict) as refused:
        subscription_change_unit(subscription_id=subscription.pk, unit_id=second.pk, by=consultant)
    assert refused.value.code == "unit_not_permitted"
    subscription.refresh_from_db()
    assert subscription.unit_id == first.pk and subscription.occupies_unit


def test_opening_day_refuses_and_the_board_shows_not_for_sale_yet(
    client, project, manager, consultant
) -> None:
    opened = open_session(project, manager)
    building = Building.objects.filter(project=project).order_by("sort_order").first()
    _unpermit(building)
    unit = Unit.objects.filter(building=building).order_by("pk").first()
    with pytest.raises(Conflict) as refused:
        opening_select(buyer_id=opened.buyers[0].pk, unit_id=unit.pk, by=consultant)
    assert refused.value.code == "unit_not_permitted"
    left = opening_available_units(session=opened.session)
    assert not left.filter(building=building).exists() and left.exists()

    html = client.get(reverse("openings:buyer", args=[opened.buyers[0].token]) + f"?b={building.pk}").content
    page = html.decode()
    assert f'data-unit="{unit.pk}" data-status="not_permitted"' in page
    assert "尚未取得预售许可证" in page
    assert f"units/{unit.pk}/" not in page


# --- rule 3: the risk disclosure ------------------------------------------------------------------------


def test_a_customer_without_a_confirmed_disclosure_is_refused(project, consultant) -> None:
    customer = _undisclosed(project, consultant)
    unit = units_of(project)[0]
    with pytest.raises(Conflict) as refused:
        _subscribe(unit, customer, consultant)
    assert refused.value.code == "risk_disclosure_missing"
    unit.refresh_from_db()
    assert unit.status == UnitStatus.AVAILABLE and not Subscription.objects.exists()


def test_the_disclosure_confirmed_at_the_station_lets_the_subscription_through(
    project, frontdesk, on_duty
) -> None:
    stations_ensure_defaults(project=project)
    visit = check_in(project=project, phone="13912345678", by=frontdesk, consent=True).visit
    consultant = visit.consultant
    unit = units_of(project)[0]
    # Shown, but the customer did not confirm: not yet enough.
    station_tick(visit=visit, code="disclosure", by=consultant)
    with pytest.raises(Conflict):
        _subscribe(unit, visit.customer, consultant)
    station_tick(visit=visit, code="disclosure", by=consultant, customer_confirmed=True)
    assert _subscribe(unit, visit.customer, consultant).disclosure_override_reason == ""


def test_a_manager_overrides_with_a_written_reason_kept_on_the_subscription(
    client_for, project, consultant, manager
) -> None:
    customer = _undisclosed(project, consultant)
    subscription = _subscribe(
        units_of(project)[0],
        customer,
        manager,
        disclosure_override_reason="  客户已在售楼处签署纸质风险告知书  ",
    )
    assert subscription.disclosure_override_reason == "客户已在售楼处签署纸质风险告知书"
    assert subscription.disclosure_override_by == manager
    page = client_for(manager).get(reverse("deals:subscription", args=[subscription.pk])).content.decode()
    assert "客户已在售楼处签署纸质风险告知书" in page


def test_only_a_manager_may_override(project, consultant) -> None:
    customer = _undisclosed(project, consultant)
    with pytest.raises(Forbidden):
        _subscribe(units_of(project)[0], customer, consultant, disclosure_override_reason="客户赶时间")
    assert not Subscription.objects.exists()


def test_the_api_answers_409_without_disclosure_and_403_for_a_consultants_override(
    client, project, consultant, manager, api_token_for
) -> None:
    customer = _undisclosed(project, consultant)
    unit = units_of(project)[0]
    url = f"/api/v1/units/{unit.pk}/subscriptions"
    body = {"customer_id": customer.pk, "price": "2000000", "deposit": "50000"}
    refused = client.post(url, body, content_type="application/json", headers=api_token_for(consultant))
    assert refused.status_code == 409 and refused.json()["code"] == "risk_disclosure_missing"
    forbidden = client.post(
        url,
        {**body, "disclosure_override_reason": "我来担保"},
        content_type="application/json",
        headers=api_token_for(consultant),
    )
    assert forbidden.status_code == 403
    too_long = client.post(
        url,
        {**body, "disclosure_override_reason": "长" * 201},
        content_type="application/json",
        headers=api_token_for(manager),
    )
    assert too_long.status_code == 400 and "disclosure_override_reason" in too_long.json()["fields"]
    assert not Subscription.objects.exists()
    done = client.post(
        url,
        {**body, "disclosure_override_reason": "已签纸质风险告知书"},
        content_type="application/json",
        headers=api_token_for(manager),
    )
    assert done.status_code == 201
    assert Subscription.objects.get().disclosure_override_by == manager


def test_the_web_form_shows_the_refusal_and_the_manager_override(
    client_for, project, consultant, manager
) -> None:
    customer = _undisclosed(project, consultant)
    unit = units_of(project)[0]
    url = reverse("deals:subscribe", args=[unit.pk])
    form = {
        "customer": customer.pk,
        "price": str(unit.list_price_total),
        "deposit": "50000",
        "payment_method": "mortgage",
    }
    refused = client_for(consultant).post(url, form)
    assert refused.status_code == 409
    assert "客户还没有确认风险提示" in refused.content.decode()
    assert "disclosure_override_reason" not in client_for(consultant).get(url).content.decode()
    assert 'name="disclosure_override_reason"' in client_for(manager).get(url).content.decode()
    done = client_for(manager).post(url, {**form, "disclosure_override_reason": "已签纸质风险告知书"})
    assert done.status_code == 302
    assert Subscription.objects.get().disclosure_override_reason == "已签纸质风险告知书"


def test_a_reservation_needs_the_disclosure_and_then_counts_for_the_subscription(
    project, consultant, manager
) -> None:
    customer = _undisclosed(project, consultant)
    with pytest.raises(Conflict) as refused:
        reservation_create(project=project, customer=customer, amount=Decimal(20000), by=consultant)
    assert refused.value.code == "risk_disclosure_missing"
    assert not customer.reservations.exists()

    # Opening day: a buyer holds a reservation (taken after the disclosure) and selects on their phone.
    opened = open_session(project, manager)
    buyer = opened.buyers[0]
    assert not Customer.objects.filter(pk=buyer.customer_id, visits__isnull=False).exists()
    subscription = opening_select(buyer_id=buyer.pk, unit_id=units_of(project)[0].pk, by=None)
    assert subscription.reservation_id == buyer.reservation_id


def test_a_subscription_page_warns_when_the_building_has_no_permit(client_for, project, consultant) -> None:
    unit = units_of(project)[0]
    _unpermit(unit.building)
    page = client_for(consultant).get(reverse("deals:subscribe", args=[unit.pk])).content.decode()
    assert "还没有有效的预售许可证" in page


def test_the_reservations_page_and_api_refuse_an_undisclosed_customer(
    client, client_for, project, consultant, api_token_for
) -> None:
    customer = _undisclosed(project, consultant)
    page = client_for(consultant).post(
        reverse("deals:reservations", args=[project.pk]), {"customer": customer.pk, "amount": "20000"}
    )
    assert page.status_code == 409
    assert "客户还没有确认风险提示" in page.content.decode()
    api = client.post(
        f"/api/v1/projects/{project.pk}/reservations",
        {"customer_id": customer.pk, "amount": "20000"},
        content_type="application/json",
        headers=api_token_for(consultant),
    )
    assert api.status_code == 409 and api.json()["code"] == "risk_disclosure_missing"
    assert not customer.reservations.exists()
