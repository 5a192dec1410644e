"""Periodic jobs of the customers app; imported once from the app's ready() (core.periodic)."""

from anchang.core import periodic
from anchang.customers.pool import pool_recover


def pool_recovery() -> dict[str, int]:
    # A job takes no arguments and returns a short summary (moves per pool reason) for `anchang tick`.
    return pool_recover()


# Every five minutes: protection and follow-up deadlines are counted in hours and days, so a customer
# reaches the pool at most five minutes late.
periodic.register("customers.pool_recovery", pool_recovery, every_seconds=300)
