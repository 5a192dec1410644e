"""Unit recommendations from the live inventory for a customer's needs (product.md §6).

Hard limits (a unit that fails one is not recommended at all):
  - status 可售 (available), in the customer's project;
  - list_price_total within [budget_min, budget_max] (each bound optional);
  - bedrooms == needs.bedrooms when set.

Soft wishes give points (a wish that was not expressed gives nobody points, so it never reorders):
  - gross area inside [area_min, area_max] (each bound optional) ..... 30
  - orientation equal to the wish ..................................... 25
    a neighbouring orientation (see `NEAR_ORIENTATIONS`) ............ 15, 10 or 5
    e.g. for 南北通透: 朝南 15, 东南/西南 10; for 朝南: 南北通透 15 (its rooms face
    south too, so it meets the wish), 东南/西南 10. Without these steps a wish that no unit
    meets exactly ranked nothing: 南北通透 for a three-room flat listed 东南 and 朝南 alike.
  - building among the preferred buildings ............................ 25
  - floor inside [floor_min, floor_max] (each bound optional) ......... 20
  The score is the sum, 0–100.

Order: score, highest first; then the total price closest to the budget's reference price (the
midpoint when both bounds are set, the one bound otherwise; cheapest first without a budget); then
the unit id. Everything is computed by the database in one query, whatever the inventory size; the
reasons are read back from the same per-wish points, so they cannot disagree with the score.
"""

from dataclasses import dataclass
from decimal import Decimal

from django.db.models import Case, DecimalField, F, IntegerField, Q, QuerySet, Value, When
from django.db.models.expressions import Combinable
from django.db.models.functions import Abs
from django.utils.translation import gettext as _

from anchang.core.errors import InvalidInput
from anchang.core.formatting import square_metres
from anchang.customers.models import Customer, Needs
from anchang.customers.needs import needs_of, wan_plain
from anchang.inventory.models import Orientation, Unit, UnitStatus

AREA_POINTS = 30
ORIENTATION_POINTS = 25
BUILDING_POINTS = 25
FLOOR_POINTS = 20

_O = Orientation
# Per wish, the other orientations that come close, with their points: the nearer the compass
# direction (and the more daylight from the south, which buyers here value most), the more points.
NEAR_ORIENTATIONS: dict[str, dict[str, int]] = {
    _O.SOUTH: {_O.NORTH_SOUTH: 15, _O.SOUTHEAST: 10, _O.SOUTHWEST: 10},
    _O.NORTH_SOUTH: {_O.SOUTH: 15, _O.SOUTHEAST: 10, _O.SOUTHWEST: 10, _O.NORTH: 5},
    _O.SOUTHEAST: {_O.SOUTH: 15, _O.EAST: 10, _O.NORTH_SOUTH: 10, _O.SOUTHWEST: 5},
    _O.SOUTHWEST: {_O.SOUTH: 15, _O.WEST: 10, _O.NORTH_SOUTH: 10, _O.SOUTHEAST: 5},
    _O.EAST: {_O.SOUTHEAST: 15, _O.EAST_WEST: 10, _O.SOUTH: 5},
    _O.WEST: {_O.SOUTHWEST: 15, _O.EAST_WEST: 10, _O.SOUTH: 5},
    _O.NORTH: {_O.NORTH_SOUTH: 15},
    _O.EAST_WEST: {_O.EAST: 10, _O.WEST: 10},
}
# A near orientation that does meet the wish (its reason says so rather than "close to").
MEETS_WISH = {(_O.SOUTH, _O.NORTH_SOUTH)}

DEFAULT_LIMIT = 10
MAX_LIMIT = 50


class NeedsMissing(InvalidInput):
    code = "needs_missing"


@dataclass(frozen=True)
class Recommendation:
    unit: Unit
    score: int
    reasons: list[str]


def _points(condition: Q, points: int) -> Combinable:
    return Case(When(condition, then=Value(points)), default=Value(0), output_field=IntegerField())


def _inside(field: str, low: object, high: object) -> Q | None:
    if low is None and high is None:
        return None
    condition = Q()
    if low is not None:
        condition &= Q(**{f"{field}__gte": low})
    if high is not None:
        condition &= Q(**{f"{field}__lte": high})
    return condition


def _zero() -> Value:
    return Value(0, output_field=IntegerField())


def _orientation_points(wish: str) -> Combinable:
    if not wish:
        return _zero()
    whens = [When(orientation=wish, then=Value(ORIENTATION_POINTS))]
    whens += [
        When(orientation=near, then=Value(points)) for near, points in NEAR_ORIENTATIONS.get(wish, {}).items()
    ]
    return Case(*whens, default=Value(0), output_field=IntegerField())


def _reference_price(needs: Needs) -> Decimal | None:
    low, high = needs.budget_min, needs.budget_max
    if low is not None and high is not None:
        return (low + high) / 2
    return low if low is not None else high


def _has_budget(needs: Needs) -> bool:
    return needs.budget_min is not None or needs.budget_max is not None


def _candidates(*, customer: Customer, needs: Needs) -> QuerySet[Unit]:
    units = Unit.objects.filter(project_id=customer.project_id, status=UnitStatus.AVAILABLE).select_related(
        "building"
    )
    if needs.budget_min is not None:
        units = units.filter(list_price_total__gte=needs.budget_min)
    if needs.budget_max is not None:
        units = units.filter(list_price_total__lte=needs.budget_max)
    if needs.bedrooms is not None:
        units = units.filter(bedrooms=needs.bedrooms)

    area = _inside("gross_area", needs.area_min, needs.area_max)
    floor = _inside("floor", needs.floor_min, needs.floor_max)
    units = units.annotate(
        area_points=_points(area, AREA_POINTS) if area is not None else _zero(),
        floor_points=_points(floor, FLOOR_POINTS) if floor is not None else _zero(),
        orientation_points=_orientation_points(needs.orientation),
        building_points=_points(Q(building__name__in=needs.buildings), BUILDING_POINTS)
        if needs.buildings
        else _zero(),
    ).annotate(
        score=F("area_points") + F("floor_points") + F("orientation_points") + F("building_points"),
    )
    reference = _reference_price(needs)
    if reference is None:
        return units.order_by("-score", "list_price_total", "pk")
    gap = Abs(
        F("list_price_total") - Value(reference, output_field=DecimalField(max_digits=16, decimal_places=4))
    )
    return units.annotate(price_gap=gap).order_by("-score", "price_gap", "pk")


def _reasons(unit: Unit, needs: Needs) -> list[str]:
    total = wan_plain(unit.list_price_total)
    reasons = [
        _("总价 %(total)s 在预算内") % {"total": total}
        if _has_budget(needs)
        else _("总价 %(total)s") % {"total": total},
        _("%(n)d室") % {"n": unit.bedrooms},
    ]
    if getattr(unit, "area_points", 0):
        reasons.append(_("面积 %(area)s") % {"area": square_metres(unit.gross_area)})
    orientation_points = getattr(unit, "orientation_points", 0)
    if orientation_points == ORIENTATION_POINTS:
        reasons.append(str(unit.get_orientation_display()))
    elif orientation_points:
        names = {"unit": unit.get_orientation_display(), "wish": Orientation(needs.orientation).label}
        if (needs.orientation, unit.orientation) in MEETS_WISH:
            reasons.append(_("%(unit)s（满足%(wish)s）") % names)
        else:
            reasons.append(_("%(unit)s（接近%(wish)s）") % names)
    if getattr(unit, "floor_points", 0):
        reasons.append(_("%(n)d层") % {"n": unit.floor})
    if getattr(unit, "building_points", 0):
        reasons.append(_("意向楼栋 %(name)s") % {"name": unit.building.name})
    return reasons


def needs_missing_message() -> str:
    return _("请先填写预算或居室，再查看推荐房源。")


def recommend_units(*, customer: Customer, limit: int = DEFAULT_LIMIT) -> list[Recommendation]:
    """The best-fitting available units for the customer's needs, best first (see the module doc).

    Raises `NeedsMissing` (an InvalidInput with code `needs_missing`) when neither a budget bound
    nor the bedrooms are known: without a hard limit every unit would be "recommended".
    """
    needs = needs_of(customer)
    if needs is None or (not _has_budget(needs) and needs.bedrooms is None):
        raise NeedsMissing(needs_missing_message())
    limit = max(1, min(limit, MAX_LIMIT))
    units = list(_candidates(customer=customer, needs=needs)[:limit])
    return [
        Recommendation(unit=unit, score=int(getattr(unit, "score", 0)), reasons=_reasons(unit, needs))
        for unit in units
    ]
