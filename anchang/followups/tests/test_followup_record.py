"""followup_record and the follow-up selectors (product.md §7)."""

from datetime import timedelta

import pytest
from django.utils import timezone

from anchang.accounts.models import Role
from anchang.accounts.testing import user_in
from anchang.core.errors import Forbidden, InvalidInput, NotFound
from anchang.customers.models import Customer, CustomerEvent, EventKind
from anchang.followups.models import FollowUp
from anchang.followups.selectors import (
    followup_list_visible_to,
    followups_due_for,
    overdue_by_consultant,
    overdue_counts_by_consultant,
)
from anchang.followups.services import followup_record
from anchang.followups.tests.helpers import customer_of, follow_up_for, queries_of
from anchang.inventory.models import ProjectSettings
from anchang.inventory.testing import ProjectFactory

pytestmark = pytest.mark.django_db

HOUR = timedelta(hours=1)
DAY = timedelta(days=1)


def test_recording_closes_the_oldest_open_follow_up(project, consultant) -> None:
    customer = customer_of(project, consultant)
    later = follow_up_for(customer, consultant, due_in=3 * DAY)
    oldest = follow_up_for(customer, consultant, due_in=-2 * HOUR, reason="首访后回访")
    done = followup_record(
        customer=customer, by=consultant, method="phone", content="  约周六看样板房 ", result="appointment"
    )
    assert done.pk == oldest.pk
    oldest.refresh_from_db()
    assert oldest.done_at is not None and oldest.state == "done"
    assert (oldest.method, oldest.content, oldest.result) == ("phone", "约周六看样板房", "appointment")
    assert FollowUp.objects.get(pk=later.pk).done_at is None


def test_without_an_open_one_a_done_record_is_written(project, consultant, other_consultant) -> None:
    customer = customer_of(project, consultant)
    # Someone else's open task for the same customer is not this consultant's to close.
    theirs = follow_up_for(customer, other_consultant, due_in=HOUR)
    done = followup_record(customer=customer, by=consultant, method="wechat", content="发了户型图")
    assert done.pk != theirs.pk and done.consultant == consultant
    assert done.done_at == done.due_at and done.state == "done"
    assert FollowUp.objects.get(pk=theirs.pk).done_at is None


def test_recording_sets_intent_contact_time_and_writes_the_timeline(project, consultant) -> None:
    customer = customer_of(project, consultant)
    before = timezone.now()
    done = followup_record(
        customer=customer, by=consultant, method="phone", content="预算够", intent_level="A"
    )
    customer.refresh_from_db()
    assert customer.last_contact_at is not None
    assert customer.intent_level == "A" and customer.last_contact_at >= before
    assert done.intent_level == "A"
    event = CustomerEvent.objects.get(customer=customer, kind=EventKind.FOLLOW_UP)
    assert "预算够" in event.text and "A" in event.text and event.by == consultant
    assert event.data["follow_up_id"] == done.pk and event.data["effective"] is True
    assert customer.history.order_by("-history_id").first().history_change_reason == "跟进记录"


def test_an_effective_follow_up_extends_protection(project, consultant) -> None:
    ProjectSettings.objects.filter(project=project).update(protection_days_after_call=7)
    customer = customer_of(project, consultant, protected_days=2, visited_days_ago=3)
    followup_record(customer=customer, by=consultant, method="phone", content="沟通了首付")
    customer.refresh_from_db()
    expected = timezone.now() + timedelta(days=7)
    assert customer.protected_until is not None
    assert abs((customer.protected_until - expected).total_seconds()) < 5


def test_protection_never_passes_the_ceiling(project, consultant) -> None:
    ProjectSettings.objects.filter(project=project).update(
        protection_days_after_call=7, protection_ceiling_days=40
    )
    customer = customer_of(project, consultant, protected_days=1, visited_days_ago=38)
    followup_record(customer=customer, by=consultant, method="phone", content="还在考虑")
    customer.refresh_from_db()
    assert customer.last_visit_at is not None
    ceiling = customer.last_visit_at + timedelta(days=40)
    assert customer.protected_until == ceiling


def test_protection_is_never_shortened(project, consultant) -> None:
    customer = customer_of(project, consultant, protected_days=12)
    before = customer.protected_until
    followup_record(customer=customer, by=consultant, method="phone", content="聊了聊")
    customer.refresh_from_db()
    assert customer.protected_until == before


@pytest.mark.parametrize(("method", "result"), [("sms", ""), ("phone", "not_reached")])
def test_a_contact_that_did_not_reach_the_customer_extends_nothing(
    project, consultant, method, result
) -> None:
    customer = customer_of(project, consultant, protected_days=2)
    before = customer.protected_until
    followup_record(
        customer=customer, by=consultant, method=method, content="未接通，已发短信", result=result
    )
    customer.refresh_from_db()
    assert customer.protected_until == before and customer.last_contact_at is None


def test_the_next_follow_up_is_scheduled(project, consultant) -> None:
    customer = customer_of(project, consultant)
    at = timezone.now() + 3 * DAY
    done = followup_record(
        customer=customer, by=consultant, method="phone", content="下周再约", next_due_at=at
    )
    following = FollowUp.objects.exclude(pk=done.pk).get()
    assert following.due_at == at and following.done_at is None and following.consultant == consultant
    assert following.reason == "上次跟进约定"


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        ({"next_due_at": "past"}, "next_due_at", "下次跟进时间不能早于现在"),
        ({"content": "   "}, "content", "请填写跟进内容"),
        ({"content": "多" * 2001}, "content", "最多"),
        ({"method": "pigeon"}, "method", "跟进方式"),
        ({"intent_level": "E"}, "intent_level", "意向等级"),
        ({"result": "great"}, "result", "跟进结果"),
    ],
)
def test_bad_input_is_refused_and_nothing_changes(project, consultant, changes, field, message) -> None:
    customer = customer_of(project, consultant, protected_days=2)
    open_task = follow_up_for(customer, consultant, due_in=-HOUR)
    if changes.get("next_due_at") == "past":
        changes["next_due_at"] = timezone.now() - timedelta(minutes=1)
    arguments = {"method": "phone", "content": "正常内容", "intent_level": "A", **changes}
    with pytest.raises(InvalidInput) as error:
        followup_record(customer=customer, by=consultant, **arguments)
    assert field in error.value.fields and message in error.value.fields[field]
    assert FollowUp.objects.get(pk=open_task.pk).done_at is None
    assert FollowUp.objects.count() == 1
    fresh = Customer.objects.get(pk=customer.pk)
    assert (fresh.intent_level, fresh.last_contact_at, fresh.protected_until) == (
        "",
        None,
        customer.protected_until,
    )
    assert not CustomerEvent.objects.filter(kind=EventKind.FOLLOW_UP).exists()


def test_only_the_owner_or_a_manager_records(
    project, consultant, other_consultant, frontdesk, manager
) -> None:
    customer = customer_of(project, consultant)
    task = follow_up_for(customer, consultant, due_in=HOUR)
    with pytest.raises(NotFound):
        followup_record(customer=customer, by=other_consultant, method="phone", content="x")
    with pytest.raises(Forbidden):
        followup_record(customer=customer, by=frontdesk, method="phone", content="x")
    stranger = user_in(ProjectFactory(), role=Role.MANAGER)
    with pytest.raises(NotFound):
        followup_record(customer=customer, by=stranger, method="phone", content="x")
    assert not FollowUp.objects.filter(done_at__isnull=False).exists()
    done = followup_record(customer=customer, by=manager, method="phone", content="经理代为回访")
    # The owner's task is what got done; the timeline says who did it.
    assert done.pk == task.pk and done.consultant == consultant
    assert CustomerEvent.objects.get(kind=EventKind.FOLLOW_UP).by == manager


# --- selectors ------------------------------------------------------------------------------------


def test_due_for_the_consultant_home(
    project, consultant, other_consultant, django_assert_num_queries
) -> None:
    mine = customer_of(project, consultant)
    overdue = follow_up_for(mine, consultant, due_in=-HOUR)
    soon = follow_up_for(mine, consultant, due_in=HOUR)
    follow_up_for(mine, consultant, due_in=-DAY, done=True)
    follow_up_for(customer_of(project, other_consultant), other_consultant, due_in=-HOUR)
    with django_assert_num_queries(1):
        rows = followups_due_for(user=consultant, project=project)
        names = [row.customer.name for row in rows]
    assert [row.pk for row in rows] == [overdue.pk, soon.pk] and names == ["王小明", "王小明"]
    assert [row.state for row in rows] == ["overdue", "open"]
    assert len(followups_due_for(user=consultant, project=project, limit=1)) == 1


def test_overdue_counts_by_consultant(project, consultants, django_assert_num_queries) -> None:
    a, b, c = consultants
    for _ in range(3):
        follow_up_for(customer_of(project, a), a, due_in=-HOUR)
    follow_up_for(customer_of(project, b), b, due_in=-2 * DAY)
    follow_up_for(customer_of(project, c), c, due_in=HOUR)
    follow_up_for(customer_of(project, c), c, due_in=-HOUR, done=True)
    other = ProjectFactory()
    follow_up_for(customer_of(other, a), a, due_in=-HOUR)
    with django_assert_num_queries(1):
        counts = overdue_counts_by_consultant(project=project)
    assert [(row.name, row.count) for row in counts] == [("顾问1", 3), ("顾问2", 1)]
    groups = overdue_by_consultant(project=project)
    assert [(g.name, g.count, len(g.follow_ups)) for g in groups] == [("顾问1", 3, 3), ("顾问2", 1, 1)]


def test_overdue_view_has_a_fixed_query_count(project, consultants) -> None:
    def seed(n: int) -> None:
        for i in range(n):
            owner = consultants[i % 3]
            follow_up_for(customer_of(project, owner), owner, due_in=-HOUR)

    def read() -> None:
        for group in overdue_by_consultant(project=project):
            for row in group.follow_ups:
                _ = (row.customer.name, row.consultant.display_name)

    seed(3)
    few = queries_of(read)
    seed(27)
    assert queries_of(read) == few == 2


def test_the_list_is_own_for_a_consultant_and_the_projects_for_a_manager(
    project, consultant, other_consultant, manager, service
) -> None:
    mine = follow_up_for(customer_of(project, consultant), consultant, due_in=HOUR)
    theirs = follow_up_for(customer_of(project, other_consultant), other_consultant, due_in=-HOUR)
    elsewhere = ProjectFactory()
    follow_up_for(customer_of(elsewhere, consultant), consultant, due_in=HOUR)
    assert list(followup_list_visible_to(user=consultant, project=project)) == [mine]
    assert set(followup_list_visible_to(user=manager)) == {mine, theirs}
    assert list(followup_list_visible_to(user=manager, state="overdue")) == [theirs]
    assert list(followup_list_visible_to(user=manager, state="open")) == [mine]
    assert list(followup_list_visible_to(user=manager, mine=True)) == []
    with pytest.raises(Forbidden):
        followup_list_visible_to(user=service)
