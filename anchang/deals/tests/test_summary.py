"""Sales summary per project and day: what counts on which day."""

from datetime import date, datetime, timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from anchang.core.errors import InvalidInput
from anchang.deals.models import Subscription
from anchang.deals.services import subscription_cancel, subscription_reject
from anchang.deals.summary import DEFAULT_DAYS, sales_summary
from anchang.deals.tests.helpers import contracted, customer_of, pending, subscribe, units_of

pytestmark = pytest.mark.django_db


def _local(day: date, hour: int, minute: int = 0) -> datetime:
    return timezone.make_aware(datetime(day.year, day.month, day.day, hour, minute))


def test_each_figure_counts_on_its_own_day(project, other_project, consultant, manager) -> None:
    units = units_of(project)
    day1, day2, day3 = date(2026, 3, 1), date(2026, 3, 2), date(2026, 3, 3)
    kept = subscribe(units[0], customer_of(project, consultant), consultant)
    signed = contracted(units[1], customer_of(project, consultant), consultant)
    dropped = subscribe(units[2], customer_of(project, consultant), consultant)
    subscription_cancel(subscription_id=dropped.pk, by=consultant, reason="x")
    refused = pending(units[3], customer_of(project, consultant), consultant)
    subscription_reject(subscription_id=refused.pk, by=manager)
    # Move the facts to the days under test: subscribed on day 1, signed late on day 2 (local time,
    # 23:30 — still day 2 in Shanghai although day 2 15:30 UTC), cancelled early on day 3.
    Subscription.objects.filter(project=project).update(subscribed_on=day1)
    Subscription.objects.filter(pk=signed.pk).update(contracted_at=_local(day2, 23, 30))
    Subscription.objects.filter(pk=dropped.pk).update(cancelled_at=_local(day3, 0, 10))
    elsewhere = subscribe(units_of(other_project)[0], customer_of(other_project, None), manager)
    Subscription.objects.filter(pk=elsewhere.pk).update(subscribed_on=day1)

    summary = sales_summary(project=project, date_from=day1, date_to=day3)

    by_day = {row.day: row for row in summary.rows}
    assert list(by_day) == [day1, day2, day3]
    # The rejected one never was a sale; the cancelled one was, on day 1.
    assert by_day[day1].subscriptions == 3
    assert by_day[day1].subscription_amount == kept.price + signed.price + dropped.price
    assert (by_day[day2].contracts, by_day[day2].contract_amount) == (1, signed.price)
    assert (by_day[day3].cancellations, by_day[day3].cancellation_amount) == (1, dropped.price)
    assert by_day[day2].subscriptions == by_day[day3].subscriptions == 0
    assert summary.totals.subscriptions == 3
    assert summary.totals.contracts == summary.totals.cancellations == 1


def test_the_default_range_is_the_last_two_weeks() -> None:
    from anchang.deals.summary import summary_range

    start, end = summary_range(None, None)
    assert end == timezone.localdate()
    assert (end - start).days + 1 == DEFAULT_DAYS


def test_reversed_and_overlong_ranges_are_refused(project) -> None:
    with pytest.raises(InvalidInput):
        sales_summary(project=project, date_from=date(2026, 3, 2), date_to=date(2026, 3, 1))
    with pytest.raises(InvalidInput):
        sales_summary(project=project, date_from=date(2024, 1, 1), date_to=date(2026, 1, 1))


def test_an_empty_range_is_all_zeros(project) -> None:
    summary = sales_summary(project=project, date_from=date(2026, 1, 1), date_to=date(2026, 1, 7))
    assert len(summary.rows) == 7
    assert summary.totals.subscriptions == 0
    assert summary.totals.subscription_amount == Decimal(0)
    first, last = summary.rows[0].day, summary.rows[-1].day
    assert first is not None and last is not None
    assert first + timedelta(days=6) == last
