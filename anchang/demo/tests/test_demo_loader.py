import re
from datetime import datetime, time, timedelta
from io import StringIO

import pytest
from django.contrib.auth import authenticate
from django.core.management import call_command
from django.db import models
from django.test import RequestFactory
from django.utils import timezone
from pytest_django.fixtures import Settings
from simple_history.utils import get_history_model_for_model

from anchang.accounts.models import Company, CompanyKind, ProjectMembership, Role, Team, User
from anchang.core.models import Notification
from anchang.core.phones import normalize_mainland_mobile
from anchang.customers.models import (
    Attribution,
    AttributionRule,
    Customer,
    CustomerEvent,
    EventKind,
    Stage,
)
from anchang.deals.services import hold_create
from anchang.demo.loader import (
    DEMO_PASSWORD,
    HIGH_RISE,
    HISTORY_NOTE,
    LATER_TIMES,
    TOWNHOUSE,
    appointment_times,
    front_desk_lines,
    load_demo,
)
from anchang.inventory.models import Building, Project, ProjectKind, ProjectSettings, Unit, UnitStatus
from anchang.reception.models import (
    Appointment,
    AppointmentStatus,
    BookingChannel,
    QueueState,
    RotationEntry,
    RotationEvent,
    VipTask,
    VipTier,
    Visit,
    VisitKind,
    VisitState,
)
from anchang.reception.services import preview_check_in
from anchang.reception.vip import local_day_bounds

EXPECTED_ROLES = {
    "admin": Role.ADMIN,
    "manager": Role.MANAGER,
    "frontdesk": Role.FRONTDESK,
    **{f"consultant{n}": Role.CONSULTANT for n in range(1, 9)},
    "agent1": Role.AGENT,
    "agent2": Role.AGENT,
    "attendant1": Role.ATTENDANT,
    "service1": Role.SERVICE,
}


def _row_counts() -> dict[str, int]:
    tables: list[type[models.Model]] = [
        Company,
        Team,
        User,
        ProjectMembership,
        Project,
        ProjectSettings,
        Building,
        Unit,
        get_history_model_for_model(Unit),
        Customer,
        get_history_model_for_model(Customer),
        CustomerEvent,
        Attribution,
        Visit,
        RotationEntry,
        Appointment,
        VipTask,
        RotationEvent,
        Notification,
    ]
    return {model._meta.label: model._default_manager.count() for model in tables}


@pytest.mark.django_db
def test_demo_loads_two_projects_with_a_full_sales_board() -> None:
    call_command("demo", "--quiet")

    high_rise = Project.objects.get(code=HIGH_RISE)
    townhouse = Project.objects.get(code=TOWNHOUSE)
    assert Project.objects.count() == 2
    assert (high_rise.kind, townhouse.kind) == (ProjectKind.HIGH_RISE, ProjectKind.LOW_RISE)
    assert high_rise.company.kind == CompanyKind.DEVELOPER == townhouse.company.kind
    assert ProjectSettings.objects.filter(project__in=[high_rise, townhouse]).count() == 2
    # The address names the district once, and the booking page can give the office's phone.
    assert high_rise.full_address == "杭州滨江区闻涛路与江晖路交叉口东北侧"
    assert all(p.district not in p.address and p.sales_phone for p in (high_rise, townhouse))

    buildings = list(high_rise.buildings.all())
    assert len(buildings) == 6
    for building in buildings:
        assert 18 <= building.floors <= 33
        assert building.units_per_floor == 4
        slots = set(building.units.values_list("floor", "position"))
        assert slots == {(f, p) for f in range(1, building.floors + 1) for p in range(1, 5)}
    assert high_rise.units.count() == sum(b.floors * 4 for b in buildings) >= 500
    assert high_rise.units.get(building=buildings[0], floor=18, position=1).number == "1801"
    assert high_rise.units.get(building=buildings[0], floor=1, position=1).number == "101"

    assert townhouse.buildings.count() == 6
    for unit in townhouse.units.all():
        assert 180 <= unit.gross_area <= 260
        assert 6_000_000 <= unit.list_price_total <= 12_000_000
    for unit in Unit.objects.all():
        assert 0 < unit.usable_area <= unit.gross_area
        assert unit.list_price_total % 100 == 0
    # As the units step draws them (the deals step sells and cancels a few through the services).
    for unit in Unit.objects.filter(subscriptions__isnull=True):
        assert (unit.status == UnitStatus.AVAILABLE) == (unit.status_changed_at is None)

    # The same slot costs more per ㎡ higher up.
    column = high_rise.units.filter(building=buildings[0], position=2).order_by("floor")
    prices = [unit.list_price_per_m2 for unit in column]
    assert prices == sorted(prices) and prices[0] < prices[-1]

    statuses = set(high_rise.units.values_list("status", flat=True))
    assert statuses == set(UnitStatus.values)
    available = high_rise.units.filter(status=UnitStatus.AVAILABLE).count()
    assert 0.45 <= available / high_rise.units.count() <= 0.65
    assert get_history_model_for_model(Unit).objects.filter(history_type="+").count() == Unit.objects.count()


@pytest.mark.django_db
def test_demo_users_have_their_roles_companies_and_the_demo_password(settings: Settings) -> None:
    call_command("demo", "--quiet")

    users = User.objects.select_related("company", "team__company").in_bulk(
        list(EXPECTED_ROLES), field_name="username"
    )
    assert {username: user.role for username, user in users.items()} == EXPECTED_ROLES
    assert users["admin"].is_staff and users["admin"].is_superuser
    assert not any(user.is_superuser for username, user in users.items() if username != "admin")

    request = RequestFactory().post("/login/")
    for username in EXPECTED_ROLES:
        assert authenticate(request=request, username=username, password=DEMO_PASSWORD) == users[username]

    agent1, agent2 = users["agent1"], users["agent2"]
    assert agent1.company and agent2.company
    assert agent1.company != agent2.company
    assert agent1.company.kind == agent2.company.kind == CompanyKind.AGENCY

    def team_companies(numbers: range) -> set[Company]:
        teams = [users[f"consultant{n}"].team for n in numbers]
        assert all(team is not None for team in teams)
        return {team.company for team in teams if team}

    own, agency = team_companies(range(1, 5)), team_companies(range(5, 9))
    assert len(own) == len(agency) == 1
    assert own != agency
    assert own.pop().kind == CompanyKind.DEVELOPER and agency.pop().kind == CompanyKind.AGENCY

    mobiles = [user.mobile for user in users.values()]
    assert all(normalize_mainland_mobile(mobile) == mobile for mobile in mobiles)
    assert len(set(mobiles)) == len(mobiles)
    assert all(user.name for user in users.values())


@pytest.mark.django_db
def test_demo_memberships_follow_the_staffing_plan() -> None:
    call_command("demo", "--quiet")

    def members(code: str) -> set[str]:
        return set(
            ProjectMembership.objects.filter(project__code=code).values_list("user__username", flat=True)
        )

    staff = {"manager", "frontdesk", "attendant1", "service1"}
    assert members(HIGH_RISE) == staff | {f"consultant{n}" for n in range(1, 9)} | {"agent1", "agent2"}
    assert members(TOWNHOUSE) == staff | {"consultant1", "consultant2", "consultant5", "consultant6"}


@pytest.mark.django_db
def test_running_demo_twice_changes_nothing() -> None:
    first = load_demo()
    counts = _row_counts()
    second = load_demo()

    assert _row_counts() == counts
    assert first.created_anything and not second.created_anything
    assert second.projects == first.projects
    assert second.logins == first.logins


@pytest.mark.django_db
def test_rerun_keeps_what_users_did_in_the_demo() -> None:
    call_command("demo", "--quiet")
    manager = User.objects.get(username="manager")
    unit = Unit.objects.filter(project__code=HIGH_RISE, status=UnitStatus.AVAILABLE).first()
    assert unit is not None
    hold_create(unit_id=unit.pk, reason="留给老业主", by=manager)
    consultant = User.objects.get(username="consultant1")
    consultant.set_password("changed-by-user-1")
    consultant.save()
    counts = _row_counts()

    call_command("demo", "--quiet")

    unit.refresh_from_db()
    assert unit.status == UnitStatus.HELD
    consultant.refresh_from_db()
    assert consultant.check_password("changed-by-user-1")
    assert _row_counts() == counts


@pytest.mark.django_db
def test_demo_prints_logins_password_and_address(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PORT", "8123")
    out = StringIO()
    call_command("demo", stdout=out)
    text = out.getvalue()

    high_rise = Project.objects.get(code=HIGH_RISE)
    assert high_rise.name in text and f"{high_rise.units.count()} 套房源" in text
    assert DEMO_PASSWORD in text
    assert "agent2" in text and "渠道经纪人" in text
    assert "http://127.0.0.1:8123" in text

    quiet = StringIO()
    call_command("demo", "--quiet", stdout=quiet)
    assert quiet.getvalue() == ""


# --- the front desk: history customers, today's queue and visitors, bookings ---------------------------


def _today_bounds() -> tuple[datetime, datetime]:
    return local_day_bounds(timezone.localdate())


@pytest.mark.django_db
def test_demo_customers_have_owners_protection_visits_and_a_reason() -> None:
    call_command("demo", "--quiet")
    now = timezone.now()
    high_rise = Project.objects.get(code=HIGH_RISE)
    customers = Customer.objects.filter(project=high_rise)

    assert customers.count() >= 300
    assert not customers.filter(owner__isnull=True).exists()
    assert set(customers.values_list("owner__username", flat=True)) == {f"consultant{n}" for n in range(1, 9)}
    protected = customers.filter(protected_until__gt=now).count()
    assert 0.25 * customers.count() <= protected <= 0.75 * customers.count()
    owners = customers.filter(is_owner=True)
    assert owners.count() >= 3 and set(owners.values_list("stage", flat=True)) == {Stage.OWNER}
    history = customers.filter(last_visit_at__lt=_today_bounds()[0])
    # Customers the deals step sold to are subscribed (or owners once signed).
    unsold = history.exclude(is_owner=True).filter(subscriptions__isnull=True)
    assert set(unsold.values_list("stage", flat=True)) == {Stage.VISITED}
    for customer in history:
        assert customer.name and customer.gender and customer.source
        assert customer.first_visit_at and customer.last_visit_at
        assert now - timedelta(days=63) < customer.first_visit_at <= customer.last_visit_at < now
        assert customer.protected_until == customer.last_visit_at + timedelta(days=15)

    # Every history customer: ended visits, a rotation judging record that says why, a visit on the timeline.
    history_visits = Visit.objects.filter(customer__in=history)
    assert set(history_visits.values_list("state", flat=True)) == {VisitState.ENDED}
    assert set(history_visits.values_list("customer_id", flat=True)) == set(
        history.values_list("pk", flat=True)
    )
    rotation = Attribution.objects.filter(customer__in=history, rule=AttributionRule.ROTATION)
    assert rotation.values("customer_id").distinct().count() == history.count()
    record = rotation.select_related("customer").first()
    assert record.explanation and record.consultant_id == record.customer.owner_id
    assert record.inputs == {"phone": record.customer.phone, "note": HISTORY_NOTE}
    assert (
        CustomerEvent.objects.filter(customer__in=history, kind=EventKind.VISIT)
        .values("customer_id")
        .distinct()
        .count()
        == history.count()
    )
    assert get_history_model_for_model(Customer).objects.filter(project=high_rise).count() >= history.count()

    # The townhouse has its own, smaller set, owned by its own consultants only.
    townhouse = Customer.objects.filter(project__code=TOWNHOUSE)
    assert 20 <= townhouse.count() < customers.count()
    assert set(townhouse.values_list("owner__username", flat=True)) <= {
        "consultant1",
        "consultant2",
        "consultant5",
        "consultant6",
    }

    # Surnames read differently as surnames (单 shàn …): the search keys hold that reading too.
    for surname, reading in (("单", "shan"), ("曾", "zeng"), ("解", "xie"), ("仇", "qiu"), ("朴", "piao")):
        named = Customer.objects.filter(project=high_rise, name__startswith=surname).first()
        assert named is not None, surname
        assert any(spelling.startswith(reading) for spelling in named.name_pinyin.split())
        assert any(initials.startswith(reading[0]) for initials in named.name_initials.split())

    phones = list(Customer.objects.values_list("phone", flat=True))
    assert all(normalize_mainland_mobile(phone) == phone for phone in phones)
    staff = set(User.objects.values_list("mobile", flat=True))
    assert not staff & set(phones)


@pytest.mark.django_db
def test_demo_day_in_progress_at_the_front_desk() -> None:
    call_command("demo", "--quiet")
    high_rise = Project.objects.get(code=HIGH_RISE)
    queue = list(
        RotationEntry.objects.filter(project=high_rise, day=timezone.localdate())
        .select_related("consultant")
        .order_by("position")
    )
    assert len(queue) == 7
    assert {entry.consultant.username for entry in queue} == {f"consultant{n}" for n in range(1, 8)}
    states = {entry.consultant.username: entry.state for entry in queue}
    assert [name for name, state in states.items() if state == QueueState.AWAY] == ["consultant7"]
    # consultant1 received the visitor who has left and went to the end of the queue.
    assert queue[-1].consultant.username == "consultant1" and queue[-1].state == QueueState.WAITING

    start, end = _today_bounds()
    today = Visit.objects.filter(project=high_rise, checked_in_at__gte=start, checked_in_at__lt=end)
    receiving = today.filter(state=VisitState.RECEIVING).select_related("consultant")
    assert receiving.count() >= 3
    assert all(
        visit.consultant and states[visit.consultant.username] == QueueState.RECEIVING for visit in receiving
    )
    assert set(receiving.values_list("rule", flat=True)) == {
        AttributionRule.ROTATION,
        AttributionRule.OWNER,
        AttributionRule.DESIGNATED,
    }
    assert receiving.get(rule=AttributionRule.OWNER).kind == VisitKind.RETURN
    assert today.filter(state=VisitState.ENDED).count() == 1
    assert Attribution.objects.filter(visit__in=today).count() == today.count()


def _local(at: time, days: int = 0) -> datetime:
    return timezone.make_aware(datetime.combine(timezone.localdate() + timedelta(days=days), at))


def _freeze(monkeypatch: pytest.MonkeyPatch, now: datetime) -> None:
    # The services the demo calls stamp their rows with timezone.now().
    monkeypatch.setattr(timezone, "now", lambda: now)


@pytest.mark.django_db
def test_demo_books_today_and_tomorrow_with_vip_preparation(monkeypatch: pytest.MonkeyPatch) -> None:
    before = _local(time(8, 0))
    _freeze(monkeypatch, before)
    load_demo(now=before)
    high_rise = Project.objects.get(code=HIGH_RISE)
    booked = Appointment.objects.filter(project=high_rise)
    assert set(booked.values_list("status", flat=True)) == {AppointmentStatus.BOOKED}
    assert set(booked.values_list("channel", flat=True)) == {BookingChannel.DESK}
    assert all(appointment.start_at > before for appointment in booked)
    tomorrow = timezone.localdate(before) + timedelta(days=1)
    later = booked.filter(
        start_at__in=[timezone.make_aware(datetime.combine(tomorrow, at)) for at in LATER_TIMES]
    )
    assert later.count() == 2
    today = booked.exclude(pk__in=later)
    assert today.count() == 6
    tier_1 = today.get(vip_tier=VipTier.TIER_1)
    assert tier_1.note and VipTask.objects.filter(appointment=tier_1).count() >= 3
    assert VipTask.objects.filter(
        appointment__vip_tier=VipTier.TIER_2, appointment__project=high_rise
    ).exists()
    assert today.filter(consultant__isnull=False).exists()
    # One booking is a protected customer's return visit with their own consultant.
    returning = Customer.objects.filter(project=high_rise, phone__in=today.values("phone"))
    assert returning.exists()
    for customer in returning:
        assert today.get(phone=customer.phone).consultant == customer.owner
    assert Appointment.objects.filter(project__code=TOWNHOUSE).count() >= 2


@pytest.mark.django_db
def test_running_demo_on_a_later_day_builds_a_fresh_day() -> None:
    call_command("demo", "--quiet")
    # Move what the first run did to yesterday.
    RotationEntry.objects.update(day=timezone.localdate() - timedelta(days=1))
    Appointment.objects.update(created_at=timezone.now() - timedelta(days=1))
    customers = Customer.objects.count()

    summary = load_demo()

    assert RotationEntry.objects.filter(day=timezone.localdate()).count() == 7
    assert summary.created["轮排"] == 7 and summary.created["预约"] == 11
    # Three new visitors, and another protected customer comes back (yesterday's is still on site).
    assert Customer.objects.count() == customers + 3
    returning = Visit.objects.filter(state=VisitState.RECEIVING, rule=AttributionRule.OWNER)
    assert returning.values("customer_id").distinct().count() == 2
    assert load_demo().created_anything is False


def test_appointment_times_stay_within_todays_opening_hours() -> None:
    tz = timezone.get_current_timezone()
    morning = datetime(2026, 5, 6, 8, 0, tzinfo=tz)
    times = appointment_times(morning, 6)
    assert [t.strftime("%H:%M") for t in times] == ["09:30", "10:30", "11:00", "14:30", "15:30", "17:00"]
    # Late in the afternoon only the slots still ahead; in the evening none (never past midnight).
    afternoon = appointment_times(datetime(2026, 5, 6, 15, 10, tzinfo=tz), 6)
    assert [t.strftime("%H:%M") for t in afternoon] == ["16:00", "17:00"]
    assert appointment_times(datetime(2026, 5, 6, 16, 40, tzinfo=tz), 6) == []
    assert appointment_times(datetime(2026, 5, 6, 22, 47, tzinfo=tz), 6) == []


@pytest.mark.django_db
def test_demo_prints_cases_to_try_and_they_judge_as_printed() -> None:
    summary = load_demo()
    text = "\n".join(front_desk_lines(summary))
    assert "今日演示场景" in text
    cases = {test.case: test for test in summary.hand_tests}
    start, end = _today_bounds()
    # Late in the evening today's bookings may all lie after midnight: then there is none to offer.
    bookings_left_today = Appointment.objects.filter(start_at__gte=timezone.now(), start_at__lt=end).exists()
    assert set(cases) == {
        "新客户首访",
        "保护期内老客户",
        "保护期已过（公客）",
        "归属顾问暂离",
        "已签约业主到访",
        "客户指定顾问",
        *(["今日预约到访"] if bookings_left_today else []),
        "一级贵宾准备",
    }
    for test in summary.hand_tests:
        assert test.key and test.key in text

    high_rise = Project.objects.get(code=HIGH_RISE)
    # Phones are printed in full, not masked.
    phones = {
        case: cases[case].key
        for case in ("新客户首访", "保护期内老客户", "保护期已过（公客）", "归属顾问暂离", "已签约业主到访")
    }
    assert all(re.fullmatch(r"1\d{10}", phone) for phone in phones.values())
    assert not Customer.objects.filter(phone=normalize_mainland_mobile(phones["新客户首访"])).exists()

    def judged(phone: str, designated: User | None = None):
        return preview_check_in(
            project=high_rise, phone=phone, designated_consultant_id=designated.pk if designated else None
        )

    first = judged(phones["新客户首访"])
    assert (first.rule, first.visit_kind) == (AttributionRule.ROTATION, VisitKind.FIRST)
    protected = Customer.objects.get(phone=normalize_mainland_mobile(phones["保护期内老客户"]))
    decision = judged(phones["保护期内老客户"])
    assert decision.rule == AttributionRule.OWNER and decision.consultant.id == protected.owner_id
    assert protected.owner.display_name in cases["保护期内老客户"].expect
    decision = judged(phones["保护期已过（公客）"])
    assert decision.rule == AttributionRule.ROTATION and decision.visit_kind == VisitKind.RETURN
    covered = Customer.objects.get(phone=normalize_mainland_mobile(phones["归属顾问暂离"]))
    decision = judged(phones["归属顾问暂离"])
    assert decision.rule == AttributionRule.COVERING_FOR_OWNER
    assert decision.covering_for is not None and decision.covering_for.id == covered.owner_id
    holder = Customer.objects.get(phone=normalize_mainland_mobile(phones["已签约业主到访"]))
    decision = judged(phones["已签约业主到访"])
    assert decision.rule == AttributionRule.OWNER_VISIT and decision.consultant.id == holder.owner_id
    named = User.objects.get(username=cases["客户指定顾问"].key)
    decision = judged(phones["新客户首访"], designated=named)
    assert decision.rule == AttributionRule.DESIGNATED and decision.consultant.id == named.pk

    if bookings_left_today:
        code = cases["今日预约到访"].key
        assert Appointment.objects.filter(code=code, start_at__gte=start, start_at__lt=end).exists()
    assert Appointment.objects.get(code=cases["一级贵宾准备"].key).vip_tier == VipTier.TIER_1


@pytest.mark.django_db
def test_demo_late_in_the_evening_books_tomorrow_in_opening_hours(monkeypatch: pytest.MonkeyPatch) -> None:
    late = _local(time(23, 40))
    _freeze(monkeypatch, late)

    summary = load_demo(now=late)

    # Today's opening hours are over: the bookings are for tomorrow's, none after midnight.
    booked = Appointment.objects.filter(project__code=HIGH_RISE)
    tomorrow = timezone.localdate(late) + timedelta(days=1)
    assert booked.count() == 8
    assert all(timezone.localdate(a.start_at) == tomorrow for a in booked)
    assert all(time(9, 0) <= timezone.localtime(a.start_at).time() <= time(17, 30) for a in booked)
    assert booked.values("start_at").distinct().count() == 8
    assert RotationEntry.objects.filter(day=timezone.localdate(late)).count() == 7
    assert "一级贵宾准备" in {test.case for test in summary.hand_tests}
    assert not load_demo(now=late).created_anything


def _in_working_hours(at: datetime) -> bool:
    return time(9, 0) <= timezone.localtime(at).time() <= time(18, 0)


@pytest.mark.django_db
@pytest.mark.parametrize("built_at", [time(23, 0), time(8, 0)])
def test_demo_history_lies_in_past_working_hours_whenever_it_is_built(
    monkeypatch: pytest.MonkeyPatch, built_at: time
) -> None:
    from anchang.deals.models import Reservation, Subscription
    from anchang.followups.models import FollowUp
    from anchang.reception.models import VisitStation

    now = _local(built_at)
    _freeze(monkeypatch, now)
    load_demo(now=now)
    today_start = _local(time(0, 0))

    # What the demo tells of the past (today's day at the front desk is made "now" by the services).
    past_visits = Visit.objects.filter(checked_in_at__lt=today_start)
    past: dict[str, list[datetime | None]] = {
        "visits in": list(past_visits.values_list("checked_in_at", flat=True)),
        "visits out": list(past_visits.values_list("checked_out_at", flat=True)),
        "stations": list(VisitStation.objects.values_list("done_at", flat=True)),
        "first visits": list(
            Customer.objects.filter(first_visit_at__lt=today_start).values_list("first_visit_at", flat=True)
        ),
        "attributions": list(
            Attribution.objects.filter(visit__in=past_visits).values_list("decided_at", flat=True)
        ),
        "units": list(Unit.objects.values_list("status_changed_at", flat=True)),
        "board history": list(
            get_history_model_for_model(Unit).objects.values_list("history_date", flat=True)
        ),
        "reservations": list(Reservation.objects.values_list("registered_at", flat=True)),
        "contracts": list(Subscription.objects.values_list("contracted_at", flat=True)),
    }
    for what, maybe in past.items():
        moments = [at for at in maybe if at is not None]
        assert moments, what
        assert all(at < today_start and _in_working_hours(at) for at in moments), what
    # Spread over the weeks, not stamped at the minute the demo was built.
    board_days = {timezone.localdate(at) for at in past["board history"] if at is not None}
    assert len(board_days) > 21
    assert len({timezone.localdate(at) for at in past["visits in"] if at is not None}) > 21

    # Follow-ups fall due in working hours; today's bookings within today's hours, ahead of now.
    assert all(_in_working_hours(at) for at in FollowUp.objects.values_list("due_at", flat=True))
    for appointment in Appointment.objects.all():
        assert appointment.start_at > now and _in_working_hours(appointment.start_at)
    booked_today = Appointment.objects.filter(start_at__lt=_local(time(0, 0), days=1)).count()
    assert booked_today == (0 if built_at.hour >= 18 else 8)


@pytest.mark.django_db
def test_demo_gives_consultants_follow_ups_some_overdue() -> None:
    from anchang.followups.models import FollowUp

    call_command("demo", "--quiet")
    follow_ups = FollowUp.objects.filter(done_at__isnull=True)
    assert follow_ups.exists()
    assert follow_ups.filter(due_at__lt=timezone.now()).exists()
    assert all(f.consultant_id == f.customer.owner_id for f in follow_ups.select_related("customer"))
