"""Reads of the deals app, each with its joins and its permission filter (architecture rule 3).

Who sees which deal: the project's managers and front desk see all of its subscriptions and
reservations; a consultant sees those of their own customers; every other role none (a 404).
"""

from dataclasses import dataclass
from datetime import date
from typing import TypeVar

from django.db.models import Q, QuerySet

from anchang.accounts.models import Role, User
from anchang.accounts.selectors import project_list_visible_to, project_visible_to
from anchang.customers.models import Customer
from anchang.customers.pool import in_pool
from anchang.customers.selectors import customer_search_q, customer_visible_to
from anchang.deals.models import (
    OCCUPYING_STATUSES,
    Hold,
    Reservation,
    ReservationStatus,
    Subscription,
    SubscriptionStatus,
)
from anchang.deals.services import SUBSCRIBABLE_UNIT_STATUSES, may_sell
from anchang.inventory.models import Project, Unit

CUSTOMER_CHOICES_LIMIT = 20


def may_view_deals(user: User) -> bool:
    return user.is_active and (
        user.sees_all_projects or user.role in (Role.MANAGER, Role.FRONTDESK, Role.CONSULTANT)
    )


def _sees_whole_project(user: User) -> bool:
    return user.sees_all_projects or user.role in (Role.MANAGER, Role.FRONTDESK)


_Deal = TypeVar("_Deal", Subscription, Reservation)


def _as_seen_by(user: User, rows: QuerySet[_Deal]) -> QuerySet[_Deal]:
    """The deals among `rows` that `user` may see: the whole project's for its managers and desk, a
    consultant's those of the customers they own now, none for other roles."""
    if not may_view_deals(user):
        return rows.none()
    return rows if _sees_whole_project(user) else rows.filter(customer__owner=user)


def subscription_list_visible_to(
    *,
    user: User,
    project: Project,
    status: str | None = None,
    date_from: date | None = None,
    date_to: date | None = None,
) -> QuerySet[Subscription]:
    """The project's subscriptions the user may see, newest first, with what a list row shows."""
    rows = _as_seen_by(
        user,
        Subscription.objects.filter(project=project).select_related(
            "unit__building", "customer", "consultant"
        ),
    )
    if status:
        rows = rows.filter(status=status)
    if date_from:
        rows = rows.filter(subscribed_on__gte=date_from)
    if date_to:
        rows = rows.filter(subscribed_on__lte=date_to)
    return rows.order_by("-subscribed_on", "-pk")


def subscription_visible_to(*, user: User, subscription_id: int) -> Subscription | None:
    rows = Subscription.objects.select_related(
        "project",
        "unit__building",
        "customer",
        "consultant",
        "approved_by",
        "disclosure_override_by",
        "created_by",
        "replaced_by__unit__building",
        "reservation",
    ).filter(pk=subscription_id, project__in=project_list_visible_to(user=user))
    return _as_seen_by(user, rows).first()


def subscription_replaces(subscription: Subscription) -> Subscription | None:
    """The subscription this one replaced by a change of unit (换房), if any."""
    return Subscription.objects.select_related("unit__building").filter(replaced_by=subscription).first()


def subscriptions_pending_approval(*, project: Project) -> QuerySet[Subscription]:
    """The manager's approval queue: oldest first, they have waited longest."""
    return (
        Subscription.objects.filter(project=project, status=SubscriptionStatus.PENDING_APPROVAL)
        .select_related("unit__building", "customer", "consultant", "created_by")
        .order_by("created_at", "pk")
    )


def subscriptions_of_customer(*, customer: Customer) -> QuerySet[Subscription]:
    return (
        Subscription.objects.filter(customer=customer)
        .select_related("unit__building")
        .order_by("-subscribed_on", "-pk")
    )


def reservations_of_customer(*, customer: Customer) -> QuerySet[Reservation]:
    return Reservation.objects.filter(customer=customer).order_by("-registered_at", "-pk")


def occupying_subscription(*, unit: Unit) -> Subscription | None:
    return (
        Subscription.objects.filter(unit=unit, status__in=OCCUPYING_STATUSES)
        .select_related("customer", "consultant")
        .first()
    )


def open_hold(*, unit: Unit) -> Hold | None:
    return Hold.objects.filter(unit=unit, released_at__isnull=True).select_related("created_by").first()


def holds_open(*, project: Project) -> QuerySet[Hold]:
    """The project's current holds, those that end soonest first, then the ones without an end."""
    return (
        Hold.objects.filter(unit__project=project, released_at__isnull=True)
        .select_related("unit__building", "created_by")
        .order_by("expires_at", "unit__building__sort_order", "unit__building__name", "unit__number")
    )


def reservation_list_visible_to(
    *, user: User, project: Project, status: str | None = None
) -> QuerySet[Reservation]:
    rows = _as_seen_by(
        user, Reservation.objects.filter(project=project).select_related("customer", "consultant")
    )
    if status:
        rows = rows.filter(status=status)
    return rows.order_by("-number")


def reservation_visible_to(*, user: User, reservation_id: int) -> Reservation | None:
    rows = Reservation.objects.select_related("customer", "project").filter(
        pk=reservation_id, project__in=project_list_visible_to(user=user)
    )
    return _as_seen_by(user, rows).first()


def active_reservation(*, customer: Customer) -> Reservation | None:
    return Reservation.objects.filter(customer=customer, status=ReservationStatus.ACTIVE).first()


def unit_visible_to(*, user: User, unit_id: int) -> Unit | None:
    """A unit on the board of a project the user works in (the board's own rule)."""
    if not user.has_perm("inventory.view_board"):
        return None
    unit = Unit.objects.select_related("building", "project").filter(pk=unit_id).first()
    if unit is None or project_visible_to(user=user, project_id=unit.project_id) is None:
        return None
    return unit


@dataclass(frozen=True)
class SellingCustomer:
    customer: Customer | None
    # Visible, but a consultant may only sell to the customers they own.
    not_own: bool = False
    # A public-pool customer (then `not_own` too): a subscription may claim them in the same step.
    pool_customer: Customer | None = None


def customer_for_sale(*, user: User, customer_id: int) -> SellingCustomer:
    """The customer `user` may subscribe or reserve for: the whole project's for managers and the
    desk, a consultant's own only."""
    if not may_sell(user):
        return SellingCustomer(None)
    customer = customer_visible_to(user=user, customer_id=customer_id)
    if customer is None:
        return SellingCustomer(None)
    if not _sees_whole_project(user) and customer.owner_id != user.pk:
        in_the_pool = customer.owner_id is None and customer.pooled_at is not None
        return SellingCustomer(None, not_own=True, pool_customer=customer if in_the_pool else None)
    return SellingCustomer(customer)


def customers_for_sale(*, user: User, project: Project, q: str = "") -> list[Customer]:
    """The customer picker of the subscription and reservation forms (at most 20 rows)."""
    if not may_sell(user):
        return []
    customers = Customer.objects.filter(project=project).select_related("owner")
    if not _sees_whole_project(user):
        # The pool too: a consultant may claim a pool customer as they subscribe (`claim_from_pool`).
        customers = customers.filter(Q(owner=user) | in_pool())
    condition = customer_search_q(q)
    if condition is None:
        return []
    return list(customers.filter(condition).order_by("-last_visit_at", "-pk")[:CUSTOMER_CHOICES_LIMIT])


def sellable_units(*, project: Project) -> QuerySet[Unit]:
    """Units a subscription or a change of unit may take, in board order."""
    return (
        Unit.objects.filter(project=project, status__in=SUBSCRIBABLE_UNIT_STATUSES)
        .select_related("building")
        .order_by("building__sort_order", "building__name", "floor", "position")
    )
