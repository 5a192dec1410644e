"""Writes of the deals app. Each service owns its transaction and keeps the one promise:
a unit is never sold twice (architecture rule 5: lock the unit, re-check, write; the partial
unique index `subscription_one_active_per_unit` is the last line when everything else fails).

Lock order, the same in every service so that two of them never wait for each other crosswise:
the project row (only for per-project counters, `FOR NO KEY UPDATE` so that check-ins inserting
rows that point at the project are not blocked), then units in `pk` order, then the subscription.

Unit statuses held, subscribed and contracted are set and lifted here only (`inventory.status`
refuses them by hand): each has a row behind it — a `Hold` or an occupying `Subscription`.
"""

from datetime import date, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal

from django.db import IntegrityError, transaction
from django.db.models import Max
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from anchang.accounts.models import Role, User
from anchang.accounts.selectors import staff_of_project
from anchang.core.errors import Conflict, Forbidden, InvalidInput, NotFound
from anchang.core.notifications import notify
from anchang.core.privacy import public_name
from anchang.customers.models import Customer, EventKind, Stage
from anchang.customers.pool import pool_claim
from anchang.customers.services import customer_record_event
from anchang.deals.models import (
    OCCUPYING_STATUSES,
    Hold,
    PaymentMethod,
    Reservation,
    ReservationStatus,
    Subscription,
    SubscriptionStatus,
)
from anchang.followups.services import followups_close_for_owner
from anchang.inventory.models import Project, ProjectSettings, Unit, UnitStatus
from anchang.inventory.permits import unit_not_permitted_reason
from anchang.inventory.services import UnitNotAvailable, record_unit_history, unit_move_status
from anchang.reception.stations import risk_disclosure_recorded

# Who may sell: consultants for their customers, managers and the front desk on their behalf.
SELLING_ROLES = (Role.CONSULTANT, Role.MANAGER, Role.FRONTDESK)
# Units a subscription may take: free ones, and ones kept for a reservation holder (认筹).
SUBSCRIBABLE_UNIT_STATUSES = (UnitStatus.AVAILABLE, UnitStatus.RESERVED)
# Money columns are DECIMAL(14, 2): anything from here up cannot be stored.
MONEY_LIMIT = Decimal("1e12")
REASON_MAX_LENGTH = 200
CONTRACT_NUMBER_MAX_LENGTH = 40
HOLD_LONGEST = timedelta(days=731)


def may_sell(user: User) -> bool:
    return user.role in SELLING_ROLES or user.sees_all_projects


def _require_seller(by: User) -> None:
    if not may_sell(by):
        raise Forbidden(_("您的角色不能办理认购。"))


def _require_manager(by: User, message: str | None = None) -> None:
    if not by.is_site_manager:
        raise Forbidden(message or _("只有案场经理可以执行此操作。"))


def _money_error(value: Decimal, *, label: str, allow_zero: bool) -> str | None:
    """The message for an amount that cannot be a price, deposit or reservation sum, else None."""
    if not value.is_finite():
        return _("%(label)s必须是数字。") % {"label": label}
    if allow_zero and value < 0:
        return _("%(label)s不能为负数。") % {"label": label}
    if not allow_zero and value <= 0:
        return _("%(label)s必须大于 0。") % {"label": label}
    if value >= MONEY_LIMIT:
        return _("%(label)s超出范围。") % {"label": label}
    if value != value.quantize(Decimal("0.01")):
        return _("金额最多保留两位小数。")
    return None


def validate_money(*, price: Decimal, deposit: Decimal) -> None:
    """Price and deposit as product.md §8 and the issue's bad-input list state them, before any lock."""
    errors: dict[str, str] = {}
    price_error = _money_error(price, label=_("成交总价"), allow_zero=False)
    if price_error:
        errors["price"] = price_error
    deposit_error = _money_error(deposit, label=_("定金"), allow_zero=True)
    if deposit_error:
        errors["deposit"] = deposit_error
    elif not price_error and deposit > price:
        errors["deposit"] = _("定金不能高于成交总价。")
    if errors:
        raise InvalidInput(fields=errors)


def needs_approval(*, list_price: Decimal, price: Decimal, threshold_percent: Decimal) -> bool:
    """A discount strictly above the project's threshold waits for a manager (product.md §8)."""
    if price >= list_price:
        return False
    return (list_price - price) * 100 > threshold_percent * list_price


def _settings_of(project: Project) -> ProjectSettings:
    # Read with the unit (select_related); a project made outside the admin may lack its settings
    # row, and the defaults apply then.
    try:
        return project.settings
    except ProjectSettings.DoesNotExist:
        return ProjectSettings(project=project)


def _reason(reason: str, *, required: bool, field: str = "reason", message: str | None = None) -> str:
    text = (reason or "").strip()
    if "\x00" in text:
        raise InvalidInput(fields={field: _("内容含有无效字符。")})
    if required and not text:
        raise InvalidInput(fields={field: message or _("请填写原因。")})
    if len(text) > REASON_MAX_LENGTH:
        raise InvalidInput(fields={field: _("原因不能超过 %(n)s 个字。") % {"n": REASON_MAX_LENGTH}})
    return text


def _lock_units(unit_ids: set[int]) -> dict[int, Unit]:
    """Lock the units in `pk` order: two writers that need the same two units queue up, never cross."""
    units = (
        Unit.objects.select_for_update(of=("self",))
        .select_related("building", "project__settings")
        .filter(pk__in=unit_ids)
        .order_by("pk")
    )
    return {unit.pk: unit for unit in units}


def _set_unit_status(unit: Unit, *, expected: tuple[str, ...], to: str, by: User | None, reason: str) -> None:
    unit_move_status(
        unit, expected=expected, to=to, by=by, reason=reason, conflict_message=_unavailable_message(unit)
    )


def _unavailable_message(unit: Unit) -> str:
    if unit.status == UnitStatus.HELD:
        return _("房源 %(unit)s 已被销控，暂不可认购。") % {"unit": unit.label}
    if unit.status == UnitStatus.CONTRACTED:
        return _("房源 %(unit)s 已签约售出，请选择其他房源。") % {"unit": unit.label}
    return _("房源 %(unit)s 刚刚已被认购，请选择其他房源。") % {"unit": unit.label}


def _price_text(value: Decimal) -> str:
    return f"{value:,.2f}"


# --- subscriptions -----------------------------------------------------------------------------------


@transaction.atomic
def subscription_create(
    *,
    unit_id: int,
    customer: Customer,
    price: Decimal,
    deposit: Decimal,
    by: User,
    subscribed_on: date | None = None,
    reservation: Reservation | None = None,
    opening_session_id: int | None = None,
    lock: bool = True,
    claim_from_pool: bool = False,
    discount_reason: str = "",
    payment_method: str = "",
    disclosure_override_reason: str = "",
) -> Subscription:
    """Subscribe `customer` to the unit, or raise `UnitNotAvailable` (409) if someone was faster.

    Two rules of the law come first (issue 11 §5): the unit's building must be covered by a valid
    presale permit (409 `unit_not_permitted`), and the customer must have confirmed the risk
    disclosure on some visit (409 `risk_disclosure_missing`) — unless the subscription converts their
    reservation (认筹, which required it, see `reservation_create`) or a manager lets it through with a
    written reason (`disclosure_override_reason`, kept on the subscription).

    `claim_from_pool`: the customer is in the public pool and `by`, a consultant, claims them in the
    same transaction (within the daily claim cap, `pool_claim`); a refused subscription undoes the claim.

    `lock=False` removes the whole guard — the row lock *and* the conditional UPDATE — and exists only
    for the control test that shows the race: several buyers then pass the availability check, and
    only the partial unique index refuses the second row.
    """
    _require_seller(by)
    validate_money(price=price, deposit=deposit)
    terms = _subscription_terms(discount_reason=discount_reason, payment_method=payment_method)
    if reservation is not None:
        _check_reservation(reservation, customer=customer)
    override = _disclosure_override(
        customer=customer, reservation=reservation, by=by, reason=disclosure_override_reason
    )
    if claim_from_pool:
        customer = pool_claim(customer=customer, consultant=by)
    units = Unit.objects.select_related("building", "project__settings")
    if lock:
        # The row lock serialises every writer of this unit; the losers wait here, then re-read.
        units = units.select_for_update(of=("self",))
    unit = units.filter(pk=unit_id, project_id=customer.project_id).first()
    if unit is None:
        raise NotFound(_("房源不存在，或不属于该客户的项目。"))
    if unit.status not in SUBSCRIBABLE_UNIT_STATUSES:
        raise UnitNotAvailable(_unavailable_message(unit))
    now = timezone.now()
    day = subscribed_on or timezone.localdate(now)
    _require_permit(unit, day=day)
    if lock:
        _set_unit_status(
            unit, expected=SUBSCRIBABLE_UNIT_STATUSES, to=UnitStatus.SUBSCRIBED, by=by, reason=_("认购")
        )
    else:
        # The control's naive write: whatever it read a moment ago, it overwrites.
        Unit.objects.filter(pk=unit.pk).update(status=UnitStatus.SUBSCRIBED, status_changed_at=now)
        unit.status, unit.status_changed_at = UnitStatus.SUBSCRIBED, now
        record_unit_history(unit, by=by, reason=_("认购"), when=now)
    subscription = _subscription_insert(
        unit=unit,
        customer=customer,
        price=price,
        deposit=deposit,
        by=by,
        day=day,
        reservation=reservation,
        opening_session_id=opening_session_id,
        consultant_id=customer.owner_id,
        terms=terms,
        override=override,
    )
    if reservation is not None and reservation.status == ReservationStatus.ACTIVE:
        # 认筹转认购; save() so that the reservation's history shows it.
        reservation.status = ReservationStatus.CONVERTED
        reservation._history_user = by  # type: ignore[attr-defined]
        reservation._change_reason = _("认筹转认购")  # type: ignore[attr-defined]
        reservation.save(update_fields=["status", "updated_at"])
    Customer.objects.filter(pk=customer.pk, is_owner=False).update(stage=Stage.SUBSCRIBED)
    customer_record_event(
        customer=customer,
        kind=EventKind.SUBSCRIBED,
        text=_("认购 %(unit)s，成交价 %(price)s 元") % {"unit": unit.label, "price": _price_text(price)},
        by=by,
        data={"subscription_id": subscription.pk, "unit_id": unit.pk},
        at=now,
    )
    if subscription.status == SubscriptionStatus.PENDING_APPROVAL:
        _notify_approval_needed(subscription, unit=unit, customer=customer)
    return subscription


def _require_permit(unit: Unit, *, day: date) -> None:
    reason = unit_not_permitted_reason(unit=unit, day=day)
    if reason:
        raise Conflict(reason, code="unit_not_permitted")


def _require_disclosure(customer: Customer) -> None:
    if not risk_disclosure_recorded(customer_id=customer.pk):
        raise Conflict(
            _(
                "客户还没有确认风险提示（五证及风险提示墙），不能办理。"
                "请在客户来访时于风险提示讲解点记录客户确认。"
            ),
            code="risk_disclosure_missing",
        )


def _disclosure_override(
    *, customer: Customer, reservation: Reservation | None, by: User, reason: str
) -> tuple[str, User] | None:
    """None when the customer's disclosure stands (confirmed on a visit, or checked at their 认筹);
    else the manager's written reason to go ahead without it, or `risk_disclosure_missing`."""
    if reservation is not None or risk_disclosure_recorded(customer_id=customer.pk):
        return None
    text = _reason(reason, required=False, field="disclosure_override_reason")
    if not text:
        _require_disclosure(customer)
    _require_manager(by, _("只有案场经理可以在未做风险提示时放行认购。"))
    return text, by


def _subscription_terms(*, discount_reason: str, payment_method: str) -> dict[str, str]:
    """The reason for the discount and how the buyer pays, as stored on the subscription."""
    reason = (discount_reason or "").strip()
    errors: dict[str, str] = {}
    if len(reason) > REASON_MAX_LENGTH:
        errors["discount_reason"] = _("优惠原因不能超过 %(n)d 个字。") % {"n": REASON_MAX_LENGTH}
    if payment_method and payment_method not in PaymentMethod.values:
        errors["payment_method"] = _("请选择付款方式：一次性、商业贷款、公积金、组合贷款或分期。")
    if errors:
        raise InvalidInput(fields=errors)
    return {"discount_reason": reason, "payment_method": payment_method}


def _check_reservation(reservation: Reservation, *, customer: Customer) -> None:
    if reservation.customer_id != customer.pk or reservation.project_id != customer.project_id:
        raise InvalidInput(fields={"reservation": _("该认筹不属于这位客户。")})
    if reservation.status == ReservationStatus.REFUNDED:
        raise Conflict(
            _("认筹 %(n)s 已退筹，不能用于认购。") % {"n": reservation.number}, code="reservation_refunded"
        )


def _subscription_insert(
    *,
    unit: Unit,
    customer: Customer,
    price: Decimal,
    deposit: Decimal,
    by: User,
    day: date,
    reservation: Reservation | None,
    opening_session_id: int | None,
    consultant_id: int | None,
    terms: dict[str, str],
    override: tuple[str, User] | None = None,
) -> Subscription:
    project_settings = _settings_of(unit.project)
    status = (
        SubscriptionStatus.PENDING_APPROVAL
        if needs_approval(
            list_price=unit.list_price_total,
            price=price,
            threshold_percent=project_settings.discount_approval_threshold,
        )
        else SubscriptionStatus.ACTIVE
    )
    subscription = Subscription(
        project_id=unit.project_id,
        unit=unit,
        customer=customer,
        consultant_id=consultant_id,
        status=status,
        list_price=unit.list_price_total,
        price=price,
        deposit=deposit,
        subscribed_on=day,
        sign_deadline=day + timedelta(days=project_settings.sign_within_days),
        reservation=reservation,
        opening_session_id=opening_session_id,
        disclosure_override_reason=override[0] if override else "",
        disclosure_override_by=override[1] if override else None,
        created_by=by,
        **terms,
    )
    subscription._history_user = by  # type: ignore[attr-defined]
    subscription._change_reason = _("认购")  # type: ignore[attr-defined]
    try:
        with transaction.atomic():
            subscription.save()
    except IntegrityError as error:
        # Reached only without the row lock (the control) or if a unit's status was edited by hand
        # while a subscription still occupied it: the index refuses the second sale.
        raise UnitNotAvailable(_unavailable_message(unit)) from error
    return subscription


def _subscription_url(subscription: Subscription) -> str:
    return reverse("deals:subscription", args=[subscription.pk])


def _notify_approval_needed(subscription: Subscription, *, unit: Unit, customer: Customer) -> None:
    managers = staff_of_project(project=unit.project, role=Role.MANAGER)
    notify(
        recipients=list(managers),
        kind="subscription_approval",
        project_id=unit.project_id,
        url=_subscription_url(subscription),
        title=_("认购待审批：%(unit)s") % {"unit": unit.label},
        body=_(
            "%(customer)s 认购 %(unit)s，成交价 %(price)s 元（表价 %(list)s 元，"
            "优惠 %(discount)s%%），超出折扣阈值，请审批。"
        )
        % {
            "customer": public_name(customer.name, customer.gender),
            "unit": unit.label,
            "price": _price_text(subscription.price),
            "list": _price_text(subscription.list_price),
            "discount": f"{subscription.discount * 100:.2f}",
        },
    )


def _locked_subscription(
    subscription_id: int, *, other_unit_ids: tuple[int, ...] = ()
) -> tuple[Subscription, dict[int, Unit]]:
    """Lock the subscription's unit (and any other units), then the subscription, in that order."""
    unit_id = Subscription.objects.filter(pk=subscription_id).values_list("unit_id", flat=True).first()
    if unit_id is None:
        raise NotFound(_("认购不存在，或您无权查看。"))
    units = _lock_units({unit_id, *other_unit_ids})
    subscription = (
        Subscription.objects.select_for_update(of=("self",))
        .select_related("customer", "project")
        .get(pk=subscription_id)
    )
    subscription.unit = units[unit_id]
    return subscription, units


def _save_subscription(subscription: Subscription, *, by: User, reason: str, fields: list[str]) -> None:
    subscription._history_user = by  # type: ignore[attr-defined]
    subscription._change_reason = reason[:100]  # type: ignore[attr-defined]
    subscription.save(update_fields=[*fields, "updated_at"])


def _state_conflict(subscription: Subscription) -> Conflict:
    """The 409 for an action that the subscription's current status does not allow."""
    status = subscription.status
    if status == SubscriptionStatus.PENDING_APPROVAL:
        return Conflict(
            _("该认购的优惠超出阈值，正在等待经理审批，审批通过后才能签约。"), code="approval_pending"
        )
    if status == SubscriptionStatus.CANCELLED:
        return Conflict(_("该认购已退订，不能再办理。如需购买请重新认购。"), code="subscription_cancelled")
    if status == SubscriptionStatus.REJECTED:
        return Conflict(_("该认购审批未通过，不能再办理。如需购买请重新认购。"), code="subscription_rejected")
    if status == SubscriptionStatus.CONTRACTED:
        return Conflict(_("该认购已签约。"), code="already_contracted")
    return Conflict(_("该认购已生效，无需审批。"), code="not_pending")


def _decide(
    subscription_id: int, *, by: User, note: str, status: str, reason: str
) -> tuple[Subscription, dict[int, Unit], str]:
    """A manager's approval decision on a pending subscription, stored with who, when and why."""
    _require_manager(by, _("只有案场经理可以审批认购。"))
    note = _reason(note, required=False, field="note")
    subscription, units = _locked_subscription(subscription_id)
    if subscription.status != SubscriptionStatus.PENDING_APPROVAL:
        raise _state_conflict(subscription)
    subscription.status = status
    subscription.approved_by, subscription.approved_at, subscription.approval_note = by, timezone.now(), note
    _save_subscription(
        subscription, by=by, reason=reason, fields=["status", "approved_by", "approved_at", "approval_note"]
    )
    return subscription, units, note


@transaction.atomic
def subscription_approve(*, subscription_id: int, by: User, note: str = "") -> Subscription:
    """A manager lets a discount above the threshold stand; the subscription becomes active."""
    subscription, _units, _note = _decide(
        subscription_id, by=by, note=note, status=SubscriptionStatus.ACTIVE, reason=_("审批通过")
    )
    _notify_decision(subscription, approved=True)
    return subscription


@transaction.atomic
def subscription_reject(*, subscription_id: int, by: User, note: str = "") -> Subscription:
    """A manager refuses the discount: the subscription ends and the unit is on sale again."""
    subscription, units, note = _decide(
        subscription_id, by=by, note=note, status=SubscriptionStatus.REJECTED, reason=_("审批未通过")
    )
    unit = units[subscription.unit_id]
    _set_unit_status(
        unit,
        expected=(UnitStatus.SUBSCRIBED,),
        to=UnitStatus.AVAILABLE,
        by=by,
        reason=_("认购审批未通过"),
    )
    _customer_after_release(subscription.customer, by=by)
    customer_record_event(
        customer=subscription.customer,
        kind=EventKind.CANCELLED,
        text=_("认购 %(unit)s 审批未通过%(note)s")
        % {"unit": unit.label, "note": f"：{note}" if note else ""},
        by=by,
        data={"subscription_id": subscription.pk, "unit_id": unit.pk, "rejected": True},
        at=subscription.approved_at,
    )
    _notify_decision(subscription, approved=False)
    return subscription


def _notify_decision(subscription: Subscription, *, approved: bool) -> None:
    recipients = [u for u in (subscription.consultant, subscription.created_by) if u is not None]
    label = subscription.unit.label
    notify(
        recipients=recipients,
        kind="subscription_decided",
        project_id=subscription.project_id,
        url=_subscription_url(subscription),
        title=(_("认购已审批通过：%(unit)s") if approved else _("认购审批未通过：%(unit)s"))
        % {"unit": label},
        body=subscription.approval_note,
    )


def _next_contract_number(project: Project, day: date) -> str:
    """`HT2026` + a per-project sequence; the caller holds the project row, so no two signings
    compute the same number."""
    taken = set(
        Subscription.objects.filter(project=project)
        .exclude(contract_number="")
        .values_list("contract_number", flat=True)
    )
    n = len(taken) + 1
    while (number := f"HT{day:%Y}{n:05d}") in taken:
        n += 1
    return number


@transaction.atomic
def subscription_contract(
    *,
    subscription_id: int,
    by: User,
    contract_number: str = "",
    contracted_at: datetime | None = None,
) -> Subscription:
    """签约: an active subscription becomes a contract; the unit is sold and the customer an owner."""
    _require_seller(by)
    contract_number = _reason(contract_number, required=False, field="contract_number")
    if len(contract_number) > CONTRACT_NUMBER_MAX_LENGTH:
        raise InvalidInput(fields={"contract_number": _("合同编号不能超过 40 个字符。")})
    project_id = Subscription.objects.filter(pk=subscription_id).values_list("project_id", flat=True).first()
    if project_id is None:
        raise NotFound(_("认购不存在，或您无权查看。"))
    # The project row first (lock order): it serialises the per-project contract numbers.
    project = Project.objects.select_for_update(no_key=True).get(pk=project_id)
    subscription, units = _locked_subscription(subscription_id)
    if subscription.status != SubscriptionStatus.ACTIVE:
        raise _state_conflict(subscription)
    now = contracted_at or timezone.now()
    if contract_number:
        clash = Subscription.objects.filter(project=project, contract_number=contract_number).exclude(
            pk=subscription.pk
        )
        if clash.exists():
            raise Conflict(
                _("合同编号 %(number)s 已被使用，请核对。") % {"number": contract_number},
                code="contract_number_taken",
            )
    else:
        contract_number = _next_contract_number(project, timezone.localdate(now))
    unit = units[subscription.unit_id]
    _set_unit_status(
        unit,
        expected=(UnitStatus.SUBSCRIBED,),
        to=UnitStatus.CONTRACTED,
        by=by,
        reason=_("签约：%(number)s") % {"number": contract_number},
    )
    subscription.status = SubscriptionStatus.CONTRACTED
    subscription.contracted_at, subscription.contract_number = now, contract_number
    _save_subscription(
        subscription, by=by, reason=_("签约"), fields=["status", "contracted_at", "contract_number"]
    )
    customer = subscription.customer
    # The front desk's owner judging reads this flag (reception.judging: visit kind "owner").
    # An owner has bought: a purchase intent level ("B 级：一个月内可能认购") no longer describes them.
    customer.is_owner, customer.stage, customer.intent_level = True, Stage.OWNER, ""
    customer._history_user = by  # type: ignore[attr-defined]
    customer._change_reason = _("签约成为业主")  # type: ignore[attr-defined]
    customer.save(update_fields=["is_owner", "stage", "intent_level", "updated_at"])
    followups_close_for_owner(
        customer=customer,
        reason=_("客户已签约 %(unit)s（合同编号 %(number)s），成为业主，销售跟进关闭。")
        % {"unit": unit.label, "number": contract_number},
        at=now,
    )
    customer_record_event(
        customer=customer,
        kind=EventKind.CONTRACTED,
        text=_("签约 %(unit)s，合同编号 %(number)s，成交价 %(price)s 元")
        % {"unit": unit.label, "number": contract_number, "price": _price_text(subscription.price)},
        by=by,
        data={"subscription_id": subscription.pk, "unit_id": unit.pk},
        at=now,
    )
    return subscription


def _customer_after_release(customer: Customer, *, by: User) -> None:
    """After a cancellation or rejection: the customer's stage and owner flag as their remaining
    subscriptions make them — an owner only while a contract stands, subscribed while one occupies a unit."""
    remaining = set(
        Subscription.objects.filter(customer=customer, status__in=OCCUPYING_STATUSES).values_list(
            "status", flat=True
        )
    )
    if SubscriptionStatus.CONTRACTED in remaining:
        return
    fields: list[str] = []
    if customer.is_owner:
        customer.is_owner = False
        fields.append("is_owner")
    after_visit = Stage.VISITED if customer.first_visit_at else Stage.LEAD
    stage = Stage.SUBSCRIBED if remaining else after_visit
    if customer.stage in (Stage.SUBSCRIBED, Stage.OWNER) and customer.stage != stage:
        customer.stage = stage
        fields.append("stage")
    if fields:
        customer._history_user = by  # type: ignore[attr-defined]
        customer._change_reason = _("退订")  # type: ignore[attr-defined]
        customer.save(update_fields=[*fields, "updated_at"])


@transaction.atomic
def subscription_cancel(*, subscription_id: int, by: User, reason: str = "") -> Subscription:
    """退订: the subscription ends, the unit is on sale again, the history stays.

    A signed contract is cancelled by a manager only. The web form requires a reason; the API
    makes it optional (api.md `{reason?}`).
    """
    _require_seller(by)
    reason = _reason(reason, required=False)
    subscription, units = _locked_subscription(subscription_id)
    if subscription.status not in OCCUPYING_STATUSES:
        raise _state_conflict(subscription)
    if subscription.status == SubscriptionStatus.CONTRACTED and not by.is_site_manager:
        raise Forbidden(_("已签约的认购只有案场经理可以退订。"))
    return _cancel_locked(subscription, unit=units[subscription.unit_id], by=by, reason=reason)


def _cancel_locked(
    subscription: Subscription, *, unit: Unit, by: User, reason: str, event: bool = True
) -> Subscription:
    now = timezone.now()
    was = subscription.status
    subscription.status = SubscriptionStatus.CANCELLED
    subscription.cancelled_at, subscription.cancel_reason = now, reason
    _save_subscription(
        subscription,
        by=by,
        reason=_("退订：%(reason)s") % {"reason": reason} if reason else _("退订"),
        fields=["status", "cancelled_at", "cancel_reason"],
    )
    expected = (UnitStatus.CONTRACTED,) if was == SubscriptionStatus.CONTRACTED else (UnitStatus.SUBSCRIBED,)
    _set_unit_status(
        unit,
        expected=expected,
        to=UnitStatus.AVAILABLE,
        by=by,
        reason=_("退订：%(reason)s") % {"reason": reason} if reason else _("退订"),
    )
    if event:
        _customer_after_release(subscription.customer, by=by)
        customer_record_event(
            customer=subscription.customer,
            kind=EventKind.CANCELLED,
            text=_("退订 %(unit)s%(reason)s")
            % {"unit": unit.label, "reason": f"：{reason}" if reason else ""},
            by=by,
            data={"subscription_id": subscription.pk, "unit_id": unit.pk},
            at=now,
        )
    return subscription


def _price_for_new_unit(subscription: Subscription, unit: Unit) -> Decimal:
    """The agreed discount carries over to the other unit: same share off its list price, to the yuan."""
    if subscription.list_price <= 0:
        return unit.list_price_total
    share = subscription.price / subscription.list_price
    return (unit.list_price_total * share).quantize(Decimal(1), rounding=ROUND_HALF_UP)


@transaction.atomic
def subscription_change_unit(
    *,
    subscription_id: int,
    unit_id: int,
    by: User,
    price: Decimal | None = None,
    deposit: Decimal | None = None,
    reason: str = "",
) -> Subscription:
    """换房: cancel this subscription and subscribe the same customer to another unit, in one
    transaction — both units locked in `pk` order, so a buyer racing for the new unit either gets it
    first (then this fails and nothing changes) or finds it taken."""
    _require_seller(by)
    reason = _reason(reason, required=False)
    current = Subscription.objects.filter(pk=subscription_id).values_list("unit_id", "project_id").first()
    if current is None:
        raise NotFound(_("认购不存在，或您无权查看。"))
    old_unit_id, project_id = current
    if unit_id == old_unit_id:
        raise InvalidInput(fields={"unit_id": _("请选择另一套房源。")})
    if not Unit.objects.filter(pk=unit_id, project_id=project_id).exists():
        raise NotFound(_("房源不存在，或不属于该项目。"))
    subscription, units = _locked_subscription(subscription_id, other_unit_ids=(unit_id,))
    if subscription.status == SubscriptionStatus.CONTRACTED:
        raise Conflict(_("已签约的认购不能直接换房：请经理先退订，再重新认购。"), code="already_contracted")
    if subscription.status not in OCCUPYING_STATUSES:
        raise _state_conflict(subscription)
    new_unit = units[unit_id]
    if new_unit.status not in SUBSCRIBABLE_UNIT_STATUSES:
        raise UnitNotAvailable(_unavailable_message(new_unit))
    # The customer's disclosure stands from the first subscription; the new unit needs its permit.
    _require_permit(new_unit, day=timezone.localdate())
    new_price = price if price is not None else _price_for_new_unit(subscription, new_unit)
    new_deposit = deposit if deposit is not None else min(subscription.deposit, new_price)
    validate_money(price=new_price, deposit=new_deposit)
    old_unit = units[old_unit_id]
    why = reason or _("换房至 %(unit)s") % {"unit": new_unit.label}
    _cancel_locked(subscription, unit=old_unit, by=by, reason=why[:REASON_MAX_LENGTH], event=False)
    _set_unit_status(
        new_unit,
        expected=SUBSCRIBABLE_UNIT_STATUSES,
        to=UnitStatus.SUBSCRIBED,
        by=by,
        reason=_("换房：由 %(unit)s 换入") % {"unit": old_unit.label},
    )
    customer = subscription.customer
    replacement = _subscription_insert(
        unit=new_unit,
        customer=customer,
        price=new_price,
        deposit=new_deposit,
        by=by,
        day=timezone.localdate(),
        reservation=subscription.reservation,
        opening_session_id=subscription.opening_session_id,
        consultant_id=subscription.consultant_id,
        # The buyer and their reasons stay; only the unit changes.
        terms={
            "discount_reason": subscription.discount_reason,
            "payment_method": subscription.payment_method,
        },
    )
    subscription.replaced_by = replacement
    _save_subscription(subscription, by=by, reason=_("换房"), fields=["replaced_by"])
    customer_record_event(
        customer=customer,
        kind=EventKind.SUBSCRIBED,
        text=_("换房：%(old)s 换为 %(new)s，成交价 %(price)s 元")
        % {"old": old_unit.label, "new": new_unit.label, "price": _price_text(new_price)},
        by=by,
        data={"subscription_id": replacement.pk, "replaces": subscription.pk, "unit_id": new_unit.pk},
    )
    if replacement.status == SubscriptionStatus.PENDING_APPROVAL:
        _notify_approval_needed(replacement, unit=new_unit, customer=customer)
    return replacement


# --- reservations (认筹) ------------------------------------------------------------------------------


@transaction.atomic
def reservation_create(
    *,
    project: Project,
    customer: Customer,
    amount: Decimal,
    by: User,
    registered_at: datetime | None = None,
) -> Reservation:
    """认筹: the customer pays a sincerity deposit and gets the project's next number.

    The customer must have confirmed the risk disclosure first (409 `risk_disclosure_missing`). A
    reservation is taken face to face in the sales office, where the certificates wall is; on opening
    day the holder selects on their own phone, hundreds at the same second, with nobody to show them
    the wall — so the check is made here, and a subscription converting a reservation counts as
    disclosure-checked (product.md §5 and §8).
    """
    _require_seller(by)
    if customer.project_id != project.pk:
        raise NotFound(_("客户不存在，或不属于该项目。"))
    amount_error = _money_error(amount, label=_("认筹金"), allow_zero=True)
    if amount_error:
        raise InvalidInput(fields={"amount": amount_error})
    _require_disclosure(customer)
    # The project row serialises the numbering (reservation_unique_number is the backstop).
    Project.objects.select_for_update(no_key=True).filter(pk=project.pk).first()
    if Reservation.objects.filter(
        project=project, customer=customer, status=ReservationStatus.ACTIVE
    ).exists():
        raise Conflict(_("该客户已有有效认筹，无需重复认筹。"), code="reservation_exists")
    last = Reservation.objects.filter(project=project).aggregate(last=Max("number"))["last"] or 0
    now = timezone.now()
    reservation = Reservation(
        project=project,
        customer=customer,
        number=last + 1,
        amount=amount,
        registered_at=registered_at or now,
        consultant_id=customer.owner_id,
        created_by=by,
    )
    reservation._history_user = by  # type: ignore[attr-defined]
    try:
        with transaction.atomic():
            reservation.save()
    except IntegrityError as error:
        raise Conflict(_("该客户已有有效认筹，无需重复认筹。"), code="reservation_exists") from error
    customer_record_event(
        customer=customer,
        kind=EventKind.RESERVED,
        text=_("认筹 %(n)s 号，认筹金 %(amount)s 元")
        % {"n": reservation.number, "amount": _price_text(amount)},
        by=by,
        data={"reservation_id": reservation.pk},
        at=now,
    )
    return reservation


@transaction.atomic
def reservation_refund(*, reservation_id: int, by: User, reason: str = "") -> Reservation:
    """退筹: a manager returns the sincerity deposit; the customer is no longer eligible to select."""
    _require_manager(by, _("只有案场经理可以办理退筹。"))
    reason = _reason(reason, required=False)
    reservation = (
        Reservation.objects.select_for_update(of=("self",))
        .select_related("customer")
        .filter(pk=reservation_id)
        .first()
    )
    if reservation is None:
        raise NotFound(_("认筹不存在，或您无权查看。"))
    if reservation.status == ReservationStatus.REFUNDED:
        raise Conflict(_("该认筹已退筹。"), code="reservation_refunded")
    if reservation.status == ReservationStatus.CONVERTED:
        raise Conflict(_("该认筹已转为认购，不能退筹；请先办理退订。"), code="reservation_converted")
    reservation.status = ReservationStatus.REFUNDED
    reservation._history_user = by  # type: ignore[attr-defined]
    reservation._change_reason = (_("退筹：%(reason)s") % {"reason": reason} if reason else _("退筹"))[:100]  # type: ignore[attr-defined]
    reservation.save(update_fields=["status", "updated_at"])
    customer_record_event(
        customer=reservation.customer,
        kind=EventKind.RESERVED,
        text=_("退筹 %(n)s 号%(reason)s")
        % {"n": reservation.number, "reason": f"：{reason}" if reason else ""},
        by=by,
        data={"reservation_id": reservation.pk, "refunded": True},
    )
    return reservation


# --- holds (销控) -------------------------------------------------------------------------------------


@transaction.atomic
def hold_create(*, unit_id: int, reason: str, by: User, expires_at: datetime | None = None) -> Hold:
    """销控: a manager takes an available unit off sale, with a reason and optionally an end."""
    _require_manager(by, _("只有案场经理可以设置或解除销控。"))
    reason = _reason(reason, required=True, message=_("请填写销控原因。"))
    now = timezone.now()
    if expires_at is not None:
        expires_at = _hold_expiry(expires_at, now=now)
    units = _lock_units({unit_id})
    unit = units.get(unit_id)
    if unit is None:
        raise NotFound()
    if unit.status != UnitStatus.AVAILABLE:
        raise Conflict(
            _("房源 %(unit)s 当前为“%(status)s”，只有可售房源可以销控。")
            % {"unit": unit.label, "status": unit.get_status_display()},
            code="unit_not_available",
        )
    _set_unit_status(
        unit,
        expected=(UnitStatus.AVAILABLE,),
        to=UnitStatus.HELD,
        by=by,
        reason=_("销控：%(reason)s") % {"reason": reason},
    )
    try:
        with transaction.atomic():
            hold = Hold.objects.create(unit=unit, reason=reason, expires_at=expires_at, created_by=by)
    except IntegrityError as error:
        raise Conflict(
            _("房源 %(unit)s 已有生效中的销控。") % {"unit": unit.label}, code="already_held"
        ) from error
    return hold


def _hold_expiry(expires_at: datetime, *, now: datetime) -> datetime:
    """A moment in the coming two years (a hold is sales control, not a sale); naive means Beijing time."""
    try:
        aware = timezone.make_aware(expires_at) if timezone.is_naive(expires_at) else expires_at
        too_late = aware > now + HOLD_LONGEST
        in_the_past = aware <= now
    except (OverflowError, ValueError):
        raise InvalidInput(fields={"expires_at": _("到期时间超出范围。")}) from None
    if in_the_past:
        raise InvalidInput(fields={"expires_at": _("到期时间必须晚于现在。")})
    if too_late:
        raise InvalidInput(fields={"expires_at": _("到期时间不能晚于两年后；长期销控请不设到期时间。")})
    return aware


@transaction.atomic
def hold_release(*, unit_id: int, by: User | None, reason: str) -> Hold:
    """Lift the open hold of a unit; `by=None` is the expiry job."""
    if by is not None:
        _require_manager(by, _("只有案场经理可以设置或解除销控。"))
    reason = _reason(reason, required=by is not None, message=_("请填写解除原因。"))
    unit = _lock_units({unit_id}).get(unit_id)
    if unit is None:
        raise NotFound()
    hold = Hold.objects.select_for_update().filter(unit=unit, released_at__isnull=True).first()
    if hold is None or unit.status != UnitStatus.HELD:
        raise Conflict(_("房源 %(unit)s 没有生效中的销控。") % {"unit": unit.label}, code="not_held")
    now = timezone.now()
    _set_unit_status(
        unit,
        expected=(UnitStatus.HELD,),
        to=UnitStatus.AVAILABLE,
        by=by,
        reason=_("解除销控：%(reason)s") % {"reason": reason},
    )
    hold.released_at, hold.released_by, hold.release_reason = now, by, reason
    hold.save(update_fields=["released_at", "released_by", "release_reason", "updated_at"])
    return hold


def holds_release_expired(*, now: datetime | None = None) -> int:
    """Release every hold whose expiry has passed; decided from the rows, so safe to run twice."""
    now = now or timezone.now()
    due = list(
        Hold.objects.filter(released_at__isnull=True, expires_at__lte=now)
        .order_by("unit_id")
        .values_list("unit_id", flat=True)
    )
    released = 0
    for unit_id in due:
        try:
            hold_release(unit_id=unit_id, by=None, reason=_("到期自动解除"))
        except Conflict:
            continue  # released by a manager or another run in the meantime
        released += 1
    return released
