"""Reads of opening day: each brings its own joins, and the visibility checks live here too.

Every list is a fixed number of queries whatever the number of buyers or units (quality S7).
"""

import re
from dataclasses import dataclass, field
from datetime import datetime

from django.db.models import Count, Q, QuerySet

from anchang.accounts.models import User
from anchang.accounts.selectors import project_list_visible_to
from anchang.deals.models import (
    OCCUPYING_STATUSES,
    OpeningBuyer,
    OpeningDraw,
    OpeningSession,
    OrderMethod,
    Subscription,
)
from anchang.deals.opening import may_sell_at_openings, reproduce_snippet, token_looks_valid
from anchang.inventory.models import Building, Project, Unit, UnitStatus
from anchang.inventory.permits import building_permitted_expression
from anchang.inventory.selectors import floor_grid

SEARCH_MAX_LENGTH = 50
# The session page shows the head of each drawn order; the full order is in the reproduce snippet
# (lotteries) and in the buyers' list (the draw in effect).
DRAW_PREVIEW_NUMBERS = 10


def opening_visible_to(*, user: User, session_id: int) -> OpeningSession | None:
    """A session of a project the user belongs to, for roles that work on opening day; else None (404)."""
    if not may_sell_at_openings(user):
        return None
    return (
        OpeningSession.objects.select_related("project", "created_by")
        .filter(pk=session_id, project__in=project_list_visible_to(user=user))
        .first()
    )


@dataclass
class SessionRow:
    session: OpeningSession
    buyers: int
    sold: int


def opening_list_for(*, project: Project) -> list[SessionRow]:
    """The project's sessions, newest first, with buyer and sold counts (three queries)."""
    sessions = list(OpeningSession.objects.filter(project=project).order_by("-starts_at", "-pk"))
    ids = [s.pk for s in sessions]
    buyers = dict(
        OpeningBuyer.objects.filter(session_id__in=ids)
        .values("session_id")
        .annotate(n=Count("pk"))
        .values_list("session_id", "n")
    )
    sold = dict(
        Subscription.objects.filter(opening_session_id__in=ids, status__in=OCCUPYING_STATUSES)
        .values("opening_session_id")
        .annotate(n=Count("pk"))
        .values_list("opening_session_id", "n")
    )
    return [SessionRow(session=s, buyers=buyers.get(s.pk, 0), sold=sold.get(s.pk, 0)) for s in sessions]


@dataclass
class Progress:
    buyers: int
    buyers_selected: int
    buyers_done: int
    sold: int
    available: int

    @property
    def buyers_waiting(self) -> int:
        return self.buyers - self.buyers_selected


def opening_progress(*, session: OpeningSession) -> Progress:
    """Counts for the live panel: four aggregate queries."""
    picks = Subscription.objects.filter(opening_session=session, status__in=OCCUPYING_STATUSES)
    per_buyer = picks.values("reservation_id").annotate(n=Count("pk")).order_by()
    done = per_buyer.filter(n__gte=session.units_per_buyer)
    counted = picks.aggregate(sold=Count("pk"), buyers=Count("reservation_id", distinct=True))
    return Progress(
        buyers=OpeningBuyer.objects.filter(session=session).count(),
        buyers_selected=counted["buyers"],
        buyers_done=done.count(),
        sold=counted["sold"],
        available=Unit.objects.filter(
            building_permitted_expression(building_ref="building_id"),
            project_id=session.project_id,
            status=UnitStatus.AVAILABLE,
        ).count(),
    )


def opening_buyers(*, session: OpeningSession, q: str = "") -> QuerySet[OpeningBuyer]:
    """The session's buyers in order; `q` finds one by position, reservation number, phone tail or name."""
    buyers = OpeningBuyer.objects.filter(session=session).select_related("customer", "reservation")
    q = q.strip()[:SEARCH_MAX_LENGTH]
    if not q:
        return buyers.order_by("position")
    match = Q(customer__name__icontains=q)
    if re.fullmatch(r"[A-Za-z]+", q):
        match |= Q(customer__name_initials__istartswith=q.lower()) | Q(
            customer__name_pinyin__istartswith=q.lower()
        )
    if q.isdigit() and len(q) <= 9:
        match |= Q(position=int(q)) | Q(reservation__number=int(q))
        if len(q) == 4:
            match |= Q(customer__phone_last4=q)
    return buyers.filter(match).order_by("position")


def opening_buyer_in(*, session: OpeningSession, buyer_id: int) -> OpeningBuyer | None:
    return (
        OpeningBuyer.objects.select_related("customer", "reservation")
        .filter(session=session, pk=buyer_id)
        .first()
    )


def opening_buyer_by_token(*, token: str) -> OpeningBuyer | None:
    """The buyer behind a link, with everything their page shows; None for anything not ours."""
    if not token_looks_valid(token):
        return None
    return (
        OpeningBuyer.objects.select_related("session__project", "customer", "reservation")
        .filter(token=token)
        .first()
    )


@dataclass
class BuyerRow:
    buyer: OpeningBuyer
    picks: list[Subscription] = field(default_factory=list)
    limit: int = 1

    @property
    def done(self) -> bool:
        return len(self.picks) >= self.limit


def buyer_rows(*, session: OpeningSession, buyers: list[OpeningBuyer]) -> list[BuyerRow]:
    """Each buyer with the units they selected in this session (one query for all of them)."""
    picks: dict[int, list[Subscription]] = {b.reservation_id: [] for b in buyers}
    for subscription in (
        Subscription.objects.filter(
            opening_session=session, reservation_id__in=list(picks), status__in=OCCUPYING_STATUSES
        )
        .select_related("unit__building")
        .order_by("created_at", "pk")
    ):
        assert subscription.reservation_id is not None  # filtered above
        picks[subscription.reservation_id].append(subscription)
    return [BuyerRow(buyer=b, picks=picks[b.reservation_id], limit=session.units_per_buyer) for b in buyers]


def buyer_picks(*, buyer: OpeningBuyer) -> list[Subscription]:
    return buyer_rows(session=buyer.session, buyers=[buyer])[0].picks


def opening_recent_picks(*, session: OpeningSession, limit: int = 8) -> list[Subscription]:
    return list(
        Subscription.objects.filter(opening_session=session, status__in=OCCUPYING_STATUSES)
        .select_related("unit__building")
        .order_by("-created_at", "-pk")[:limit]
    )


# --- the grid of units a buyer chooses from --------------------------------------------------------


@dataclass
class BuildingTab:
    building: Building
    available: int
    # False while no valid presale permit covers the building: its units are not for sale yet.
    permitted: bool = True


@dataclass
class GridRow:
    floor: int
    cells: list[Unit | None]


@dataclass
class Grid:
    tabs: list[BuildingTab]
    current: Building | None
    columns: int = 0
    rows: list[GridRow] = field(default_factory=list)
    available: int = 0


def opening_grid(*, project: Project, building_id: int | None) -> Grid:
    """One building as a floor × position grid (highest floor first), with tabs for the others.

    Two queries: the buildings with their available counts and presale permits, then the units of the
    chosen one. The default building is the first that still has units for sale. Units of a building
    that no valid presale permit covers count as not for sale (`unit.permitted` is False).
    """
    buildings = list(
        Building.objects.filter(project=project)
        .annotate(
            n_available=Count("units", filter=Q(units__status=UnitStatus.AVAILABLE)),
            permitted=building_permitted_expression(),
        )
        .order_by("sort_order", "name")
    )
    tabs = [
        BuildingTab(building=b, available=b.n_available if b.permitted else 0, permitted=b.permitted)
        for b in buildings
    ]
    current = next((t.building for t in tabs if t.building.pk == building_id), None)
    if current is None:
        current = next((t.building for t in tabs if t.available), buildings[0] if buildings else None)
    grid = Grid(tabs=tabs, current=current, available=sum(t.available for t in tabs))
    if current is None:
        return grid
    units = list(
        Unit.objects.filter(building=current).only(
            "id",
            "building_id",
            "number",
            "floor",
            "position",
            "bedrooms",
            "halls",
            "bathrooms",
            "gross_area",
            "list_price_total",
            "status",
        )
    )
    permitted = next(t.permitted for t in tabs if t.building.pk == current.pk)
    for unit in units:
        unit.building = current  # the label needs it; no query per unit
        unit.permitted = permitted  # type: ignore[attr-defined]
    grid.columns, floors = floor_grid(units, units_per_floor=current.units_per_floor)
    grid.rows = [GridRow(floor=floor, cells=cells) for floor, cells in floors]
    return grid


def opening_unit(*, project: Project, unit_id: int) -> Unit | None:
    return Unit.objects.select_related("building").filter(project=project, pk=unit_id).first()


def opening_available_units(*, session: OpeningSession, building_id: int | None = None) -> QuerySet[Unit]:
    units = (
        Unit.objects.filter(
            building_permitted_expression(building_ref="building_id"),
            project_id=session.project_id,
            status=UnitStatus.AVAILABLE,
        )
        .select_related("building")
        .order_by("building__sort_order", "building__name", "-floor", "position")
    )
    if building_id is not None:
        units = units.filter(building_id=building_id)
    return units


# --- the draws ---------------------------------------------------------------------------------------


@dataclass
class DrawRow:
    draw: OpeningDraw
    sequence: int
    snippet: str

    @property
    def preview(self) -> list[int]:
        return self.draw.drawn_numbers[:DRAW_PREVIEW_NUMBERS]

    @property
    def total(self) -> int:
        return len(self.draw.drawn_numbers)

    @property
    def more(self) -> bool:
        return self.total > DRAW_PREVIEW_NUMBERS


def opening_draws(*, session: OpeningSession) -> list[DrawRow]:
    """Every draw of the session, newest first, numbered from the first (one query).

    A lottery draw carries the snippet that reproduces it from its own stored seed and inputs.
    """
    draws = list(
        OpeningDraw.objects.filter(session=session).select_related("drawn_by").order_by("-drawn_at", "-pk")
    )
    return [
        DrawRow(
            draw=draw,
            sequence=len(draws) - index,
            snippet=reproduce_snippet(seed=draw.seed, numbers=draw.eligible_numbers)
            if draw.method == OrderMethod.LOTTERY
            else "",
        )
        for index, draw in enumerate(draws)
    ]


# --- results ---------------------------------------------------------------------------------------


@dataclass
class ResultRow:
    position: int | None
    subscription: Subscription


def opening_results(*, session: OpeningSession, limit: int) -> tuple[list[ResultRow], bool]:
    """Selections of the session in the order they were made, up to `limit`; and whether more exist."""
    subscriptions = list(
        Subscription.objects.filter(opening_session=session)
        .select_related("unit__building", "customer", "reservation")
        .order_by("created_at", "pk")[: limit + 1]
    )
    more = len(subscriptions) > limit
    subscriptions = subscriptions[:limit]
    positions = dict(
        OpeningBuyer.objects.filter(
            session=session, reservation_id__in={s.reservation_id for s in subscriptions}
        ).values_list("reservation_id", "position")
    )
    rows = [
        ResultRow(position=positions.get(s.reservation_id) if s.reservation_id else None, subscription=s)
        for s in subscriptions
    ]
    return rows, more


def session_last_slot_end(*, session: OpeningSession) -> datetime | None:
    last = OpeningBuyer.objects.filter(session=session).order_by("-position").first()
    return last.slot_ends_at if last else None
