"""Opening-day pages: the manager's sessions, the consultant's device, the buyer's own link, the export."""

import re
from datetime import timedelta
from io import BytesIO

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from openpyxl import load_workbook

from anchang.accounts.models import ProjectMembership, Role
from anchang.accounts.testing import user_in
from anchang.core.models import AccessAction, AccessLog
from anchang.deals import opening_export
from anchang.deals.models import OpeningSession, OpeningStatus, OrderMethod, Subscription
from anchang.deals.opening import opening_buyers_draw, opening_select
from anchang.deals.tests.test_opening_setup import make_reservations, make_session, open_session
from anchang.inventory.models import Unit, UnitStatus
from anchang.inventory.testing import project_with_units

pytestmark = pytest.mark.django_db

FULL_MOBILE = re.compile(r"1[3-9]\d{9}")


def _count_queries(client: Client, url: str, **kwargs: object) -> tuple[int, str]:
    client.get(url, **kwargs)  # warm the session
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url, **kwargs)
    assert response.status_code == 200, response.status_code
    return len(queries), response.content.decode()


def _units(project, n=3) -> list[Unit]:
    return list(Unit.objects.filter(project=project).order_by("pk")[:n])


# --- manager pages -----------------------------------------------------------------------------------


def test_manager_creates_a_session_from_the_form(client_for, project, manager) -> None:
    client = client_for(manager)
    start = (timezone.localtime() + timedelta(days=3)).replace(hour=9, minute=30)
    response = client.post(
        reverse("openings:new", args=[project.pk]),
        {
            "name": "1栋首次开盘",
            "starts_at": start.strftime("%Y-%m-%dT%H:%M"),
            "order_method": "lottery",
            "slot_minutes": 15,
            "buyers_per_slot": 30,
            "units_per_buyer": 2,
        },
    )
    session = OpeningSession.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("openings:detail", args=[session.pk])
    assert (session.name, session.order_method, session.units_per_buyer) == ("1栋首次开盘", "lottery", 2)
    assert timezone.localtime(session.starts_at).strftime("%H:%M") == "09:30"
    assert session.created_by == manager


def test_bad_form_input_is_shown_next_to_the_fields_and_nothing_is_stored(
    client_for, project, manager
) -> None:
    response = client_for(manager).post(
        reverse("openings:new", args=[project.pk]),
        {"name": "", "starts_at": "not a time", "order_method": "lottery", "slot_minutes": 0},
    )
    assert response.status_code == 400
    html = response.content.decode()
    assert html.count("invalid-feedback") >= 4
    assert not OpeningSession.objects.exists()


def test_the_service_rules_show_on_the_form_too(client_for, project, manager) -> None:
    yesterday = timezone.localtime() - timedelta(days=1)
    response = client_for(manager).post(
        reverse("openings:new", args=[project.pk]),
        {
            "name": "开盘",
            "starts_at": yesterday.strftime("%Y-%m-%dT%H:%M"),
            "order_method": "lottery",
            "slot_minutes": 10,
            "buyers_per_slot": 10,
            "units_per_buyer": 1,
        },
    )
    assert response.status_code == 400
    assert "开始时间不能早于今天" in response.content.decode()
    assert not OpeningSession.objects.exists()


def test_only_managers_create_draw_open_close_and_export(client_for, project, manager, consultant) -> None:
    make_reservations(project, 2, by=manager)
    session = make_session(project, manager)
    client = client_for(consultant)
    assert client.get(reverse("openings:new", args=[project.pk])).status_code == 404
    assert client.get(reverse("openings:edit", args=[session.pk])).status_code == 404
    assert client.post(reverse("openings:draw", args=[session.pk])).status_code == 404
    assert client.post(reverse("openings:open", args=[session.pk]), {"confirm": "on"}).status_code == 404
    assert client.get(reverse("openings:export", args=[session.pk])).status_code == 404
    assert not session.buyers.exists()
    # …but consultants see the list and the session, to reach the consultant's device.
    listing = client.get(reverse("openings:list", args=[project.pk])).content.decode()
    assert session.name in listing and "新建场次" not in listing
    assert client.get(reverse("openings:detail", args=[session.pk])).status_code == 200


def test_other_projects_and_roles_get_404(client_for, project, other_project, manager, agent) -> None:
    session = make_session(project, manager)
    stranger = user_in(other_project, role=Role.MANAGER)
    for user in (stranger, agent):
        client = client_for(user)
        assert client.get(reverse("openings:detail", args=[session.pk])).status_code == 404
        assert client.get(reverse("openings:desk", args=[session.pk])).status_code == 404
    assert client_for(agent).get(reverse("openings:list", args=[project.pk])).status_code == 404


def test_draw_open_and_close_from_the_session_page(client_for, project, manager) -> None:
    make_reservations(project, 4, by=manager)
    session = make_session(project, manager, order_method=OrderMethod.LOTTERY)
    client = client_for(manager)

    client.post(reverse("openings:draw", args=[session.pk]))
    session.refresh_from_db()
    html = client.get(reverse("openings:detail", args=[session.pk])).content.decode()
    assert session.buyers.count() == 4
    assert session.lottery_seed in html
    assert "random.Random(" in html and "shuffle" in html

    # Opening needs the confirmation box.
    client.post(reverse("openings:open", args=[session.pk]))
    session.refresh_from_db()
    assert session.status == OpeningStatus.DRAFT
    client.post(reverse("openings:open", args=[session.pk]), {"confirm": "on"})
    session.refresh_from_db()
    assert session.status == OpeningStatus.OPEN

    # A redraw after opening is refused with a message; the order stays.
    before = list(session.buyers.values_list("token", flat=True))
    response = client.post(reverse("openings:draw", args=[session.pk]), follow=True)
    assert "不能再重新排序" in response.content.decode()
    assert list(session.buyers.values_list("token", flat=True)) == before

    client.post(reverse("openings:close", args=[session.pk]), {"confirm": "on"})
    session.refresh_from_db()
    assert session.status == OpeningStatus.CLOSED


def test_session_page_masks_buyers_and_shows_links_to_managers_only(
    client_for, project, manager, consultant
) -> None:
    opened = open_session(project, manager, buyers=3)
    opening_select(buyer_id=opened.buyers[0].pk, unit_id=_units(project)[0].pk, by=None)
    url = reverse("openings:detail", args=[opened.session.pk])

    manager_html = client_for(manager).get(url).content.decode()
    buyer = opened.buyers[0]
    assert buyer.customer.name not in manager_html
    assert not FULL_MOBILE.search(manager_html.replace(buyer.token, ""))
    assert "王**" in manager_html or "王先生" in manager_html
    assert reverse("openings:buyer", args=[buyer.token]) in manager_html
    assert _units(project)[0].label in manager_html

    consultant_html = client_for(consultant).get(url).content.decode()
    assert buyer.token not in consultant_html


def test_the_live_part_refreshes_itself_and_answers_htmx_with_the_partial(
    client_for, project, manager
) -> None:
    opened = open_session(project, manager)
    url = reverse("openings:detail", args=[opened.session.pk])
    client = client_for(manager)
    assert 'hx-trigger="every 5s"' in client.get(url).content.decode()

    opening_select(buyer_id=opened.buyers[0].pk, unit_id=_units(project)[0].pk, by=None)
    partial = client.get(url, headers={"HX-Request": "true"}).content.decode()

    assert "<html" not in partial
    assert 'data-progress="sold">1<' in partial
    assert 'data-progress="buyers_selected">1<' in partial


def test_session_page_query_count_does_not_grow_with_buyers(client_for, project, manager) -> None:
    few = open_session(project, manager, buyers=2)
    opening_select(buyer_id=few.buyers[0].pk, unit_id=_units(project)[0].pk, by=None)
    client = client_for(manager)
    few_count, _ = _count_queries(client, reverse("openings:detail", args=[few.session.pk]))

    big = project_with_units(buildings=2, floors=5, units_per_floor=4)
    ProjectMembership.objects.create(user=manager, project=big)
    many = open_session(big, manager, buyers=25)
    for buyer, unit in zip(many.buyers[:5], _units(big, 5), strict=True):
        opening_select(buyer_id=buyer.pk, unit_id=unit.pk, by=None)
    many_count, html = _count_queries(client, reverse("openings:detail", args=[many.session.pk]))

    assert many_count == few_count
    assert html.count("data-position=") == 25


def test_session_list_query_count_does_not_grow_with_sessions(client_for, project, manager) -> None:
    client = client_for(manager)
    url = reverse("openings:list", args=[project.pk])
    make_session(project, manager)
    one, _ = _count_queries(client, url)
    open_session(project, manager, name="第二场")
    for n in range(3):
        make_session(project, manager, name=f"加推{n}")
    five, html = _count_queries(client, url)
    assert five == one
    assert html.count("data-session=") == 5


def test_buyer_link_page_shows_a_qr_code(client_for, project, manager, consultant) -> None:
    opened = open_session(project, manager)
    buyer = opened.buyers[0]
    url = reverse("openings:buyer_link", args=[opened.session.pk, buyer.pk])
    html = client_for(manager).get(url).content.decode()
    assert "data:image/png;base64," in html
    assert f"/o/{buyer.token}/" in html
    assert client_for(consultant).get(url).status_code == 404


# --- export ---------------------------------------------------------------------------------------------


def test_export_is_an_excel_file_with_masked_buyers_and_an_access_log_row(
    client_for, project, manager
) -> None:
    opened = open_session(project, manager, buyers=3)
    a, b, _c = _units(project)
    opening_select(buyer_id=opened.buyers[1].pk, unit_id=a.pk, by=None)
    opening_select(buyer_id=opened.buyers[0].pk, unit_id=b.pk, by=manager)

    response = client_for(manager).get(reverse("openings:export", args=[opened.session.pk]))

    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/vnd.openxmlformats")
    sheet = load_workbook(BytesIO(response.content)).active
    rows = list(sheet.iter_rows(values_only=True))
    assert "导出人" in rows[1][0] and manager.display_name in rows[1][0]
    header = rows[3]
    assert header[:5] == ("选房顺序", "认筹号", "客户", "手机号", "房源")
    data = rows[4:]
    assert [(r[0], r[4]) for r in data] == [(2, a.label), (1, b.label)]
    assert data[0][7] == float(a.list_price_total)
    everything = " ".join(str(v) for row in rows for v in row if v is not None)
    assert not FULL_MOBILE.search(everything)
    assert opened.buyers[0].customer.name not in everything
    log = AccessLog.objects.get()
    assert (log.action, log.user, log.project_id) == (AccessAction.EXPORT, manager, project.pk)
    assert log.data == {"rows": 2, "truncated": False}


def test_export_is_capped(client_for, project, manager, monkeypatch) -> None:
    opened = open_session(project, manager, buyers=3)
    for buyer, unit in zip(opened.buyers, _units(project), strict=True):
        opening_select(buyer_id=buyer.pk, unit_id=unit.pk, by=None)
    monkeypatch.setattr(opening_export, "MAX_EXPORT_ROWS", 2)

    response = client_for(manager).get(reverse("openings:export", args=[opened.session.pk]))

    rows = list(load_workbook(BytesIO(response.content)).active.iter_rows(values_only=True))
    assert "仅导出前 2 条" in rows[2][0]
    assert len(rows[4:]) == 2
    assert AccessLog.objects.get().data == {"rows": 2, "truncated": True}


# --- the consultant's device ------------------------------------------------------------------------------


def test_the_desk_finds_a_buyer_by_position_name_or_phone_tail(
    client_for, project, manager, consultant
) -> None:
    opened = open_session(project, manager, buyers=12)
    client = client_for(consultant)
    url = reverse("openings:desk", args=[opened.session.pk])
    target = opened.buyers[10]
    for q in ("11", target.customer.phone[-4:], target.customer.name):
        html = client.get(url, {"q": q}).content.decode()
        assert reverse("openings:desk_buyer", args=[opened.session.pk, target.pk]) in html, q
    assert "没有找到这位客户" in client.get(url, {"q": "不存在的人"}).content.decode()


def test_desk_search_query_count_is_fixed(client_for, project, manager, consultant) -> None:
    opened = open_session(project, manager, buyers=12)
    client = client_for(consultant)
    url = reverse("openings:desk", args=[opened.session.pk])
    one, _ = _count_queries(client, url, data={"q": "12"})
    for buyer, unit in zip(opened.buyers, _units(project, 10), strict=False):
        opening_select(buyer_id=buyer.pk, unit_id=unit.pk, by=None)
    # "1" matches positions, numbers and names containing it: several rows, each with a selection.
    many, html = _count_queries(client, url, data={"q": "王"})
    assert many == one
    assert html.count("list-group-item") >= 2


def test_consultant_selects_for_a_buyer_and_sees_the_result(client_for, project, manager, consultant) -> None:
    opened = open_session(project, manager)
    buyer, unit = opened.buyers[0], _units(project)[0]
    client = client_for(consultant)
    page = reverse("openings:desk_buyer", args=[opened.session.pk, buyer.pk])
    confirm = reverse("openings:desk_unit", args=[opened.session.pk, buyer.pk, unit.pk])
    assert confirm in client.get(page).content.decode()
    assert unit.label in client.get(confirm).content.decode()

    response = client.post(confirm, follow=True)

    subscription = Subscription.objects.get()
    assert (subscription.unit, subscription.created_by) == (unit, consultant)
    html = response.content.decode()
    assert "已为 1 号客户选定" in html
    assert 'data-state="done"' in html


def test_the_desk_is_told_at_once_when_the_unit_was_just_taken(
    client_for, project, manager, consultant
) -> None:
    opened = open_session(project, manager)
    unit = _units(project)[0]
    opening_select(buyer_id=opened.buyers[1].pk, unit_id=unit.pk, by=None)
    url = reverse("openings:desk_unit", args=[opened.session.pk, opened.buyers[0].pk, unit.pk])

    response = client_for(consultant).post(url)

    assert response.status_code == 409
    html = response.content.decode()
    assert "刚刚已被认购，请选择其他房源" in html
    # The grid in the same answer already shows the unit as taken.
    assert f'data-unit="{unit.pk}" data-status="subscribed"' in html
    assert Subscription.objects.count() == 1


# --- the buyer's own link ---------------------------------------------------------------------------------


def test_the_link_opens_without_login_and_shows_the_buyers_place_and_the_grid(project, manager) -> None:
    opened = open_session(project, manager)
    buyer = opened.buyers[0]
    response = Client().get(reverse("openings:buyer", args=[buyer.token]))
    assert response.status_code == 200
    html = response.content.decode()
    assert 'class="opening-pos">1<' in html
    assert buyer.customer.name not in html and not FULL_MOBILE.search(html)
    assert 'data-state="selecting"' in html
    assert f"/o/{buyer.token}/units/" in html
    assert 'hx-trigger="every 4s"' in html


@pytest.mark.parametrize("token", ["nope", "x" * 40, "a" * 200, "abc%2F..%2Fdef1234567890123"])
def test_unknown_or_malformed_tokens_are_404(db, token) -> None:
    assert Client().get(f"/o/{token}/").status_code == 404


def test_before_the_slot_the_buyer_sees_units_but_cannot_pick(project, manager) -> None:
    opened = open_session(project, manager, buyers_per_slot=1, slot_minutes=30)
    later = opened.buyers[1]
    html = Client().get(reverse("openings:buyer", args=[later.token])).content.decode()
    assert 'data-state="waiting"' in html
    assert f"/o/{later.token}/units/" not in html
    unit = _units(project)[0]
    response = Client().post(reverse("openings:buyer_unit", args=[later.token, unit.pk]))
    assert response.status_code == 409
    assert "选房时段" in response.content.decode()
    assert not Subscription.objects.exists()


def test_select_confirm_result_and_then_the_link_shows_the_result_only(project, manager) -> None:
    opened = open_session(project, manager)
    buyer, unit = opened.buyers[0], _units(project)[0]
    client = Client()
    confirm = reverse("openings:buyer_unit", args=[buyer.token, unit.pk])
    page = client.get(confirm).content.decode()
    assert unit.label in page and "确认选择" in page

    response = client.post(confirm, follow=True)

    html = response.content.decode()
    assert f"恭喜，您已成功选定 {unit.label}" in html
    assert 'data-state="done"' in html
    assert 'id="my-picks"' in html
    assert 'class="ogrid"' not in html and "hx-trigger" not in html
    # The confirm page of another unit now leads back to the result.
    other = _units(project)[1]
    assert client.get(reverse("openings:buyer_unit", args=[buyer.token, other.pk])).status_code == 302
    assert client.post(reverse("openings:buyer_unit", args=[buyer.token, other.pk])).status_code == 409
    assert Subscription.objects.count() == 1


def test_a_unit_taken_a_moment_earlier_is_refused_at_once_and_the_grid_refreshed(project, manager) -> None:
    opened = open_session(project, manager)
    first, second = opened.buyers[:2]
    unit = _units(project)[0]
    Client().post(reverse("openings:buyer_unit", args=[first.token, unit.pk]))

    response = Client().post(
        f"{reverse('openings:buyer_unit', args=[second.token, unit.pk])}?b={unit.building_id}"
    )

    assert response.status_code == 409
    html = response.content.decode()
    assert "刚刚已被认购，请选择其他房源" in html
    assert f'data-unit="{unit.pk}" data-status="subscribed"' in html
    assert 'data-state="selecting"' in html
    assert list(Subscription.objects.values_list("customer_id", flat=True)) == [first.customer_id]


def test_the_confirm_page_of_a_unit_just_taken_says_so(project, manager) -> None:
    opened = open_session(project, manager)
    unit = _units(project)[0]
    Unit.objects.filter(pk=unit.pk).update(status=UnitStatus.SUBSCRIBED)
    response = Client().get(reverse("openings:buyer_unit", args=[opened.buyers[0].token, unit.pk]))
    assert response.status_code == 409
    assert "刚刚已被选走" in response.content.decode()


def test_a_unit_of_another_project_is_404_on_the_link(project, other_project, manager) -> None:
    opened = open_session(project, manager)
    elsewhere = Unit.objects.filter(project=other_project).first()
    url = reverse("openings:buyer_unit", args=[opened.buyers[0].token, elsewhere.pk])
    assert Client().get(url).status_code == 404
    assert Client().post(url).status_code == 404
    assert not Subscription.objects.exists()


def test_after_close_the_link_shows_the_result_read_only(project, manager) -> None:
    opened = open_session(project, manager)
    opening_select(buyer_id=opened.buyers[0].pk, unit_id=_units(project)[0].pk, by=None)
    OpeningSession.objects.filter(pk=opened.session.pk).update(status=OpeningStatus.CLOSED)
    picked = Client().get(reverse("openings:buyer", args=[opened.buyers[0].token])).content.decode()
    assert 'data-state="closed"' in picked and "以下是您的选房结果" in picked
    empty = Client().get(reverse("openings:buyer", args=[opened.buyers[1].token])).content.decode()
    assert "您没有选定房源" in empty and 'class="ogrid"' not in empty


def test_a_draft_session_link_says_not_started(project, manager) -> None:
    make_reservations(project, 1, by=manager)
    session = make_session(project, manager)
    opening_buyers_draw(session_id=session.pk, by=manager)
    html = Client().get(reverse("openings:buyer", args=[session.buyers.get().token])).content.decode()
    assert 'data-state="draft"' in html and "选房尚未开始" in html


def test_selections_through_a_link_are_rate_limited(project, manager) -> None:
    opened = open_session(project, manager)
    token = opened.buyers[0].token
    held = _units(project)[0]
    Unit.objects.filter(pk=held.pk).update(status=UnitStatus.HELD)
    url = reverse("openings:buyer_unit", args=[token, held.pk])
    client = Client()
    statuses = [client.post(url).status_code for _ in range(21)]
    assert statuses[:20] == [409] * 20
    assert statuses[20] == 429
    assert "操作过于频繁" in client.post(url).content.decode()


def test_the_live_grid_is_a_partial_for_htmx_and_its_query_count_is_fixed(project, manager) -> None:
    opened = open_session(project, manager)
    client = Client()
    small_url = reverse("openings:buyer", args=[opened.buyers[0].token])
    small_partial, partial = _count_queries(client, small_url, headers={"HX-Request": "true"})
    assert partial.lstrip().startswith('<div id="selection-live"')
    small_page, _ = _count_queries(client, small_url)

    big = project_with_units(buildings=3, floors=20, units_per_floor=4)
    many = open_session(big, manager, buyers=5)
    for buyer, unit in zip(many.buyers[1:4], _units(big), strict=True):
        opening_select(buyer_id=buyer.pk, unit_id=unit.pk, by=None)
    large_url = reverse("openings:buyer", args=[many.buyers[0].token])
    large_partial, _ = _count_queries(client, large_url, headers={"HX-Request": "true"})
    large_page, html = _count_queries(client, large_url)

    assert (large_partial, large_page) == (small_partial, small_page)
    assert html.count('class="ocell') == 20 * 4


def test_desk_buyer_page_query_count_is_fixed(client_for, project, manager, consultant) -> None:
    opened = open_session(project, manager)
    client = client_for(consultant)
    small, _ = _count_queries(
        client, reverse("openings:desk_buyer", args=[opened.session.pk, opened.buyers[0].pk])
    )

    big = project_with_units(buildings=3, floors=20, units_per_floor=4)
    ProjectMembership.objects.create(user=consultant, project=big)
    many = open_session(big, manager, buyers=5, units_per_buyer=3)
    for unit in _units(big, 2):
        opening_select(buyer_id=many.buyers[0].pk, unit_id=unit.pk, by=None)
    large, html = _count_queries(
        client, reverse("openings:desk_buyer", args=[many.session.pk, many.buyers[0].pk])
    )

    assert large == small
    assert html.count("您已选") == 2


def test_building_tabs_switch_the_grid(project, manager) -> None:
    opened = open_session(project, manager)
    second = project.buildings.order_by("sort_order").last()
    token = opened.buyers[0].token
    html = Client().get(reverse("openings:buyer", args=[token]), {"b": second.pk}).content.decode()
    units = set(re.findall(r'data-unit="(\d+)"', html))
    assert units == {str(pk) for pk in Unit.objects.filter(building=second).values_list("pk", flat=True)}


def test_the_desk_confirm_page_of_a_taken_unit_or_a_finished_buyer(
    client_for, project, manager, consultant
) -> None:
    opened = open_session(project, manager)
    a, b, _c = _units(project)
    opening_select(buyer_id=opened.buyers[1].pk, unit_id=a.pk, by=None)
    client = client_for(consultant)

    taken = client.get(reverse("openings:desk_unit", args=[opened.session.pk, opened.buyers[0].pk, a.pk]))
    finished = client.get(reverse("openings:desk_unit", args=[opened.session.pk, opened.buyers[1].pk, b.pk]))

    assert taken.status_code == 409 and "刚刚已被选走" in taken.content.decode()
    assert finished.status_code == 302
