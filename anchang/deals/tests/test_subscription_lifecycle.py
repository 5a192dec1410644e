"""The life of a subscription through the services: approval, contract, cancellation, change of unit."""

from decimal import Decimal

import pytest

from anchang.accounts.models import Role
from anchang.accounts.testing import user_in
from anchang.core.errors import Conflict, Forbidden, InvalidInput, NotFound
from anchang.core.models import Notification
from anchang.customers.models import CustomerEvent, EventKind, Stage
from anchang.deals.models import Reservation, ReservationStatus, Subscription, SubscriptionStatus
from anchang.deals.services import (
    needs_approval,
    reservation_create,
    subscription_approve,
    subscription_cancel,
    subscription_change_unit,
    subscription_contract,
    subscription_create,
    subscription_reject,
)
from anchang.deals.tests.helpers import approved, contracted, customer_of, pending, subscribe, units_of
from anchang.inventory.models import UnitStatus
from anchang.inventory.services import UnitNotAvailable
from anchang.inventory.testing import project_with_units

pytestmark = pytest.mark.django_db

S = SubscriptionStatus


def _unit_status(unit) -> str:
    unit.refresh_from_db()
    return unit.status


# --- creating --------------------------------------------------------------------------------------------


def test_a_subscription_at_list_price_is_active_and_occupies_the_unit(project, consultant) -> None:
    unit = units_of(project)[0]
    customer = customer_of(project, consultant)

    subscription = subscribe(unit, customer, consultant)

    assert subscription.status == S.ACTIVE
    assert subscription.consultant == consultant
    assert subscription.list_price == unit.list_price_total
    assert (subscription.sign_deadline - subscription.subscribed_on).days == project.settings.sign_within_days
    assert _unit_status(unit) == UnitStatus.SUBSCRIBED
    customer.refresh_from_db()
    assert customer.stage == Stage.SUBSCRIBED
    assert CustomerEvent.objects.filter(customer=customer, kind=EventKind.SUBSCRIBED).count() == 1
    last = unit.history.order_by("-history_date").first()
    assert (last.status, last.history_user, last.history_change_reason) == (
        UnitStatus.SUBSCRIBED,
        consultant,
        "认购",
    )


@pytest.mark.parametrize(
    ("price", "waits"),
    [("1000000", False), ("980000", False), ("979999.99", True), ("900000", True), ("1100000", False)],
)
def test_the_discount_threshold_is_strictly_above(price: str, waits: bool) -> None:
    # The default threshold is 2 %: exactly 2 % off does not wait, a cent more does.
    assert (
        needs_approval(list_price=Decimal(1000000), price=Decimal(price), threshold_percent=Decimal(2))
        is waits
    )


def test_a_deep_discount_waits_and_the_managers_are_told(project, consultant, manager) -> None:
    other_project_manager = user_in(
        project_with_units(buildings=1, floors=1, units_per_floor=1), role=Role.MANAGER
    )
    unit = units_of(project)[0]

    subscription = pending(unit, customer_of(project, consultant, name="李雷"), consultant)

    assert subscription.status == S.PENDING_APPROVAL
    assert _unit_status(unit) == UnitStatus.SUBSCRIBED  # a pending subscription already holds the unit
    told = Notification.objects.filter(kind="subscription_approval", channel="in_app")
    assert list(told.values_list("recipient_id", flat=True)) == [manager.pk]
    assert other_project_manager.pk not in told.values_list("recipient_id", flat=True)
    note = told.get()
    assert "李**" in note.body or "李先生" in note.body
    assert note.url == f"/subscriptions/{subscription.pk}/"


def test_the_project_threshold_is_read_from_its_settings(project, consultant) -> None:
    project.settings.discount_approval_threshold = Decimal("15.00")
    project.settings.save()
    subscription = subscribe(
        units_of(project)[0], customer_of(project, consultant), consultant, discount=Decimal("0.10")
    )
    assert subscription.status == S.ACTIVE


def test_a_reservation_turns_into_the_subscription(project, consultant) -> None:
    customer = customer_of(project, consultant)
    reservation = reservation_create(project=project, customer=customer, amount=Decimal(20000), by=consultant)
    unit = units_of(project)[0]

    subscription = subscription_create(
        unit_id=unit.pk,
        customer=customer,
        price=unit.list_price_total,
        deposit=Decimal(20000),
        by=consultant,
        reservation=reservation,
    )

    reservation.refresh_from_db()
    assert subscription.reservation == reservation
    assert reservation.status == ReservationStatus.CONVERTED
    assert reservation.history.first().history_change_reason == "认筹转认购"


def test_a_reserved_unit_can_be_subscribed(project, consultant) -> None:
    unit = units_of(project)[0]
    unit.status = UnitStatus.RESERVED
    unit.save()
    subscribe(unit, customer_of(project, consultant), consultant)
    assert _unit_status(unit) == UnitStatus.SUBSCRIBED


# --- approval --------------------------------------------------------------------------------------------


def test_a_manager_approves_a_pending_subscription(project, consultant, manager) -> None:
    subscription = pending(units_of(project)[0], customer_of(project, consultant), consultant)

    done = subscription_approve(subscription_id=subscription.pk, by=manager, note="老带新优惠")

    assert done.status == S.ACTIVE
    assert (done.approved_by, done.approval_note) == (manager, "老带新优惠")
    assert done.approved_at is not None
    latest = done.history.first()
    assert (latest.status, latest.history_user, latest.history_change_reason) == (
        S.ACTIVE,
        manager,
        "审批通过",
    )
    assert Notification.objects.filter(
        kind="subscription_decided", recipient=consultant, channel="in_app"
    ).exists()


def test_a_rejection_frees_the_unit_and_ends_the_subscription(project, consultant, manager) -> None:
    unit = units_of(project)[0]
    customer = customer_of(project, consultant)
    subscription = pending(unit, customer, consultant)

    subscription_reject(subscription_id=subscription.pk, by=manager, note="折扣过大")

    subscription.refresh_from_db()
    assert subscription.status == S.REJECTED
    assert _unit_status(unit) == UnitStatus.AVAILABLE
    customer.refresh_from_db()
    assert customer.stage == Stage.VISITED
    # The unit is on sale again: the next buyer gets it.
    subscribe(unit, customer_of(project, consultant, name="韩梅梅"), consultant)


@pytest.mark.parametrize("action", [subscription_approve, subscription_reject])
def test_a_consultant_may_not_decide(project, consultant, action) -> None:
    subscription = pending(units_of(project)[0], customer_of(project, consultant), consultant)
    with pytest.raises(Forbidden) as caught:
        action(subscription_id=subscription.pk, by=consultant)
    assert (caught.value.status, caught.value.code) == (403, "forbidden")
    subscription.refresh_from_db()
    assert subscription.status == S.PENDING_APPROVAL
    assert subscription.history.count() == 1


def test_approving_an_active_one_is_a_conflict(project, consultant, manager) -> None:
    subscription = subscribe(units_of(project)[0], customer_of(project, consultant), consultant)
    with pytest.raises(Conflict) as caught:
        subscription_approve(subscription_id=subscription.pk, by=manager)
    assert caught.value.code == "not_pending"


# --- contract --------------------------------------------------------------------------------------------


def test_a_contract_sells_the_unit_and_makes_the_customer_an_owner(project, consultant) -> None:
    unit = units_of(project)[0]
    customer = customer_of(project, consultant)
    subscription = subscribe(unit, customer, consultant)

    done = subscription_contract(subscription_id=subscription.pk, by=consultant)

    assert done.status == S.CONTRACTED
    assert done.contracted_at is not None
    assert done.contract_number.startswith("HT") and done.contract_number.endswith("00001")
    assert _unit_status(unit) == UnitStatus.CONTRACTED
    customer.refresh_from_db()
    assert (customer.is_owner, customer.stage) == (True, Stage.OWNER)
    assert customer.history.first().history_change_reason == "签约成为业主"
    assert CustomerEvent.objects.filter(customer=customer, kind=EventKind.CONTRACTED).count() == 1


def test_contract_numbers_count_up_per_project_and_a_given_number_is_kept(
    project, other_project, consultant
) -> None:
    units = units_of(project)
    first = contracted(units[0], customer_of(project, consultant), consultant)
    second = contracted(units[1], customer_of(project, consultant, name="二号"), consultant)
    manual = subscription_contract(
        subscription_id=subscribe(units[2], customer_of(project, consultant, name="三号"), consultant).pk,
        by=consultant,
        contract_number="BJ-2026-007",
    )
    elsewhere_manager = user_in(other_project, role=Role.MANAGER)
    elsewhere = contracted(units_of(other_project)[0], customer_of(other_project, None), elsewhere_manager)

    assert first.contract_number[-5:] == "00001"
    assert second.contract_number[-5:] == "00002"
    assert manual.contract_number == "BJ-2026-007"
    assert elsewhere.contract_number[-5:] == "00001"


def test_a_contract_number_used_twice_is_refused(project, consultant) -> None:
    units = units_of(project)
    subscription_contract(
        subscription_id=subscribe(units[0], customer_of(project, consultant), consultant).pk,
        by=consultant,
        contract_number="HT-1",
    )
    second = subscribe(units[1], customer_of(project, consultant, name="二号"), consultant)
    with pytest.raises(Conflict) as caught:
        subscription_contract(subscription_id=second.pk, by=consultant, contract_number="HT-1")
    assert caught.value.code == "contract_number_taken"
    second.refresh_from_db()
    assert second.status == S.ACTIVE


def test_a_pending_subscription_cannot_be_signed(project, consultant) -> None:
    unit = units_of(project)[0]
    subscription = pending(unit, customer_of(project, consultant), consultant)
    with pytest.raises(Conflict) as caught:
        subscription_contract(subscription_id=subscription.pk, by=consultant)
    assert (caught.value.status, caught.value.code) == (409, "approval_pending")
    assert _unit_status(unit) == UnitStatus.SUBSCRIBED


def test_an_approved_subscription_can_be_signed(project, consultant, manager) -> None:
    subscription = approved(units_of(project)[0], customer_of(project, consultant), consultant, manager)
    assert subscription_contract(subscription_id=subscription.pk, by=consultant).status == S.CONTRACTED


# --- cancellation ----------------------------------------------------------------------------------------


def test_a_cancellation_frees_the_unit_and_keeps_the_history(project, consultant) -> None:
    unit = units_of(project)[0]
    customer = customer_of(project, consultant)
    subscription = subscribe(unit, customer, consultant)

    subscription_cancel(subscription_id=subscription.pk, by=consultant, reason="客户资金原因")

    subscription.refresh_from_db()
    assert subscription.status == S.CANCELLED
    assert subscription.cancel_reason == "客户资金原因"
    assert subscription.cancelled_at is not None
    assert [h.status for h in subscription.history.order_by("history_date")] == [S.ACTIVE, S.CANCELLED]
    assert _unit_status(unit) == UnitStatus.AVAILABLE
    assert [h.status for h in unit.history.order_by("history_date")][-2:] == [
        UnitStatus.SUBSCRIBED,
        UnitStatus.AVAILABLE,
    ]
    customer.refresh_from_db()
    assert customer.stage == Stage.VISITED
    assert CustomerEvent.objects.filter(customer=customer, kind=EventKind.CANCELLED).count() == 1
    # The unit is on sale again.
    subscribe(unit, customer_of(project, consultant, name="下一位"), consultant)


def test_a_contract_is_cancelled_by_a_manager_only(project, consultant, manager) -> None:
    unit = units_of(project)[0]
    customer = customer_of(project, consultant)
    subscription = contracted(unit, customer, consultant)

    with pytest.raises(Forbidden):
        subscription_cancel(subscription_id=subscription.pk, by=consultant, reason="x")
    assert _unit_status(unit) == UnitStatus.CONTRACTED

    subscription_cancel(subscription_id=subscription.pk, by=manager, reason="客户违约")
    assert _unit_status(unit) == UnitStatus.AVAILABLE
    customer.refresh_from_db()
    assert (customer.is_owner, customer.stage) == (False, Stage.VISITED)


def test_cancelling_one_of_two_keeps_the_customer_subscribed(project, consultant) -> None:
    units = units_of(project)
    customer = customer_of(project, consultant)
    first = subscribe(units[0], customer, consultant)
    subscribe(units[1], customer, consultant)

    subscription_cancel(subscription_id=first.pk, by=consultant)

    customer.refresh_from_db()
    assert customer.stage == Stage.SUBSCRIBED


@pytest.mark.parametrize(
    ("prepare", "code"),
    [("cancel", "subscription_cancelled"), ("reject", "subscription_rejected")],
)
def test_an_ended_subscription_cannot_be_signed_or_cancelled_again(
    project, consultant, manager, prepare: str, code: str
) -> None:
    unit = units_of(project)[0]
    subscription = pending(unit, customer_of(project, consultant), consultant)
    if prepare == "cancel":
        subscription_cancel(subscription_id=subscription.pk, by=consultant)
    else:
        subscription_reject(subscription_id=subscription.pk, by=manager)
    history = subscription.history.count()

    for action in (subscription_contract, subscription_cancel):
        with pytest.raises(Conflict) as caught:
            action(subscription_id=subscription.pk, by=manager)
        assert caught.value.code == code
    assert subscription.history.count() == history
    assert _unit_status(unit) == UnitStatus.AVAILABLE


# --- change of unit (换房) --------------------------------------------------------------------------


def test_a_change_of_unit_cancels_and_resubscribes_in_one_go(project, consultant) -> None:
    units = units_of(project)
    old_unit, new_unit = units[0], units[3]
    customer = customer_of(project, consultant)
    old = subscribe(old_unit, customer, consultant, discount=Decimal("0.01"))

    new = subscription_change_unit(subscription_id=old.pk, unit_id=new_unit.pk, by=consultant)

    old.refresh_from_db()
    assert old.status == S.CANCELLED
    assert old.replaced_by == new
    assert old.cancel_reason == f"换房至 {new_unit.label}"
    assert (new.customer, new.unit, new.status) == (customer, new_unit, S.ACTIVE)
    # The agreed 1 % off carries over to the other unit's list price.
    assert new.price == (new_unit.list_price_total * Decimal("0.99")).quantize(Decimal(1))
    assert new.deposit == old.deposit
    assert _unit_status(old_unit) == UnitStatus.AVAILABLE
    assert _unit_status(new_unit) == UnitStatus.SUBSCRIBED
    customer.refresh_from_db()
    assert customer.stage == Stage.SUBSCRIBED
    assert Subscription.objects.filter(customer=customer).count() == 2


def test_a_change_to_a_taken_unit_changes_nothing(project, consultant) -> None:
    units = units_of(project)
    customer = customer_of(project, consultant)
    old = subscribe(units[0], customer, consultant)
    subscribe(units[1], customer_of(project, consultant, name="别人"), consultant)

    with pytest.raises(UnitNotAvailable):
        subscription_change_unit(subscription_id=old.pk, unit_id=units[1].pk, by=consultant)

    old.refresh_from_db()
    assert old.status == S.ACTIVE and old.replaced_by is None
    assert _unit_status(units[0]) == UnitStatus.SUBSCRIBED
    assert Subscription.objects.filter(customer=customer).count() == 1


def test_a_change_to_another_projects_unit_is_not_found(project, other_project, consultant) -> None:
    old = subscribe(units_of(project)[0], customer_of(project, consultant), consultant)
    with pytest.raises(NotFound):
        subscription_change_unit(subscription_id=old.pk, unit_id=units_of(other_project)[0].pk, by=consultant)
    old.refresh_from_db()
    assert old.status == S.ACTIVE


def test_a_change_to_the_same_unit_is_invalid(project, consultant) -> None:
    old = subscribe(units_of(project)[0], customer_of(project, consultant), consultant)
    with pytest.raises(InvalidInput):
        subscription_change_unit(subscription_id=old.pk, unit_id=old.unit_id, by=consultant)


def test_a_signed_contract_does_not_change_unit(project, consultant) -> None:
    units = units_of(project)
    old = contracted(units[0], customer_of(project, consultant), consultant)
    with pytest.raises(Conflict) as caught:
        subscription_change_unit(subscription_id=old.pk, unit_id=units[1].pk, by=consultant)
    assert caught.value.code == "already_contracted"
    assert _unit_status(units[1]) == UnitStatus.AVAILABLE


def test_reservation_number_and_one_active_per_customer(project, consultant) -> None:
    first = reservation_create(
        project=project, customer=customer_of(project, consultant), amount=Decimal(0), by=consultant
    )
    customer = customer_of(project, consultant, name="二号")
    second = reservation_create(project=project, customer=customer, amount=Decimal(50000), by=consultant)
    assert (first.number, second.number) == (1, 2)
    with pytest.raises(Conflict) as caught:
        reservation_create(project=project, customer=customer, amount=Decimal(1), by=consultant)
    assert caught.value.code == "reservation_exists"
    assert Reservation.objects.filter(project=project).count() == 2
    assert CustomerEvent.objects.filter(customer=customer, kind=EventKind.RESERVED).count() == 1
