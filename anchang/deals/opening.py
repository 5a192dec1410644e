"""Opening day (开盘选房, product.md §8): sessions, the draw, time slots, opening and closing, selections.

The rules, stated once (the manager's page and the buyer's page repeat them in words):

* **Who takes part.** The project's reservations (认筹) that are active when the order is drawn.
* **The order.** ``registration``: by registration time, ties by reservation number. ``lottery``: the
  reservation numbers in ascending order, shuffled by ``random.Random(seed).shuffle`` with the session's
  stored seed (32 hex characters from ``secrets``); position *n* is the *n*-th number of the shuffled
  list. Anyone with the seed and the list of numbers reproduces the draw with three lines of Python
  (`lottery_order`; the page prints them). The order may be drawn again only while the session is a
  draft; every draw of a lottery uses a fresh seed. Every draw is kept (`OpeningDraw`: method, seed,
  the eligible numbers, the result, who and when), so a redraw never erases the one before it; the
  latest is the one in effect, and the page lists them all.
* **Slots.** Positions are called in batches of ``buyers_per_slot``: batch *k* (0-based) starts
  ``k × slot_minutes`` after the session's start and lasts ``slot_minutes``.
* **Selecting.** Only while the session is open, and not before the buyer's slot starts. A buyer who
  misses their slot keeps the right to select until the session closes (过号不作废), behind everyone
  whose slot has started since — the order is kept because nobody can select before their turn.
  At most ``units_per_buyer`` units each. Only units on sale (可售) can be selected: 销控 units are
  off sale, 认筹 units are kept for someone.
* **The law.** Only units of a building a valid presale permit covers can be selected (409
  `unit_not_permitted`; the board shows the others as 未开售). A selection converts the buyer's
  reservation, and a reservation is taken only after the customer confirmed the risk disclosure
  (`reservation_create`), so the selection counts as disclosure-checked: nobody is at the buyer's phone
  to show the certificates wall, and refusing them at that second would cost them their turn.
* **Money.** A selection is a subscription at the list price. At the first selection the reservation
  converts (认筹转认购) and its amount becomes that subscription's deposit (定金); a further selection
  (when the limit is above one) carries the same deposit, each capped at the price.
* **Who sells.** A consultant's device: the staff member is the seller. The buyer's own link: the
  manager who created the session is recorded as the seller (the buyer has no account).
* **Concurrency.** ``opening_select`` locks the buyer's row (so two devices of one buyer cannot pass
  the limit together), then the unit (`subscription_create` re-checks it under the lock; the partial
  unique index is the last line). Every selection takes the two locks in that order.
"""

import random
import secrets
import unicodedata
from collections.abc import Sequence
from dataclasses import asdict, dataclass, replace
from datetime import datetime, timedelta
from decimal import Decimal

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from anchang.accounts.models import User
from anchang.core.errors import Conflict, Forbidden, InvalidInput, NotFound
from anchang.deals.models import (
    OCCUPYING_STATUSES,
    OpeningBuyer,
    OpeningDraw,
    OpeningSession,
    OpeningStatus,
    OrderMethod,
    Reservation,
    ReservationStatus,
    Subscription,
)
from anchang.deals.services import SELLING_ROLES, subscription_create
from anchang.inventory.models import Project, Unit, UnitStatus
from anchang.inventory.services import UnitNotAvailable

NAME_MAX_LENGTH = 100
SLOT_MINUTES_MAX = 240
BUYERS_PER_SLOT_MAX = 500
UNITS_PER_BUYER_MAX = 10
# A session is planned at most a year ahead; one entered on the day may start earlier that day.
MAX_DAYS_AHEAD = 365
# Lottery seeds: 128 bits from the operating system's generator, written as 32 hex characters.
SEED_BYTES = 16
# Buyers' links: 192 random bits, URL-safe (32 characters). Guessing one is not a realistic attack.
TOKEN_BYTES = 24
TOKEN_MIN_LENGTH = 20
TOKEN_MAX_LENGTH = 64
_TOKEN_ALPHABET = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_")


# --- permissions -----------------------------------------------------------------------------------


def may_manage_openings(user: User) -> bool:
    """Create, draw, open, close and export: the site manager (and admins)."""
    return user.is_site_manager


def may_sell_at_openings(user: User) -> bool:
    """Select for a buyer at a consultant's device: whoever may sell on the site."""
    return user.role in SELLING_ROLES or user.sees_all_projects


def token_looks_valid(token: str) -> bool:
    """A cheap shape check before any query: a link that cannot be ours is a 404 at once."""
    return TOKEN_MIN_LENGTH <= len(token) <= TOKEN_MAX_LENGTH and set(token) <= _TOKEN_ALPHABET


# --- the draw and the slots (pure functions, so that anyone can check them) ------------------------


def lottery_order(numbers: Sequence[int], seed: str) -> list[int]:
    """The lottery: reservation numbers ascending, shuffled by Python's Mersenne Twister seeded with `seed`.

    ``random.Random(str)`` hashes the string with SHA-512 to seed the generator; the algorithm is
    fixed across Python 3 versions, so the same seed and numbers give the same order anywhere.
    """
    ordered = sorted(numbers)
    random.Random(seed).shuffle(ordered)
    return ordered


def reproduce_snippet(*, seed: str, numbers: Sequence[int]) -> str:
    """The three lines of Python that reproduce a lottery, printed on the page for anyone to run."""
    return (
        "import random\n"
        f"numbers = {sorted(numbers)!r}\n"
        f"random.Random({seed!r}).shuffle(numbers)\n"
        f"print(numbers)  # {_('依次为第 1 位、第 2 位……选房客户的认筹号')}"
    )


@dataclass(frozen=True)
class Slot:
    starts_at: datetime
    ends_at: datetime


def slot_for(*, position: int, starts_at: datetime, slot_minutes: int, buyers_per_slot: int) -> Slot:
    batch = (position - 1) // buyers_per_slot
    start = starts_at + timedelta(minutes=batch * slot_minutes)
    return Slot(starts_at=start, ends_at=start + timedelta(minutes=slot_minutes))


def _ordered_reservations(session: OpeningSession, reservations: list[Reservation]) -> list[Reservation]:
    if session.order_method == OrderMethod.LOTTERY:
        by_number = {r.number: r for r in reservations}
        return [by_number[n] for n in lottery_order(list(by_number), session.lottery_seed)]
    return sorted(reservations, key=lambda r: (r.registered_at, r.number))


# --- validation ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class SessionInput:
    """A session's settings as entered. The fields carry the names of `OpeningSession`'s fields:
    creating, editing and the form move them as a whole."""

    name: str
    starts_at: datetime
    order_method: str
    slot_minutes: int
    buyers_per_slot: int
    units_per_buyer: int


def _clean(data: SessionInput, *, now: datetime) -> SessionInput:
    errors: dict[str, str] = {}
    name = data.name.strip() if isinstance(data.name, str) else ""
    if not name:
        errors["name"] = _("请填写场次名称。")
    elif len(name) > NAME_MAX_LENGTH:
        errors["name"] = _("名称最多 %(n)s 个字。") % {"n": NAME_MAX_LENGTH}
    elif any(unicodedata.category(ch) == "Cc" for ch in name):
        errors["name"] = _("包含无法识别的字符，请重新输入。")
    starts_at = data.starts_at
    if not isinstance(starts_at, datetime):
        errors["starts_at"] = _("请选择开始时间。")
    else:
        try:
            if timezone.is_naive(starts_at):
                starts_at = timezone.make_aware(starts_at)
            today = timezone.localdate(now)
            if timezone.localdate(starts_at) < today:
                errors["starts_at"] = _("开始时间不能早于今天。")
            elif starts_at > now + timedelta(days=MAX_DAYS_AHEAD):
                errors["starts_at"] = _("开始时间只能在一年以内。")
        except (OverflowError, ValueError):
            errors["starts_at"] = _("开始时间无效，请重新选择。")
    if data.order_method not in OrderMethod.values:
        errors["order_method"] = _("请选择排序方式。")
    limits = (
        ("slot_minutes", data.slot_minutes, SLOT_MINUTES_MAX, _("每批时长应在 1 到 %(max)s 分钟之间。")),
        ("buyers_per_slot", data.buyers_per_slot, BUYERS_PER_SLOT_MAX, _("每批人数应在 1 到 %(max)s 之间。")),
        (
            "units_per_buyer",
            data.units_per_buyer,
            UNITS_PER_BUYER_MAX,
            _("每人限选套数应在 1 到 %(max)s 之间。"),
        ),
    )
    for field, value, maximum, message in limits:
        if not isinstance(value, int) or isinstance(value, bool) or not 1 <= value <= maximum:
            errors[field] = message % {"max": maximum}
    if errors:
        raise InvalidInput(fields=errors)
    return replace(data, name=name, starts_at=starts_at)


def _require_manager(by: User) -> None:
    if not may_manage_openings(by):
        raise Forbidden(_("只有案场经理可以管理开盘选房。"))


def _locked_session(session_id: int) -> OpeningSession:
    session = OpeningSession.objects.select_for_update().filter(pk=session_id).first()
    if session is None:
        raise NotFound(_("选房场次不存在。"))
    return session


def _require_draft(session: OpeningSession, doing: str) -> None:
    if session.status != OpeningStatus.DRAFT:
        raise Conflict(
            _("场次已%(status)s，不能再%(doing)s。")
            % {"status": session.get_status_display(), "doing": doing},
            code="opening_not_draft",
        )


# --- services --------------------------------------------------------------------------------------


@transaction.atomic
def opening_session_create(*, project: Project, data: SessionInput, by: User) -> OpeningSession:
    _require_manager(by)
    clean = _clean(data, now=timezone.now())
    return OpeningSession.objects.create(project=project, created_by=by, **asdict(clean))


@transaction.atomic
def opening_session_update(*, session_id: int, data: SessionInput, by: User) -> OpeningSession:
    """Edit a draft. A new order method discards the drawn order (draw again); new times move the slots."""
    _require_manager(by)
    session = _locked_session(session_id)
    _require_draft(session, _("修改"))
    clean = _clean(data, now=timezone.now())
    method_changed = clean.order_method != session.order_method
    slots_changed = (clean.starts_at, clean.slot_minutes, clean.buyers_per_slot) != (
        session.starts_at,
        session.slot_minutes,
        session.buyers_per_slot,
    )
    for name, value in asdict(clean).items():
        setattr(session, name, value)
    if method_changed:
        session.buyers.all().delete()
        session.lottery_seed = ""
        # The discarded draw stays on record, no longer in effect.
        session.draws.filter(is_current=True).update(is_current=False)
    session.save()
    if slots_changed and not method_changed:
        _assign_slots(session, list(session.buyers.order_by("position")))
    return session


def _assign_slots(session: OpeningSession, buyers: list[OpeningBuyer]) -> None:
    for buyer in buyers:
        slot = slot_for(
            position=buyer.position,
            starts_at=session.starts_at,
            slot_minutes=session.slot_minutes,
            buyers_per_slot=session.buyers_per_slot,
        )
        buyer.slot_starts_at, buyer.slot_ends_at = slot.starts_at, slot.ends_at
    OpeningBuyer.objects.bulk_update(buyers, ["slot_starts_at", "slot_ends_at"], batch_size=500)


@transaction.atomic
def opening_buyers_draw(*, session_id: int, by: User) -> list[OpeningBuyer]:
    """Draw the order from the project's active reservations (again, while a draft) and assign slots.

    The session row is locked, so two managers pressing the button at once draw one after the other.
    The draw is recorded with its inputs in the same transaction, and becomes the one in effect.
    """
    _require_manager(by)
    session = _locked_session(session_id)
    _require_draft(session, _("重新排序"))
    reservations = list(
        Reservation.objects.filter(project_id=session.project_id, status=ReservationStatus.ACTIVE).order_by(
            "number"
        )
    )
    if not reservations:
        raise Conflict(_("该项目还没有有效的认筹，无法生成选房顺序。"), code="no_reservations")
    session.lottery_seed = (
        secrets.token_hex(SEED_BYTES) if session.order_method == OrderMethod.LOTTERY else ""
    )
    session.save(update_fields=["lottery_seed", "updated_at"])
    session.buyers.all().delete()
    ordered = _ordered_reservations(session, reservations)
    # Clear the flag before the insert: the partial unique index allows one draw in effect per session.
    session.draws.filter(is_current=True).update(is_current=False)
    OpeningDraw.objects.create(
        session=session,
        method=session.order_method,
        seed=session.lottery_seed,
        eligible_numbers=[r.number for r in reservations],
        drawn_numbers=[r.number for r in ordered],
        drawn_by=by,
        drawn_at=timezone.now(),
        is_current=True,
    )
    buyers = []
    for position, reservation in enumerate(ordered, start=1):
        slot = slot_for(
            position=position,
            starts_at=session.starts_at,
            slot_minutes=session.slot_minutes,
            buyers_per_slot=session.buyers_per_slot,
        )
        buyers.append(
            OpeningBuyer(
                session=session,
                reservation=reservation,
                customer_id=reservation.customer_id,
                position=position,
                slot_starts_at=slot.starts_at,
                slot_ends_at=slot.ends_at,
                token=secrets.token_urlsafe(TOKEN_BYTES),
            )
        )
    return OpeningBuyer.objects.bulk_create(buyers, batch_size=500)


@transaction.atomic
def opening_session_open(*, session_id: int, by: User) -> OpeningSession:
    _require_manager(by)
    session = _locked_session(session_id)
    _require_draft(session, _("开始选房"))
    if not session.buyers.exists():
        raise Conflict(_("请先生成选房顺序，再开始选房。"), code="no_buyers")
    session.status = OpeningStatus.OPEN
    session.save(update_fields=["status", "updated_at"])
    return session


@transaction.atomic
def opening_session_close(*, session_id: int, by: User) -> OpeningSession:
    """End the selection. A selection already in flight when the manager closes still completes."""
    _require_manager(by)
    session = _locked_session(session_id)
    if session.status != OpeningStatus.OPEN:
        raise Conflict(_("只有选房中的场次可以结束。"), code="opening_not_open")
    session.status = OpeningStatus.CLOSED
    session.save(update_fields=["status", "updated_at"])
    return session


def deposit_for(reservation: Reservation, price: Decimal) -> Decimal:
    """The reservation's amount becomes the deposit, never more than the price (a check constraint)."""
    return min(reservation.amount, price)


def buyer_picks_count(buyer: OpeningBuyer) -> int:
    return Subscription.objects.filter(
        opening_session_id=buyer.session_id,
        reservation_id=buyer.reservation_id,
        status__in=OCCUPYING_STATUSES,
    ).count()


def _check_may_select(buyer: OpeningBuyer, session: OpeningSession, picks: int, now: datetime) -> None:
    if session.status == OpeningStatus.DRAFT:
        raise Conflict(_("选房尚未开始，请等待现场通知。"), code="opening_not_open")
    if session.status == OpeningStatus.CLOSED:
        raise Conflict(_("本次选房已结束。"), code="opening_closed")
    if now < buyer.slot_starts_at:
        raise Conflict(
            _("您的选房时段 %(start)s 开始，请到时再选。")
            % {"start": timezone.localtime(buyer.slot_starts_at).strftime("%H:%M")},
            code="slot_not_started",
        )
    if picks >= session.units_per_buyer:
        raise Conflict(
            _("已达到每人限选 %(n)s 套，不能再选。") % {"n": session.units_per_buyer},
            code="limit_reached",
        )
    reservation = buyer.reservation
    if reservation.status == ReservationStatus.REFUNDED:
        raise Conflict(_("该认筹已退筹，不能选房。请联系置业顾问。"), code="reservation_not_active")
    if (
        reservation.status == ReservationStatus.CONVERTED
        and picks == 0
        # Converted here, then cancelled (退订): the buyer keeps their right in this session.
        and not Subscription.objects.filter(reservation=reservation, opening_session=session).exists()
    ):
        raise Conflict(_("该认筹已在其他场次认购，不能再选房。"), code="reservation_not_active")


@transaction.atomic
def opening_select(
    *, buyer_id: int, unit_id: int, by: User | None, session_id: int | None = None
) -> Subscription:
    """The buyer selects a unit: a subscription at the list price, or a clear refusal.

    `by=None` is the buyer's own link; otherwise the staff member at the consultant's device.
    Raises `UnitNotAvailable` (409) when someone was faster, `Conflict` for session, slot, limit and
    reservation rules, `NotFound` for a buyer or unit outside the session's project.
    """
    if by is not None and not may_sell_at_openings(by):
        raise Forbidden(_("您的角色不能为客户选房。"))
    buyers = OpeningBuyer.objects.select_for_update(of=("self",)).select_related(
        "session__created_by", "reservation", "customer"
    )
    if session_id is not None:
        buyers = buyers.filter(session_id=session_id)
    # The buyer's row lock: two devices of one buyer cannot both pass the limit check below.
    buyer = buyers.filter(pk=buyer_id).first()
    if buyer is None:
        raise NotFound(_("选房客户不存在。"))
    session = buyer.session
    now = timezone.now()
    picks = buyer_picks_count(buyer)
    _check_may_select(buyer, session, picks, now)
    unit = (
        Unit.objects.select_for_update(of=("self",))
        .select_related("building")
        .filter(pk=unit_id, project_id=session.project_id)
        .first()
    )
    if unit is None:
        raise NotFound(_("房源不存在，或不属于本次开盘的项目。"))
    if unit.status != UnitStatus.AVAILABLE:
        if unit.status in (UnitStatus.HELD, UnitStatus.RESERVED):
            message = _("房源 %(unit)s 暂不在本次开盘范围内，请选择其他房源。")
        else:
            message = _("房源 %(unit)s 刚刚已被认购，请选择其他房源。")
        raise UnitNotAvailable(message % {"unit": unit.label})
    price = unit.list_price_total
    reservation = buyer.reservation
    subscription = subscription_create(
        unit_id=unit.pk,
        customer=buyer.customer,
        price=price,
        deposit=deposit_for(reservation, price),
        by=by if by is not None else session.created_by,
        reservation=reservation,
        opening_session_id=session.pk,
    )
    if reservation.status == ReservationStatus.ACTIVE:
        # 认筹转认购 at the first selection; save() so that the reservation's history shows it.
        reservation.status = ReservationStatus.CONVERTED
        reservation.save(update_fields=["status", "updated_at"])
    return subscription
