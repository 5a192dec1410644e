"""Tour route and stations during a visit (product.md §5): services, selectors and pages."""

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from anchang.accounts.models import Role
from anchang.accounts.testing import user_in
from anchang.core.errors import Conflict, InvalidInput, NotFound
from anchang.core.testing.mobiles import mobile_for
from anchang.knowledge.models import ArticleKind
from anchang.knowledge.services import article_create
from anchang.reception.models import Station, Visit, VisitKind, VisitStation
from anchang.reception.services import check_in, visit_end
from anchang.reception.stations import (
    current_station,
    first_visits_missing_required,
    route_for,
    station_compliance_report,
    station_move,
    station_tick,
    stations_ensure_defaults,
    visit_missing_required_stations,
    visit_station_rows,
    visit_stations_context,
)

pytestmark = pytest.mark.django_db

FULL_ROUTE = [
    "parking",
    "hall",
    "region",
    "sandtable",
    "disclosure",
    "registration",
    "showflat",
    "clubhouse",
    "negotiation",
]
REQUIRED = ["hall", "region", "sandtable", "disclosure", "registration", "showflat", "negotiation"]


@pytest.fixture
def route(project):
    return stations_ensure_defaults(project=project)


@pytest.fixture
def visit(project, frontdesk, on_duty, route) -> Visit:
    return check_in(project=project, phone="13812345678", by=frontdesk, consent=True).visit


def codes(stations) -> list[str]:
    return [s.code for s in stations]


def as_kind(visit: Visit, kind: str) -> Visit:
    Visit.objects.filter(pk=visit.pk).update(kind=kind)
    visit.kind = kind
    return visit


# --- the default route ------------------------------------------------------------------------------


def test_defaults_create_the_usual_route_once_and_keep_managers_edits(project) -> None:
    created = stations_ensure_defaults(project=project)
    assert codes(created) == FULL_ROUTE
    Station.objects.filter(project=project, code="hall").update(name="接待大厅")
    Station.objects.filter(project=project, code="clubhouse").update(is_active=False)

    assert stations_ensure_defaults(project=project) == []

    assert Station.objects.filter(project=project).count() == len(FULL_ROUTE)
    assert Station.objects.get(project=project, code="hall").name == "接待大厅"
    assert not Station.objects.get(project=project, code="clubhouse").is_active


def test_defaults_fill_in_only_a_missing_station(project, route) -> None:
    Station.objects.filter(project=project, code="negotiation").delete()

    assert codes(stations_ensure_defaults(project=project)) == ["negotiation"]
    assert codes(Station.objects.filter(project=project))[-1] == "negotiation"


def test_default_route_flags_and_key_points(project, route) -> None:
    stations = {s.code: s for s in Station.objects.filter(project=project)}

    assert [c for c in FULL_ROUTE if stations[c].required_on_first_visit] == REQUIRED
    assert [c for c, s in stations.items() if s.is_risk_disclosure] == ["disclosure"]
    assert [c for c in FULL_ROUTE if stations[c].in_return_route] == ["sandtable", "showflat", "negotiation"]
    assert [c for c in FULL_ROUTE if stations[c].in_owner_route] == ["showflat", "clubhouse"]
    for station in stations.values():
        assert station.purpose
        assert 3 <= len(station.key_point_list) <= 5, station.code


def test_defaults_are_per_project(project, other_project, route) -> None:
    stations_ensure_defaults(project=other_project)

    assert Station.objects.filter(project=other_project).count() == len(FULL_ROUTE)


# --- route and current station ----------------------------------------------------------------------


def test_route_depends_on_the_kind_of_visit(visit) -> None:
    assert visit.kind == VisitKind.FIRST
    assert codes(route_for(visit=visit)) == FULL_ROUTE
    assert codes(route_for(visit=as_kind(visit, VisitKind.RETURN))) == [
        "sandtable",
        "showflat",
        "negotiation",
    ]
    assert codes(route_for(visit=as_kind(visit, VisitKind.OWNER))) == ["showflat", "clubhouse"]


def test_route_leaves_out_deactivated_stations(project, visit) -> None:
    Station.objects.filter(project=project, code="clubhouse").update(is_active=False)

    assert "clubhouse" not in codes(route_for(visit=visit))
    assert codes(route_for(visit=as_kind(visit, VisitKind.OWNER))) == ["showflat"]


def test_an_unmarked_short_route_falls_back_to_the_whole_route(project, visit) -> None:
    Station.objects.filter(project=project).update(in_return_route=False)

    assert codes(route_for(visit=as_kind(visit, VisitKind.RETURN))) == FULL_ROUTE


def test_current_station_is_the_first_not_done_in_route_order(visit) -> None:
    consultant = visit.consultant
    assert current_station(visit=visit).code == "parking"

    station_tick(visit=visit, code="parking", by=consultant)
    station_tick(visit=visit, code="region", by=consultant)

    assert current_station(visit=visit).code == "hall"
    for code in FULL_ROUTE:
        station_tick(visit=visit, code=code, by=consultant)
    assert current_station(visit=visit) is None


# --- ticking ---------------------------------------------------------------------------------------------


def test_tick_records_time_and_consultant(visit) -> None:
    before = timezone.now()

    record = station_tick(visit=visit, code="hall", by=visit.consultant, note="客户带了父母")

    assert record.station.code == "hall"
    assert record.by == visit.consultant
    assert before <= record.done_at <= timezone.now()
    assert record.note == "客户带了父母"


def test_ticking_twice_keeps_the_first_record(visit) -> None:
    first = station_tick(visit=visit, code="hall", by=visit.consultant)
    again = station_tick(visit=visit, code="hall", by=visit.consultant)

    assert again.pk == first.pk and again.done_at == first.done_at
    assert VisitStation.objects.filter(visit=visit).count() == 1


def test_desk_manager_and_covered_owner_may_tick(visit, frontdesk, manager, consultant) -> None:
    Visit.objects.filter(pk=visit.pk).update(covering_for=consultant)
    visit.refresh_from_db()

    station_tick(visit=visit, code="hall", by=frontdesk)
    station_tick(visit=visit, code="region", by=manager)
    station_tick(visit=visit, code="sandtable", by=consultant)

    assert VisitStation.objects.filter(visit=visit).count() == 3


@pytest.mark.parametrize("who", ["other_consultant", "agent", "attendant", "service"])
def test_someone_elses_visit_does_not_exist(request, visit, who) -> None:
    user = request.getfixturevalue(who)

    with pytest.raises(NotFound):
        station_tick(visit=visit, code="hall", by=user)
    assert not VisitStation.objects.exists()


def test_a_manager_of_another_project_cannot_tick(visit, other_project) -> None:
    stranger = user_in(other_project, role=Role.MANAGER, username="mgr_elsewhere")

    with pytest.raises(NotFound):
        station_tick(visit=visit, code="hall", by=stranger)


def test_unknown_code_is_not_found_with_a_clear_message(visit) -> None:
    with pytest.raises(NotFound) as caught:
        station_tick(visit=visit, code="rooftop", by=visit.consultant)

    assert caught.value.code == "station_not_found"
    assert "rooftop" in caught.value.message


def test_a_station_of_another_project_is_not_found(visit, other_project) -> None:
    Station.objects.create(project=other_project, code="rooftop", name="屋顶花园")

    with pytest.raises(NotFound):
        station_tick(visit=visit, code="rooftop", by=visit.consultant)


def test_a_deactivated_station_cannot_be_ticked(project, visit) -> None:
    Station.objects.filter(project=project, code="clubhouse").update(is_active=False)

    with pytest.raises(NotFound):
        station_tick(visit=visit, code="clubhouse", by=visit.consultant)


def test_an_ended_visit_is_a_conflict(visit, frontdesk) -> None:
    visit_end(visit_id=visit.pk, by=frontdesk, outcome="no_interest")

    with pytest.raises(Conflict) as caught:
        station_tick(visit=visit, code="hall", by=visit.consultant)
    assert caught.value.code == "visit_already_ended"


def test_a_too_long_note_is_refused(visit) -> None:
    with pytest.raises(InvalidInput) as caught:
        station_tick(visit=visit, code="hall", by=visit.consultant, note="长" * 201)

    assert "note" in caught.value.fields
    assert not VisitStation.objects.exists()


# --- risk disclosure -------------------------------------------------------------------------------------


def test_risk_disclosure_records_consultant_time_and_confirmation(visit) -> None:
    record = station_tick(visit=visit, code="disclosure", by=visit.consultant, customer_confirmed=True)

    record.refresh_from_db()
    assert record.station.is_risk_disclosure
    assert record.by == visit.consultant
    assert record.done_at is not None
    assert record.customer_confirmed is True


def test_confirmation_given_later_is_filled_in_but_never_overwritten(visit) -> None:
    first = station_tick(visit=visit, code="disclosure", by=visit.consultant)
    assert first.customer_confirmed is None

    station_tick(visit=visit, code="disclosure", by=visit.consultant, customer_confirmed=True)
    station_tick(visit=visit, code="disclosure", by=visit.consultant, customer_confirmed=False)

    first.refresh_from_db()
    assert first.customer_confirmed is True
    assert VisitStation.objects.filter(visit=visit).count() == 1


def test_confirmation_is_only_kept_on_the_risk_disclosure_station(visit) -> None:
    record = station_tick(visit=visit, code="hall", by=visit.consultant, customer_confirmed=True)

    record.refresh_from_db()
    assert record.customer_confirmed is None


# --- required stations --------------------------------------------------------------------------------


def test_missing_required_stations_of_a_first_visit(visit) -> None:
    assert codes(visit_missing_required_stations(visit=visit)) == REQUIRED

    for code in ("hall", "region", "sandtable", "disclosure", "registration"):
        station_tick(visit=visit, code=code, by=visit.consultant)

    assert codes(visit_missing_required_stations(visit=visit)) == ["showflat", "negotiation"]


def test_return_and_owner_visits_have_no_required_stations(visit) -> None:
    assert visit_missing_required_stations(visit=as_kind(visit, VisitKind.RETURN)) == []
    assert visit_missing_required_stations(visit=as_kind(visit, VisitKind.OWNER)) == []


def test_visit_station_rows_for_the_visit_api(visit) -> None:
    station_tick(visit=visit, code="hall", by=visit.consultant)

    rows = visit_station_rows(visit=visit)

    assert [r["code"] for r in rows] == FULL_ROUTE
    assert all(set(r) == {"code", "name", "required", "done_at"} for r in rows)
    hall = next(r for r in rows if r["code"] == "hall")
    assert hall["required"] is True and hall["done_at"] is not None
    parking = rows[0]
    assert parking["required"] is False and parking["done_at"] is None


def test_a_station_shown_outside_the_route_is_listed_too(visit) -> None:
    as_kind(visit, VisitKind.RETURN)
    station_tick(visit=visit, code="disclosure", by=visit.consultant)

    rows = visit_station_rows(visit=visit)

    assert [r["code"] for r in rows] == ["sandtable", "disclosure", "showflat", "negotiation"]
    assert all(r["required"] is False for r in rows)


# --- compliance ---------------------------------------------------------------------------------------


def _ended_first_visits(
    project, frontdesk, count: int, *, ticks: list[str], start_seed: int = 1
) -> list[Visit]:
    visits = []
    for seed in range(start_seed, start_seed + count):
        visit = check_in(project=project, phone=mobile_for(seed), by=frontdesk, consent=True).visit
        for code in ticks:
            station_tick(visit=visit, code=code, by=visit.consultant)
        visit_end(visit_id=visit.pk, by=frontdesk, outcome="no_interest")
        visits.append(visit)
    return visits


def test_compliance_flags_first_visits_missing_required_stations(project, frontdesk, on_duty, route) -> None:
    complete = _ended_first_visits(project, frontdesk, 2, ticks=REQUIRED)
    partial = _ended_first_visits(project, frontdesk, 1, ticks=["hall", "region"], start_seed=10)
    check_in(project=project, phone=mobile_for(20), by=frontdesk, consent=True)  # still in progress
    today = timezone.localdate()

    flagged = first_visits_missing_required(project=project, date_from=today, date_to=today)
    report = station_compliance_report(project=project, date_from=today, date_to=today)

    assert [f.visit.pk for f in flagged] == [partial[0].pk]
    assert codes(flagged[0].missing) == ["sandtable", "disclosure", "registration", "showflat", "negotiation"]
    assert report.first_visits == 3 and report.flagged_count == 1
    assert sum(row.first_visits for row in report.by_consultant) == 3
    offender = next(row for row in report.by_consultant if row.flagged)
    assert offender.consultant == partial[0].consultant
    assert dict((s.code, n) for s, n in report.missing_by_station)["hall"] == 0
    assert dict((s.code, n) for s, n in report.missing_by_station)["disclosure"] == 1
    assert all(v.pk not in {f.visit.pk for f in flagged} for v in complete)


def test_compliance_counts_only_the_chosen_days(project, frontdesk, on_duty, route) -> None:
    _ended_first_visits(project, frontdesk, 1, ticks=[])
    yesterday = timezone.localdate() - timedelta(days=1)

    report = station_compliance_report(project=project, date_from=yesterday, date_to=yesterday)

    assert report.first_visits == 0 and report.flagged == []


def test_compliance_refuses_a_backwards_or_too_long_range(project) -> None:
    today = timezone.localdate()
    with pytest.raises(InvalidInput):
        station_compliance_report(project=project, date_from=today, date_to=today - timedelta(days=1))
    with pytest.raises(InvalidInput):
        station_compliance_report(project=project, date_from=today - timedelta(days=200), date_to=today)


def test_compliance_page_has_a_fixed_query_count(
    client_for, project, manager, frontdesk, on_duty, route
) -> None:
    client = client_for(manager)
    url = reverse("stations:compliance", args=[project.pk])
    _ended_first_visits(project, frontdesk, 1, ticks=["hall"])
    with CaptureQueriesContext(connection) as few:
        response = client.get(url)
    assert response.status_code == 200

    _ended_first_visits(project, frontdesk, 5, ticks=["hall", "region"], start_seed=30)
    with CaptureQueriesContext(connection) as many:
        response = client.get(url)

    assert response.status_code == 200
    assert len(many) == len(few) <= 12
    page = response.content.decode()
    assert "动线合规" in page and "顾问1" in page


def test_compliance_page_is_for_managers_only(client_for, project, consultant, frontdesk, agent) -> None:
    url = reverse("stations:compliance", args=[project.pk])
    for user in (consultant, frontdesk, agent):
        assert client_for(user).get(url).status_code == 404


# --- managing the route ------------------------------------------------------------------------------


def test_manager_sees_and_reorders_the_route(client_for, project, manager, route) -> None:
    client = client_for(manager)
    assert client.get(reverse("stations:list", args=[project.pk])).status_code == 200
    hall = Station.objects.get(project=project, code="hall")

    response = client.post(reverse("stations:move", args=[hall.pk]), {"direction": "up"})

    assert response.status_code == 302
    assert codes(Station.objects.filter(project=project).order_by("sort_order"))[:2] == ["hall", "parking"]
    client.post(reverse("stations:move", args=[hall.pk]), {"direction": "down"})
    assert codes(Station.objects.filter(project=project).order_by("sort_order"))[:2] == ["parking", "hall"]


def test_moving_the_first_station_up_changes_nothing(project, route) -> None:
    first = Station.objects.get(project=project, code="parking")

    station_move(station=first, direction="up")

    assert codes(Station.objects.filter(project=project).order_by("sort_order")) == FULL_ROUTE


def test_manager_adds_edits_and_deactivates_a_station(client_for, project, manager, route) -> None:
    client = client_for(manager)
    response = client.post(
        reverse("stations:create", args=[project.pk]),
        {"name": "屋顶花园", "code": "rooftop", "purpose": "看城市天际线", "key_points": "一\n二\n三"},
    )
    assert response.status_code == 302
    rooftop = Station.objects.get(project=project, code="rooftop")
    assert codes(Station.objects.filter(project=project).order_by("sort_order"))[-1] == "rooftop"
    assert rooftop.key_point_list == ["一", "二", "三"]

    response = client.post(
        reverse("stations:edit", args=[rooftop.pk]),
        {"name": "空中花园", "code": "changed", "purpose": "", "key_points": "", "in_return_route": "on"},
    )
    assert response.status_code == 302
    rooftop.refresh_from_db()
    assert rooftop.name == "空中花园" and rooftop.code == "rooftop" and rooftop.in_return_route

    client.post(reverse("stations:toggle", args=[rooftop.pk]))
    rooftop.refresh_from_db()
    assert not rooftop.is_active


def test_a_duplicate_code_is_refused_inline(client_for, project, manager, route) -> None:
    response = client_for(manager).post(
        reverse("stations:create", args=[project.pk]), {"name": "又一个大厅", "code": "hall"}
    )

    assert response.status_code == 400
    assert "已有这个代码" in response.content.decode()
    assert Station.objects.filter(project=project, code="hall").count() == 1


def test_loading_defaults_from_the_page(client_for, project, manager) -> None:
    client_for(manager).post(reverse("stations:defaults", args=[project.pk]))

    assert Station.objects.filter(project=project).count() == len(FULL_ROUTE)


def test_route_editing_is_404_for_everyone_but_managers(
    client_for, project, route, consultant, frontdesk, agent, other_project
) -> None:
    station = Station.objects.get(project=project, code="hall")
    elsewhere = user_in(other_project, role=Role.MANAGER, username="mgr_other")
    for user in (consultant, frontdesk, agent, elsewhere):
        client = client_for(user)
        assert client.get(reverse("stations:list", args=[project.pk])).status_code == 404
        assert client.get(reverse("stations:create", args=[project.pk])).status_code == 404
        assert client.get(reverse("stations:edit", args=[station.pk])).status_code == 404
        assert (
            client.post(reverse("stations:move", args=[station.pk]), {"direction": "up"}).status_code == 404
        )
        assert client.post(reverse("stations:toggle", args=[station.pk])).status_code == 404
    station.refresh_from_db()
    assert station.is_active and station.sort_order == 20


def test_admin_may_edit_any_project(client_for, project, admin_user, route) -> None:
    assert client_for(admin_user).get(reverse("stations:list", args=[project.pk])).status_code == 200


# --- the consultant's screen -------------------------------------------------------------------------


def test_context_for_the_visit_page_has_a_fixed_query_count(
    project, visit, django_assert_num_queries
) -> None:
    hall = Station.objects.get(project=project, code="parking")
    article_create(project=project, kind=ArticleKind.SCRIPT, title="停车开场", body="您好", station=hall)

    with django_assert_num_queries(3):
        context = visit_stations_context(visit=visit, viewer=visit.consultant)

    assert context["current"].station.code == "parking"
    assert [a.title for a in context["current_scripts"]] == ["停车开场"]
    assert context["can_tick"] is True
    assert codes(context["missing_required"]) == REQUIRED


def test_partial_shows_current_station_with_key_points_and_scripts(client_for, project, visit) -> None:
    parking = Station.objects.get(project=project, code="parking")
    article_create(
        project=project, kind=ArticleKind.SCRIPT, title="停车场开场白", body="欢迎光临", station=parking
    )

    response = client_for(visit.consultant).get(
        reverse("stations:visit", args=[visit.pk]), headers={"HX-Request": "true"}
    )

    assert response.status_code == 200
    assert response.templates[0].name == "reception/stations/_visit_stations.html"
    page = response.content.decode()
    assert "当前讲解点" in page and parking.name in page
    assert parking.key_point_list[0] in page
    assert "停车场开场白" in page and "应知应会速查" in page


def test_scripts_name_the_consultant_receiving_the_visit(client_for, project, visit, manager) -> None:
    parking = Station.objects.get(project=project, code="parking")
    article_create(
        project=project, kind=ArticleKind.SCRIPT, title="开场", body="我是置业顾问{顾问}。", station=parking
    )
    speaking = visit.consultant.display_name

    # The consultant sees their own name; a manager looking on sees the name of the one speaking.
    for viewer in (visit.consultant, manager):
        page = client_for(viewer).get(reverse("stations:visit", args=[visit.pk])).content.decode()
        assert f"我是置业顾问{speaking}。" in page and "{顾问}" not in page


def test_htmx_tick_answers_the_refreshed_partial(client_for, visit) -> None:
    client = client_for(visit.consultant)

    response = client.post(
        reverse("stations:visit", args=[visit.pk]), {"code": "parking"}, headers={"HX-Request": "true"}
    )

    assert response.status_code == 200
    assert VisitStation.objects.filter(visit=visit, station__code="parking").exists()
    assert response.context["current"].station.code == "hall"


def test_risk_station_screen_says_what_is_recorded(client_for, visit) -> None:
    for code in ("parking", "hall", "region", "sandtable"):
        station_tick(visit=visit, code=code, by=visit.consultant)
    client = client_for(visit.consultant)
    url = reverse("stations:visit", args=[visit.pk])

    page = client.get(url, headers={"HX-Request": "true"}).content.decode()
    assert "已向客户展示五证及风险提示" in page
    assert 'name="customer_confirmed"' in page and 'type="checkbox"' in page

    client.post(url, {"code": "disclosure", "customer_confirmed": "on"}, headers={"HX-Request": "true"})
    record = VisitStation.objects.get(visit=visit, station__code="disclosure")
    assert record.customer_confirmed is True and record.by == visit.consultant


def test_htmx_tick_refused_shows_the_reason_in_the_partial(client_for, visit, frontdesk) -> None:
    visit_end(visit_id=visit.pk, by=frontdesk, outcome="no_interest")

    response = client_for(visit.consultant).post(
        reverse("stations:visit", args=[visit.pk]), {"code": "hall"}, headers={"HX-Request": "true"}
    )

    assert response.status_code == 200
    assert "该接待已经结束" in response.content.decode()
    assert not VisitStation.objects.exists()


def test_plain_post_ticks_and_goes_back_to_the_visit_page(client_for, visit) -> None:
    response = client_for(visit.consultant).post(reverse("stations:visit", args=[visit.pk]), {"code": "hall"})

    assert response.status_code == 302
    assert response.url == reverse("reception:visit", args=[visit.pk])
    assert VisitStation.objects.filter(visit=visit).count() == 1


def test_plain_get_is_a_full_page(client_for, visit) -> None:
    response = client_for(visit.consultant).get(reverse("stations:visit", args=[visit.pk]))

    assert response.status_code == 200
    assert "reception/stations/visit.html" in [t.name for t in response.templates]


def test_screen_of_someone_elses_visit_is_404(client_for, visit, other_consultant, agent) -> None:
    url = reverse("stations:visit", args=[visit.pk])
    for user in (other_consultant, agent):
        client = client_for(user)
        assert client.get(url).status_code == 404
        assert client.post(url, {"code": "hall"}).status_code == 404
    assert not VisitStation.objects.exists()


def test_risk_station_can_be_ticked_from_the_list_before_it_is_current(client_for, visit) -> None:
    client = client_for(visit.consultant)
    url = reverse("stations:visit", args=[visit.pk])

    page = client.get(url, headers={"HX-Request": "true"}).content.decode()

    assert 'name="code" value="disclosure"' in page
    client.post(url, {"code": "disclosure", "customer_confirmed": "on"}, headers={"HX-Request": "true"})
    assert VisitStation.objects.get(visit=visit, station__code="disclosure").customer_confirmed is True
