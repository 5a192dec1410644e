"""Shared rate limits (core.ratelimit): the count lives in the database, so it holds across processes."""

import os
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from django.db import transaction
from django.utils import timezone

from anchang.core.models import RateCounter
from anchang.core.ratelimit import rate_limit_take

PROJECT_ROOT = Path(__file__).resolve().parents[3]
WINDOW = timedelta(hours=1)


@pytest.mark.django_db
def test_the_limit_is_taken_one_by_one_and_then_refused() -> None:
    assert [rate_limit_take(key="k", limit=3, window=WINDOW) for _ in range(4)] == [True, True, True, False]
    assert RateCounter.objects.get(key="k").count == 3
    assert rate_limit_take(key="other", limit=3, window=WINDOW)


@pytest.mark.django_db
def test_a_new_window_starts_from_zero() -> None:
    start = timezone.now()
    for _ in range(2):
        rate_limit_take(key="k", limit=2, window=WINDOW, now=start)
    assert not rate_limit_take(key="k", limit=2, window=WINDOW, now=start + timedelta(minutes=59))
    assert rate_limit_take(key="k", limit=2, window=WINDOW, now=start + WINDOW)
    assert RateCounter.objects.get(key="k").count == 1


@pytest.mark.django_db
def test_a_use_rolled_back_is_not_counted() -> None:
    with pytest.raises(RuntimeError), transaction.atomic():
        assert rate_limit_take(key="k", limit=1, window=WINDOW)
        raise RuntimeError("the booking it allowed failed")
    assert rate_limit_take(key="k", limit=1, window=WINDOW)


# Each process books ten times from the same address, all starting at the same moment.
_BOOKER = """
import os, time
from datetime import datetime, timedelta, time as clock
from django.utils import timezone
from anchang.core.testing.mobiles import mobile_for
from anchang.inventory.models import Project
from anchang.reception import appointments as svc

project = Project.objects.get(code=os.environ["PROJECT_CODE"])
base = int(os.environ["PHONE_BASE"])
tomorrow = timezone.localdate() + timedelta(days=1)
start_at = timezone.make_aware(datetime.combine(tomorrow, clock(10, 30)))
time.sleep(max(0.0, float(os.environ["GO_AT"]) - time.time()))
made = refused = 0
for n in range(10):
    try:
        svc.appointment_book_online(
            project=project, client_key="one-address", name="陈女士", phone=mobile_for(base + n),
            start_at=start_at, party_size=1, consultant=None, source="", consent=True,
        )
        made += 1
    except svc.BookingRateLimited:
        refused += 1
print(f"RESULT {made} {refused}")
"""

_SETUP = """
from anchang.inventory.testing import project_with_units
print("CODE", project_with_units(buildings=1, floors=1, units_per_floor=1).code)
"""


@pytest.fixture(params=["sqlite", "postgresql"])
def shared_database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A database of its own for the processes below: a SQLite file, or (when the tests run on
    PostgreSQL) a fresh database on the same server, dropped afterwards."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'shared.sqlite3'}"
        return
    server = os.environ.get("DATABASE_URL", "")
    if not server.startswith("postgres"):
        pytest.skip("needs PostgreSQL: `make test` runs it against a throwaway cluster")
    import psycopg

    name = f"ratelimit_{os.getpid()}"
    admin = urlsplit(server)._replace(path="/postgres").geturl()
    with psycopg.connect(admin, autocommit=True) as connection:
        connection.execute(f'CREATE DATABASE "{name}"')
    try:
        yield urlsplit(server)._replace(path=f"/{name}").geturl()
    finally:
        with psycopg.connect(admin, autocommit=True) as connection:
            connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def test_two_processes_booking_from_one_address_share_one_limit(
    tmp_path: Path, shared_database_url: str
) -> None:
    """Two app processes (two gunicorn workers, or two servers) on one database: ten bookings an
    hour from one address in all, not ten per process as a per-process cache would allow."""
    from anchang.reception.appointments import ONLINE_BOOKINGS_PER_IP_PER_HOUR

    env = {
        **os.environ,
        "DATABASE_URL": shared_database_url,
        "ANCHANG_VAR_DIR": str(tmp_path),
        "LOG_FORMAT": "plain",
    }
    manage = [sys.executable, str(PROJECT_ROOT / "manage.py")]
    subprocess.run([*manage, "migrate", "-v", "0"], env=env, check=True, cwd=PROJECT_ROOT, timeout=180)
    setup = subprocess.run(
        [*manage, "shell", "-c", _SETUP],
        env=env,
        check=True,
        cwd=PROJECT_ROOT,
        timeout=60,
        capture_output=True,
    )
    code = setup.stdout.decode().split("CODE", 1)[1].split()[0]
    go_at = time.time() + 8  # both interpreters are up by then
    bookers = [
        subprocess.Popen(
            [*manage, "shell", "-c", _BOOKER],
            env={**env, "PROJECT_CODE": code, "PHONE_BASE": str(base), "GO_AT": str(go_at)},
            cwd=PROJECT_ROOT,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for base in (1000, 2000)
    ]
    results = []
    for booker in bookers:
        stdout, stderr = booker.communicate(timeout=120)
        assert booker.returncode == 0, stderr
        made, refused = (int(n) for n in stdout.split("RESULT", 1)[1].split())
        results.append((made, refused))
    assert sum(made for made, _ in results) == ONLINE_BOOKINGS_PER_IP_PER_HOUR
    assert sum(refused for _, refused in results) == 20 - ONLINE_BOOKINGS_PER_IP_PER_HOUR
