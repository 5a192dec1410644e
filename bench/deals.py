"""S3, S4, R2 — opening day: many buyers, few units, and a crash in the middle (docs/quality.md).

Registered in `bench/run.py`. Each benchmark gets a fresh database in the run's PostgreSQL cluster,
`migrate`, `bench.deals_seed` (one project, 200 units, the buyers, front desk tokens) and gunicorn with
4 sync workers; the load is `bench/subscription_load.py`. After the load the database is read
directly (psycopg, no Django) and every invariant is checked:

- sold: occupying subscriptions (pending_approval / active / contracted) and units in status
  `subscribed`, both exactly the number of units;
- double sold: units with more than one occupying subscription (`GROUP BY unit_id HAVING count(*) > 1`);
- status agreement: a unit is `subscribed` if and only if an occupying subscription points at it;
- answers against rows: every 201 a client received names a stored, occupying subscription with the
  same id, unit and customer (no wrong success); rows no client heard of are counted too;
- buyers with two units (each buyer stops after a success, so none in S3).

The checker proves it can fail: the same checks run once more inside a transaction that drops the
partial unique index, plants a second subscription on a sold unit, marks another sold unit available
and adds a 201 for an id that does not exist — then rolls back. Each planted fault must be reported.

- **S3**: 2,000 buyers over 64 connections for 200 units. value = subscriptions per minute while the
  units sold (200 ÷ time of the last 201); pass = exactly 200 sold, 0 double sold, statuses agree,
  every 201 stored, every failed attempt a 409, 0 5xx, ≥ 1,200/min, p99 of the POSTs < 1 s.
- **S4**: 500 buyers, one unit, 500 connections opened first and then released at once. value =
  winners; pass = 1 winner, 499 × 409, 0 5xx, no connection without an answer, the row agrees.
- **R2**: S3's load on a fresh database; when a quarter of the units are sold one gunicorn worker is
  killed with SIGKILL (the master starts another), when half are sold PostgreSQL is restarted
  (`pg_ctl restart -m fast`). value = 1 if every invariant held afterwards, else 0; errors (no answer,
  5xx) are allowed, a wrong success is not.
"""

import json
import os
import signal
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import psycopg

from bench.infra import PYTHON, CpuWindow, HarnessError, log, run
from bench.subscription_load import OCCUPYING, BuyersSpec, HotSpotSpec, run_buyers, run_hot_spot, warm_up

if TYPE_CHECKING:
    from bench.infra import Gunicorn
    from bench.run import Entry, Harness

RATE_BAR = 1200  # subscriptions per minute
P99_BAR_MS = 1000.0


def _row(figure: str, value: str, baseline: str = "", bar: str = "", ok: bool | None = None) -> list[str]:
    verdict = "" if ok is None else ("PASS" if ok else "FAIL")
    return [figure, value, baseline, bar, verdict]


def _sizes(h: "Harness") -> tuple[int, int, int]:
    """(buildings of 40 units, buyers, connections) for S3 and R2."""
    return (1, 400, 16) if h.quick else (5, 2000, 64)


def _prepare(
    h: "Harness", key: str, *, buildings: int, customers: int
) -> tuple[str, dict[str, str], dict[str, Any]]:
    name = key.lower()
    url = h.database(f"bench_{name}")
    env = h.app_env(name, url)
    log(f"{key}: migrate")
    run([PYTHON, "manage.py", "migrate", "--noinput", "-v", "0"], env=env, what="migrate")
    log(f"{key}: seed ({buildings * 40} units, {customers:,} buyers, 8 front desk tokens)")
    out = h.workdir / f"seed-{name}.json"
    cmd = [PYTHON, "-m", "bench.deals_seed", "--out", str(out), "--buildings", str(buildings)]
    run([*cmd, "--customers", str(customers)], env=env, what="bench.deals_seed")
    seed: dict[str, Any] = json.loads(out.read_text())
    return url, env, seed


def _buyers_spec(server: "Gunicorn", seed: dict[str, Any], connections: int, label: str) -> BuyersSpec:
    return BuyersSpec(
        host="127.0.0.1",
        port=server.port,
        project_id=seed["project_id"],
        tokens=seed["tokens"],
        customer_ids=seed["customer_ids"],
        connections=connections,
        processes=min(4, connections),
        label=label,
    )


def _warm(key: str, server: "Gunicorn", seed: dict[str, Any]) -> dict[str, int]:
    """Every worker serves its first requests before the doors open; nothing is sold."""
    started = time.monotonic()
    statuses = warm_up(
        "127.0.0.1",
        server.port,
        project_id=seed["project_id"],
        tokens=seed["tokens"],
        customer_id=seed["customer_ids"][0],
        unit_id=seed["unit_ids"][0],
    )
    log(f"{key}: warm-up {statuses} in {time.monotonic() - started:.1f} s")
    if set(statuses) != {"200", "400"}:
        raise HarnessError(f"{key}: warm-up answered {statuses}, expected only 200 and 400")
    return statuses


# --- the invariants, read from the database ----------------------------------------------------------


def _checks(conn: psycopg.Connection[Any], project_id: int, wins: list[dict[str, Any]]) -> dict[str, Any]:
    occupying = list(OCCUPYING)

    def rows(sql: str, *params: Any) -> list[tuple[Any, ...]]:
        return conn.execute(sql, params).fetchall()

    double = rows(
        "SELECT unit_id, count(*) FROM deals_subscription WHERE status = ANY(%s) "
        "GROUP BY unit_id HAVING count(*) > 1",
        occupying,
    )
    mismatched = rows(
        "SELECT u.id, u.status FROM inventory_unit u WHERE u.project_id = %s AND (u.status = 'subscribed') "
        "<> EXISTS (SELECT 1 FROM deals_subscription s WHERE s.unit_id = u.id AND s.status = ANY(%s))",
        project_id,
        occupying,
    )
    units, units_subscribed = rows(
        "SELECT count(*), count(*) FILTER (WHERE status = 'subscribed') FROM inventory_unit "
        "WHERE project_id = %s",
        project_id,
    )[0]
    stored = {
        pk: (unit_id, customer_id, status)
        for pk, unit_id, customer_id, status in rows(
            "SELECT id, unit_id, customer_id, status FROM deals_subscription WHERE project_id = %s",
            project_id,
        )
    }
    two_units = rows(
        "SELECT customer_id FROM deals_subscription WHERE status = ANY(%s) GROUP BY customer_id "
        "HAVING count(*) > 1",
        occupying,
    )
    told = {w["id"] for w in wins}
    missing = [w for w in wins if w["id"] not in stored]
    differing = [
        w
        for w in wins
        if w["id"] in stored
        and (stored[w["id"]][:2] != (w["unit_id"], w["customer_id"]) or stored[w["id"]][2] not in OCCUPYING)
    ]
    sold = sum(1 for _, _, status in stored.values() if status in OCCUPYING)
    return {
        "units": units,
        "sold": sold,
        "units_subscribed": units_subscribed,
        "double_sold": len(double),
        "double_sold_units": [unit for unit, _ in double[:10]],
        "status_mismatch": len(mismatched),
        "status_mismatch_units": [f"{pk}:{status}" for pk, status in mismatched[:10]],
        "answers_201": len(wins),
        "answers_201_repeated_ids": len(wins) - len(told),
        "answers_201_without_row": len(missing),
        "answers_201_differing_from_row": len(differing),
        "wrong_success_samples": [str(w) for w in (missing + differing)[:5]],
        "rows_without_201": len(set(stored) - told),
        "buyers_with_two_units": len(two_units),
    }


def check_database(url: str, project_id: int, wins: list[dict[str, Any]]) -> dict[str, Any]:
    """The invariants; then the control: the same checks must see faults planted in a transaction
    that is rolled back."""
    with psycopg.connect(url, autocommit=True, connect_timeout=10) as conn:
        found = _checks(conn, project_id, wins)
    with psycopg.connect(url, connect_timeout=10) as conn:  # one transaction, rolled back below
        sold = conn.execute(
            "SELECT s.id, s.unit_id FROM deals_subscription s WHERE s.project_id = %s AND s.status = ANY(%s) "
            "ORDER BY s.id LIMIT 2",
            (project_id, list(OCCUPYING)),
        ).fetchall()
        if len(sold) < 2:
            control = {"ran": False, "why": "fewer than 2 sold units to plant faults on"}
        else:
            (twin_of, _), (_, other_unit) = sold
            conn.execute("DROP INDEX subscription_one_active_per_unit")
            conn.execute(
                "CREATE TEMP TABLE planted AS SELECT * FROM deals_subscription WHERE id = %s", (twin_of,)
            )
            conn.execute("UPDATE planted SET id = (SELECT max(id) + 1 FROM deals_subscription)")
            conn.execute("INSERT INTO deals_subscription SELECT * FROM planted")
            conn.execute("UPDATE inventory_unit SET status = 'available' WHERE id = %s", (other_unit,))
            phantom = {"id": -1, "unit_id": other_unit, "customer_id": -1, "status": "active", "at": 0.0}
            planted = _checks(conn, project_id, [*wins, phantom])
            conn.rollback()
            control = {
                "ran": True,
                "double_sold_seen": planted["double_sold"] > found["double_sold"],
                "status_mismatch_seen": planted["status_mismatch"] > found["status_mismatch"],
                "wrong_success_seen": planted["answers_201_without_row"] > found["answers_201_without_row"],
                "unreported_row_seen": planted["rows_without_201"] > found["rows_without_201"],
            }
        control["ok"] = bool(control["ran"]) and all(v for k, v in control.items() if k.endswith("_seen"))
    found["checker_control"] = control
    return found


def _invariants_hold(db: dict[str, Any]) -> bool:
    return (
        db["sold"] == db["units"]
        and db["units_subscribed"] == db["units"]
        and db["double_sold"] == 0
        and db["status_mismatch"] == 0
        and db["answers_201_without_row"] == 0
        and db["answers_201_differing_from_row"] == 0
        and db["answers_201_repeated_ids"] == 0
    )


def _invariant_rows(db: dict[str, Any], wrong_answers: list[str]) -> list[list[str]]:
    ok_answers = (
        db["answers_201_without_row"] == 0
        and db["answers_201_differing_from_row"] == 0
        and db["answers_201_repeated_ids"] == 0
        and not wrong_answers
    )
    control = db["checker_control"]
    return [
        _row(
            "units sold (occupying subscriptions / units subscribed)",
            f"{db['sold']} / {db['units_subscribed']}",
            f"{db['units']} units",
            f"exactly {db['units']}",
            db["sold"] == db["units"] == db["units_subscribed"],
        ),
        _row(
            "units with two occupying subscriptions", str(db["double_sold"]), "", "0", db["double_sold"] == 0
        ),
        _row(
            "units whose status disagrees with their subscriptions",
            str(db["status_mismatch"]),
            ", ".join(db["status_mismatch_units"]),
            "0",
            db["status_mismatch"] == 0,
        ),
        _row(
            "201 answers without the same stored row (wrong success)",
            str(db["answers_201_without_row"] + db["answers_201_differing_from_row"] + len(wrong_answers)),
            f"{db['answers_201']} answers 201; {db['rows_without_201']} stored rows no client heard of",
            "0",
            ok_answers,
        ),
        _row(
            "checker control: planted faults reported",
            "yes" if control["ok"] else "NO",
            "double sale, unit status, phantom 201, unreported row (rolled back)",
            "all four",
            control["ok"],
        ),
    ]


def _cpu_row(cpu: dict[str, float], load: dict[str, Any], host: dict[str, Any]) -> list[str]:
    ours = (
        cpu.get("gunicorn_cpu_cores", 0) + cpu.get("postgres_cpu_cores", 0) + (load["client_cpu_cores"] or 0)
    )
    others = round(cpu.get("machine_busy_cores", 0) - ours, 2)
    return _row(
        "CPU during the load (cores)",
        f"gunicorn {cpu.get('gunicorn_cpu_cores')} + PostgreSQL {cpu.get('postgres_cpu_cores')}",
        f"load generator {load['client_cpu_cores']}; machine busy {cpu.get('machine_busy_cores')} of "
        f"{host['nproc']} cores, of which other work on the machine ≈ {others}",
    )


def _load_details(load: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in load.items() if k not in ("wins", "failures")}


# --- S3 -----------------------------------------------------------------------------------------------


def s3(h: "Harness") -> "Entry":
    buildings, buyers, connections = _sizes(h)
    url, env, seed = _prepare(h, "S3", buildings=buildings, customers=buyers)
    with h.serve(env, "S3") as server:
        warm = _warm("S3", server, seed)
        window = CpuWindow({"gunicorn": server.pids, "postgres": h.postgres().pids})
        spec = _buyers_spec(server, seed, connections, "S3")
        log(f"S3: {buyers:,} buyers over {connections} connections for {seed['units']} units")
        load = run_buyers(spec, during=lambda sold, t_go: window.mark("start"))
        window.mark("end")
    cpu = window.cores()
    db = check_database(url, seed["project_id"], load["wins"])
    _log_buyers("S3", load, db)

    post_lat, get_lat = load["post_latency_ms"], load["get_latency_ms"]
    rate = load["rate_per_min"]
    units = seed["units"]
    ok_invariants = _invariants_hold(db) and not load["wrong_answers"] and db["buyers_with_two_units"] == 0
    ok_losers = load["post_not_201_or_409"] == 0 and load["get_not_200"] == 0
    ok_5xx = load["errors_5xx"] == 0
    ok_rate = rate >= RATE_BAR
    ok_p99 = post_lat["p99"] is not None and post_lat["p99"] < P99_BAR_MS
    ok_control = db["checker_control"]["ok"]
    passed = ok_invariants and ok_losers and ok_5xx and ok_rate and ok_p99 and ok_control
    statuses = load["post_statuses"]
    outcomes = load["outcomes"]
    table = [
        _row(
            "subscriptions per minute while units sold",
            f"{rate:,.0f}/min",
            f"{load['won']} sold in {load['sold_out_s']} s; {buyers:,} buyers, {connections} connections; "
            f"{load['rate_over_whole_run_per_min']:,.0f}/min over the whole run ({load['duration_s']} s, "
            "until the last buyer found the board empty)",
            f"≥ {RATE_BAR:,.0f}/min",
            ok_rate,
        ),
        *_invariant_rows(db, load["wrong_answers"]),
        _row(
            "buyers holding two units",
            str(db["buyers_with_two_units"]),
            "",
            "0",
            db["buyers_with_two_units"] == 0,
        ),
        _row(
            "POST answers: 201 / 409 / other",
            f"{statuses.get('201', 0)} / {statuses.get('409', 0)} / {load['post_not_201_or_409']}",
            f"board reads not 200: {load['get_not_200']}",
            "losers 409",
            ok_losers,
        ),
        _row("5xx answers", str(load["errors_5xx"]), f"no answer at all: {load['no_answer']}", "0", ok_5xx),
        _row(
            "POST latency p50 / p99",
            f"{post_lat['p50']} / {post_lat['p99']} ms",
            f"max {post_lat['max']} ms, {load['posts']} POSTs",
            "p99 < 1,000 ms",
            ok_p99,
        ),
        _row(
            "board read (GET …/units?status=available) p50 / p99",
            f"{get_lat['p50']} / {get_lat['p99']} ms",
            f"{load['gets']} reads",
        ),
        _row(
            "buyers: won / gave up after 3 × 409 / found nothing left",
            f"{outcomes.get('won', 0)} / {outcomes.get('gave_up', 0)} / {outcomes.get('sold_out', 0)}",
            f"got nothing: {buyers - outcomes.get('won', 0)}; whole run {load['duration_s']} s",
        ),
        _row(
            "attempts per winner (1 / 2 / 3)",
            " / ".join(str(load["attempts_of_winners"].get(str(n), 0)) for n in (1, 2, 3)),
        ),
        _cpu_row(cpu, load, h.host),
    ]
    details = {
        "rate_per_min": rate,
        "rate_over_whole_run_per_min": load["rate_over_whole_run_per_min"],
        "sold_out_s": load["sold_out_s"],
        "run_s": load["duration_s"],
        "sold": db["sold"],
        "units": units,
        "double_sold": db["double_sold"],
        "status_codes": {
            "201": statuses.get("201", 0),
            "409": statuses.get("409", 0),
            "other": load["post_not_201_or_409"],
            "5xx": load["errors_5xx"],
        },
        "p50_ms": post_lat["p50"],
        "p99_ms": post_lat["p99"],
        "buyers": buyers,
        "buyers_with_nothing": buyers - outcomes.get("won", 0),
        "connections": connections,
        "database": db,
        "load": _load_details(load),
        **cpu,
        "gunicorn_workers": 4,
        "warm_up": warm,
        "price": "each unit's list price (no approval needed)",
        "deposit": "50000.00",
    }
    return h.entry(
        "S3",
        value=rate,
        bar=RATE_BAR,
        unit="subscriptions/min (pass needs every invariant)",
        passed=passed,
        baseline=None,
        details=details,
        table=table,
    )


def _log_buyers(key: str, load: dict[str, Any], db: dict[str, Any]) -> None:
    lat = load["post_latency_ms"]
    log(
        f"{key}: {load['won']} sold in {load['sold_out_s']} s ({load['rate_per_min']}/min), "
        f"run {load['duration_s']} s, POST {load['post_statuses']}, GET {load['get_statuses']}, "
        f"POST p50 {lat['p50']} / p99 {lat['p99']} ms"
    )
    log(
        f"{key}: database: sold {db['sold']}/{db['units']}, double {db['double_sold']}, status mismatch "
        f"{db['status_mismatch']}, 201 without row {db['answers_201_without_row']}, rows without 201 "
        f"{db['rows_without_201']}, control {db['checker_control']}"
    )
    for sample in load["error_samples"]:
        log(f"  error: {sample}")


# --- S4 -----------------------------------------------------------------------------------------------


def s4(h: "Harness") -> "Entry":
    buyers = 100 if h.quick else 500
    url, env, seed = _prepare(h, "S4", buildings=5, customers=buyers)
    unit_id = seed["unit_ids"][0]
    with h.serve(env, "S4") as server:
        warm = _warm("S4", server, seed)
        spec = HotSpotSpec(
            host="127.0.0.1",
            port=server.port,
            tokens=seed["tokens"],
            customer_ids=seed["customer_ids"],
            unit_id=unit_id,
            price=seed["list_prices"][str(unit_id)],
            label="S4",
        )
        log(f"S4: {buyers} connections open, then {buyers} POSTs for unit {unit_id} at once")
        load = run_hot_spot(spec)
    with psycopg.connect(url, autocommit=True, connect_timeout=10) as conn:
        stored = conn.execute(
            "SELECT id, customer_id, status FROM deals_subscription WHERE unit_id = %s", (unit_id,)
        ).fetchall()
        unit_status = conn.execute("SELECT status FROM inventory_unit WHERE id = %s", (unit_id,)).fetchone()
        others = conn.execute(
            "SELECT count(*) FROM deals_subscription WHERE unit_id <> %s", (unit_id,)
        ).fetchone()
    occupying = [r for r in stored if r[2] in OCCUPYING]
    win = load["wins"][0] if load["wins"] else None
    ok_row = (
        len(stored) == 1
        and len(occupying) == 1
        and win is not None
        and (occupying[0][0], occupying[0][1]) == (win["id"], win["customer_id"])
        and unit_status is not None
        and unit_status[0] == "subscribed"
        and others is not None
        and others[0] == 0
    )
    winners = load["winners"]
    ok_winners = winners == 1
    ok_conflicts = load["conflicts"] == buyers - 1
    ok_errors = load["errors_5xx"] == 0 and load["no_answer"] == 0 and load["other"] == 0
    passed = ok_winners and ok_conflicts and ok_errors and ok_row and not load["wrong_answers"]
    lat = load["latency_ms"]
    others_4xx = load["other"] - load["errors_5xx"] - load["no_answer"]
    log(
        f"S4: {winners} winner(s), statuses {load['statuses']}, "
        f"sends spread over {load['send_spread_ms']} ms, p50 {lat['p50']} / max {lat['max']} ms; "
        f"rows {stored}, unit {unit_status}"
    )
    for sample in load["error_samples"]:
        log(f"  error: {sample}")
    table = [
        _row(
            "winners", str(winners), f"{buyers} buyers, 1 unit, {buyers} connections", "exactly 1", ok_winners
        ),
        _row("409 unit_not_available", str(load["conflicts"]), "", f"{buyers - 1}", ok_conflicts),
        _row(
            "5xx / no answer / other",
            f"{load['errors_5xx']} / {load['no_answer']} / {others_4xx}",
            f"connect errors {load['connect_errors']}",
            "0",
            ok_errors,
        ),
        _row(
            "stored: one occupying subscription, the winner's; unit subscribed",
            "yes" if ok_row else "NO",
            f"{len(stored)} row(s) for the unit, {others[0] if others else '?'} elsewhere; unit "
            f"{unit_status[0] if unit_status else '?'}",
            "yes",
            ok_row,
        ),
        _row(
            "all in flight at once",
            f"sends within {load['send_spread_ms']} ms",
            f"{buyers} connections opened first in {load['setup_s']} s (gunicorn backlog 2048, "
            f"somaxconn {_somaxconn()})",
        ),
        _row(
            "latency p50 / p99 / max",
            f"{lat['p50']} / {lat['p99']} / {lat['max']} ms",
            "4 sync workers: the requests queue in the backlog",
        ),
    ]
    details = {
        "winners": winners,
        "conflicts": load["conflicts"],
        "errors_5xx": load["errors_5xx"],
        "no_answer": load["no_answer"],
        "buyers": buyers,
        "stored_rows": [list(r) for r in stored],
        "unit_status": unit_status[0] if unit_status else None,
        "load": {k: v for k, v in load.items() if k != "wins"},
        "winner": win,
        "somaxconn": _somaxconn(),
        "warm_up": warm,
    }
    return h.entry(
        "S4",
        value=winners,
        bar=1,
        unit=f"winners ({buyers} buyers, 1 unit)",
        passed=passed,
        baseline=None,
        details=details,
        table=table,
    )


def _somaxconn() -> str:
    try:
        return Path("/proc/sys/net/core/somaxconn").read_text().strip()
    except OSError:
        return "?"


# --- R2 -----------------------------------------------------------------------------------------------


def _wait_for(condition: Callable[[], bool], timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.02)
    return True


def r2(h: "Harness") -> "Entry":
    buildings, buyers, connections = _sizes(h)
    url, env, seed = _prepare(h, "R2", buildings=buildings, customers=buyers)
    units = seed["units"]
    pg = h.postgres()
    events: dict[str, Any] = {}

    with h.serve(env, "R2") as server:
        warm = _warm("R2", server, seed)

        def crash(sold: Callable[[], int], t_go: float) -> None:
            def at() -> float:
                return round(time.monotonic() - t_go, 3)

            if not _wait_for(lambda: sold() >= units // 4, 120):
                raise HarnessError(f"R2: fewer than {units // 4} units sold after 120 s")
            workers = server.worker_pids()
            victim = workers[0]
            os.kill(victim, signal.SIGKILL)
            events["worker_killed"] = {"pid": victim, "at_s": at(), "sold_before": sold(), "workers": workers}
            log(f"R2: kill -9 gunicorn worker {victim} at {at()} s ({sold()} sold)")
            if not _wait_for(lambda: sold() >= units // 2, 120):
                raise HarnessError(f"R2: fewer than {units // 2} units sold after 120 s")
            master = next(iter(pg.pids()), None)
            events["postgres_restart"] = {"at_s": at(), "sold_before": sold(), "postmaster_before": master}
            log(f"R2: pg_ctl restart -m fast at {at()} s ({sold()} sold)")
            seconds = pg.restart()
            events["postgres_restart"].update(
                took_s=round(seconds, 2), done_at_s=at(), postmaster_after=next(iter(pg.pids()), None)
            )
            log(f"R2: PostgreSQL back after {seconds:.2f} s")
            respawned = _wait_for(lambda: len(server.worker_pids()) >= server.workers, 30)
            events["worker_respawned"] = respawned and victim not in server.worker_pids()

        spec = _buyers_spec(server, seed, connections, "R2")
        log(
            f"R2: {buyers:,} buyers over {connections} connections; worker killed at {units // 4} sold, "
            f"PostgreSQL restarted at {units // 2} sold"
        )
        load = run_buyers(spec, during=crash)
    db = check_database(url, seed["project_id"], load["wins"])
    _log_buyers("R2", load, db)

    failures = load["failures"]
    restart = events.get("postgres_restart", {})
    killed = events.get("worker_killed", {})
    recovered_at = restart.get("done_at_s", 0.0) + 2.0
    late = [f for f in failures if f[0] > recovered_at]
    kinds: dict[str, int] = {}
    for _, method, status in failures:
        kind = f"{method} " + ("no answer" if status == 0 else str(status))
        kinds[kind] = kinds.get(kind, 0) + 1
    crash_mid_run = (
        killed.get("sold_before", units) < units
        and restart.get("sold_before", units) < units
        and restart.get("postmaster_before") != restart.get("postmaster_after")
    )
    # Errors are allowed here (no answer = 0, or 5xx); any other answer than success or 409 is not.
    bad_statuses = {
        **{
            f"POST {s}": n
            for s, n in load["post_statuses"].items()
            if s not in ("201", "409", "0") and int(s) < 500
        },
        **{f"GET {s}": n for s, n in load["get_statuses"].items() if s not in ("200", "0") and int(s) < 500},
    }
    ok_invariants = _invariants_hold(db) and not load["wrong_answers"]
    ok_control = db["checker_control"]["ok"]
    held = ok_invariants and ok_control and crash_mid_run and not bad_statuses
    statuses = load["post_statuses"]
    table = [
        _row(
            "every invariant held after the crash",
            "yes" if held else "NO",
            f"worker {killed.get('pid')} killed at {killed.get('at_s')} s "
            f"({killed.get('sold_before')} sold); "
            f"PostgreSQL restarted at {restart.get('at_s')} s ({restart.get('sold_before')} sold), "
            f"back after {restart.get('took_s')} s",
            "yes",
            held,
        ),
        _row(
            "crash happened mid-run",
            "yes" if crash_mid_run else "NO",
            f"worker respawned: {events.get('worker_respawned')}; new postmaster: "
            f"{restart.get('postmaster_before')} → {restart.get('postmaster_after')}",
            "yes",
            crash_mid_run,
        ),
        *_invariant_rows(db, load["wrong_answers"]),
        _row(
            "failed requests the clients saw",
            str(len(failures)),
            ", ".join(f"{k}: {n}" for k, n in sorted(kinds.items())) or "none",
            "errors allowed",
        ),
        _row(
            "answers that are neither success, 409, 5xx nor no answer",
            str(sum(bad_statuses.values())),
            ", ".join(f"{k}: {n}" for k, n in bad_statuses.items()),
            "0",
            not bad_statuses,
        ),
        _row(
            "failures later than 2 s after PostgreSQL was back",
            str(len(late)),
            f"last failure at {failures[-1][0] if failures else '—'} s",
        ),
        _row(
            "POST answers: 201 / 409 / 5xx / no answer",
            f"{statuses.get('201', 0)} / {statuses.get('409', 0)} / "
            f"{sum(n for s, n in statuses.items() if int(s) >= 500)} / {statuses.get('0', 0)}",
            f"{load['won']} sold in {load['sold_out_s']} s ({load['rate_per_min']}/min), whole run "
            f"{load['duration_s']} s",
        ),
        _row(
            "buyers holding two units (commit went through, answer lost, bought again)",
            str(db["buyers_with_two_units"]),
        ),
    ]
    details = {
        "invariants_held": held,
        "crash_mid_run": crash_mid_run,
        "events": events,
        "failed_requests": len(failures),
        "failed_by_kind": kinds,
        "failures_after_recovery": len(late),
        "failure_times_s": [f[0] for f in failures][:200],
        "unexpected_statuses": bad_statuses,
        "database": db,
        "load": _load_details(load),
        "buyers": buyers,
        "connections": connections,
        "warm_up": warm,
    }
    return h.entry(
        "R2",
        value=1 if held else 0,
        bar=1,
        unit="invariants held (1 = yes, 0 = no)",
        passed=held,
        baseline=None,
        details=details,
        table=table,
    )


# --- docs/benchmarks.md notes ---------------------------------------------------------------------------


def s3_notes(e: "Entry") -> list[str]:
    d = e["details"]
    load = d["load"]
    return [
        f"- load (`bench/subscription_load.py`): {d['buyers']:,} buyers over {d['connections']} connections "
        f"in {load['processes']} processes; each buyer reads `GET /projects/{{pid}}/units?status=available"
        "&limit=200`, picks an available unit at random and sends `POST /units/{uid}/subscriptions` at its "
        "list price (deposit 50,000.00) with a front desk token; on 409 it re-reads the board; after 3 "
        "failed attempts, or when the board is empty, it leaves with nothing.",
        "- value: units sold ÷ time from the start to the last 201 × 60. The run goes on until every buyer "
        f"has been served ({load['duration_s']} s in all, {load['requests_per_s']} requests/s).",
        "- invariants read from the database afterwards (psycopg, no Django): occupying subscriptions "
        "grouped by unit, unit status against subscriptions, every 201 against its row. The checker is "
        "shown to fail on planted faults in a rolled-back transaction.",
        "- server: gunicorn, 4 sync workers, `DEBUG=false`; PostgreSQL 15 from `scripts/pg.sh`.",
    ]


def s4_notes(e: "Entry") -> list[str]:
    d = e["details"]
    return [
        f"- {d['buyers']} connections are opened first (they wait in gunicorn's listen backlog, "
        f"somaxconn {d['somaxconn']}), then every one sends its POST for the same unit at once — a barrier "
        "per process and one event for all processes; each buyer is a different customer.",
        "- the unit row lock (`SELECT … FOR UPDATE`) serialises the writers; the partial unique index "
        "`subscription_one_active_per_unit` would refuse a second row if it did not.",
    ]


def r2_notes(e: "Entry") -> list[str]:
    d = e["details"]
    ev = d["events"]
    killed, restart = ev.get("worker_killed", {}), ev.get("postgres_restart", {})
    return [
        "- S3's load on a fresh database. When a quarter of the units are sold, `kill -9` of one gunicorn "
        "worker (a child of the master; the master starts a new one); when half are sold, "
        "`pg_ctl restart -m fast` (every backend cut off, committed work kept).",
        f"- timeline (seconds from the start): worker {killed.get('pid')} of {killed.get('workers')} "
        f"killed at {killed.get('at_s')} after {killed.get('sold_before')} sales; `pg_ctl restart` began at "
        f"{restart.get('at_s')} after {restart.get('sold_before')} sales and took {restart.get('took_s')} s "
        f"(postmaster {restart.get('postmaster_before')} → {restart.get('postmaster_after')}); a new worker "
        f"replaced the killed one: {'yes' if ev.get('worker_respawned') else 'no'}; last failed request at "
        f"{d['failure_times_s'][-1] if d['failure_times_s'] else '—'}.",
        "- after an error (no answer, 5xx) a buyer waits 0.2 s × attempt before trying again; errors count "
        "as failed attempts. Allowed: errors. Not allowed: a 201 whose subscription is not stored as "
        "answered, a unit sold twice, a unit status that disagrees with its subscriptions, units left "
        "unsold at the end.",
        "- failed requests by kind: "
        + (", ".join(f"{kind} {n}" for kind, n in sorted(d["failed_by_kind"].items())) or "none")
        + ".",
    ]
