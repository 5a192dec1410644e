"""1,000,000 customers in one project, for the customer-search benchmark (S5), loaded with COPY.

    python -m bench.search_seed --out seed.json [--customers 1000000] [--queries 400]

Runs against DATABASE_URL (PostgreSQL only) after `manage.py migrate`, in its own process because the
settings read DATABASE_URL at import time. Creates one project, 8 consultants (the owners), one manager
(who logs in to search), then the customers:

- names from `anchang.demo.names.draw_name` (surnames weighted by rank, as real surnames are: 王 and 李
  are common, 童 and 傅 rare; 2 % compound surnames, 1 % surnames with several readings such as 曾 单);
- `name_pinyin` / `name_initials` exactly as `Customer.save()` computes them
  (`anchang.customers.names`): pypinyin is asked once per distinct surname and once per distinct given
  name, and the readings are combined here the way `names._readings` combines them. A sample of rows is
  checked against the app's own functions before anything is written;
- unique valid mainland mobiles (the prefixes of `anchang.core.testing.mobiles`, 8 random digits drawn
  without repetition) and their `phone_last4`;
- 80 % owned by one of the consultants (protected for 30 days after the last visit), 20 % in the public
  pool; stages, sources, intent levels and two years of timestamps drawn at random.

The rows go in through one `COPY … FROM STDIN` (psycopg 3 `cursor.copy()`) with the table's secondary
indexes dropped first and re-created afterwards from their own `pg_indexes.indexdef` (the same
definitions, built in one pass instead of 1M index insertions); the primary key and the unique
(project, phone) constraint stay in place throughout. Then `VACUUM ANALYZE`. The customers' history
table is not filled (search never reads it).

Writes the JSON the benchmark needs: ids, the manager's login, the timings of each step, and query
strings drawn from the rows actually written (last-4 digits, name prefixes, full names, initials).
"""

import argparse
import json
import os
import random
import sys
import time
from datetime import UTC, datetime, timedelta
from itertools import product
from pathlib import Path
from typing import Any, cast

MANAGER_PASSWORD = "bench-manager-pass-5173"
CONSULTANTS = 8
TABLE = "customers_customer"
COLUMNS = (
    "created_at", "updated_at", "phone", "phone_last4", "name", "name_pinyin", "name_initials", "gender",
    "source", "stage", "protected_until", "first_visit_at", "last_visit_at", "is_owner", "consent_at",
    "owner_id", "project_id", "household_of_id", "intent_level", "last_contact_at", "pool_reason",
    "pooled_at",
)  # fmt: skip
CHUNK_ROWS = 50_000
# Must match anchang.customers.names (asserted on a sample before the load).
MAX_VARIANTS = 8
PINYIN_MAX, INITIALS_MAX = 200, 100


class Readings:
    """Per-character readings as `names._readings` gets them, asked of pypinyin once per distinct
    surname (every reading) and once per distinct given name (its common reading, phrase-aware)."""

    def __init__(self) -> None:
        from pypinyin import Style, pinyin

        self._pinyin = pinyin
        self.styles = {"pinyin": Style.NORMAL, "initials": Style.FIRST_LETTER}
        self._surnames: dict[tuple[str, str], list[list[str]]] = {}
        self._given: dict[tuple[str, str], list[list[str]]] = {}
        self._combined: dict[tuple[str, str, str], str] = {}

    def _per_char(self, text: str, style_key: str, heteronym: bool) -> list[list[str]]:
        got = self._pinyin(
            text, style=self.styles[style_key], heteronym=heteronym, errors=lambda chars: chars.lower()
        )
        return [[r.lower() for r in readings if r] or [""] for readings in got]

    def keys(self, surname: str, given: str, style_key: str) -> str:
        cache_key = (surname, given, style_key)
        found = self._combined.get(cache_key)
        if found is not None:
            return found
        s = self._surnames.get((surname, style_key))
        if s is None:
            s = self._surnames[(surname, style_key)] = self._per_char(surname, style_key, True)
        g = self._given.get((given, style_key))
        if g is None:
            g = self._given[(given, style_key)] = self._per_char(given, style_key, False)
        variants = []
        for combo in product(*s, *g):
            variants.append("".join(combo))
            if len(variants) >= MAX_VARIANTS:
                break
        limit = PINYIN_MAX if style_key == "pinyin" else INITIALS_MAX
        value = " ".join(sorted(set(variants)))[:limit]
        self._combined[cache_key] = value
        return value


def surname_weights(surnames: tuple[str, ...]) -> list[float]:
    # The demo list is "roughly in order of frequency"; a rank^-0.7 law gives 王 ≈ 7 %, the 10th ≈ 1.5 %,
    # the 100th ≈ 0.3 %, close to China's census shares.
    return [1 / (rank + 1) ** 0.7 for rank in range(len(surnames))]


def setup_people() -> dict[str, Any]:
    from django.db import transaction
    from django.test.utils import override_settings

    from anchang.accounts.models import Role
    from anchang.accounts.testing import user_in
    from anchang.inventory.models import Project
    from anchang.inventory.testing import ProjectFactory

    with transaction.atomic():
        project = cast(Project, ProjectFactory(name="搜索基准花园"))
        with override_settings(PASSWORD_HASHERS=["django.contrib.auth.hashers.MD5PasswordHasher"]):
            consultants = [
                user_in(project, role=Role.CONSULTANT, username=f"bench-s5-consultant-{i}")
                for i in range(CONSULTANTS)
            ]
        manager = user_in(project, role=Role.MANAGER, username="bench-s5-manager", password=MANAGER_PASSWORD)
    return {
        "project_id": project.pk,
        "consultant_ids": [c.pk for c in consultants],
        "manager": {"username": manager.username, "password": MANAGER_PASSWORD},
    }


def generate(
    *, count: int, project_id: int, owners: list[int], rng: random.Random
) -> tuple[list[bytes], dict[str, Any]]:
    """The COPY text (tab-separated, in chunks) and what the benchmark needs to know of the rows."""
    from anchang.core.testing.mobiles import MOBILE_PREFIXES
    from anchang.demo.names import COMMON_SURNAMES, COMPOUND_SURNAMES, HETERONYM_SURNAMES, draw_name

    readings = Readings()
    weights = surname_weights(COMMON_SURNAMES)
    cum: list[float] = []
    total = 0.0
    for w in weights:
        total += w
        cum.append(total)
    surnames = rng.choices(COMMON_SURNAMES, cum_weights=cum, k=count)
    # Unique numbers: distinct draws from prefixes × 10^8.
    numbers = rng.sample(range(len(MOBILE_PREFIXES) * 10**8), count)

    now = datetime.now(UTC).replace(microsecond=0)
    start = now - timedelta(days=730)
    sources = ("passing_by", "friend", "online", "outdoor_ad", "phone", "old_owner", "agency", "event")
    intents = ("A", "B", "C", "D", "", "")

    def ts(dt: datetime) -> str:
        return dt.strftime("%Y-%m-%d %H:%M:%S+00")

    # Timestamps are drawn from a few thousand precomputed instants (hour resolution over two years):
    # formatting a million datetimes would cost more than the rest of the row.
    hours = 730 * 24
    stamps = [ts(start + timedelta(hours=h)) for h in range(hours + 24 * 31)]
    now_s = ts(now)

    chunks: list[bytes] = []
    lines: list[str] = []
    last4: list[str] = []
    samples: list[tuple[str, str, str]] = []  # (name, surname, given) of a few rows, for queries
    sample_every = max(1, count // 4000)
    pid = str(project_id)
    random_ = rng.random
    randrange = rng.randrange
    for i in range(count):
        roll = random_()
        if roll < 0.02:
            surname = rng.choice(COMPOUND_SURNAMES)
        elif roll < 0.03:
            surname = rng.choice(HETERONYM_SURNAMES)
        else:
            surname = surnames[i]
        person = draw_name(rng, surname=surname)
        name = person.name
        given = name[len(surname) :]
        pinyin_key = readings.keys(surname, given, "pinyin")
        initials_key = readings.keys(surname, given, "initials")
        n = numbers[i]
        phone = MOBILE_PREFIXES[n // 10**8] + f"{n % 10**8:08d}"
        first_h = randrange(hours)
        last_h = first_h + int(random_() ** 3 * (hours - first_h))
        first, last = stamps[first_h], stamps[last_h]
        r = random_()
        stage = "visited" if r < 0.85 else "lead" if r < 0.95 else "subscribed" if r < 0.99 else "owner"
        if random_() < 0.8:
            owner = str(owners[i % len(owners)])
            protected, pooled, reason = stamps[last_h + 24 * 30], "\\N", ""
        else:
            owner, protected = "\\N", stamps[min(last_h + 24 * 30, hours - 1)]
            pooled, reason = stamps[min(last_h + 24 * 31, hours + 24 * 30)], "protection_expired"
        lines.append(
            "\t".join(
                (
                    first,
                    now_s,
                    "+86" + phone,
                    phone[-4:],
                    name,
                    pinyin_key,
                    initials_key,
                    person.gender,
                    sources[randrange(len(sources))],
                    stage,
                    protected,
                    first,
                    last,
                    "t" if stage == "owner" else "f",
                    first,
                    owner,
                    pid,
                    "\\N",
                    intents[randrange(len(intents))],
                    last,
                    reason,
                    pooled,
                )
            )
        )
        if i % 10 == 0:
            last4.append(phone[-4:])
        if i % sample_every == 0:
            samples.append((name, surname, given))
        if len(lines) == CHUNK_ROWS:
            chunks.append(("\n".join(lines) + "\n").encode())
            lines = []
    if lines:
        chunks.append(("\n".join(lines) + "\n").encode())
    info = {
        "last4": last4,
        "samples": samples,
        "readings": readings,
        "distinct_surnames": len({s for s, _k in readings._surnames}),
        "distinct_given": len({g for g, _k in readings._given}),
    }
    return chunks, info


def check_readings(readings: Readings, samples: list[tuple[str, str, str]], rng: random.Random) -> int:
    """The combined keys equal what `Customer.save()` would store, on a sample of names."""
    from anchang.customers.names import name_initials, name_pinyin

    checked = rng.sample(samples, min(2000, len(samples)))
    for name, surname, given in checked:
        mine = (readings.keys(surname, given, "pinyin"), readings.keys(surname, given, "initials"))
        theirs = (name_pinyin(name), name_initials(name))
        if mine != theirs:
            raise AssertionError(f"search keys differ from the app's for {name}: {mine} != {theirs}")
    return len(checked)


def queries(info: dict[str, Any], n: int, rng: random.Random) -> dict[str, list[str]]:
    """Search strings a front desk would type, drawn from rows that exist."""
    readings: Readings = info["readings"]
    samples = info["samples"]
    long = [s for s in samples if len(s[0]) >= 3]
    short = [s for s in samples if len(s[0]) == 2]

    def first_initials(s: tuple[str, str, str]) -> str:
        return readings.keys(s[1], s[2], "initials").split(" ")[0]

    return {
        "digits": rng.sample(info["last4"], n),
        "name_prefix": [s[1] + s[2][:1] for s in rng.choices(long, k=n)],  # 王伟 for 王伟强
        "name_full": [s[0] for s in rng.choices(samples, k=n)],  # 2, 3 or 4 characters, as drawn
        "initials": [first_initials(s) for s in rng.choices(long, k=n)],  # wwq for 王伟强
        "initials_2": [first_initials(s) for s in rng.choices(short, k=n)],  # wl for 王磊
    }


def load(chunks: list[bytes]) -> dict[str, float]:
    from django.db import connection

    timings: dict[str, float] = {}
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT indexname, indexdef FROM pg_indexes WHERE tablename = %s AND indexname NOT IN "
            "(SELECT conname FROM pg_constraint WHERE conrelid = %s::regclass)",
            [TABLE, TABLE],
        )
        indexes = cursor.fetchall()
        t = time.monotonic()
        for name, _definition in indexes:
            cursor.execute(f'DROP INDEX "{name}"')
        raw = cursor.cursor  # the psycopg 3 cursor under Django's wrapper
        with raw.copy(f"COPY {TABLE} ({', '.join(COLUMNS)}) FROM STDIN") as copy:
            for chunk in chunks:
                copy.write(chunk)
        timings["copy_s"] = round(time.monotonic() - t, 1)
        t = time.monotonic()
        cursor.execute("SET maintenance_work_mem = '1GB'")
        for _name, definition in indexes:
            cursor.execute(definition)
        timings["indexes_s"] = round(time.monotonic() - t, 1)
        timings["indexes_rebuilt"] = len(indexes)
        t = time.monotonic()
        cursor.execute(f"VACUUM (ANALYZE) {TABLE}")
        timings["vacuum_analyze_s"] = round(time.monotonic() - t, 1)
    return timings


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--out", required=True, type=Path)
    parser.add_argument("--customers", type=int, default=1_000_000)
    parser.add_argument("--queries", type=int, default=400, help="query strings of each kind to draw")
    parser.add_argument("--random-seed", type=int, default=20261127)
    args = parser.parse_args(argv)

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "anchang.settings")
    import django

    django.setup()
    from django.db import connection

    if connection.vendor != "postgresql":
        raise SystemExit("bench.search_seed needs PostgreSQL (DATABASE_URL)")
    rng = random.Random(args.random_seed)
    began = time.monotonic()
    people = setup_people()
    t = time.monotonic()
    chunks, info = generate(
        count=args.customers, project_id=people["project_id"], owners=people["consultant_ids"], rng=rng
    )
    generate_s = round(time.monotonic() - t, 1)
    checked = check_readings(info["readings"], info["samples"], rng)
    timings = {"generate_rows_s": generate_s, **load(chunks)}
    timings["total_s"] = round(time.monotonic() - began, 1)
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT count(*), pg_total_relation_size('{TABLE}') FROM {TABLE}")
        rows, size = cursor.fetchone()
    data = {
        **people,
        "customers": rows,
        "table_mb": round(size / 2**20),
        "timings": timings,
        "distinct_surnames": info["distinct_surnames"],
        "distinct_given_names": info["distinct_given"],
        "search_keys_checked_against_app": checked,
        "queries": queries(info, args.queries, rng),
    }
    args.out.write_text(json.dumps(data, ensure_ascii=False))
    return 0


if __name__ == "__main__":
    sys.exit(main())
