"""Periodic jobs of the deals app; imported once from the app's ready() (core.periodic)."""

from anchang.core import periodic
from anchang.deals.services import holds_release_expired


def release_expired_holds() -> dict[str, int]:
    return {"holds_released": holds_release_expired()}


# Every minute: a hold's expiry is a moment a manager picked, and a run with nothing due is one
# indexed query (hold_open_expiry_idx).
periodic.register("deals.release_expired_holds", release_expired_holds, every_seconds=60)
