"""Recommendations pinned on a small hand-built inventory: hard limits, order, reasons, queries."""

from decimal import Decimal
from typing import cast

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from anchang.core.errors import InvalidInput
from anchang.customers.models import Customer, Needs
from anchang.customers.needs import needs_update
from anchang.customers.recommendations import recommend_units
from anchang.inventory.models import Building, Project, Unit, UnitStatus
from anchang.inventory.testing import BuildingFactory, ProjectFactory, UnitFactory
from anchang.reception.services import check_in

pytestmark = pytest.mark.django_db


@pytest.fixture
def estate(db) -> Project:
    return cast(Project, ProjectFactory(name="推荐花园"))


@pytest.fixture
def buildings(estate) -> dict[str, Building]:
    return {
        name: cast(Building, BuildingFactory(project=estate, name=name, floors=30, units_per_floor=4))
        for name in ("A栋", "B栋")
    }


def unit(
    building: Building, floor: int, position: int, *, price: int, area: str, orientation: str, **extra
) -> Unit:
    return cast(
        Unit,
        UnitFactory(
            building=building,
            floor=floor,
            position=position,
            number=f"{floor:02d}{position:02d}",
            list_price_total=Decimal(price),
            gross_area=Decimal(area),
            usable_area=Decimal(area) * Decimal("0.8"),
            orientation=orientation,
            **{"bedrooms": 3, **extra},
        ),
    )


@pytest.fixture
def inventory(buildings) -> dict[str, Unit]:
    a, b = buildings["A栋"], buildings["B栋"]
    return {
        # Six units inside the hard limits (available, 300–350万, 3 rooms) …
        "a1201": unit(a, 12, 1, price=3_120_000, area="98.50", orientation="NS"),
        "b1501": unit(b, 15, 1, price=3_300_000, area="105.00", orientation="S"),
        "a0501": unit(a, 5, 1, price=3_250_000, area="95.00", orientation="S"),
        "b2201": unit(b, 22, 1, price=3_240_000, area="120.00", orientation="E"),
        "b1801": unit(b, 18, 1, price=3_400_000, area="100.00", orientation="S"),
        "a0801": unit(a, 8, 1, price=3_000_000, area="130.00", orientation="W"),
        # … and five that would score well but break one hard limit each.
        "held": unit(a, 12, 2, price=3_200_000, area="100.00", orientation="S", status=UnitStatus.HELD),
        "sold": unit(a, 13, 2, price=3_200_000, area="100.00", orientation="S", status=UnitStatus.SUBSCRIBED),
        "dear": unit(a, 14, 2, price=3_600_000, area="100.00", orientation="S"),
        "cheap": unit(a, 15, 2, price=2_900_000, area="100.00", orientation="S"),
        "two_rooms": unit(a, 16, 2, price=3_200_000, area="100.00", orientation="S", bedrooms=2),
    }


@pytest.fixture
def customer(estate) -> Customer:
    return Customer.objects.create(project=estate, phone="+8613812340000", name="李雷")


def wish(customer: Customer, **fields) -> Customer:
    Needs.objects.update_or_create(customer=customer, defaults=fields)
    return Customer.objects.get(pk=customer.pk)


FULL_WISH = {
    "budget_min": Decimal("3000000"),
    "budget_max": Decimal("3500000"),
    "bedrooms": 3,
    "area_min": Decimal("90"),
    "area_max": Decimal("110"),
    "floor_min": 10,
    "floor_max": 20,
    "orientation": "S",
    "buildings": ["A栋"],
}


def test_ranking_scores_and_reasons_are_pinned(inventory, customer) -> None:
    result = recommend_units(customer=wish(customer, **FULL_WISH))
    names = {u.pk: name for name, u in inventory.items()}
    assert [(names[r.unit.pk], r.score) for r in result] == [
        ("a1201", 90),  # area 30 + 南北通透 for 朝南 15 + A栋 25 + floor 20
        ("a0501", 80),  # area 30 + 朝南 25 + A栋 25
        ("b1501", 75),  # area 30 + 朝南 25 + floor 20; 330万 is 5万 from the 325万 midpoint …
        ("b1801", 75),  # … 340万 is 15万 away
        ("a0801", 25),  # A栋 only
        ("b2201", 0),  # inside the hard limits, no wish met
    ]
    assert [r.reasons for r in result] == [
        ["总价 312万 在预算内", "3室", "面积 98.50㎡", "南北通透（满足朝南）", "12层", "意向楼栋 A栋"],
        ["总价 325万 在预算内", "3室", "面积 95.00㎡", "朝南", "意向楼栋 A栋"],
        ["总价 330万 在预算内", "3室", "面积 105.00㎡", "朝南", "15层"],
        ["总价 340万 在预算内", "3室", "面积 100.00㎡", "朝南", "18层"],
        ["总价 300万 在预算内", "3室", "意向楼栋 A栋"],
        ["总价 324万 在预算内", "3室"],
    ]


def test_hard_limits_exclude_held_sold_out_of_budget_and_other_layouts(inventory, customer, project) -> None:
    result = recommend_units(customer=wish(customer, **FULL_WISH), limit=50)
    excluded = {inventory[name].pk for name in ("held", "sold", "dear", "cheap", "two_rooms")}
    assert len(result) == 6
    assert not {r.unit.pk for r in result} & excluded
    assert all(r.unit.project_id == customer.project_id for r in result)


def test_an_exact_wish_for_south_north_beats_the_partial_match(inventory, customer) -> None:
    result = recommend_units(customer=wish(customer, **{**FULL_WISH, "orientation": "NS"}))
    assert result[0].unit == inventory["a1201"]
    assert result[0].score == 100
    assert "南北通透" in result[0].reasons


def test_orientation_ranks_when_no_unit_meets_the_wish_exactly(buildings, customer) -> None:
    # The newcomer's case: 南北通透 wished, the three-room flats face 东南, 朝南 or 朝东 only; the
    # 东南 one is nearest the budget, so without the steps it came first, level with the others.
    a = buildings["A栋"]
    southeast = unit(a, 10, 1, price=3_250_000, area="100.00", orientation="SE")
    south = unit(a, 11, 1, price=3_100_000, area="100.00", orientation="S")
    east = unit(a, 12, 1, price=3_240_000, area="100.00", orientation="E")

    result = recommend_units(
        customer=wish(
            customer,
            budget_min=Decimal("3000000"),
            budget_max=Decimal("3500000"),
            bedrooms=3,
            orientation="NS",
        )
    )

    assert [(r.unit, r.score) for r in result] == [(south, 15), (southeast, 10), (east, 0)]
    assert "朝南（接近南北通透）" in result[0].reasons and "东南（接近南北通透）" in result[1].reasons
    assert not any("南北通透" in reason for reason in result[2].reasons)


def test_each_budget_bound_is_optional(inventory, customer) -> None:
    below = recommend_units(customer=wish(customer, budget_max=Decimal("3100000")), limit=50)
    assert {r.unit.pk for r in below} == {inventory[n].pk for n in ("a0801", "cheap")}
    # No wish: ties broken by closeness to the one bound (310万), then by id.
    assert [r.unit for r in below] == [inventory["a0801"], inventory["cheap"]]
    assert below[1].reasons == ["总价 290万 在预算内", "3室"]
    above = recommend_units(customer=wish(customer, budget_min=Decimal("3350000"), budget_max=None), limit=50)
    assert [r.unit for r in above] == [inventory["b1801"], inventory["dear"]]


def test_bedrooms_alone_are_enough_and_then_cheaper_units_come_first(inventory, customer) -> None:
    result = recommend_units(customer=wish(customer, bedrooms=2), limit=50)
    assert [r.unit for r in result] == [inventory["two_rooms"]]
    assert result[0].reasons == ["总价 320万", "2室"]
    result = recommend_units(customer=wish(customer, bedrooms=3), limit=3)
    assert [r.unit for r in result] == [inventory["cheap"], inventory["a0801"], inventory["a1201"]]


def test_equal_score_and_price_fall_back_to_the_unit_id(buildings, customer) -> None:
    first = unit(buildings["B栋"], 3, 1, price=3_000_000, area="90.00", orientation="S")
    second = unit(buildings["A栋"], 3, 1, price=3_000_000, area="90.00", orientation="S")
    result = recommend_units(customer=wish(customer, bedrooms=3))
    assert [r.unit for r in result] == [first, second]


def test_limit_is_respected_and_clamped(inventory, customer) -> None:
    customer = wish(customer, **FULL_WISH)
    assert len(recommend_units(customer=customer, limit=2)) == 2
    assert len(recommend_units(customer=customer, limit=0)) == 1
    assert len(recommend_units(customer=customer, limit=10_000)) == 6


@pytest.mark.parametrize(
    "fields",
    [
        None,
        {},
        {"area_min": Decimal("90"), "orientation": "S", "buildings": ["A栋"], "down_payment": Decimal(1)},
    ],
    ids=["no-needs", "empty-needs", "only-soft-wishes"],
)
def test_needs_without_budget_or_bedrooms_are_refused_with_what_to_fill_in(
    inventory, customer, fields
) -> None:
    if fields is not None:
        customer = wish(customer, **fields)
    with pytest.raises(InvalidInput) as raised:
        recommend_units(customer=customer)
    assert raised.value.code == "needs_missing"
    assert raised.value.message == "请先填写预算或居室，再查看推荐房源。"
    assert raised.value.status == 400


def _more_units(building: Building, count: int) -> None:
    Unit.objects.bulk_create(
        Unit(
            project=building.project,
            building=building,
            floor=40 + index // 40,
            position=1 + index % 40,
            number=f"X{index}",
            bedrooms=3,
            halls=2,
            bathrooms=2,
            gross_area=Decimal("100"),
            usable_area=Decimal("80"),
            orientation="S" if index % 2 else "E",
            list_price_total=Decimal(3_000_000 + 1_000 * index),
        )
        for index in range(count)
    )


@pytest.mark.parametrize("extra_units", [4, 294])
def test_two_queries_whatever_the_inventory_size(inventory, customer, buildings, extra_units) -> None:
    _more_units(buildings["B栋"], extra_units)
    assert Unit.objects.filter(project=customer.project).count() in (15, 305)
    wish(customer, **FULL_WISH)
    fresh = Customer.objects.get(pk=customer.pk)
    with CaptureQueriesContext(connection) as queries:
        result = recommend_units(customer=fresh, limit=10)
    assert len(queries) == 2  # the needs, then the scored units with their buildings
    assert len(result) == 10
    with_needs = Customer.objects.select_related("needs").get(pk=customer.pk)
    with CaptureQueriesContext(connection) as queries:
        recommend_units(customer=with_needs, limit=10)
    assert len(queries) == 1


def test_the_recommendations_partial_links_to_the_board_and_the_unit(
    client_for, project, frontdesk, on_duty
) -> None:
    visit = check_in(project=project, phone="13812345678", by=frontdesk, consent=True).visit
    needs_update(customer=visit.customer, by=on_duty[0], bedrooms=3, budget_max=Decimal("2320000"))
    response = client_for(on_duty[0]).get(
        reverse("needs:recommendations", args=[visit.pk]), headers={"HX-Request": "true"}
    )
    html = response.content.decode()
    assert response.status_code == 200 and "<html" not in html
    best = recommend_units(customer=Customer.objects.get(pk=visit.customer_id))[0].unit
    board = reverse("inventory:board", args=[project.pk])
    assert f'href="{board}?unit={best.pk}&amp;building={best.building_id}"' in html
    assert f'href="{reverse("inventory:unit", args=[best.pk])}"' in html
    assert (
        "231.00万" in html
        and "3室2厅2卫" in html
        and "100.00㎡" in html
        and "1层" in html
        and "南北通透" in html
    )
    assert "总价 231万 在预算内 · 3室" in html
    assert 'hx-trigger="needs-updated from:body"' in html


def test_the_recommendations_partial_says_what_to_fill_in(client_for, project, frontdesk, on_duty) -> None:
    visit = check_in(project=project, phone="13812345678", by=frontdesk, consent=True).visit
    response = client_for(on_duty[0]).get(
        reverse("needs:recommendations", args=[visit.pk]), headers={"HX-Request": "true"}
    )
    assert response.status_code == 200
    assert "请先填写预算或居室，再查看推荐房源。" in response.content.decode()


def test_the_recommendations_view_has_a_fixed_query_budget(client_for, project, frontdesk, on_duty) -> None:
    visit = check_in(project=project, phone="13812345678", by=frontdesk, consent=True).visit
    needs_update(customer=visit.customer, by=on_duty[0], bedrooms=3, orientation="S", floor_min=40)
    client = client_for(on_duty[0])
    url = reverse("needs:recommendations", args=[visit.pk])

    def measure() -> int:
        with CaptureQueriesContext(connection) as queries:
            response = client.get(url, headers={"HX-Request": "true"})
        assert response.status_code == 200
        assert response.content.decode().count("销控表") == min(10, Unit.objects.filter(bedrooms=3).count())
        return len(queries)

    _more_units(Building.objects.get(project=project, name="1栋"), 4)
    few = measure()
    _more_units(Building.objects.get(project=project, name="2栋"), 290)
    assert Unit.objects.filter(project=project).count() == 306
    # session, user, the visit with its customer and needs, the membership check, the units (+ the
    # navigation's project list): the same whether 10 or 300 units are for sale.
    assert measure() == few <= 6
