"""The customer's timeline reads as Chinese sentences: one 。 at the end, never 。。."""

import pytest
from django.urls import reverse

from anchang.customers.models import CustomerEvent
from anchang.reception.services import check_in, visit_end
from anchang.reception.testing import run_check_in_follow_ups

pytestmark = pytest.mark.django_db


def test_check_in_rows_on_the_timeline_end_with_one_full_stop(
    project, frontdesk, on_duty, client_for
) -> None:
    first = check_in(project=project, phone="13812345678", name="王小明", by=frontdesk, consent=True)
    visit_end(visit_id=first.visit.pk, by=on_duty[0], outcome="return")
    # A returning visitor within protection (owner rule) and a first visit by rotation.
    check_in(project=project, phone="13812345678", by=frontdesk, consent=True)
    check_in(project=project, phone="13912345678", name="李四", by=frontdesk, consent=True)
    run_check_in_follow_ups()
    texts = list(CustomerEvent.objects.values_list("text", flat=True))
    visit_rows = [t for t in texts if t.startswith(("首访", "复访"))]
    assert len(visit_rows) >= 3
    assert all(t.endswith("。") and not t.endswith("。。") for t in visit_rows), visit_rows
    assert not [t for t in texts if "。。" in t]
    page = client_for(on_duty[0]).get(reverse("customers:detail", args=[first.customer.pk]))
    assert "。。" not in page.content.decode()
