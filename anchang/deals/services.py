"""Writes of the deals app. Each service owns its transaction and keeps the one promise:
a unit is never sold twice (architecture rule 5: lock the unit, re-check, write; the partial
unique index `subscription_one_active_per_unit` is the last line when everything else fails).
"""

from datetime import date, datetime, timedelta
from decimal import Decimal

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from anchang.accounts.models import Role, User
from anchang.core.errors import Conflict, Forbidden, InvalidInput, NotFound
from anchang.customers.models import Customer, EventKind
from anchang.customers.services import customer_record_event
from anchang.deals.models import Hold, Reservation, Subscription, SubscriptionStatus
from anchang.inventory.models import Unit, UnitStatus
from anchang.inventory.services import UnitNotAvailable, record_unit_history

# Who may sell: consultants for their customers, managers and the front desk on their behalf.
SELLING_ROLES = (Role.CONSULTANT, Role.MANAGER, Role.FRONTDESK)
# Units a subscription may take: free ones, and ones kept for a reservation holder (认筹).
SUBSCRIBABLE_UNIT_STATUSES = (UnitStatus.AVAILABLE, UnitStatus.RESERVED)


def is_manager(user: User) -> bool:
    return user.role == Role.MANAGER or user.sees_all_projects


def validate_money(*, price: Decimal, deposit: Decimal) -> None:
    """Price and deposit as product.md §8 and the issue's bad-input list state them, before any lock."""
    errors: dict[str, str] = {}
    if not price.is_finite() or price <= 0:
        errors["price"] = _("成交总价必须大于 0。")
    elif price >= Decimal("1e12"):
        errors["price"] = _("成交总价超出范围。")
    if not deposit.is_finite() or deposit < 0:
        errors["deposit"] = _("定金不能为负数。")
    elif "price" not in errors and deposit > price:
        errors["deposit"] = _("定金不能高于成交总价。")
    for field, value in (("price", price), ("deposit", deposit)):
        if field not in errors and value.is_finite() and value != value.quantize(Decimal("0.01")):
            errors[field] = _("金额最多保留两位小数。")
    if errors:
        raise InvalidInput(fields=errors)


def needs_approval(*, list_price: Decimal, price: Decimal, threshold_percent: Decimal) -> bool:
    """A discount strictly above the project's threshold waits for a manager (product.md §8)."""
    if price >= list_price:
        return False
    return (list_price - price) * 100 > threshold_percent * list_price


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
) -> Subscription:
    """Subscribe `customer` to the unit, or raise `UnitNotAvailable` (409) if someone was faster.

    `lock=False` exists only for the control test that shows the oversell without the row lock;
    the partial unique index still refuses the second row there.
    """
    if by.role not in SELLING_ROLES and not by.sees_all_projects:
        raise Forbidden(_("您的角色不能办理认购。"))
    validate_money(price=price, deposit=deposit)
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
    # Conditional UPDATE: on SQLite (no FOR UPDATE) this is what makes the second writer lose.
    claimed = Unit.objects.filter(pk=unit.pk, status__in=SUBSCRIBABLE_UNIT_STATUSES).update(
        status=UnitStatus.SUBSCRIBED, status_changed_at=now
    )
    if claimed != 1:
        raise UnitNotAvailable(_unavailable_message(unit))
    unit.status, unit.status_changed_at = UnitStatus.SUBSCRIBED, now
    project_settings = unit.project.settings
    status = (
        SubscriptionStatus.PENDING_APPROVAL
        if needs_approval(
            list_price=unit.list_price_total,
            price=price,
            threshold_percent=project_settings.discount_approval_threshold,
        )
        else SubscriptionStatus.ACTIVE
    )
    day = subscribed_on or timezone.localdate(now)
    try:
        with transaction.atomic():
            subscription = Subscription.objects.create(
                project_id=unit.project_id,
                unit=unit,
                customer=customer,
                consultant=customer.owner if customer.owner_id else None,
                status=status,
                list_price=unit.list_price_total,
                price=price,
                deposit=deposit,
                subscribed_on=day,
                sign_deadline=day + timedelta(days=project_settings.sign_within_days),
                reservation=reservation,
                opening_session_id=opening_session_id,
                created_by=by,
            )
    except IntegrityError as error:
        # Only reachable without the row lock (the control) or if a unit's status was edited by
        # hand while a subscription still occupied it: the index refuses the second sale.
        raise UnitNotAvailable(_unavailable_message(unit)) from error
    record_unit_history(unit, by=by, reason=_("认购"), when=now)
    Customer.objects.filter(pk=customer.pk, is_owner=False).update(stage="subscribed")
    customer_record_event(
        customer=customer,
        kind=EventKind.SUBSCRIBED,
        text=_("认购 %(unit)s，成交价 %(price)s 元") % {"unit": unit.label, "price": f"{price:,.2f}"},
        by=by,
        data={"subscription_id": subscription.pk, "unit_id": unit.pk},
        at=now,
    )
    return subscription


def _unavailable_message(unit: Unit) -> str:
    if unit.status == UnitStatus.HELD:
        return _("房源 %(unit)s 已被销控，暂不可认购。") % {"unit": unit.label}
    return _("房源 %(unit)s 刚刚已被认购，请选择其他房源。") % {"unit": unit.label}


@transaction.atomic
def hold_create(*, unit_id: int, reason: str, by: User, expires_at: datetime | None = None) -> Hold:
    """销控: a manager takes an available unit off sale, with a reason and optionally an end."""
    if not is_manager(by):
        raise Forbidden(_("只有案场经理可以设置或解除销控。"))
    reason = reason.strip()
    if not reason:
        raise InvalidInput(fields={"reason": _("请填写销控原因。")})
    now = timezone.now()
    if expires_at is not None and expires_at <= now:
        raise InvalidInput(fields={"expires_at": _("到期时间必须晚于现在。")})
    unit = Unit.objects.select_for_update(of=("self",)).select_related("building").filter(pk=unit_id).first()
    if unit is None:
        raise NotFound()
    claimed = Unit.objects.filter(pk=unit.pk, status=UnitStatus.AVAILABLE).update(
        status=UnitStatus.HELD, status_changed_at=now
    )
    if claimed != 1:
        raise Conflict(
            _("房源 %(unit)s 当前为“%(status)s”，只有可售房源可以销控。")
            % {"unit": unit.label, "status": unit.get_status_display()},
            code="unit_not_available",
        )
    unit.status, unit.status_changed_at = UnitStatus.HELD, now
    hold = Hold.objects.create(unit=unit, reason=reason[:200], expires_at=expires_at, created_by=by)
    record_unit_history(unit, by=by, reason=_("销控：%(reason)s") % {"reason": reason}, when=now)
    return hold


@transaction.atomic
def hold_release(*, unit_id: int, by: User | None, reason: str) -> Hold:
    """Lift the open hold of a unit; `by=None` is the expiry job."""
    if by is not None and not is_manager(by):
        raise Forbidden(_("只有案场经理可以设置或解除销控。"))
    unit = Unit.objects.select_for_update(of=("self",)).select_related("building").filter(pk=unit_id).first()
    if unit is None:
        raise NotFound()
    hold = Hold.objects.filter(unit=unit, released_at__isnull=True).first()
    if hold is None or unit.status != UnitStatus.HELD:
        raise Conflict(_("房源 %(unit)s 没有生效中的销控。") % {"unit": unit.label}, code="not_held")
    now = timezone.now()
    Unit.objects.filter(pk=unit.pk, status=UnitStatus.HELD).update(
        status=UnitStatus.AVAILABLE, status_changed_at=now
    )
    unit.status, unit.status_changed_at = UnitStatus.AVAILABLE, now
    hold.released_at, hold.released_by, hold.release_reason = now, by, reason[:200]
    hold.save(update_fields=["released_at", "released_by", "release_reason", "updated_at"])
    record_unit_history(unit, by=by, reason=_("解除销控：%(reason)s") % {"reason": reason}, when=now)
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
