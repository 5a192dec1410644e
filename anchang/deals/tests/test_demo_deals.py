"""The deals demo step: content for every deals page, through the services, and a rerun adds nothing."""

from datetime import timedelta

import pytest
from django.utils import timezone

from anchang.deals.models import OCCUPYING_STATUSES, Hold, Reservation, Subscription, SubscriptionStatus
from anchang.demo.loader import HIGH_RISE, TOWNHOUSE, load_demo
from anchang.inventory.models import Unit, UnitStatus

pytestmark = pytest.mark.django_db

S = SubscriptionStatus


def _counts() -> tuple[int, ...]:
    return (
        Subscription.objects.count(),
        Subscription.history.count(),
        Hold.objects.count(),
        Reservation.objects.count(),
        Unit.history.count(),
    )


def test_the_demo_has_deals_of_the_last_three_weeks_and_a_rerun_adds_nothing() -> None:
    load_demo()
    counts = _counts()
    today = timezone.localdate()

    for code in (HIGH_RISE, TOWNHOUSE):
        deals = Subscription.objects.filter(project__code=code, opening_session__isnull=True)
        statuses = set(deals.values_list("status", flat=True))
        assert {S.CONTRACTED, S.CANCELLED, S.ACTIVE} <= statuses, code
        assert all(
            today - timedelta(days=21) <= d <= today for d in deals.values_list("subscribed_on", flat=True)
        )
    assert Subscription.objects.filter(status=S.PENDING_APPROVAL).count() == 1
    # Every deal left its unit in the status it implies.
    for subscription in Subscription.objects.select_related("unit"):
        if subscription.status in OCCUPYING_STATUSES:
            expected = UnitStatus.CONTRACTED if subscription.status == S.CONTRACTED else UnitStatus.SUBSCRIBED
            assert subscription.unit.status == expected
    # Every held unit has its hold; one of the new holds ends tomorrow.
    held = Unit.objects.filter(status=UnitStatus.HELD)
    assert held.count() == Hold.objects.filter(released_at__isnull=True).count()
    assert not held.exclude(holds__released_at__isnull=True).exists()
    tomorrow = today + timedelta(days=1)
    assert [timezone.localdate(h.expires_at) for h in Hold.objects.filter(expires_at__isnull=False)] == [
        tomorrow
    ]

    summary = load_demo()

    assert _counts() == counts
    assert not summary.created_anything
