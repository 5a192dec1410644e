"""Small builders for the deals tests: customers, units, subscriptions in a given state."""

from collections.abc import Callable
from datetime import timedelta
from decimal import Decimal
from itertools import count

from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from anchang.accounts.models import User
from anchang.core.testing.mobiles import mobile_for
from anchang.customers.models import Customer
from anchang.deals.models import Subscription
from anchang.deals.services import subscription_approve, subscription_contract, subscription_create
from anchang.inventory.models import Project, Unit
from anchang.reception.testing import record_risk_disclosure

_seed = count(5000)


def customer_of(
    project: Project, owner: User | None, *, name: str = "王小明", gender: str = "male"
) -> Customer:
    """A visited customer of `owner` who confirmed the risk disclosure on that visit (as buyers have)."""
    visited = timezone.now() - timedelta(days=1)
    customer = Customer.objects.create(
        project=project,
        phone=f"+86{mobile_for(next(_seed))}",
        name=name,
        gender=gender,
        owner=owner,
        first_visit_at=visited,
        last_visit_at=visited,
        stage="visited",
        protected_until=timezone.now() + timedelta(days=14),
    )
    record_risk_disclosure(customer=customer)
    return customer


def units_of(project: Project) -> list[Unit]:
    return list(Unit.objects.filter(project=project).select_related("building", "project").order_by("pk"))


def subscribe(
    unit: Unit,
    customer: Customer,
    by: User,
    *,
    discount: Decimal = Decimal(0),
    deposit: Decimal = Decimal("50000.00"),
) -> Subscription:
    """A subscription at `discount` (0.05 = 5 %) off the unit's list price."""
    price = (unit.list_price_total * (1 - discount)).quantize(Decimal("0.01"))
    return subscription_create(unit_id=unit.pk, customer=customer, price=price, deposit=deposit, by=by)


def contracted(unit: Unit, customer: Customer, by: User, manager: User | None = None) -> Subscription:
    subscription = subscribe(unit, customer, by)
    return subscription_contract(subscription_id=subscription.pk, by=manager or by)


def pending(unit: Unit, customer: Customer, by: User) -> Subscription:
    return subscribe(unit, customer, by, discount=Decimal("0.10"))


def approved(unit: Unit, customer: Customer, by: User, manager: User) -> Subscription:
    return subscription_approve(subscription_id=pending(unit, customer, by).pk, by=manager)


def count_queries(work: Callable[[], object]) -> int:
    with CaptureQueriesContext(connection) as captured:
        work()
    return len(captured.captured_queries)
