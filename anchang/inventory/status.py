"""The unit status machine (product.md §8), stated once.

available → held (销控, by a manager) → reserved (认筹) → subscribed (认购) → contracted (签约);
a cancellation returns a unit to available.

Held, subscribed and contracted each have a row behind them (a hold, an occupying subscription), so
only the deals services (`deals.services.hold_create`, `subscription_create`, `subscription_cancel` …)
move a unit into or out of them. By hand (`inventory.services.unit_change_status`) a manager may only
mark a free unit as kept for a reservation holder (认筹) and back: `can_change_by_hand`.
"""

from anchang.inventory.models import UnitStatus

S = UnitStatus

ALLOWED_TRANSITIONS: dict[str, frozenset[str]] = {
    S.AVAILABLE: frozenset({S.HELD, S.RESERVED, S.SUBSCRIBED}),
    # A held unit is out of sale until a manager releases it (issue: held units cannot be subscribed).
    S.HELD: frozenset({S.AVAILABLE}),
    S.RESERVED: frozenset({S.AVAILABLE, S.SUBSCRIBED}),
    S.SUBSCRIBED: frozenset({S.AVAILABLE, S.CONTRACTED}),
    S.CONTRACTED: frozenset({S.AVAILABLE}),
}

# The statuses a hold or a subscription stands behind: set and lifted by the deals services only, so
# that no unit is ever "available" while a subscription still occupies it, or "sold" without one.
DEALS_STATUSES: frozenset[str] = frozenset({S.HELD, S.SUBSCRIBED, S.CONTRACTED})

# What is left to change by hand is sales control's bookkeeping, so a manager's job.
MANAGER_ONLY_TRANSITIONS: frozenset[tuple[str, str]] = frozenset(
    {(S.AVAILABLE, S.RESERVED), (S.RESERVED, S.AVAILABLE)}
)


def can_transition(current: str, target: str) -> bool:
    return target in ALLOWED_TRANSITIONS.get(current, frozenset())


def can_change_by_hand(current: str, target: str) -> bool:
    """A legal transition that no hold or subscription stands behind."""
    return can_transition(current, target) and current not in DEALS_STATUSES and target not in DEALS_STATUSES
