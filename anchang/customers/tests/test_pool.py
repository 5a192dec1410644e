"""Protection and the public pool (product.md §7): the recovery job, claims, reassignment, the pages."""

import io
import re
import threading
from datetime import timedelta
from itertools import count

import pytest
from django.core.management import call_command
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from anchang.accounts.models import ProjectMembership, Role
from anchang.accounts.testing import user_in
from anchang.core.errors import Conflict, Forbidden, InvalidInput
from anchang.core.models import Notification
from anchang.core.testing.races import run_in_parallel
from anchang.customers import pool
from anchang.customers.models import Customer, CustomerEvent, EventKind, PoolReason, Stage
from anchang.followups.models import FollowUp
from anchang.inventory.models import ProjectSettings
from anchang.inventory.testing import project_with_units
from anchang.reception.jobs import pool_recovery_inputs
from anchang.reception.services import check_in, visit_end

pytestmark = pytest.mark.django_db

_phones = count(10_000_001)
FULL_MOBILE = re.compile(r"1[3-9]\d{9}")


def make_customer(project, *, owner=None, name="王小明", gender="male", phone=None, **fields) -> Customer:
    now = timezone.now()
    defaults = {
        "protected_until": now + timedelta(days=10) if owner else None,
        "first_visit_at": now - timedelta(days=2),
        "last_visit_at": now - timedelta(days=2),
        "stage": Stage.VISITED,
    }
    return Customer.objects.create(
        project=project,
        phone=phone or f"+86139{next(_phones):08d}",
        name=name,
        gender=gender,
        owner=owner,
        **{**defaults, **fields},
    )


def pooled(project, *, reason=PoolReason.PROTECTION_EXPIRED, **fields) -> Customer:
    return make_customer(project, pooled_at=timezone.now() - timedelta(hours=1), pool_reason=reason, **fields)


def events(customer: Customer, kind: str) -> list[CustomerEvent]:
    return list(CustomerEvent.objects.filter(customer=customer, kind=kind))


# --- the recovery job: one test per reason ------------------------------------------------------------


def test_expired_protection_moves_the_customer_to_the_pool_with_event_and_history(
    project, consultant
) -> None:
    customer = make_customer(project, owner=consultant, protected_until=timezone.now() - timedelta(minutes=1))
    kept = make_customer(project, owner=consultant, name="李四")

    result = pool.pool_recover(inputs=pool_recovery_inputs())

    assert result[PoolReason.PROTECTION_EXPIRED] == 1
    customer.refresh_from_db()
    assert customer.owner_id is None
    assert customer.pool_reason == PoolReason.PROTECTION_EXPIRED
    assert customer.pooled_at is not None
    (event,) = events(customer, EventKind.POOLED)
    assert event.data == {"reason": "protection_expired", "from": consultant.pk}
    assert consultant.display_name in event.text and "保护期已过" in event.text
    latest = customer.history.first()
    assert latest.owner_id is None and latest.history_change_reason == "进入公客池：保护期已过"
    kept.refresh_from_db()
    assert kept.owner_id == consultant.pk
    assert Notification.objects.filter(recipient=consultant, kind="customers_pooled").exists()


def test_an_overdue_follow_up_beyond_the_grace_moves_the_customer(project, consultant) -> None:
    grace = ProjectSettings.objects.get(project=project).followup_overdue_grace_hours
    now = timezone.now()
    late = make_customer(project, owner=consultant)
    FollowUp.objects.create(customer=late, consultant=consultant, due_at=now - timedelta(hours=grace + 1))
    within_grace = make_customer(project, owner=consultant, name="李四")
    FollowUp.objects.create(
        customer=within_grace, consultant=consultant, due_at=now - timedelta(hours=grace - 1)
    )
    done = make_customer(project, owner=consultant, name="赵五")
    FollowUp.objects.create(
        customer=done, consultant=consultant, due_at=now - timedelta(hours=grace + 5), done_at=now
    )

    assert pool.pool_recover(inputs=pool_recovery_inputs(), now=now)[PoolReason.FOLLOWUP_OVERDUE] == 1

    late.refresh_from_db()
    assert (late.owner_id, late.pool_reason) == (None, PoolReason.FOLLOWUP_OVERDUE)
    assert Customer.objects.filter(pk__in=[within_grace.pk, done.pk], owner=consultant).count() == 2


def test_a_previous_owners_overdue_follow_up_does_not_count_against_the_new_owner(
    project, consultant, other_consultant
) -> None:
    customer = make_customer(project, owner=other_consultant)
    FollowUp.objects.create(
        customer=customer, consultant=consultant, due_at=timezone.now() - timedelta(days=30)
    )
    assert pool.pool_recover(inputs=pool_recovery_inputs())[PoolReason.FOLLOWUP_OVERDUE] == 0


def test_a_customer_whose_only_visits_were_invalid_goes_to_the_pool(project, frontdesk, on_duty) -> None:
    invalid = check_in(project=project, phone="13812340001", name="路人甲", by=frontdesk, consent=True)
    visit_end(visit_id=invalid.visit.pk, by=frontdesk, outcome="invalid", invalid_reason="问路")
    mixed = check_in(project=project, phone="13812340002", name="王二", by=frontdesk, consent=True)
    visit_end(visit_id=mixed.visit.pk, by=frontdesk, outcome="invalid", invalid_reason="重复登记")
    again = check_in(project=project, phone="13812340002", by=frontdesk, consent=True)
    visit_end(visit_id=again.visit.pk, by=frontdesk, outcome="return")
    assert invalid.customer.owner_id is not None

    assert pool.pool_recover(inputs=pool_recovery_inputs())[PoolReason.INVALID] == 1

    gone = Customer.objects.get(pk=invalid.customer.pk)
    assert (gone.owner_id, gone.pool_reason) == (None, PoolReason.INVALID)
    assert Customer.objects.get(pk=mixed.customer.pk).owner_id is not None


def test_customers_of_a_consultant_who_left_go_to_the_pool(project, consultants, other_project) -> None:
    deactivated, moved_away, staying = consultants
    a = make_customer(project, owner=deactivated)
    b = make_customer(project, owner=moved_away, name="李四")
    c = make_customer(project, owner=staying, name="赵五")
    deactivated.is_active = False
    deactivated.save(update_fields=["is_active"])
    ProjectMembership.objects.filter(user=moved_away, project=project).delete()
    ProjectMembership.objects.create(user=moved_away, project=other_project)

    assert pool.pool_recover(inputs=pool_recovery_inputs())[PoolReason.CONSULTANT_LEFT] == 2

    assert [x.pool_reason for x in Customer.objects.filter(pk__in=[a.pk, b.pk])] == [
        PoolReason.CONSULTANT_LEFT
    ] * 2
    assert Customer.objects.get(pk=c.pk).owner_id == staying.pk
    # A consultant who left is not told about it.
    assert not Notification.objects.filter(recipient=deactivated).exists()


def test_no_subscription_within_the_period_after_the_first_visit(project, consultant) -> None:
    days = ProjectSettings.objects.get(project=project).pool_after_days_without_subscription
    now = timezone.now()
    stale = make_customer(project, owner=consultant, first_visit_at=now - timedelta(days=days, minutes=1))
    fresh = make_customer(
        project, owner=consultant, name="李四", first_visit_at=now - timedelta(days=days - 1)
    )

    assert pool.pool_recover(inputs=pool_recovery_inputs(), now=now)[PoolReason.NO_SUBSCRIPTION] == 1

    assert Customer.objects.get(pk=stale.pk).pool_reason == PoolReason.NO_SUBSCRIPTION
    assert Customer.objects.get(pk=fresh.pk).owner_id == consultant.pk


def test_contract_holders_subscribed_and_on_site_customers_never_go_to_the_pool(
    project, frontdesk, on_duty
) -> None:
    past = timezone.now() - timedelta(days=400)
    owner = on_duty[0]
    contract = make_customer(project, owner=owner, is_owner=True, protected_until=past, first_visit_at=past)
    subscribed = make_customer(
        project, owner=owner, name="李四", stage=Stage.SUBSCRIBED, protected_until=past, first_visit_at=past
    )
    being_received = check_in(project=project, phone="13812340003", by=frontdesk, consent=True).customer
    Customer.objects.filter(pk=being_received.pk).update(protected_until=past)

    assert sum(pool.pool_recover(inputs=pool_recovery_inputs()).values()) == 0
    assert (
        Customer.objects.filter(
            pk__in=[contract.pk, subscribed.pk, being_received.pk], owner__isnull=False
        ).count()
        == 3
    )


def test_one_reason_is_recorded_when_several_apply(project, consultant) -> None:
    past = timezone.now() - timedelta(days=400)
    customer = make_customer(project, owner=consultant, protected_until=past, first_visit_at=past)
    consultant.is_active = False
    consultant.save(update_fields=["is_active"])

    assert pool.pool_recover(inputs=pool_recovery_inputs()) == {
        "consultant_left": 1,
        "invalid": 0,
        "followup_overdue": 0,
        "no_subscription": 0,
        "protection_expired": 0,
    }
    assert events(customer, EventKind.POOLED)[0].data["reason"] == PoolReason.CONSULTANT_LEFT


def test_running_the_job_twice_gives_the_same_result_as_once(project, consultant) -> None:
    past = timezone.now() - timedelta(days=1)
    customers = [make_customer(project, owner=consultant, protected_until=past) for _ in range(3)]
    first = pool.pool_recover(inputs=pool_recovery_inputs())
    pooled_at = {c.pk: Customer.objects.get(pk=c.pk).pooled_at for c in customers}

    second = pool.pool_recover(inputs=pool_recovery_inputs())

    assert first[PoolReason.PROTECTION_EXPIRED] == 3 and sum(second.values()) == 0
    assert CustomerEvent.objects.filter(kind=EventKind.POOLED).count() == 3
    assert {c.pk: Customer.objects.get(pk=c.pk).pooled_at for c in customers} == pooled_at
    assert Notification.objects.filter(kind="customers_pooled", channel="in_app").count() == 1


def test_the_move_is_one_conditional_update_on_the_expected_owner(project, consultant) -> None:
    """The guard of R5, asserted on the SQL: no `id IN (SELECT …)` that PostgreSQL would not re-check."""
    make_customer(project, owner=consultant, protected_until=timezone.now() - timedelta(days=1))
    with CaptureQueriesContext(connection) as queries:
        pool.pool_recover(inputs=pool_recovery_inputs())
    (update,) = [q["sql"] for q in queries.captured_queries if q["sql"].startswith("UPDATE")]
    where = update.split(" WHERE ", 1)[1]
    assert f'"owner_id" = {consultant.pk}' in where
    assert '"id" IN (SELECT' not in where


def test_the_job_is_registered_and_runs_from_anchang_tick(project, consultant) -> None:
    from anchang.core import periodic
    from anchang.reception import jobs

    job = periodic.registered_jobs(["customers.pool_recovery"])[0]
    assert job.func is jobs.pool_recovery and job.every_seconds == 300
    customer = make_customer(project, owner=consultant, protected_until=timezone.now() - timedelta(days=1))
    first, second = io.StringIO(), io.StringIO()
    call_command("tick", "--job", "customers.pool_recovery", stdout=first)
    call_command("tick", "--job", "customers.pool_recovery", stdout=second)
    assert "✓ customers.pool_recovery" in first.getvalue() and '"protection_expired": 1' in first.getvalue()
    assert '"protection_expired": 0' in second.getvalue()
    assert len(events(customer, EventKind.POOLED)) == 1


# --- claiming ---------------------------------------------------------------------------------------------


def test_claiming_makes_the_consultant_owner_with_call_protection(project, consultant) -> None:
    customer = pooled(project)
    now = timezone.now()
    days = ProjectSettings.objects.get(project=project).protection_days_after_call

    claimed = pool.pool_claim(customer=customer, consultant=consultant, now=now)

    assert claimed.owner_id == consultant.pk
    assert claimed.protected_until == now + timedelta(days=days)
    assert (claimed.pooled_at, claimed.pool_reason) == (None, "")
    (event,) = events(customer, EventKind.CLAIMED)
    assert event.by_id == consultant.pk and event.data["pool_reason"] == PoolReason.PROTECTION_EXPIRED
    latest = customer.history.first()
    assert latest.owner_id == consultant.pk and latest.history_user_id == consultant.pk
    assert latest.history_change_reason == "公客认领"


def test_the_daily_claim_cap_refuses_the_next_claim_and_changes_nothing(project, consultant) -> None:
    ProjectSettings.objects.filter(project=project).update(pool_claims_per_day=2)
    customers = [pooled(project) for _ in range(3)]
    for customer in customers[:2]:
        pool.pool_claim(customer=customer, consultant=consultant)

    with pytest.raises(Conflict, match=r"今日认领已达上限（2 个）"):
        pool.pool_claim(customer=customers[2], consultant=consultant)

    third = Customer.objects.get(pk=customers[2].pk)
    assert third.owner_id is None and third.pooled_at is not None
    assert CustomerEvent.objects.filter(kind=EventKind.CLAIMED).count() == 2


def test_the_cap_counts_the_local_day(project, consultant) -> None:
    ProjectSettings.objects.filter(project=project).update(pool_claims_per_day=1)
    yesterday = timezone.now() - timedelta(days=1)
    pool.pool_claim(customer=pooled(project), consultant=consultant, now=yesterday)
    pool.pool_claim(customer=pooled(project), consultant=consultant)
    assert pool.claims_today(consultant=consultant, project=project) == 1


def test_a_customer_claimed_by_someone_else_is_a_conflict(project, consultants) -> None:
    customer = pooled(project)
    pool.pool_claim(customer=customer, consultant=consultants[0])
    with pytest.raises(Conflict):
        pool.pool_claim(customer=customer, consultant=consultants[1])
    assert Customer.objects.get(pk=customer.pk).owner_id == consultants[0].pk


def test_only_the_projects_consultants_may_claim(project, manager, other_project) -> None:
    customer = pooled(project)
    outsider = user_in(other_project, role=Role.CONSULTANT)
    for user in (manager, outsider):
        with pytest.raises(Forbidden):
            pool.pool_claim(customer=customer, consultant=user)
    assert Customer.objects.get(pk=customer.pk).owner_id is None


# --- manager reassignment ----------------------------------------------------------------------------------


def test_a_manager_reassigns_from_another_consultant_with_a_reason(project, manager, consultants) -> None:
    customer = make_customer(project, owner=consultants[0])

    pool.customer_reassign(customer=customer, to=consultants[1], by=manager, reason="原顾问休产假")

    customer.refresh_from_db()
    assert customer.owner_id == consultants[1].pk
    (event,) = events(customer, EventKind.OWNER_CHANGED)
    assert event.by_id == manager.pk and "原顾问休产假" in event.text
    assert event.data == {
        "from": consultants[0].pk,
        "to": consultants[1].pk,
        "reason": "原顾问休产假",
        "from_pool": False,
    }
    latest = customer.history.first()
    assert latest.history_change_reason == "经理改派：原顾问休产假" and latest.history_user_id == manager.pk


def test_a_manager_reassigns_from_the_pool(project, manager, consultant) -> None:
    customer = pooled(project)
    pool.customer_reassign(customer=customer, to=consultant, by=manager, reason="客户点名要这位顾问")
    customer.refresh_from_db()
    assert (customer.owner_id, customer.pooled_at, customer.pool_reason) == (consultant.pk, None, "")
    assert events(customer, EventKind.OWNER_CHANGED)[0].data["from_pool"] is True


def test_reassignment_needs_a_reason_a_manager_and_a_consultant_of_the_project(
    project, manager, consultants, frontdesk, other_project
) -> None:
    customer = make_customer(project, owner=consultants[0])
    with pytest.raises(InvalidInput) as empty:
        pool.customer_reassign(customer=customer, to=consultants[1], by=manager, reason="  ")
    assert "reason" in empty.value.fields
    with pytest.raises(Forbidden):
        pool.customer_reassign(customer=customer, to=consultants[1], by=frontdesk, reason="x")
    with pytest.raises(Forbidden):
        pool.customer_reassign(customer=customer, to=consultants[1], by=consultants[2], reason="x")
    outsider = user_in(other_project, role=Role.CONSULTANT)
    with pytest.raises(InvalidInput):
        pool.customer_reassign(customer=customer, to=outsider, by=manager, reason="x")
    assert Customer.objects.get(pk=customer.pk).owner_id == consultants[0].pk
    assert not events(customer, EventKind.OWNER_CHANGED)


def test_a_manager_releases_a_customer_to_the_pool_by_hand(project, manager, consultant) -> None:
    customer = make_customer(project, owner=consultant)
    pool.customer_release_to_pool(customer=customer, by=manager, reason="客户要求换顾问")
    customer.refresh_from_db()
    assert (customer.owner_id, customer.pool_reason) == (None, PoolReason.MANUAL)
    assert events(customer, EventKind.POOLED)[0].by_id == manager.pk
    with pytest.raises(Conflict):
        pool.customer_release_to_pool(customer=customer, by=manager, reason="again")


# --- the pool page -----------------------------------------------------------------------------------------


def test_the_pool_page_shows_public_names_masked_phones_reason_and_a_claim_button(
    client_for, project, consultant
) -> None:
    pooled(project, name="王小明", gender="male", phone="+8613712345678", intent_level="A")
    pooled(project, name="李丽", gender="female", reason=PoolReason.FOLLOWUP_OVERDUE)
    make_customer(project, owner=consultant, name="赵六")  # not in the pool

    html = client_for(consultant).get(reverse("pool:list", args=[project.pk])).content.decode()

    assert "王先生" in html and "李女士" in html and "王小明" not in html and "赵六" not in html
    assert "137****5678" in html and not FULL_MOBILE.search(html)
    assert "保护期已过" in html and "跟进逾期" in html
    assert "认领" in html and "今日还可认领 5 个" in html


def test_the_pool_page_searches_inside_the_pool(client_for, project, consultant) -> None:
    pooled(project, name="王小明")
    pooled(project, name="张伟", gender="male")
    make_customer(project, owner=consultant, name="王大锤")
    client = client_for(consultant)
    html = client.get(reverse("pool:list", args=[project.pk]), {"q": "王"}).content.decode()
    assert html.count('id="pool-customer-') == 1
    partial = client.get(reverse("pool:list", args=[project.pk]), {"q": "zw"}, headers={"HX-Request": "true"})
    assert "<html" not in partial.content.decode() and "张先生" in partial.content.decode()


def test_the_pool_page_is_for_consultants_and_managers(
    client_for, project, frontdesk, agent, manager
) -> None:
    url = reverse("pool:list", args=[project.pk])
    assert client_for(frontdesk).get(url).status_code == 403
    assert client_for(agent).get(url).status_code == 403
    assert client_for(manager).get(url).status_code == 200


def test_the_pool_page_of_another_project_is_404(client_for, consultant, other_project) -> None:
    assert client_for(consultant).get(reverse("pool:list", args=[other_project.pk])).status_code == 404


def test_pool_page_query_count_is_the_same_for_3_and_40_customers(client_for, project, consultant) -> None:
    client = client_for(consultant)
    url = reverse("pool:list", args=[project.pk])
    for _ in range(3):
        pooled(project)
    client.get(url)
    with CaptureQueriesContext(connection) as few:
        assert client.get(url).status_code == 200
    for _ in range(37):
        pooled(project, intent_level="B")
    with CaptureQueriesContext(connection) as many:
        html = client.get(url).content.decode()
    assert html.count('id="pool-customer-') == 40
    assert len(many) == len(few)


def test_claiming_from_the_page(client_for, project, consultant) -> None:
    customer = pooled(project, name="王小明")
    client = client_for(consultant)
    response = client.post(reverse("pool:claim", args=[customer.pk]), follow=True)
    assert "已认领 王先生" in response.content.decode()
    assert Customer.objects.get(pk=customer.pk).owner_id == consultant.pk
    again = client.post(reverse("pool:claim", args=[customer.pk]), follow=True).content.decode()
    assert "已被认领或已不在公客池" in again


def test_claiming_a_customer_of_another_project_is_404(client_for, consultant, other_project) -> None:
    customer = pooled(other_project)
    assert client_for(consultant).post(reverse("pool:claim", args=[customer.pk])).status_code == 404


def test_the_manager_reassigns_from_the_page(client_for, project, manager, consultants) -> None:
    customer = pooled(project)
    client = client_for(manager)
    url = reverse("pool:reassign", args=[customer.pk])
    form = client.get(url).content.decode()
    assert consultants[1].display_name in form and not FULL_MOBILE.search(form)
    missing = client.post(url, {"to": consultants[1].pk, "reason": ""})
    assert missing.status_code == 200 and Customer.objects.get(pk=customer.pk).owner_id is None
    done = client.post(url, {"to": consultants[1].pk, "reason": "客户指定"})
    assert done.status_code == 302
    assert Customer.objects.get(pk=customer.pk).owner_id == consultants[1].pk


def test_consultants_may_not_open_the_reassign_page(client_for, project, consultant) -> None:
    customer = pooled(project)
    assert client_for(consultant).get(reverse("pool:reassign", args=[customer.pk])).status_code == 403


# --- my customers -------------------------------------------------------------------------------------------


def test_my_customers_shows_full_phones_and_highlights_protection_ending(
    client_for, project, consultants
) -> None:
    me, colleague = consultants[0], consultants[1]
    now = timezone.now()
    make_customer(
        project, owner=me, name="王小明", phone="+8613712345678", protected_until=now + timedelta(days=2)
    )
    make_customer(project, owner=me, name="李丽", protected_until=now + timedelta(days=10), intent_level="A")
    make_customer(project, owner=colleague, name="赵六")
    pooled(project, name="钱七")

    html = client_for(me).get(reverse("pool:mine", args=[project.pk])).content.decode()

    assert "王小明" in html and "李丽" in html and "赵六" not in html and "钱七" not in html
    assert ">137 1234 5678</a>" in html and 'href="tel:13712345678"' in html
    assert html.count("table-warning") == 1 and "即将到期" in html


def test_my_customers_search_is_limited_to_mine(client_for, project, consultants) -> None:
    me = consultants[0]
    make_customer(project, owner=me, name="王小明", phone="+8613712345678")
    make_customer(project, owner=consultants[1], name="王大锤", phone="+8613712345679")
    client = client_for(me)
    for q in ("王", "wxm", "5678", "5679"):
        html = client.get(reverse("pool:mine", args=[project.pk]), {"q": q}).content.decode()
        assert "王大锤" not in html
        assert ("王小明" in html) is (q != "5679")


def test_my_customers_is_paginated_by_50_with_a_fixed_query_count(client_for, project, consultant) -> None:
    client = client_for(consultant)
    url = reverse("pool:mine", args=[project.pk])
    for _ in range(3):
        make_customer(project, owner=consultant)
    client.get(url)
    with CaptureQueriesContext(connection) as few:
        client.get(url)
    for _ in range(52):
        make_customer(project, owner=consultant)
    with CaptureQueriesContext(connection) as many:
        html = client.get(url).content.decode()
    assert html.count('id="my-customer-') == 50 and "1 / 2" in html
    assert len(many) == len(few)
    assert client.get(url, {"page": 2}).content.decode().count('id="my-customer-') == 5


def test_my_customers_is_for_consultants(client_for, project, manager) -> None:
    assert client_for(manager).get(reverse("pool:mine", args=[project.pk])).status_code == 403


# --- concurrency on PostgreSQL, each with a control that shows the race without the guard -----------------


def _race_site():
    project = project_with_units(buildings=1, floors=1, units_per_floor=1)
    team = [user_in(project, role=Role.CONSULTANT) for _ in range(2)]
    return project, team


@pytest.mark.postgres_only
@pytest.mark.django_db(transaction=True)
def test_two_recovery_runs_at_once_move_and_log_each_customer_once() -> None:
    project, team = _race_site()
    past = timezone.now() - timedelta(days=1)
    customers = [make_customer(project, owner=team[i % 2], protected_until=past) for i in range(20)]

    outcomes = run_in_parallel(lambda _: pool.pool_recover(inputs=pool_recovery_inputs()), 4)

    assert not [o for o in outcomes if isinstance(o, Exception)], outcomes
    assert sum(o[PoolReason.PROTECTION_EXPIRED] for o in outcomes) == 20  # type: ignore[index]
    assert Customer.objects.filter(pk__in=[c.pk for c in customers], owner__isnull=True).count() == 20
    assert CustomerEvent.objects.filter(kind=EventKind.POOLED).count() == 20


@pytest.mark.postgres_only
@pytest.mark.django_db(transaction=True)
def test_control_a_naive_read_then_save_recovery_logs_customers_twice() -> None:
    """The race the conditional UPDATE prevents: read the expired customers, then save unconditionally."""
    project, team = _race_site()
    past = timezone.now() - timedelta(days=1)
    for _ in range(5):
        make_customer(project, owner=team[0], protected_until=past)
    read_done = threading.Barrier(4)

    def naive_recover(_: int) -> int:
        with transaction.atomic():
            expired = list(
                Customer.objects.filter(
                    project=project, owner__isnull=False, protected_until__lt=timezone.now()
                )
            )
            read_done.wait()
            for customer in expired:
                customer.owner = None
                customer.pooled_at = timezone.now()
                customer.pool_reason = PoolReason.PROTECTION_EXPIRED
                customer.save()
                CustomerEvent.objects.create(
                    customer=customer, kind=EventKind.POOLED, at=timezone.now(), text="x"
                )
            return len(expired)

    run_in_parallel(naive_recover, 4)
    assert CustomerEvent.objects.filter(kind=EventKind.POOLED).count() > 5


@pytest.mark.postgres_only
@pytest.mark.django_db(transaction=True)
def test_two_consultants_claiming_the_same_customer_at_once_one_wins() -> None:
    project, team = _race_site()
    customer = pooled(project)

    outcomes = run_in_parallel(
        lambda i: pool.pool_claim(
            customer=Customer.objects.select_related("project").get(pk=customer.pk), consultant=team[i % 2]
        ),
        6,
    )

    winners = [o for o in outcomes if isinstance(o, Customer)]
    assert len(winners) == 1, outcomes
    assert all(isinstance(o, Conflict) for o in outcomes if not isinstance(o, Customer))
    assert CustomerEvent.objects.filter(kind=EventKind.CLAIMED).count() == 1
    assert Customer.objects.get(pk=customer.pk).owner_id == winners[0].owner_id


@pytest.mark.postgres_only
@pytest.mark.django_db(transaction=True)
def test_control_a_naive_claim_lets_both_consultants_win() -> None:
    project, team = _race_site()
    customer = pooled(project)
    read_done = threading.Barrier(2)

    def naive_claim(i: int) -> bool:
        with transaction.atomic():
            row = Customer.objects.get(pk=customer.pk)
            free = row.owner_id is None
            read_done.wait()
            if free:
                row.owner = team[i]
                row.save()
                CustomerEvent.objects.create(
                    customer=row, kind=EventKind.CLAIMED, by=team[i], at=timezone.now(), text="x"
                )
            return free

    assert run_in_parallel(naive_claim, 2) == [True, True]
    assert CustomerEvent.objects.filter(kind=EventKind.CLAIMED).count() == 2


@pytest.mark.postgres_only
@pytest.mark.django_db(transaction=True)
def test_one_consultant_claiming_in_many_tabs_at_once_stays_within_the_cap() -> None:
    project, team = _race_site()
    ProjectSettings.objects.filter(project=project).update(pool_claims_per_day=2)
    customers = [pooled(project) for _ in range(6)]

    outcomes = run_in_parallel(
        lambda i: pool.pool_claim(
            customer=Customer.objects.select_related("project").get(pk=customers[i].pk), consultant=team[0]
        ),
        6,
    )

    assert len([o for o in outcomes if isinstance(o, Customer)]) == 2, outcomes
    assert Customer.objects.filter(owner=team[0]).count() == 2


def test_bad_search_input_on_the_pages_is_harmless(client_for, project, consultant) -> None:
    client = client_for(consultant)
    for url in (reverse("pool:list", args=[project.pk]), reverse("pool:mine", args=[project.pk])):
        for q in ("a\x00b", "<script>alert(1)</script>", "' OR 1=1 --", "1" * 500):
            response = client.get(url, {"q": q, "page": "x"})
            assert response.status_code == 200
            assert "<script>alert(1)" not in response.content.decode()


def test_protection_ending_soon_is_for_the_home_page(project, consultants) -> None:
    now = timezone.now()
    soon = make_customer(project, owner=consultants[0], protected_until=now + timedelta(days=2))
    make_customer(project, owner=consultants[0], protected_until=now + timedelta(days=5))
    make_customer(project, owner=consultants[0], protected_until=now - timedelta(hours=1))
    make_customer(project, owner=consultants[1], protected_until=now + timedelta(days=1))
    found = pool.protection_ending_soon(consultant=consultants[0], project=project, now=now)
    assert [c.pk for c in found] == [soon.pk]
