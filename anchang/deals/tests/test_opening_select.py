"""Selecting on opening day: who may select when, the per-buyer limit, the 409 for a unit taken a moment
earlier, the reservation that converts, and the board that shows it."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from anchang.core.errors import Conflict, Forbidden, NotFound
from anchang.deals.models import (
    OpeningBuyer,
    ReservationStatus,
    Subscription,
    SubscriptionStatus,
)
from anchang.deals.opening import (
    opening_buyers_draw,
    opening_select,
    opening_session_close,
    opening_session_open,
)
from anchang.deals.tests.test_opening_setup import DEPOSIT, make_session, open_session
from anchang.inventory.models import Unit, UnitStatus
from anchang.inventory.services import UnitNotAvailable

pytestmark = pytest.mark.django_db


def _units(project, n=3) -> list[Unit]:
    return list(Unit.objects.filter(project=project).order_by("pk")[:n])


def test_a_selection_is_a_subscription_at_list_price_with_the_reservation_as_deposit(
    project, manager, consultant
) -> None:
    opened = open_session(project, manager)
    buyer, unit = opened.buyers[0], _units(project)[0]

    subscription = opening_select(buyer_id=buyer.pk, unit_id=unit.pk, by=consultant)

    assert subscription.status == SubscriptionStatus.ACTIVE
    assert subscription.price == unit.list_price_total
    assert subscription.deposit == DEPOSIT
    assert subscription.opening_session_id == opened.session.pk
    assert subscription.reservation_id == buyer.reservation_id
    assert subscription.customer_id == buyer.customer_id
    assert subscription.created_by == consultant
    unit.refresh_from_db()
    assert unit.status == UnitStatus.SUBSCRIBED
    buyer.reservation.refresh_from_db()
    assert buyer.reservation.status == ReservationStatus.CONVERTED
    # The conversion is in the reservation's history.
    assert buyer.reservation.history.first().status == ReservationStatus.CONVERTED


def test_the_buyers_own_link_records_the_session_creator_as_seller(project, manager) -> None:
    opened = open_session(project, manager)
    subscription = opening_select(buyer_id=opened.buyers[0].pk, unit_id=_units(project)[0].pk, by=None)
    assert subscription.created_by == manager


def test_a_unit_taken_a_moment_earlier_is_refused_with_409_and_nothing_changes(project, manager) -> None:
    opened = open_session(project, manager)
    first, second = opened.buyers[:2]
    unit = _units(project)[0]
    opening_select(buyer_id=first.pk, unit_id=unit.pk, by=None)

    with pytest.raises(UnitNotAvailable) as refused:
        opening_select(buyer_id=second.pk, unit_id=unit.pk, by=None)

    assert refused.value.status == 409
    assert refused.value.code == "unit_not_available"
    assert "刚刚已被认购，请选择其他房源" in refused.value.message
    assert Subscription.objects.filter(unit=unit).count() == 1
    second.reservation.refresh_from_db()
    assert second.reservation.status == ReservationStatus.ACTIVE


def test_the_deposit_never_exceeds_the_price(project, manager) -> None:
    opened = open_session(project, manager)
    unit = _units(project)[0]
    Unit.objects.filter(pk=unit.pk).update(list_price_total=Decimal("30000.00"))
    subscription = opening_select(buyer_id=opened.buyers[0].pk, unit_id=unit.pk, by=None)
    assert subscription.deposit == Decimal("30000.00")


def test_the_limit_per_buyer(project, manager) -> None:
    opened = open_session(project, manager, units_per_buyer=2)
    buyer = opened.buyers[0]
    a, b, c = _units(project)
    opening_select(buyer_id=buyer.pk, unit_id=a.pk, by=None)
    opening_select(buyer_id=buyer.pk, unit_id=b.pk, by=None)

    with pytest.raises(Conflict) as refused:
        opening_select(buyer_id=buyer.pk, unit_id=c.pk, by=None)

    assert refused.value.code == "limit_reached"
    assert "限选 2 套" in refused.value.message
    c.refresh_from_db()
    assert c.status == UnitStatus.AVAILABLE
    # Both selections carry the reservation's deposit; the reservation converted once.
    assert list(Subscription.objects.values_list("deposit", flat=True)) == [DEPOSIT, DEPOSIT]


def test_a_cancelled_selection_frees_the_buyers_place_in_the_limit(project, manager) -> None:
    opened = open_session(project, manager)
    buyer = opened.buyers[0]
    a, b, _c = _units(project)
    first = opening_select(buyer_id=buyer.pk, unit_id=a.pk, by=None)
    Subscription.objects.filter(pk=first.pk).update(status=SubscriptionStatus.CANCELLED)

    second = opening_select(buyer_id=buyer.pk, unit_id=b.pk, by=None)

    assert second.unit_id == b.pk


def test_not_before_the_buyers_slot(project, manager) -> None:
    # One buyer per 30-minute batch: the second buyer's slot starts half an hour after the first.
    opened = open_session(project, manager, buyers_per_slot=1, slot_minutes=30)
    later = opened.buyers[1]

    with pytest.raises(Conflict) as refused:
        opening_select(buyer_id=later.pk, unit_id=_units(project)[0].pk, by=None)

    assert refused.value.code == "slot_not_started"
    local = timezone.localtime(later.slot_starts_at).strftime("%H:%M")
    assert local in refused.value.message
    assert not Subscription.objects.exists()


def test_a_buyer_who_missed_their_slot_may_still_select_while_open(project, manager) -> None:
    opened = open_session(project, manager)
    buyer = opened.buyers[0]
    OpeningBuyer.objects.filter(pk=buyer.pk).update(
        slot_starts_at=timezone.now() - timedelta(hours=2), slot_ends_at=timezone.now() - timedelta(hours=1)
    )
    assert opening_select(buyer_id=buyer.pk, unit_id=_units(project)[0].pk, by=None).pk


def test_not_while_draft_nor_after_close(project, manager) -> None:
    opened = open_session(project, manager)
    draft = make_session(project, manager, name="第二场")
    opening_buyers_draw(session_id=draft.pk, by=manager)
    unit = _units(project)[0]
    with pytest.raises(Conflict) as not_open:
        opening_select(buyer_id=draft.buyers.first().pk, unit_id=unit.pk, by=None)
    assert not_open.value.code == "opening_not_open"

    opening_session_close(session_id=opened.session.pk, by=manager)
    with pytest.raises(Conflict) as closed:
        opening_select(buyer_id=opened.buyers[0].pk, unit_id=unit.pk, by=None)
    assert closed.value.code == "opening_closed"
    assert not Subscription.objects.exists()


def test_a_reservation_converted_in_another_session_cannot_select_again(project, manager) -> None:
    first = open_session(project, manager)
    second = make_session(project, manager, name="第二场")
    opening_buyers_draw(session_id=second.pk, by=manager)
    opening_session_open(session_id=second.pk, by=manager)
    a, b, _c = _units(project)
    opening_select(buyer_id=first.buyers[0].pk, unit_id=a.pk, by=None)
    same_reservation = second.buyers.get(reservation=first.buyers[0].reservation)

    with pytest.raises(Conflict) as refused:
        opening_select(buyer_id=same_reservation.pk, unit_id=b.pk, by=None)

    assert refused.value.code == "reservation_not_active"


@pytest.mark.parametrize("status", [UnitStatus.HELD, UnitStatus.RESERVED, UnitStatus.CONTRACTED])
def test_only_units_on_sale_can_be_selected(project, manager, status) -> None:
    opened = open_session(project, manager)
    unit = _units(project)[0]
    Unit.objects.filter(pk=unit.pk).update(status=status)
    with pytest.raises(UnitNotAvailable):
        opening_select(buyer_id=opened.buyers[0].pk, unit_id=unit.pk, by=None)
    assert not Subscription.objects.exists()


def test_a_unit_of_another_project_is_not_found(project, other_project, manager) -> None:
    opened = open_session(project, manager)
    elsewhere = Unit.objects.filter(project=other_project).first()
    with pytest.raises(NotFound):
        opening_select(buyer_id=opened.buyers[0].pk, unit_id=elsewhere.pk, by=None)
    elsewhere.refresh_from_db()
    assert elsewhere.status == UnitStatus.AVAILABLE


def test_a_buyer_of_another_session_is_not_found(project, manager) -> None:
    first = open_session(project, manager)
    with pytest.raises(NotFound):
        opening_select(
            buyer_id=first.buyers[0].pk,
            unit_id=_units(project)[0].pk,
            by=manager,
            session_id=first.session.pk + 1,
        )


def test_a_refunded_reservation_cannot_select(project, manager) -> None:
    opened = open_session(project, manager)
    buyer = opened.buyers[0]
    buyer.reservation.status = ReservationStatus.REFUNDED
    buyer.reservation.save()
    with pytest.raises(Conflict) as refused:
        opening_select(buyer_id=buyer.pk, unit_id=_units(project)[0].pk, by=None)
    assert refused.value.code == "reservation_not_active"


def test_roles_that_do_not_sell_cannot_select_for_a_buyer(
    project, manager, agent, attendant, service
) -> None:
    opened = open_session(project, manager)
    for user in (agent, attendant, service):
        with pytest.raises(Forbidden):
            opening_select(buyer_id=opened.buyers[0].pk, unit_id=_units(project)[0].pk, by=user)
    assert not Subscription.objects.exists()


def test_a_selection_shows_on_the_sales_control_board(client_for, project, manager) -> None:
    opened = open_session(project, manager)
    unit = _units(project)[0]
    board = reverse("inventory:board", args=[project.pk])
    client = client_for(manager)
    before = client.get(board, headers={"HX-Request": "true"}).content.decode()
    assert f'id="unit-{unit.pk}" data-status="available"' in before

    opening_select(buyer_id=opened.buyers[0].pk, unit_id=unit.pk, by=None)

    after = client.get(board, headers={"HX-Request": "true"}).content.decode()
    assert f'id="unit-{unit.pk}" data-status="subscribed"' in after
    assert 'data-status-count="subscribed">1<' in after
