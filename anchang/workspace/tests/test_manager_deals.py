"""Issue 11 §2: the manager's workbench shows what waits for approval and what today sold."""

import pytest
from django.urls import reverse

from anchang.deals.tests.helpers import contracted, count_queries, customer_of, pending, subscribe, units_of
from anchang.inventory.models import ProjectSettings

pytestmark = pytest.mark.django_db


def test_the_workbench_shows_pending_approvals_with_threshold_and_todays_deals(
    client_for, project, manager, consultant
) -> None:
    ProjectSettings.objects.filter(project=project).update(discount_approval_threshold=3)
    units = units_of(project)
    waiting = pending(units[0], customer_of(project, consultant), consultant)
    subscribe(units[1], customer_of(project, consultant, name="李四"), consultant)
    contracted(units[2], customer_of(project, consultant, name="张三"), consultant)
    html = client_for(manager).get(reverse("home")).content.decode()
    assert "待审批认购" in html and reverse("deals:subscription", args=[waiting.pk]) in html
    assert "优惠 10.00%（阈值 3%）" in html
    assert reverse("deals:approvals", args=[project.pk]) in html
    figures = html.split('data-figure="subscriptions"')[1]
    # Three subscribed today (one signed since), the pending one included; one contract.
    assert '<div class="value">3</div>' in figures.split('data-figure="contracts"')[0]
    assert '<div class="value text-danger">1</div>' in figures.split('data-figure="contracts"')[1]


def test_the_workbench_query_count_does_not_grow_with_pending_approvals(
    client_for, project, manager, consultant
) -> None:
    client = client_for(manager)
    units = units_of(project)
    pending(units[0], customer_of(project, consultant), consultant)
    client.get(reverse("home"))
    few = count_queries(lambda: client.get(reverse("home")))
    for n, unit in enumerate(units[1:5]):
        pending(unit, customer_of(project, consultant, name=f"客户{n}"), consultant)
    assert count_queries(lambda: client.get(reverse("home"))) == few
