from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import Decimal

from django.db.models import Count, Max, Min, Q, QuerySet, Sum

from anchang.inventory.models import Building, Project, Unit, UnitStatus
from anchang.inventory.permits import building_permitted_expression


@dataclass
class StatusSummary:
    counts: dict[str, int]
    total: int
    sold_amount: Decimal
    available_amount: Decimal

    @property
    def sold(self) -> int:
        return self.counts[UnitStatus.SUBSCRIBED] + self.counts[UnitStatus.CONTRACTED]

    @property
    def sell_through_percent(self) -> int:
        return round(100 * self.sold / self.total) if self.total else 0

    def as_legend(self) -> list[tuple[str, str, int]]:
        return [(status.value, str(status.label), self.counts[status]) for status in UnitStatus]


def unit_status_summary(*, project: Project, units: QuerySet[Unit] | None = None) -> StatusSummary:
    """Counts per status and amounts, in one aggregate query."""
    units = units if units is not None else Unit.objects.filter(project=project)
    aggregates = {f"n_{s.value}": Count("pk", filter=Q(status=s)) for s in UnitStatus}
    sold = Q(status__in=[UnitStatus.SUBSCRIBED, UnitStatus.CONTRACTED])
    row = units.aggregate(
        **aggregates,
        sold_amount=Sum("list_price_total", filter=sold),
        available_amount=Sum("list_price_total", filter=Q(status=UnitStatus.AVAILABLE)),
    )
    counts = {s.value: row[f"n_{s.value}"] for s in UnitStatus}
    return StatusSummary(
        counts=counts,
        total=sum(counts.values()),
        sold_amount=row["sold_amount"] or Decimal(0),
        available_amount=row["available_amount"] or Decimal(0),
    )


@dataclass
class BoardFilters:
    building_id: int | None = None
    bedrooms: int | None = None
    min_total: Decimal | None = None
    max_total: Decimal | None = None
    status: str | None = None

    @property
    def active(self) -> bool:
        return any(
            v is not None
            for v in (self.building_id, self.bedrooms, self.min_total, self.max_total, self.status)
        )

    def matches(self, unit: Unit) -> bool:
        return (
            (self.bedrooms is None or unit.bedrooms == self.bedrooms)
            and (self.min_total is None or unit.list_price_total >= self.min_total)
            and (self.max_total is None or unit.list_price_total <= self.max_total)
            and (self.status is None or unit.status == self.status)
        )


@dataclass
class BoardCell:
    unit: Unit | None
    matches: bool = True


@dataclass
class BoardRow:
    floor: int
    cells: list[BoardCell]


@dataclass
class BoardBuilding:
    building: Building
    columns: int
    rows: list[BoardRow] = field(default_factory=list)
    available: int = 0


def board_for(*, project: Project, filters: BoardFilters) -> list[BoardBuilding]:
    """The sales-control board: every building as a floor × position grid, highest floor first.

    Two queries whatever the number of units (buildings, then units). Units outside the filter
    stay in the grid but are dimmed, so that the grid keeps its shape and the eye its bearings.
    """
    buildings = list(
        Building.objects.filter(project=project)
        # Whether a valid presale permit covers it: its units are not for sale until one does.
        .annotate(permitted=building_permitted_expression())
        .order_by("sort_order", "name")
    )
    if filters.building_id is not None:
        buildings = [b for b in buildings if b.pk == filters.building_id]
    units = Unit.objects.filter(building__in=buildings).only(
        "id",
        "building_id",
        "number",
        "floor",
        "position",
        "bedrooms",
        "halls",
        "bathrooms",
        "list_price_total",
        "status",
        "layout_name",
    )
    by_building: dict[int, list[Unit]] = {b.pk: [] for b in buildings}
    for unit in units:
        by_building[unit.building_id].append(unit)
    board = []
    for building in buildings:
        columns, floors = floor_grid(by_building[building.pk], units_per_floor=building.units_per_floor)
        entry = BoardBuilding(building=building, columns=columns)
        for floor, slots in floors:
            cells = [BoardCell(unit=u, matches=u is not None and filters.matches(u)) for u in slots]
            entry.available += sum(1 for u in slots if u is not None and u.status == UnitStatus.AVAILABLE)
            entry.rows.append(BoardRow(floor=floor, cells=cells))
        board.append(entry)
    return board


def floor_grid(
    units: Iterable[Unit], *, units_per_floor: int
) -> tuple[int, list[tuple[int, list[Unit | None]]]]:
    """One building's units as (columns, [(floor, units by position, None for an empty slot)]),
    highest floor first — the shape of every sales-control grid (the board, opening day)."""
    slots = {(u.floor, u.position): u for u in units}
    columns = max([units_per_floor, *(pos for _, pos in slots)])
    floors = sorted({floor for floor, _ in slots}, reverse=True)
    return columns, [(floor, [slots.get((floor, p)) for p in range(1, columns + 1)]) for floor in floors]


@dataclass
class LayoutOffer:
    bedrooms: int
    available: int
    min_total: Decimal
    max_total: Decimal
    min_area: Decimal
    max_area: Decimal


def available_by_bedrooms(*, project: Project) -> list[LayoutOffer]:
    """What is still for sale, grouped by number of bedrooms (one query)."""
    rows = (
        Unit.objects.filter(project=project, status=UnitStatus.AVAILABLE)
        .values("bedrooms")
        .annotate(
            available=Count("pk"),
            min_total=Min("list_price_total"),
            max_total=Max("list_price_total"),
            min_area=Min("gross_area"),
            max_area=Max("gross_area"),
        )
        .order_by("bedrooms")
    )
    return [LayoutOffer(**row) for row in rows]


def unit_list_for_api(*, project: Project) -> QuerySet[Unit]:
    return (
        Unit.objects.filter(project=project)
        .select_related("building")
        .order_by("building__sort_order", "building__name", "floor", "position")
    )


def recent_unit_changes(*, project: Project, limit: int = 8) -> list[object]:
    history = Unit.history.model
    return list(
        history.objects.filter(project_id=project.pk, history_type="~")
        .select_related("history_user", "building")
        .order_by("-history_date")[:limit]
    )


def unit_search(
    *,
    project: Project,
    status: str | None = None,
    building: str | None = None,
    bedrooms: int | None = None,
    min_total: Decimal | None = None,
    max_total: Decimal | None = None,
) -> QuerySet[Unit]:
    """Units of a project narrowed by the API's filters (each optional), in board order, one query."""
    units = unit_list_for_api(project=project)
    if status:
        units = units.filter(status=status)
    if building:
        units = units.filter(building__name=building)
    if bedrooms is not None:
        units = units.filter(bedrooms=bedrooms)
    if min_total is not None:
        units = units.filter(list_price_total__gte=min_total)
    if max_total is not None:
        units = units.filter(list_price_total__lte=max_total)
    return units
