"""Data for the opening-day benchmarks (S3, S4, R2), written into whatever DATABASE_URL points at.

    python -m bench.deals_seed --out seed.json [--buildings 5] [--customers 2000] [--desks 8]

Runs in its own process because the settings read DATABASE_URL at import time. Creates one project
with exactly `--buildings` × 40 units (10 floors × 4 per floor; 200 by default), all available and
covered by the project factory's presale permit, 16 consultants who own the `--customers` buyers
(bulk_create, each with a confirmed risk disclosure on a past visit), and `--desks` front desk users, each
with an API token issued directly (no login: django-axes would throttle a burst of logins, and the
load generator must not spend its run on them). A front desk user may subscribe any customer of the
project, so every connection of the load generator can act for every buyer.

Prints nothing but writes the JSON the orchestrator and the load generator need.
"""

import argparse
import sys
from datetime import timedelta

from bench.seeding import customer_row, seed_disclosures, seed_main

UNITS_PER_BUILDING = 40  # 10 floors × 4 units
BUYER_PREFIX = "137"  # buyer i has the mobile 137 + i (8 digits): valid and unique


def buyer_phone(index: int) -> str:
    return f"{BUYER_PREFIX}{index:08d}"


def seed(*, buildings: int, customers: int, desks: int, consultants: int = 16) -> dict[str, object]:
    from django.db import transaction
    from django.test.utils import override_settings
    from django.utils import timezone

    from anchang.accounts.models import ApiToken, Role
    from anchang.accounts.testing import user_in
    from anchang.customers.models import Customer
    from anchang.inventory.testing import project_with_units

    now = timezone.now()
    with transaction.atomic():
        project = project_with_units(buildings=buildings, floors=10, units_per_floor=4, name="开盘花园")
        # Nobody logs in with a password during the run: a fast hasher keeps seeding to a second.
        with override_settings(PASSWORD_HASHERS=["django.contrib.auth.hashers.MD5PasswordHasher"]):
            staff = [
                user_in(project, role=Role.CONSULTANT, username=f"open-consultant-{i:02d}")
                for i in range(consultants)
            ]
            front = [
                user_in(project, role=Role.FRONTDESK, username=f"open-desk-{i:02d}") for i in range(desks)
            ]
        tokens = [ApiToken.issue(user)[1] for user in front]
        rows = [
            customer_row(
                project=project,
                index=i,
                phone=buyer_phone(i),
                owner=staff[i % len(staff)],
                protected_until=now + timedelta(days=10),
                first_visit_at=now - timedelta(days=20),
                last_visit_at=now - timedelta(days=3),
            )
            for i in range(customers)
        ]
        created = Customer.objects.bulk_create(rows, batch_size=1000)
        # Buyers have confirmed the risk disclosure, or every subscription would be refused (409).
        seed_disclosures(project=project, customers=created, at=now - timedelta(days=20))
        units = list(project.units.order_by("pk").values_list("pk", "list_price_total"))

    expected = buildings * UNITS_PER_BUILDING
    if len(units) != expected:
        raise SystemExit(f"deals_seed: {len(units)} units created, {expected} expected")
    return {
        "project_id": project.pk,
        "units": len(units),
        "unit_ids": [pk for pk, _ in units],
        "list_prices": {str(pk): f"{price:.2f}" for pk, price in units},
        "customer_ids": [c.pk for c in created],
        "tokens": tokens,
    }


def main(argv: list[str] | None = None) -> int:
    def add_arguments(parser: argparse.ArgumentParser) -> None:
        parser.add_argument("--buildings", type=int, default=5, help="40 units each (default 5: 200 units)")
        parser.add_argument("--customers", type=int, default=2000)
        parser.add_argument("--desks", type=int, default=8)

    return seed_main(
        __doc__,
        argv,
        add_arguments=add_arguments,
        seed=lambda args: seed(buildings=args.buildings, customers=args.customers, desks=args.desks),
    )


if __name__ == "__main__":
    sys.exit(main())
