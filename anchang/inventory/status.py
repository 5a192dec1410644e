"""The unit status machine (product.md §8), stated once.

available → held (销控, by a manager) → reserved (认筹) → subscribed (认购) → contracted (签约);
a cancellation returns a unit to available. Every status change goes through
`inventory.services.unit_change_status`, which asks `can_transition` first.
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

# Only a manager may put a unit under sales control or lift it (product.md §8: "held, by a manager").
MANAGER_ONLY_TRANSITIONS: frozenset[tuple[str, str]] = frozenset(
    {(S.AVAILABLE, S.HELD), (S.HELD, S.AVAILABLE)}
)


def can_transition(current: str, target: str) -> bool:
    return target in ALLOWED_TRANSITIONS.get(current, frozenset())
