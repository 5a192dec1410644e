import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from anchang.accounts.models import ProjectMembership, Role
from anchang.accounts.testing import user_in
from anchang.inventory.models import Unit, UnitStatus
from anchang.inventory.testing import project_with_units

pytestmark = pytest.mark.django_db


def _board_queries(client, project) -> tuple[int, str]:
    url = reverse("inventory:board", args=[project.pk])
    client.get(url)  # warm the session so both measurements do the same work
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url)
    assert response.status_code == 200
    return len(queries), response.content.decode()


def test_board_query_count_does_not_grow_with_units(client_for) -> None:
    small = project_with_units(buildings=1, floors=2, units_per_floor=2)
    large = project_with_units(buildings=6, floors=22, units_per_floor=4)
    manager = user_in(small, role=Role.MANAGER)
    ProjectMembership.objects.create(user=manager, project=large)
    client = client_for(manager)

    small_count, _ = _board_queries(client, small)
    large_count, html = _board_queries(client, large)

    assert large_count == small_count
    assert html.count('class="cell st-') == 6 * 22 * 4


def test_board_shows_each_building_as_a_floor_grid_highest_first(client_for, project, manager) -> None:
    html = client_for(manager).get(reverse("inventory:board", args=[project.pk])).content.decode()
    assert "1栋" in html and "2栋" in html
    floors = re.findall(r'class="floor-label">(\d+)F<', html)
    assert floors[:3] == ["3", "2", "1"]
    for label in ("可售", "销控", "认筹", "已认购", "已签约"):
        assert label in html


def test_status_counts_above_the_grid(client_for, project, manager) -> None:
    unit = Unit.objects.filter(project=project).first()
    Unit.objects.filter(pk=unit.pk).update(status=UnitStatus.SUBSCRIBED)
    html = client_for(manager).get(reverse("inventory:board", args=[project.pk])).content.decode()
    assert 'data-status-count="subscribed">1<' in html
    assert 'data-status-count="available">11<' in html


def test_filters_dim_units_outside_them_and_keep_the_grid(client_for, project, manager) -> None:
    url = reverse("inventory:board", args=[project.pk])
    html = client_for(manager).get(url, {"bedrooms": 3}).content.decode()
    matching = Unit.objects.filter(project=project, bedrooms=3).count()
    assert 0 < matching < 12
    assert html.count('class="cell st-') == 12
    assert html.count(" dim") == 12 - matching


def test_building_filter_shows_only_that_building(client_for, project, manager) -> None:
    building = project.buildings.get(name="2栋")
    html = (
        client_for(manager)
        .get(reverse("inventory:board", args=[project.pk]), {"building": building.pk})
        .content.decode()
    )
    assert "<h3>2栋" in html and "<h3>1栋" not in html


def test_price_filter_in_wan_and_bad_ranges(client_for, project, manager) -> None:
    url = reverse("inventory:board", args=[project.pk])
    client = client_for(manager)
    html = client.get(url, {"min_wan": "1000"}).content.decode()
    assert html.count(" dim") == 12
    bad = client.get(url, {"min_wan": "300", "max_wan": "200"})
    assert bad.status_code == 200
    assert "最高总价不能低于最低总价" in bad.content.decode()
    junk = client.get(url, {"min_wan": "abc", "bedrooms": "x'; DROP TABLE"})
    assert junk.status_code == 200


def test_htmx_refresh_returns_only_the_live_part(client_for, project, manager) -> None:
    response = client_for(manager).get(reverse("inventory:board", args=[project.pk]), HTTP_HX_REQUEST="true")
    html = response.content.decode()
    assert html.lstrip().startswith('<div id="board-live"')
    assert "<html" not in html
    assert 'hx-trigger="every 5s"' in html


def test_board_of_a_project_you_do_not_belong_to_is_404(client_for, manager, other_project) -> None:
    assert client_for(manager).get(reverse("inventory:board", args=[other_project.pk])).status_code == 404


@pytest.mark.parametrize("role", [Role.AGENT, Role.SERVICE])
def test_roles_without_the_board_get_404(client_for, project, role) -> None:
    user = user_in(project, role=role)
    assert client_for(user).get(reverse("inventory:board", args=[project.pk])).status_code == 404


def test_unit_detail_shows_prices_in_chinese_conventions(client_for, project, consultant) -> None:
    unit = Unit.objects.filter(project=project).order_by("pk").first()
    html = client_for(consultant).get(reverse("inventory:unit", args=[unit.pk])).content.decode()
    assert f"{unit.number}" in html
    assert "元/㎡" in html and "¥" in html and "万" in html
    assert "确认变更" not in html  # consultants cannot hold units


def test_manager_marks_a_unit_reserved_from_its_page_with_a_reason(client_for, project, manager) -> None:
    unit = Unit.objects.filter(project=project).first()
    client = client_for(manager)
    response = client.post(
        reverse("inventory:unit_status", args=[unit.pk]), {"status": "reserved", "reason": "留给认筹客户"}
    )
    assert response.status_code == 302
    unit.refresh_from_db()
    assert unit.status == UnitStatus.RESERVED
    page = client.get(reverse("inventory:unit", args=[unit.pk])).content.decode()
    assert "留给认筹客户" in page


def test_the_page_offers_no_hand_made_hold_or_sale(client_for, project, manager) -> None:
    """Holds and subscriptions go through the deals panel the page loads, not the status form."""
    unit = Unit.objects.filter(project=project).first()
    client = client_for(manager)
    page = client.get(reverse("inventory:unit", args=[unit.pk])).content.decode()
    assert 'value="held"' not in page and 'value="subscribed"' not in page
    assert reverse("deals:unit_panel", args=[unit.pk]) in page

    response = client.post(
        reverse("inventory:unit_status", args=[unit.pk]),
        {"status": "held", "reason": "领导预留"},
        follow=True,
    )
    unit.refresh_from_db()
    assert unit.status == UnitStatus.AVAILABLE
    assert "成交" in response.content.decode()


def test_an_illegal_change_from_the_page_is_refused_with_a_message(client_for, project, manager) -> None:
    unit = Unit.objects.filter(project=project).first()
    client = client_for(manager)
    response = client.post(
        reverse("inventory:unit_status", args=[unit.pk]), {"status": "contracted", "reason": "x"}, follow=True
    )
    unit.refresh_from_db()
    assert unit.status == UnitStatus.AVAILABLE
    assert "不能改为" in response.content.decode()


def test_a_consultant_cannot_post_a_status_change(client_for, project, consultant) -> None:
    unit = Unit.objects.filter(project=project).first()
    response = client_for(consultant).post(
        reverse("inventory:unit_status", args=[unit.pk]), {"status": "held", "reason": "x"}
    )
    assert response.status_code == 404
    unit.refresh_from_db()
    assert unit.status == UnitStatus.AVAILABLE


def test_unit_of_another_project_is_404(client_for, manager, other_project) -> None:
    unit = Unit.objects.filter(project=other_project).first()
    assert client_for(manager).get(reverse("inventory:unit", args=[unit.pk])).status_code == 404
