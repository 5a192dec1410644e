"""Check-in end to end on the database: judging, the queue, attribution records and the timeline."""

from datetime import timedelta

import pytest
from django.db import connection, transaction
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from anchang.core.errors import InvalidInput, NotFound, PhoneInvalid
from anchang.core.models import Notification
from anchang.customers.models import Attribution, AttributionRule, Customer, EventKind
from anchang.reception.models import QueueState, RotationEntry, Visit, VisitKind, VisitState
from anchang.reception.rotation import rotation_set_state, rotation_sign_in
from anchang.reception.services import attribution_override, check_in, visit_assign_waiting, visit_end
from anchang.reception.tasks import check_in_follow_up
from anchang.reception.testing import run_check_in_follow_ups

pytestmark = pytest.mark.django_db
PHONE = "13812345678"


def entry(project, user) -> RotationEntry:
    return RotationEntry.objects.get(project=project, consultant=user)


def test_first_visit_goes_to_the_head_of_the_queue_who_becomes_owner(project, frontdesk, on_duty) -> None:
    result = check_in(project=project, phone=PHONE, name="王小明", gender="male", by=frontdesk, consent=True)
    gw1 = on_duty[0]
    assert result.visit.kind == VisitKind.FIRST and result.visit.consultant == gw1
    assert result.attribution.rule == AttributionRule.ROTATION and result.attribution.consumes_turn
    customer = Customer.objects.get(pk=result.customer.pk)
    assert customer.owner == gw1 and customer.protected_until is not None
    assert customer.protected_until > timezone.now() + timedelta(days=14)
    assert customer.phone == "+8613812345678" and customer.consent_at is not None
    assert entry(project, gw1).state == QueueState.RECEIVING
    run_check_in_follow_ups()  # the notices and the timeline come from the worker
    assert Notification.objects.filter(recipient=gw1, kind="visit_assigned").exists()
    assert customer.events.filter(kind=EventKind.OWNER_CHANGED).exists()


def test_next_first_visit_skips_the_busy_consultant(project, frontdesk, on_duty) -> None:
    check_in(project=project, phone=PHONE, by=frontdesk, consent=True)
    second = check_in(project=project, phone="13912345678", by=frontdesk, consent=True)
    assert second.visit.consultant == on_duty[1]


def test_reception_end_sends_the_consultant_to_the_end_of_the_queue(project, frontdesk, on_duty) -> None:
    result = check_in(project=project, phone=PHONE, by=frontdesk, consent=True)
    visit_end(visit_id=result.visit.pk, by=on_duty[0], outcome="return")
    order = list(
        RotationEntry.objects.filter(project=project)
        .order_by("position")
        .values_list("consultant__username", flat=True)
    )
    assert order == ["gw2", "gw3", "gw1"]


def test_invalid_reception_gives_a_make_up_turn_at_the_head(project, frontdesk, on_duty) -> None:
    result = check_in(project=project, phone=PHONE, by=frontdesk, consent=True)
    visit_end(visit_id=result.visit.pk, by=frontdesk, outcome="invalid", invalid_reason="问路")
    head = RotationEntry.objects.filter(project=project).order_by("position").first()
    assert head.consultant == on_duty[0] and head.state == QueueState.WAITING
    assert Visit.objects.get(pk=result.visit.pk).state == VisitState.INVALID


def test_invalid_needs_a_reason(project, frontdesk, on_duty) -> None:
    result = check_in(project=project, phone=PHONE, by=frontdesk, consent=True)
    with pytest.raises(InvalidInput):
        visit_end(visit_id=result.visit.pk, by=frontdesk, outcome="invalid")
    assert Visit.objects.get(pk=result.visit.pk).state == VisitState.RECEIVING


def test_return_visit_within_protection_goes_to_the_owner_without_a_turn(project, frontdesk, on_duty) -> None:
    first = check_in(project=project, phone=PHONE, by=frontdesk, consent=True)
    visit_end(visit_id=first.visit.pk, by=on_duty[0], outcome="return")
    again = check_in(project=project, phone=PHONE, by=frontdesk, consent=True)
    assert again.visit.kind == VisitKind.RETURN and again.visit.consultant == on_duty[0]
    assert again.attribution.rule == AttributionRule.OWNER and not again.attribution.consumes_turn
    visit_end(visit_id=again.visit.pk, by=on_duty[0], outcome="return")
    # no turn consumed: gw1 keeps the place it had at the end of the queue, behind nobody new
    assert entry(project, on_duty[0]).receptions == 1


def test_owner_off_duty_is_covered_and_keeps_ownership(project, frontdesk, on_duty) -> None:
    first = check_in(project=project, phone=PHONE, by=frontdesk, consent=True)
    visit_end(visit_id=first.visit.pk, by=on_duty[0], outcome="return")
    rotation_set_state(project=project, consultant=on_duty[0], state="off", by=on_duty[0])
    again = check_in(project=project, phone=PHONE, by=frontdesk, consent=True)
    assert again.attribution.rule == AttributionRule.COVERING_FOR_OWNER
    assert again.visit.consultant == on_duty[1] and again.visit.covering_for == on_duty[0]
    assert Customer.objects.get(pk=again.customer.pk).owner == on_duty[0]
    run_check_in_follow_ups()
    assert Notification.objects.filter(recipient=on_duty[0], kind="visit_covered").exists()


def test_expired_protection_moves_ownership_to_the_receiver(project, frontdesk, on_duty) -> None:
    first = check_in(project=project, phone=PHONE, by=frontdesk, consent=True)
    visit_end(visit_id=first.visit.pk, by=on_duty[0], outcome="return")
    Customer.objects.filter(pk=first.customer.pk).update(protected_until=timezone.now() - timedelta(days=1))
    again = check_in(project=project, phone=PHONE, by=frontdesk, consent=True)
    assert again.attribution.rule == AttributionRule.ROTATION and again.visit.kind == VisitKind.RETURN
    assert Customer.objects.get(pk=first.customer.pk).owner == again.visit.consultant == on_duty[1]


def test_named_consultant_receives_without_consuming_a_turn(project, frontdesk, on_duty) -> None:
    result = check_in(
        project=project, phone=PHONE, by=frontdesk, consent=True, designated_consultant_id=on_duty[2].pk
    )
    assert result.visit.consultant == on_duty[2] and result.attribution.rule == AttributionRule.DESIGNATED
    assert entry(project, on_duty[2]).receptions == 0


def test_contract_holder_elsewhere_in_the_company_is_an_owner_visit(
    project, other_project, frontdesk, on_duty
) -> None:
    other_project.company = project.company
    other_project.save()
    Customer.objects.create(project=other_project, phone="+8613812345678", name="老业主", is_owner=True)
    result = check_in(project=project, phone=PHONE, by=frontdesk, consent=True)
    assert result.visit.kind == VisitKind.OWNER and result.attribution.rule == AttributionRule.OWNER_VISIT
    assert not result.attribution.consumes_turn


def test_nobody_waiting_means_the_visitor_waits_and_is_assigned_first_come_first_served(
    project, frontdesk, consultants
) -> None:
    early = check_in(project=project, phone=PHONE, by=frontdesk, consent=True)
    late = check_in(project=project, phone="13912345678", by=frontdesk, consent=True)
    assert early.attribution.rule == AttributionRule.WAITING_FOR_CONSULTANT and early.visit.consultant is None
    assert early.visit.state == VisitState.WAITING

    # Signing in frees a consultant: the oldest waiting visitor is assigned after commit.
    rotation_sign_in(project=project, consultant=consultants[0], by=consultants[0])
    assert visit_assign_waiting(project_id=project.pk) == 1
    assert Visit.objects.get(pk=early.visit.pk).consultant == consultants[0]
    assert Visit.objects.get(pk=late.visit.pk).state == VisitState.WAITING
    waiting, assigned = Attribution.objects.filter(visit=early.visit).order_by("decided_at", "pk")
    assert (waiting.rule, waiting.consultant) == (AttributionRule.WAITING_FOR_CONSULTANT, None)
    assert (assigned.rule, assigned.consultant, assigned.replaces) == (
        AttributionRule.ROTATION,
        consultants[0],
        waiting,
    )


def test_every_decision_is_stored_with_its_inputs(project, frontdesk, on_duty) -> None:
    result = check_in(project=project, phone=PHONE, by=frontdesk, consent=True)
    record = Attribution.objects.get(visit=result.visit)
    assert record.inputs["phone"] == "+8613812345678"
    assert record.inputs["customer_id"] == result.customer.pk
    assert sorted(record.inputs["on_duty"]) == sorted(u.pk for u in on_duty)
    assert [q["consultant_id"] for q in record.inputs["queue"]] == [u.pk for u in on_duty]
    assert record.decided_by == frontdesk and record.rule_set_version == project.settings.rule_set_version


def test_override_needs_a_reason_and_is_recorded(project, frontdesk, on_duty) -> None:
    result = check_in(project=project, phone=PHONE, by=frontdesk, consent=True)
    with pytest.raises(InvalidInput):
        attribution_override(visit_id=result.visit.pk, consultant_id=on_duty[2].pk, by=frontdesk, reason=" ")
    record = attribution_override(
        visit_id=result.visit.pk, consultant_id=on_duty[2].pk, by=frontdesk, reason="客户要求换人"
    )
    assert record.rule == AttributionRule.MANUAL_OVERRIDE and record.replaces is not None
    assert Visit.objects.get(pk=result.visit.pk).consultant == on_duty[2]
    assert Customer.objects.get(pk=result.customer.pk).owner == on_duty[2]
    assert entry(project, on_duty[0]).state == QueueState.WAITING


def test_incomplete_registration_is_flagged(project, frontdesk, on_duty) -> None:
    result = check_in(project=project, phone=PHONE, by=frontdesk, consent=True)
    assert {"name", "gender", "source"} <= set(result.visit.missing_fields)
    complete = check_in(
        project=project,
        phone="13912345678",
        name="李四",
        gender="female",
        source="friend",
        by=frontdesk,
        consent=True,
    )
    assert not {"name", "gender", "source"} & set(complete.visit.missing_fields)


@pytest.mark.parametrize("phone", ["12345", "12812345678", "02155551234", "abcdefghijk", ""])
def test_invalid_phones_store_nothing(project, frontdesk, on_duty, phone) -> None:
    with pytest.raises(PhoneInvalid):
        check_in(project=project, phone=phone, by=frontdesk, consent=True)
    assert not Customer.objects.exists() and not Visit.objects.exists()
    assert RotationEntry.objects.filter(state=QueueState.RECEIVING).count() == 0


def test_consent_is_required(project, frontdesk, on_duty) -> None:
    with pytest.raises(InvalidInput) as caught:
        check_in(project=project, phone=PHONE, by=frontdesk, consent=False)
    assert "consent" in caught.value.fields
    assert not Visit.objects.exists()


def test_unknown_booking_or_channel_code_is_a_clear_404(project, frontdesk, on_duty) -> None:
    with pytest.raises(NotFound) as booking:
        check_in(project=project, appointment_code="ZZZZZZ", by=frontdesk, consent=True)
    assert booking.value.code == "appointment_not_found"
    with pytest.raises(NotFound) as channel:
        check_in(project=project, phone=PHONE, channel_code="NOPE", by=frontdesk, consent=True)
    assert channel.value.code == "channel_report_not_found"
    assert not Visit.objects.exists()


def test_a_family_member_with_a_new_phone_is_linked_and_goes_to_the_household_owner(
    project, frontdesk, on_duty
) -> None:
    first = check_in(project=project, phone=PHONE, name="王大明", by=frontdesk, consent=True)
    visit_end(visit_id=first.visit.pk, by=on_duty[0], outcome="return")
    spouse = check_in(
        project=project,
        phone="13912345678",
        name="李小红",
        by=frontdesk,
        consent=True,
        household_of_id=first.customer.pk,
    )
    assert spouse.attribution.rule == AttributionRule.OWNER and spouse.visit.consultant == on_duty[0]
    linked = Customer.objects.get(pk=spouse.customer.pk)
    assert linked.household_of_id == first.customer.pk and linked.owner == on_duty[0]
    run_check_in_follow_ups()
    assert linked.events.filter(kind=EventKind.LINKED).exists()
    assert first.customer.events.filter(kind=EventKind.LINKED).exists()


def test_linking_to_an_unknown_customer_is_refused(project, frontdesk, on_duty) -> None:
    with pytest.raises(InvalidInput) as caught:
        check_in(project=project, phone=PHONE, by=frontdesk, consent=True, household_of_id=999999)
    assert "household_of_id" in caught.value.fields
    assert not Visit.objects.exists()


def test_alternating_teams_gives_the_next_visitor_to_the_other_company(project, frontdesk) -> None:
    from anchang.accounts.models import Company, CompanyKind, Role
    from anchang.accounts.testing import user_in

    agency = Company.objects.create(name="代理公司", kind=CompanyKind.AGENCY)
    developer_team = [user_in(project, role=Role.CONSULTANT, company=project.company) for _ in range(2)]
    agency_team = [user_in(project, role=Role.CONSULTANT, company=agency) for _ in range(2)]
    for consultant in [*developer_team, *agency_team]:  # queue: D1 D2 A1 A2
        rotation_sign_in(project=project, consultant=consultant, by=consultant)
    project.settings.rotation_mode = "teams"  # the team rule defaults to alternating
    project.settings.save()
    receivers = [
        check_in(project=project, phone=f"1381234000{i}", by=frontdesk, consent=True).visit.consultant
        for i in range(3)
    ]
    assert receivers == [developer_team[0], agency_team[0], developer_team[1]]


def test_a_consultant_whose_own_customer_is_on_site_gets_no_new_one(project, frontdesk, on_duty) -> None:
    first = check_in(project=project, phone=PHONE, by=frontdesk, consent=True)
    visit_end(visit_id=first.visit.pk, by=on_duty[0], outcome="return")
    rotation_set_state(project=project, consultant=on_duty[0], state="off", by=on_duty[0])
    covered = check_in(project=project, phone=PHONE, by=frontdesk, consent=True)  # gw2 covers for gw1
    assert covered.visit.consultant == on_duty[1]
    rotation_set_state(project=project, consultant=on_duty[0], state="waiting", by=on_duty[0])
    # gw1 is back and waiting, but their own customer is on site with gw2: the next new visitor goes to gw3.
    newcomer = check_in(project=project, phone="13912345678", by=frontdesk, consent=True)
    assert newcomer.visit.consultant == on_duty[2]


def test_appointment_only_sites_flag_walk_ins_as_unbooked(project, frontdesk, on_duty) -> None:
    project.settings.require_appointment = True
    project.settings.save()
    walk_in = check_in(project=project, phone=PHONE, by=frontdesk, consent=True)
    assert walk_in.visit.unbooked
    project.settings.require_appointment = False
    project.settings.save()
    assert not check_in(project=project, phone="13912345678", by=frontdesk, consent=True).visit.unbooked


def test_a_check_in_writes_the_customer_once_with_one_history_row(project, frontdesk, on_duty) -> None:
    """Visit, stage and ownership land in one customer write: the busiest write stays lean."""
    result = check_in(project=project, phone=PHONE, name="王小明", by=frontdesk, consent=True)
    history = Customer.history.filter(id=result.customer.pk)
    assert history.count() == 1
    created = history.get()
    assert (created.owner_id, created.stage) == (on_duty[0].pk, "visited")
    assert created.first_visit_at is not None and created.protected_until is not None
    run_check_in_follow_ups()
    kinds = list(result.customer.events.order_by("pk").values_list("kind", flat=True))
    assert kinds == [EventKind.VISIT, EventKind.OWNER_CHANGED]


def _kind_of_visit(kind: str, project, frontdesk, on_duty) -> dict[str, object]:
    """Sets the scene for one kind of check-in; returns the check-in's arguments."""
    if kind in ("returning", "owner visit"):
        first = check_in(project=project, phone=PHONE, name="王大明", by=frontdesk, consent=True)
        visit_end(visit_id=first.visit.pk, by=on_duty[0], outcome="return")
        if kind == "owner visit":
            Customer.objects.filter(pk=first.customer.pk).update(is_owner=True)
    if kind == "waiting":
        for n in range(len(on_duty)):
            check_in(project=project, phone=f"1391234567{n}", by=frontdesk, consent=True)
    designated = on_duty[1].pk if kind == "designated" else None
    return {"phone": PHONE, "consent": True, "designated_consultant_id": designated}


# SQL statements per check-in, exact (quality.md S1: ≤ 10 for a new visitor with a free consultant).
# On PostgreSQL the rotation claim is one statement (UPDATE … RETURNING with the claim's log row); on
# SQLite it is a read, a conditional UPDATE and the log row. Anyone adding a statement to these paths
# changes these numbers on purpose.
CHECK_IN_STATEMENTS = {  # kind: (rule, PostgreSQL, SQLite)
    "new": (AttributionRule.ROTATION, 9, 11),
    "returning": (AttributionRule.OWNER, 9, 9),
    "owner visit": (AttributionRule.OWNER_VISIT, 9, 9),
    "designated": (AttributionRule.DESIGNATED, 10, 10),
    "waiting": (AttributionRule.WAITING_FOR_CONSULTANT, 8, 8),
}


@pytest.mark.parametrize("kind", CHECK_IN_STATEMENTS)
def test_check_in_runs_an_exact_number_of_statements(
    project, frontdesk, on_duty, kind, django_assert_num_queries
) -> None:
    """The service alone (inside the test's transaction: savepoints stand where BEGIN and COMMIT are)."""
    arguments = _kind_of_visit(kind, project, frontdesk, on_duty)
    rule, postgresql, sqlite = CHECK_IN_STATEMENTS[kind]
    with django_assert_num_queries(postgresql if connection.vendor == "postgresql" else sqlite):
        result = check_in(project=project, by=frontdesk, **arguments)
    assert result.attribution.rule == rule


@pytest.mark.parametrize("kind", CHECK_IN_STATEMENTS)
def test_the_check_in_request_runs_an_exact_number_of_statements(
    client, project, frontdesk, on_duty, api_token_for, kind, django_assert_num_queries
) -> None:
    """The whole `POST /checkins`: the bearer token with the project in one read, then the service."""
    arguments = _kind_of_visit(kind, project, frontdesk, on_duty)
    rule, postgresql, sqlite = CHECK_IN_STATEMENTS[kind]
    url = f"/api/v1/projects/{project.pk}/checkins"
    headers = api_token_for(frontdesk)
    with django_assert_num_queries(1 + (postgresql if connection.vendor == "postgresql" else sqlite)):
        response = client.post(url, arguments, content_type="application/json", headers=headers)
    assert response.status_code == 201, response.content
    assert response.json()["attribution"]["rule"] == rule


@pytest.mark.postgres_only
def test_the_check_ins_two_reads_are_planned_once_per_connection_on_postgresql(
    client, project, frontdesk, on_duty, api_token_for
) -> None:
    """The token lookup and the first look (the queue with its two checks) are prepared statements of
    the connection: PostgreSQL plans them on the first check-in and reuses the plans afterwards."""
    url = f"/api/v1/projects/{project.pk}/checkins"
    headers = api_token_for(frontdesk)
    for phone in ("13812340001", "13812340002", "13812340003"):
        body = {"phone": phone, "name": "王测", "consent": True}
        assert client.post(url, body, content_type="application/json", headers=headers).status_code == 201
    with connection.cursor() as cursor:
        cursor.execute("SELECT statement, generic_plans + custom_plans FROM pg_prepared_statements")
        runs = {("token" if "accounts_apitoken" in sql else "first look"): n for sql, n in cursor.fetchall()}
    assert runs == {"token": 3, "first look": 3}


def test_a_family_member_is_judged_by_their_own_phone_not_the_households_contract(
    project, frontdesk, on_duty
) -> None:
    """Owner visits (业主到访) follow the phone holding the contract; the household lends only its owner."""
    first = check_in(project=project, phone=PHONE, name="王大明", by=frontdesk, consent=True)
    visit_end(visit_id=first.visit.pk, by=on_duty[0], outcome="return")
    Customer.objects.filter(pk=first.customer.pk).update(is_owner=True)
    spouse = check_in(
        project=project,
        phone="13912345678",
        name="李小红",
        by=frontdesk,
        consent=True,
        household_of_id=first.customer.pk,
    )
    assert spouse.attribution.rule == AttributionRule.OWNER
    assert spouse.visit.kind != VisitKind.OWNER


def test_the_notices_and_timeline_are_a_task_row_committed_with_the_visit(
    project, frontdesk, on_duty
) -> None:
    """The visitor does not wait for them, and they are never lost: one queued task row per check-in,
    written in the check-in's transaction; the worker writes the rows, and a second run adds nothing."""
    result = check_in(project=project, phone=PHONE, name="王小明", by=frontdesk, consent=True)
    queued = DBTaskResult.objects.filter(task_path=check_in_follow_up.module_path)
    assert [row.args_kwargs["kwargs"]["visit_id"] for row in queued] == [result.visit.pk]
    assert not Notification.objects.exists() and not result.customer.events.exists()
    kwargs = queued.get().args_kwargs["kwargs"]
    assert run_check_in_follow_ups() == 1
    assert Notification.objects.filter(recipient=on_duty[0], kind="visit_assigned").exists()
    assert result.customer.events.count() == 2
    check_in_follow_up.call(**kwargs)  # the worker ran it twice (a crash before it marked it done)
    assert result.customer.events.count() == 2
    assert Notification.objects.filter(recipient=on_duty[0], kind="visit_assigned").count() == 2  # bell, log


def test_a_check_in_rolled_back_leaves_no_follow_up(project, frontdesk, on_duty) -> None:
    with pytest.raises(RuntimeError), transaction.atomic():
        check_in(project=project, phone=PHONE, by=frontdesk, consent=True)
        raise RuntimeError("the desk's request failed after the check-in")
    assert not DBTaskResult.objects.filter(task_path=check_in_follow_up.module_path).exists()
    assert not Visit.objects.exists()


def test_a_returning_visitor_without_changes_writes_no_history_row(project, frontdesk, on_duty) -> None:
    """Only the visit times change: one UPDATE, the same 拼音, no history row (the visit is the record)."""
    first = check_in(project=project, phone=PHONE, name="王小明", by=frontdesk, consent=True)
    visit_end(visit_id=first.visit.pk, by=on_duty[0], outcome="return")
    again = check_in(project=project, phone=PHONE, by=frontdesk, consent=True)
    assert again.attribution.rule == AttributionRule.OWNER
    assert Customer.history.filter(id=first.customer.pk).count() == 1
    customer = Customer.objects.get(pk=first.customer.pk)
    assert customer.last_visit_at == again.visit.checked_in_at
    assert customer.name_pinyin == first.customer.name_pinyin != ""


@pytest.mark.django_db(transaction=True)
def test_the_worker_runs_the_follow_up_outside_any_transaction_of_its_own(
    project, frontdesk, on_duty
) -> None:
    """db_worker calls tasks without a transaction: the follow-up opens its own to lock the visit (on
    PostgreSQL a lock outside a transaction is refused)."""
    result = check_in(project=project, phone=PHONE, name="王小明", by=frontdesk, consent=True)
    assert run_check_in_follow_ups() == 1
    assert Notification.objects.filter(recipient=on_duty[0], kind="visit_assigned").exists()
    assert result.customer.events.count() == 2


def test_a_new_customers_history_row_is_written_through_one_manager_class(
    project, frontdesk, on_duty
) -> None:
    """The customer's history (core.history.TrackedHistory) reuses one manager class instead of building
    one on every save; the check-in's history row is written as before."""
    result = check_in(project=project, phone=PHONE, name="王小明", by=frontdesk, consent=True)
    rows = list(result.customer.history.all())
    assert [(row.history_type, row.name, row.phone) for row in rows] == [
        ("+", "王小明", result.customer.phone)
    ]
    assert type(result.customer.history) is type(Customer.history)
