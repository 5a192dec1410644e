"""A caller who comes to the sales office within the call protection goes to the consultant who took the
call, not to whoever is next in the queue (product.md §7; issue 11 §4: until calls were recorded this
protection could never apply)."""

from datetime import timedelta

import pytest
from django.utils import timezone

from anchang.customers.calls.services import inbound_call_record
from anchang.customers.models import AttributionRule, Customer
from anchang.reception.services import check_in

pytestmark = pytest.mark.django_db


def test_a_caller_visiting_within_the_call_protection_goes_to_the_consultant_who_took_the_call(
    project, frontdesk, on_duty
) -> None:
    taker = on_duty[2]
    inbound_call_record(
        project=project,
        by=frontdesk,
        phone="13612345678",
        source="online",
        question="价格",
        taken_by_id=taker.pk,
    )

    visit = check_in(project=project, phone="13612345678", by=frontdesk, consent=True).visit

    assert visit.consultant == taker
    assert visit.attributions.get().rule == AttributionRule.OWNER


def test_once_the_call_protection_has_run_out_the_queue_decides(project, frontdesk, on_duty) -> None:
    taker = on_duty[2]
    inbound_call_record(
        project=project,
        by=frontdesk,
        phone="13612345678",
        source="online",
        question="价格",
        taken_by_id=taker.pk,
    )
    Customer.objects.update(protected_until=timezone.now() - timedelta(minutes=1))

    visit = check_in(project=project, phone="13612345678", by=frontdesk, consent=True).visit

    assert visit.consultant == on_duty[0]
    assert visit.attributions.get().rule == AttributionRule.ROTATION
