"""Data for the check-in benchmarks (S1, S2), written into whatever DATABASE_URL points at.

    python -m bench.seed --out seed.json [--consultants 16] [--frontdesk 4] [--customers 4000]

Runs in its own process because the settings read DATABASE_URL at import time. Creates one project
with units, `--consultants` consultants signed in today through `rotation_sign_in`, `--frontdesk` front
desk users (one login each for the load generator) and a pool of existing customers who have visited
before: half of them still protected by their owner, half whose protection has lapsed (public pool).
Channel reports do not exist yet in the product, so the load has no channel visitors.

Prints nothing but writes the JSON the orchestrator and the load generator need.
"""

import argparse
import sys
from datetime import timedelta

from bench.seeding import customer_row, seed_main

# Phone numbers are built, not drawn: prefix + 8 digits is always a valid mainland mobile for these
# prefixes (the ones `anchang.core.testing.mobiles` uses), and a counter makes them unique.
POOL_PREFIX = "139"
FRONTDESK_PASSWORD = "bench-desk-pass-4821"


def pool_phone(index: int) -> str:
    return f"{POOL_PREFIX}{index:08d}"


def seed(*, consultants: int, frontdesk: int, customers: int) -> dict[str, object]:
    from django.db import transaction
    from django.test.utils import override_settings
    from django.utils import timezone

    from anchang.accounts.models import Role
    from anchang.accounts.testing import user_in
    from anchang.customers.models import Customer
    from anchang.inventory.testing import project_with_units
    from anchang.reception.rotation import rotation_sign_in

    now = timezone.now()
    with transaction.atomic():
        project = project_with_units(buildings=4, floors=18, units_per_floor=4, name="基准花园")
        # Consultants never log in during the run: a fast hasher keeps seeding to a second or two.
        with override_settings(PASSWORD_HASHERS=["django.contrib.auth.hashers.MD5PasswordHasher"]):
            staff = [
                user_in(project, role=Role.CONSULTANT, username=f"bench-consultant-{i:02d}")
                for i in range(consultants)
            ]
        desks = [
            user_in(project, role=Role.FRONTDESK, username=f"bench-desk-{i:02d}", password=FRONTDESK_PASSWORD)
            for i in range(frontdesk)
        ]
    for consultant in staff:
        rotation_sign_in(project=project, consultant=consultant, by=consultant)

    rows: list[Customer] = []
    protected: list[str] = []
    lapsed: list[str] = []
    for i in range(customers):
        phone = pool_phone(i)
        is_protected = i % 2 == 0
        visited = now - timedelta(days=5 if is_protected else 30)
        rows.append(
            customer_row(
                project=project,
                index=i,
                phone=phone,
                owner=staff[i % len(staff)],
                protected_until=now + timedelta(days=10) if is_protected else now - timedelta(days=15),
                first_visit_at=visited,
                last_visit_at=visited,
            )
        )
        (protected if is_protected else lapsed).append(phone)
    Customer.objects.bulk_create(rows, batch_size=1000)

    return {
        "project_id": project.pk,
        "consultant_ids": [c.pk for c in staff],
        "frontdesk": [{"username": d.username, "password": FRONTDESK_PASSWORD} for d in desks],
        "returning_protected": protected,
        "returning_lapsed": lapsed,
    }


def main(argv: list[str] | None = None) -> int:
    def add_arguments(parser: argparse.ArgumentParser) -> None:
        parser.add_argument("--consultants", type=int, default=16)
        parser.add_argument("--frontdesk", type=int, default=4)
        parser.add_argument("--customers", type=int, default=4000)

    return seed_main(
        __doc__,
        argv,
        add_arguments=add_arguments,
        seed=lambda args: seed(
            consultants=args.consultants, frontdesk=args.frontdesk, customers=args.customers
        ),
    )


if __name__ == "__main__":
    sys.exit(main())
