"""What the seeding scripts `bench.seed` and `bench.deals_seed` share: their command line and the
customers they bulk-create.

A seeding script runs in its own process because the settings read DATABASE_URL at import time; it
imports Django models only inside its functions, after `seed_main` has set Django up.
"""

import argparse
import json
import os
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any

SURNAMES, GIVEN_NAMES = "王李张刘陈杨黄赵吴周", "伟芳娜敏静丽强磊军洋"


def seed_main(
    doc: str | None,
    argv: list[str] | None,
    *,
    add_arguments: Callable[[argparse.ArgumentParser], None],
    seed: Callable[[argparse.Namespace], dict[str, object]],
) -> int:
    """`--out FILE` plus the script's own options; sets Django up, seeds, writes the JSON to FILE."""
    parser = argparse.ArgumentParser(description=doc, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", required=True, type=Path)
    add_arguments(parser)
    args = parser.parse_args(argv)

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "anchang.settings")
    import django

    django.setup()
    args.out.write_text(json.dumps(seed(args)))
    return 0


def customer_row(
    *,
    project: Any,
    index: int,
    phone: str,
    owner: Any,
    protected_until: datetime,
    first_visit_at: datetime,
    last_visit_at: datetime,
) -> Any:
    """Customer `index` (unsaved, for bulk_create): a two-character name from a small fixed set, the
    national `phone`, a friend's referral, visited, consenting since the first visit."""
    from anchang.customers.models import Customer, Gender, Source, Stage
    from anchang.customers.names import name_initials, name_pinyin

    name = SURNAMES[index % 10] + GIVEN_NAMES[(index // 10) % 10]
    return Customer(
        project=project,
        phone=f"+86{phone}",
        phone_last4=phone[-4:],
        name=name,
        name_pinyin=name_pinyin(name),
        name_initials=name_initials(name),
        gender=Gender.MALE if index % 3 else Gender.FEMALE,
        source=Source.FRIEND,
        stage=Stage.VISITED,
        owner=owner,
        protected_until=protected_until,
        first_visit_at=first_visit_at,
        last_visit_at=last_visit_at,
        consent_at=first_visit_at,
    )


def seed_disclosures(*, project: Any, customers: list[Any], at: datetime) -> int:
    """Each customer confirmed the risk disclosure (五证及风险提示) on an ended first visit at `at`, as
    the deals services require before a reservation or subscription: two bulk inserts, not a service
    call per buyer. Returns how many were recorded."""
    from anchang.customers.models import AttributionRule
    from anchang.reception.models import Station, Visit, VisitKind, VisitState, VisitStation

    station, _ = Station.objects.get_or_create(
        project=project,
        code="disclosure",
        defaults={"name": "五证及风险提示墙", "is_risk_disclosure": True, "required_on_first_visit": True},
    )
    visits = Visit.objects.bulk_create(
        [
            Visit(
                project=project,
                customer=customer,
                kind=VisitKind.FIRST,
                state=VisitState.ENDED,
                rule=AttributionRule.ROTATION,
                consultant_id=customer.owner_id,
                checked_in_at=at,
                checked_out_at=at,
            )
            for customer in customers
        ],
        batch_size=1000,
    )
    VisitStation.objects.bulk_create(
        [
            VisitStation(
                visit=visit, station=station, done_at=at, by_id=visit.consultant_id, customer_confirmed=True
            )
            for visit in visits
        ],
        batch_size=1000,
    )
    return len(visits)
