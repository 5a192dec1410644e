"""Issue 11 §2: once a customer signs, no one keeps selling to them: their open follow-ups close with
the reason, and the purchase intent level goes."""

from datetime import timedelta

import pytest
from django.urls import reverse

from anchang.deals.tests.helpers import contracted, customer_of, subscribe, units_of
from anchang.followups.models import FollowUp
from anchang.followups.services import RESULT_CLOSED_OWNER, followup_schedule

pytestmark = pytest.mark.django_db


def test_signing_closes_open_follow_ups_with_the_reason(project, consultant, other_consultant) -> None:
    from django.utils import timezone

    customer = customer_of(project, consultant)
    customer.intent_level = "B"
    customer.save(update_fields=["intent_level"])
    now = timezone.now()
    mine = followup_schedule(customer=customer, consultant=consultant, due_at=now + timedelta(days=1))
    overdue = followup_schedule(
        customer=customer, consultant=other_consultant, due_at=now - timedelta(days=1)
    )
    done_before = FollowUp.objects.create(
        customer=customer, consultant=consultant, due_at=now, done_at=now, content="聊过价格", method="phone"
    )
    other = customer_of(project, consultant, name="张三")
    untouched = followup_schedule(customer=other, consultant=consultant, due_at=now + timedelta(days=1))

    unit = units_of(project)[0]
    subscription = contracted(unit, customer, consultant)

    for row in (mine, overdue):
        row.refresh_from_db()
        assert row.done_at is not None and row.result == RESULT_CLOSED_OWNER
        assert subscription.contract_number in row.content and "成为业主" in row.content
    done_before.refresh_from_db()
    assert done_before.content == "聊过价格"
    untouched.refresh_from_db()
    assert untouched.done_at is None
    customer.refresh_from_db()
    assert customer.is_owner and customer.intent_level == ""


def test_a_subscription_alone_leaves_the_follow_ups_open(project, consultant) -> None:
    from django.utils import timezone

    customer = customer_of(project, consultant)
    task = followup_schedule(
        customer=customer, consultant=consultant, due_at=timezone.now() + timedelta(days=1)
    )
    subscribe(units_of(project)[0], customer, consultant)
    task.refresh_from_db()
    assert task.done_at is None


def test_the_owners_follow_up_list_no_longer_asks_for_them(client_for, project, consultant) -> None:
    from django.utils import timezone

    customer = customer_of(project, consultant, name="赵业主")
    followup_schedule(customer=customer, consultant=consultant, due_at=timezone.now() - timedelta(hours=1))
    contracted(units_of(project)[0], customer, consultant)
    todo = client_for(consultant).get(reverse("followups:mine", args=[project.pk])).content.decode()
    assert "赵业主" not in todo
    done = client_for(consultant).get(reverse("followups:mine", args=[project.pk]) + "?state=done")
    assert "签约成为业主，跟进关闭" in done.content.decode()
