"""Sales summary per project and day (issue item 6): subscriptions, contracts, cancellations, amounts.

Three grouped queries whatever the range (quality S7), each served by its (project, day) index:

- 认购: subscriptions by their subscription date, every status but "rejected" (a refused discount
  never was a sale); a later cancellation does not unmake the day's subscription, it counts on
  the day of the cancellation;
- 签约: by the local day of `contracted_at`;
- 退订: cancelled subscriptions by the local day of `cancelled_at` (a change of unit cancels the old
  subscription and subscribes the new unit, so it shows on both sides).
"""

from dataclasses import dataclass, field, fields
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from typing import Any

from django.db.models import Count, F, QuerySet, Sum
from django.db.models.functions import TruncDate
from django.utils import timezone
from django.utils.translation import gettext as _

from anchang.core.errors import InvalidInput
from anchang.deals.models import Subscription, SubscriptionStatus
from anchang.inventory.models import Project

MAX_DAYS = 366
DEFAULT_DAYS = 14


@dataclass
class DayFigures:
    day: date | None
    subscriptions: int = 0
    subscription_amount: Decimal = field(default_factory=Decimal)
    contracts: int = 0
    contract_amount: Decimal = field(default_factory=Decimal)
    cancellations: int = 0
    cancellation_amount: Decimal = field(default_factory=Decimal)


_FIGURES = tuple(f.name for f in fields(DayFigures) if f.name != "day")


@dataclass(frozen=True)
class SalesSummary:
    date_from: date
    date_to: date
    rows: list[DayFigures]
    totals: DayFigures


def summary_range(date_from: date | None, date_to: date | None) -> tuple[date, date]:
    """The range to report: the last two weeks by default; refuses reversed or over-long ranges."""
    today = timezone.localdate()
    try:
        end = date_to or (date_from + timedelta(days=DEFAULT_DAYS - 1) if date_from else today)
        start = date_from or end - timedelta(days=DEFAULT_DAYS - 1)
    except OverflowError:
        raise InvalidInput(fields={"date_to": _("日期超出范围。")}) from None
    if start > end:
        raise InvalidInput(fields={"date_to": _("结束日期不能早于开始日期。")})
    if (end - start).days + 1 > MAX_DAYS:
        raise InvalidInput(fields={"date_to": _("日期范围最长 %(n)s 天。") % {"n": MAX_DAYS}})
    return start, end


def _local_bounds(start: date, end: date) -> tuple[datetime, datetime]:
    try:
        return (
            timezone.make_aware(datetime.combine(start, time.min)),
            timezone.make_aware(datetime.combine(end + timedelta(days=1), time.min)),
        )
    except OverflowError:
        raise InvalidInput(fields={"date_to": _("日期超出范围。")}) from None


def _by_day(rows: QuerySet[Subscription], day: Any) -> dict[date, tuple[int, Decimal]]:
    """How many of `rows` and their total price, per value of `day` (one grouped query)."""
    grouped = rows.values(day=day).annotate(n=Count("pk"), amount=Sum("price")).order_by()
    return {row["day"]: (row["n"], row["amount"] or Decimal(0)) for row in grouped}


def sales_summary(
    *, project: Project, date_from: date | None = None, date_to: date | None = None
) -> SalesSummary:
    start, end = summary_range(date_from, date_to)
    lower, upper = _local_bounds(start, end)
    tz = timezone.get_current_timezone()
    of_project = Subscription.objects.filter(project=project)
    subscribed = _by_day(
        of_project.filter(subscribed_on__gte=start, subscribed_on__lte=end).exclude(
            status=SubscriptionStatus.REJECTED
        ),
        F("subscribed_on"),
    )
    contracted = _by_day(
        of_project.filter(contracted_at__gte=lower, contracted_at__lt=upper),
        TruncDate("contracted_at", tzinfo=tz),
    )
    cancelled = _by_day(
        of_project.filter(
            status=SubscriptionStatus.CANCELLED, cancelled_at__gte=lower, cancelled_at__lt=upper
        ),
        TruncDate("cancelled_at", tzinfo=tz),
    )
    rows: list[DayFigures] = []
    totals = DayFigures(day=None)
    for offset in range((end - start).days + 1):
        day = start + timedelta(days=offset)
        figures = DayFigures(day=day)
        figures.subscriptions, figures.subscription_amount = subscribed.get(day, (0, Decimal(0)))
        figures.contracts, figures.contract_amount = contracted.get(day, (0, Decimal(0)))
        figures.cancellations, figures.cancellation_amount = cancelled.get(day, (0, Decimal(0)))
        for name in _FIGURES:
            setattr(totals, name, getattr(totals, name) + getattr(figures, name))
        rows.append(figures)
    return SalesSummary(date_from=start, date_to=end, rows=rows, totals=totals)
