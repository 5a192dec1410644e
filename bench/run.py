"""The benchmark orchestrator behind `make bench` (docs/quality.md, "Speed and scale").

    python -m bench.run                 # every registered benchmark
    python -m bench.run --only S1,S2    # some (plus what they need, and S8 which rides on S1)
    python -m bench.run --quick         # short passes, to check the harness itself (figures meaningless)

Adding a benchmark is one function registered under its key:

    @benchmark("S5", "customer search at 1M customers")
    def s5(h: Harness) -> Entry:
        url = h.database("bench_s5")         # a fresh database in this run's PostgreSQL cluster
        ...
        return h.entry("S5", value=..., bar=50, unit="ms p95", passed=..., baseline=..., details={...},
                       table=[row("digits p95", ..., bar="< 50 ms", ok=...)])

`h.need("S1")` runs another benchmark first (once) and returns its entry; `h.shared` carries figures
between benchmarks of one run. Each run prints a table of figures with their baselines and bars,
merges its entries into var/bench/results.json and rewrites docs/benchmarks.md from that file.

A missed bar is printed as FAIL but the exit code stays 0 (shared machines are noisy; CI does not run
this); the exit code is 1 only when the harness itself broke, 130 on Ctrl+C. Everything started —
PostgreSQL, gunicorn, load generator processes — is stopped in every case.
"""

import argparse
import json
import secrets
import shutil
import signal
import sys
import tempfile
import time
import traceback
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from datetime import datetime
from pathlib import Path
from typing import Any

from bench import deals
from bench.checkin_load import LoadSpec, run_load
from bench.infra import (
    PYTHON,
    ROOT,
    CpuWindow,
    Gunicorn,
    HarnessError,
    PgCluster,
    base_env,
    log,
    machine,
    run,
)
from bench.search import s5 as search_s5
from bench.search import s5_notes

RESULTS = ROOT / "var" / "bench" / "results.json"
LOGS = ROOT / "var" / "bench"
DOC = ROOT / "docs" / "benchmarks.md"

Entry = dict[str, Any]
BENCHMARKS: dict[str, Callable[["Harness"], Entry]] = {}
TITLES: dict[str, str] = {}
RIDES_ON: dict[str, str] = {}  # a benchmark measured during another one is reported whenever that one runs


def benchmark(
    key: str, title: str, *, rides_on: str | None = None
) -> Callable[[Callable[["Harness"], Entry]], Callable[["Harness"], Entry]]:
    def register(fn: Callable[["Harness"], Entry]) -> Callable[["Harness"], Entry]:
        BENCHMARKS[key] = fn
        TITLES[key] = title
        if rides_on:
            RIDES_ON[key] = rides_on
        return fn

    return register


def row(figure: str, value: str, baseline: str = "", bar: str = "", ok: bool | None = None) -> list[str]:
    verdict = "" if ok is None else ("PASS" if ok else "FAIL")
    return [figure, value, baseline, bar, verdict]


def queries_row(figure: str, queries: dict[str, Any]) -> list[str]:
    """SQL statements per check-in of each visitor kind, with the attribution rule it answered."""
    return row(
        figure,
        " / ".join(str(v["queries"]) for v in queries.values()),
        " / ".join(f"{k} ({v['rule']})" for k, v in queries.items()),
    )


class Harness:
    def __init__(self, stack: ExitStack, workdir: Path, *, quick: bool, host: dict[str, Any]) -> None:
        self.host = host
        self.stack = stack
        self.workdir = workdir
        self.quick = quick
        self.results: dict[str, Entry] = {}
        self.failed: dict[str, str] = {}
        self.shared: dict[str, Any] = {}
        self._pg: PgCluster | None = None

    # -- running benchmarks --------------------------------------------------------------------------

    def need(self, key: str) -> Entry:
        if key in self.failed:
            raise HarnessError(f"{key} failed earlier in this run")
        if key not in self.results:
            log(f"── {key}: {TITLES[key]}")
            started = time.monotonic()
            try:
                entry = BENCHMARKS[key](self)
            except Exception:
                self.failed[key] = traceback.format_exc()
                raise
            entry["details"]["bench_seconds"] = round(time.monotonic() - started, 1)
            self.results[key] = entry
        return self.results[key]

    def entry(
        self,
        key: str,
        *,
        value: float | None,
        bar: float,
        unit: str,
        passed: bool,
        baseline: float | None,
        details: dict[str, Any],
        table: list[list[str]],
    ) -> Entry:
        return {
            "value": value,
            "bar": bar,
            "unit": unit,
            "pass": passed,
            "baseline": baseline,
            "title": TITLES[key],
            "measured_at": datetime.now().astimezone().isoformat(timespec="seconds"),
            "details": {**details, "machine": self.host, "table": table},
        }

    def seconds(self, normal: float, quick: float) -> float:
        return quick if self.quick else normal

    # -- what benchmarks start -----------------------------------------------------------------------

    def postgres(self) -> PgCluster:
        if self._pg is None:
            pg = PgCluster(self.workdir)
            self.stack.callback(pg.stop)  # registered first: pg.sh stop also cleans up a half-started cluster
            self._pg = pg.start()
        return self._pg

    def database(self, name: str) -> str:
        """A fresh database in this run's cluster; its DATABASE_URL."""
        return self.postgres().create_database(name)

    def app_env(self, name: str, database_url: str | None) -> dict[str, str]:
        """Production-like settings for gunicorn and manage.py; SQLite when database_url is None."""
        var = self.workdir / f"var-{name}"
        (var / "static").mkdir(parents=True, exist_ok=True)
        extra = {
            "ANCHANG_VAR_DIR": str(var),
            "DEBUG": "false",
            "LOG_LEVEL": "WARNING",
            "SECRET_KEY": secrets.token_urlsafe(48),
        }
        if database_url:
            extra["DATABASE_URL"] = database_url
        return base_env(**extra)

    def prepare(self, env: dict[str, str], name: str) -> dict[str, Any]:
        """Migrate and seed the database of `env`; returns what bench.seed wrote."""
        log(f"{name}: migrate")
        run([PYTHON, "manage.py", "migrate", "--noinput", "-v", "0"], env=env, what="migrate")
        log(f"{name}: seed (16 consultants signed in, 4 front desks, 4,000 existing customers)")
        out = self.workdir / f"seed-{name}.json"
        run([PYTHON, "-m", "bench.seed", "--out", str(out)], env=env, what="bench.seed")
        seed: dict[str, Any] = json.loads(out.read_text())
        seed["path"] = str(out)
        return seed

    def queries_per_checkin(self, env: dict[str, str], seed: dict[str, Any], *, nth: int) -> dict[str, Any]:
        """Statements per check-in by kind of visitor (bench/queries.py); `nth` keeps calls apart."""
        cmd = [
            PYTHON,
            "-m",
            "bench.queries",
            "--seed",
            seed["path"],
            "--prefix",
            str(185 + nth),
            "--nth",
            str(nth),
        ]
        out = run(cmd, env=env, what="bench.queries")
        return json.loads(out.strip().splitlines()[-1])

    @contextmanager
    def serve(self, env: dict[str, str], name: str, workers: int = 4) -> Iterator[Gunicorn]:
        """gunicorn (its workers' memory sampled while it runs), stopped when the block ends."""
        LOGS.mkdir(parents=True, exist_ok=True)
        log_path = LOGS / f"gunicorn-{name}.log"
        log_path.write_text("")
        server = Gunicorn(env=env, workers=workers, log_path=log_path)
        try:
            yield server.start()
        finally:
            server.stop()


KEEP_ALIVE_NOTE = (
    "requested by the client, but gunicorn's sync worker answers Connection: close, "
    "so every request opens a new TCP connection"
)


# --- S1, S2, S8: the check-in write path ------------------------------------------------------------


def checkin_load(
    h: Harness,
    server: Gunicorn,
    seed: dict[str, Any],
    tokens: list[str],
    *,
    label: str,
    clients: int,
    prefix: str,
    warmup: float,
    duration: float,
    rate: float | None = None,
    cpu_groups: dict[str, Any],
    probe_path: str | None = None,
) -> dict[str, Any]:
    spec = LoadSpec(
        host="127.0.0.1",
        port=server.port,
        project_id=seed["project_id"],
        tokens=tokens,
        consultant_ids=seed["consultant_ids"],
        returning=[seed["returning_protected"], seed["returning_lapsed"]],
        new_prefix=prefix,
        clients=clients,
        processes=min(4, clients),
        warmup=warmup,
        duration=duration,
        rate=rate,
        label=label,
        probe_path=probe_path,
    )
    what = f"paced at {rate:.0f}/s" if rate else "closed loop"
    log(f"{label}: {clients} clients, {what}, {warmup:.0f} s warm-up + {duration:.0f} s measured")
    window = CpuWindow(cpu_groups)
    result = run_load(spec, on_window=window.mark)
    result.update(window.cores())
    for name in cpu_groups:
        cores = result.get(f"{name}_cpu_cores")
        if cores is not None and result["throughput"]:
            result[f"{name}_cpu_ms_per_checkin"] = round(cores / result["throughput"] * 1000, 2)
    lat = result["latency_ms"]
    log(
        f"{label}: {result['throughput']}/s, p50 {lat['p50']} ms, p95 {lat['p95']} ms, "
        f"errors {result['errors']}, client CPU {result['client_cpu_cores']} cores"
    )
    for sample in result["error_samples"]:
        log(f"  error: {sample}")
    return result


def login_all(server: Gunicorn, seed: dict[str, Any]) -> list[str]:
    return [server.token(d["username"], d["password"]) for d in seed["frontdesk"]]


# S1's bars (quality.md; why the floor: docs/adr/0002-check-in-bar.md).
S1_BAR = 0.4
S1_MAX_STATEMENTS = 10


@benchmark("S1", "check-in write path on PostgreSQL (gunicorn 4 workers, 16 clients) vs the framework floor")
def s1(h: Harness) -> Entry:
    url = h.database("bench_s1")
    env = h.app_env("s1", url)
    seed = h.prepare(env, "S1")
    queries_free = h.queries_per_checkin(env, seed, nth=1)  # consultants still waiting: the rotation path
    pgbench_seconds = int(h.seconds(20, 5))
    base = h.postgres().pgbench(clients=8, threads=2, seconds=pgbench_seconds)
    log(f"pgbench -N: {base['tps']} tps")

    with h.serve(env, "S1") as server:
        tokens = login_all(server, seed)
        groups = {"gunicorn": server.pids, "postgres": h.postgres().pids}
        full = checkin_load(
            h, server, seed, tokens, label="S1 full", clients=16, prefix="130",
            warmup=h.seconds(6, 2), duration=h.seconds(30, 5), cpu_groups=groups,
        )  # fmt: skip
        half_rate = full["throughput"] / 2
        half = checkin_load(
            h, server, seed, tokens, label="S1 half rate", clients=16, prefix="131",
            warmup=h.seconds(3, 1), duration=h.seconds(20, 5), rate=max(half_rate, 1.0), cpu_groups=groups,
        )  # fmt: skip
        # The framework's floor on the same server: an authenticated GET that reads two rows (token,
        # projects) and writes nothing. What a check-in can reach is bounded by this.
        floor = checkin_load(
            h, server, seed, tokens, label="S1 floor (GET /projects)", clients=16, prefix="132",
            warmup=h.seconds(3, 1), duration=h.seconds(15, 5), cpu_groups=groups,
            probe_path="/api/v1/projects",
        )  # fmt: skip
        rss = server.rss.figures()
    queries = h.queries_per_checkin(env, seed, nth=2)  # after the load: every consultant is busy
    h.shared["S1_rss"] = rss

    # The bar is against the framework floor measured in this run (docs/adr/0002-check-in-bar.md);
    # pgbench stays beside it as context, and so does the floor's own ratio to pgbench.
    floor_rps = floor["throughput"]
    ratio = round(full["throughput"] / floor_rps, 4) if floor_rps else None
    ratio_pgbench = round(full["throughput"] / base["tps"], 4) if base["tps"] else None
    floor_to_pgbench = round(floor_rps / base["tps"], 4) if base["tps"] else None
    gunicorn_ms, postgres_ms = (
        full.get("gunicorn_cpu_ms_per_checkin"),
        full.get("postgres_cpu_ms_per_checkin"),
    )
    cpu_ms = (
        round(gunicorn_ms + postgres_ms, 2) if gunicorn_ms is not None and postgres_ms is not None else None
    )
    # The same comparison by the CPU our processes spent per request (gunicorn + PostgreSQL): other
    # work on a shared machine changes the rates of the two passes, not what each request costs.
    floor_cpu = [floor.get("gunicorn_cpu_ms_per_checkin"), floor.get("postgres_cpu_ms_per_checkin")]
    floor_cpu_ms = round(sum(floor_cpu), 2) if None not in floor_cpu else None  # type: ignore[arg-type]
    cpu_ratio = round(floor_cpu_ms / cpu_ms, 4) if floor_cpu_ms and cpu_ms else None
    statements_new = queries_free.get("new", {}).get("queries")
    p95_half = half["latency_ms"]["p95"]
    errors = full["errors"] + half["errors"]
    ok_ratio = ratio is not None and ratio >= S1_BAR
    ok_statements = statements_new is not None and statements_new <= S1_MAX_STATEMENTS
    ok_p95 = p95_half is not None and p95_half < 100
    ok_errors = errors == 0 and full["ok"] > 0
    lat = full["latency_ms"]
    details = {
        "floor_rps": floor_rps,
        "checkins_rps": full["throughput"],
        "pgbench_tps": base["tps"],
        "cpu_ms_per_checkin": cpu_ms,
        "statements_new_visitor": statements_new,
        "ratio_to_pgbench": ratio_pgbench,
        "floor_ratio_to_pgbench": floor_to_pgbench,
        "floor_cpu_ms_per_request": floor_cpu_ms,
        "cpu_ratio_to_floor": cpu_ratio,
        "throughput": full["throughput"],
        "p50": lat["p50"],
        "p95": lat["p95"],
        "p99": lat["p99"],
        "errors": errors,
        "p95_at_half_rate": p95_half,
        "half_rate_target": half["target_rate"],
        "half_rate_achieved": half["throughput"],
        "client_cpu": full["client_cpu_share"],
        "client_cpu_cores": full["client_cpu_cores"],
        "gunicorn_cpu_cores": full.get("gunicorn_cpu_cores"),
        "postgres_cpu_cores": full.get("postgres_cpu_cores"),
        "machine_busy_cores": full.get("machine_busy_cores"),
        "gunicorn_cpu_ms_per_checkin": full.get("gunicorn_cpu_ms_per_checkin"),
        "postgres_cpu_ms_per_checkin": full.get("postgres_cpu_ms_per_checkin"),
        "pgbench": base,
        "queries_per_checkin": queries,
        "queries_per_checkin_consultants_free": queries_free,
        "rules": full["rules"],
        "visitor_mix": full["kinds"],
        "channel_visitors": "none: channel reports do not exist in the product yet",
        "keep_alive": KEEP_ALIVE_NOTE,
        "worker_rss": rss,
        "full_pass": full,
        "half_rate_pass": half,
        "floor_get_projects": {
            "throughput": floor_rps,
            "ratio_to_pgbench": floor_to_pgbench,
            "gunicorn_cpu_ms_per_request": floor.get("gunicorn_cpu_ms_per_checkin"),
            "postgres_cpu_ms_per_request": floor.get("postgres_cpu_ms_per_checkin"),
            "errors": floor["errors"],
        },
    }
    tps = f"pgbench -N: {base['tps']:.0f} tps"
    per_checkin = (
        f"gunicorn {full.get('gunicorn_cpu_ms_per_checkin')} ms"
        f" + PostgreSQL {full.get('postgres_cpu_ms_per_checkin')} ms"
    )
    floor_text = f"floor {floor_rps:.1f}/s"
    table = [
        row("check-ins/s (16 clients, closed loop)", f"{full['throughput']:.1f}/s", floor_text),
        row(
            "ratio to the framework floor",
            "—" if ratio is None else f"{ratio:.3f}",
            floor_text,
            f"≥ {S1_BAR}",
            ok_ratio,
        ),
        row(
            "SQL statements, new visitor, consultant free",
            str(statements_new),
            "whole request, token auth included",
            f"≤ {S1_MAX_STATEMENTS}",
            ok_statements,
        ),
        row("ratio to pgbench -N (context)", "—" if ratio_pgbench is None else f"{ratio_pgbench:.4f}", tps),
        row("latency p50 / p95 / p99 at full load", f"{lat['p50']} / {lat['p95']} / {lat['p99']} ms"),
        row(
            "p95 at half rate (open loop)",
            f"{p95_half} ms",
            f"{half['target_rate']}/s offered, {half['throughput']}/s served",
            "< 100 ms",
            ok_p95,
        ),
        row("errors (non-201), both passes", str(errors), "", "0", ok_errors),
        row(
            "client CPU (load generator)",
            f"{full['client_cpu_share'] * 100:.0f}% of machine",
            f"gunicorn {full.get('gunicorn_cpu_cores')} + postgres {full.get('postgres_cpu_cores')} cores",
        ),
        row(
            "CPU per check-in",
            f"{cpu_ms} ms ({per_checkin})",
            f"machine busy {full.get('machine_busy_cores')} of {h.host['nproc']} cores",
        ),
        row(
            "floor CPU ÷ check-in CPU per request (load-independent context)",
            "—" if cpu_ratio is None else f"{cpu_ratio:.3f}",
            f"{floor_cpu_ms} ms ÷ {cpu_ms} ms",
        ),
        row(
            "framework floor: GET /api/v1/projects (token + 1 read)",
            f"{floor_rps:.1f}/s = {floor_to_pgbench} × pgbench" if base["tps"] else "—",
            f"gunicorn {floor.get('gunicorn_cpu_ms_per_checkin')} ms + PostgreSQL "
            f"{floor.get('postgres_cpu_ms_per_checkin')} ms per request, same server and clients",
        ),
        queries_row("SQL statements per check-in, consultants free", queries_free),
        queries_row("SQL statements per check-in, all busy", queries),
    ]
    return h.entry(
        "S1",
        value=ratio,
        bar=S1_BAR,
        unit="ratio to the framework floor",
        passed=ok_ratio and ok_statements and ok_p95 and ok_errors,
        baseline=floor_rps,
        details=details,
        table=table,
    )


@benchmark("S2", "check-in on the embedded SQLite default (8 clients) vs S1's PostgreSQL rate")
def s2(h: Harness) -> Entry:
    pg_rate = h.need("S1")["details"]["throughput"]
    env = h.app_env("s2", None)
    seed = h.prepare(env, "S2")
    with h.serve(env, "S2") as server:
        tokens = login_all(server, seed)
        load = checkin_load(
            h, server, seed, tokens, label="S2", clients=8, prefix="132",
            warmup=h.seconds(6, 2), duration=h.seconds(30, 5), cpu_groups={"gunicorn": server.pids},
        )  # fmt: skip
        rss = server.rss.figures()
    queries = h.queries_per_checkin(env, seed, nth=2)

    ratio = round(load["throughput"] / pg_rate, 4) if pg_rate else None
    bad = load["locked"] + load["errors_5xx"]
    ok_ratio = ratio is not None and ratio >= 0.5
    lat = load["latency_ms"]
    details = {
        "throughput": load["throughput"],
        "postgres_throughput": pg_rate,
        "p50": lat["p50"],
        "p95": lat["p95"],
        "p99": lat["p99"],
        "errors": load["errors"],
        "locked": load["locked"],
        "errors_5xx": load["errors_5xx"],
        "client_cpu": load["client_cpu_share"],
        "gunicorn_cpu_cores": load.get("gunicorn_cpu_cores"),
        "machine_busy_cores": load.get("machine_busy_cores"),
        "gunicorn_cpu_ms_per_checkin": load.get("gunicorn_cpu_ms_per_checkin"),
        "queries_per_checkin": queries,
        "worker_rss": rss,
        "load_pass": load,
    }
    pg = f"PostgreSQL (S1): {pg_rate:.1f}/s"
    table = [
        row("check-ins/s on SQLite (8 clients)", f"{load['throughput']:.1f}/s", pg),
        row("ratio SQLite / PostgreSQL", "—" if ratio is None else f"{ratio:.3f}", pg, "≥ 0.5", ok_ratio),
        row("latency p50 / p95 / p99", f"{lat['p50']} / {lat['p95']} / {lat['p99']} ms"),
        row(
            "'database is locked' + 5xx",
            f"{load['locked']} + {load['errors_5xx']}",
            f"{load['errors']} non-201 in all",
            "0",
            bad == 0,
        ),
        row(
            "CPU per check-in",
            f"gunicorn {load.get('gunicorn_cpu_ms_per_checkin')} ms",
            f"machine busy {load.get('machine_busy_cores')} of {h.host['nproc']} cores",
        ),
        queries_row("SQL statements per check-in", queries),
    ]
    return h.entry(
        "S2",
        value=ratio,
        bar=0.5,
        unit="ratio SQLite/PostgreSQL",
        passed=ok_ratio and bad == 0,
        baseline=pg_rate,
        details=details,
        table=table,
    )


@benchmark("S8", "gunicorn worker memory under S1 load", rides_on="S1")
def s8(h: Harness) -> Entry:
    h.need("S1")
    rss = h.shared["S1_rss"]
    value = rss["max_mb"]
    ok = 0 < value < 200
    return h.entry(
        "S8",
        value=value,
        bar=200,
        unit="MB RSS",
        passed=ok,
        baseline=None,
        details=rss,
        table=[
            row(
                "max worker RSS during S1",
                f"{value:.1f} MB",
                f"{rss['samples']} samples of 4 workers",
                "< 200 MB",
                ok,
            )
        ],
    )


# S5: customer search at 1,000,000 customers (bench/search.py, bench/search_seed.py, bench/search_plans.py)
benchmark("S5", "customer search at 1,000,000 customers (GET /customers?q=, one client)")(search_s5)

# S3, S4, R2: opening day (bench/deals.py, bench/deals_seed.py, bench/subscription_load.py)
benchmark("S3", "opening day: 2,000 buyers over 64 connections for 200 units")(deals.s3)
benchmark("S4", "hot spot: 500 buyers, 1 unit, 500 connections released at once")(deals.s4)
benchmark("R2", "crash during S3: kill -9 a gunicorn worker and restart PostgreSQL mid-run")(deals.r2)


# --- output ------------------------------------------------------------------------------------------


def print_table(results: dict[str, Entry], failed: dict[str, str]) -> None:
    lines = [["", "figure", "value", "baseline / context", "bar", ""]]
    for key, entry in results.items():
        for r in entry["details"]["table"]:
            lines.append([key, *r])
    for key in failed:
        lines.append([key, "HARNESS ERROR", "see the traceback above", "", "", "ERROR"])
    widths = [max(len(line[i]) for line in lines) for i in range(6)]
    print()
    for line in lines:
        print("  ".join(cell.ljust(widths[i]) for i, cell in enumerate(line)).rstrip())
    print()
    for key, entry in results.items():
        verdict = "PASS" if entry["pass"] else "FAIL  <<<<<<<<"
        print(f"{key}: value {entry['value']} {entry['unit']}, bar {entry['bar']} → {verdict}")


def write_results(results: dict[str, Entry], failed: dict[str, str]) -> dict[str, Entry]:
    """Merge this run's entries into results.json (benchmarks not run keep their last entry)."""
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    try:
        merged: dict[str, Entry] = json.loads(RESULTS.read_text())
    except (OSError, ValueError):
        merged = {}
    merged.update(results)
    now = datetime.now().astimezone().isoformat(timespec="seconds")
    for key, trace in failed.items():
        merged[key] = {
            "value": None,
            "bar": merged.get(key, {}).get("bar"),
            "unit": merged.get(key, {}).get("unit", ""),
            "pass": False,
            "baseline": None,
            "title": TITLES.get(key, ""),
            "measured_at": now,
            "details": {"error": trace.strip().splitlines()[-1], "table": []},
        }
    merged = dict(sorted(merged.items(), key=lambda kv: (len(kv[0]), kv[0])))
    RESULTS.write_text(json.dumps(merged, indent=2, ensure_ascii=False) + "\n")
    return merged


def write_doc(merged: dict[str, Entry], *, command: str, host: dict[str, Any]) -> None:
    when = datetime.now().astimezone().strftime("%Y-%m-%d %H:%M %Z")
    out = [
        "# Benchmarks — latest figures",
        "",
        "Rewritten by `make bench` from `var/bench/results.json`; the bars are in `quality.md`",
        "(Speed and scale). Every speed figure is a ratio to a baseline measured in the same run,",
        "or a latency at a stated load. How the benchmarks work: `bench/README.md`.",
        "",
        f"- last run: {when}",
        f"- command: `{command}` (= `.venv/bin/python -m bench.run{_only_flag(command)}`)",
        f"- machine: {host['nproc']} cores ({host['cpu']}), {host['memory_gib']} GiB RAM; load average "
        f"{host['loadavg_at_start']:.2f} when the run started (the machine is shared with other work)",
        "",
        "| # | what | value | bar | baseline | pass | measured |",
        "|---|---|---|---|---|---|---|",
    ]
    for key, e in merged.items():
        value = "harness error" if e["value"] is None else f"{e['value']} {e['unit']}"
        baseline = "—" if e["baseline"] is None else e["baseline"]
        verdict = "yes" if e["pass"] else "**no**"
        out.append(
            f"| {key} | {e.get('title', '')} | {value} | {e['bar']} | {baseline} | {verdict} "
            f"| {e.get('measured_at', '')} |"
        )
    for key, e in merged.items():
        out += ["", f"## {key} — {e.get('title', '')}", ""]
        if e["details"].get("error"):
            out.append(f"The harness failed: `{e['details']['error']}`")
            continue
        out += ["| figure | value | baseline / context | bar | |", "|---|---|---|---|---|"]
        out += ["| " + " | ".join(cell.replace("|", "/") for cell in r) + " |" for r in e["details"]["table"]]
        notes = NOTES.get(key)
        if notes:
            out += ["", *notes(e)]
    out.append("")
    DOC.write_text("\n".join(out))


def _only_flag(command: str) -> str:
    return f" --only {command.split('ONLY=', 1)[1].split()[0]}" if "ONLY=" in command else ""


def _queries(d: dict[str, Any], key: str = "queries_per_checkin") -> str:
    q = d.get(key, {})
    return ", ".join(f"{kind} {v['queries']} ({v['rule']})" for kind, v in q.items())


def _s1_notes(e: Entry) -> list[str]:
    d = e["details"]
    return [
        "- value: check-ins per second ÷ the framework floor (authenticated `GET /api/v1/projects`, same "
        f"server, clients and database, same run): {d.get('checkins_rps')}/s ÷ {d.get('floor_rps')}/s; bar "
        f"≥ {S1_BAR} (`docs/adr/0002-check-in-bar.md`). CPU per check-in (gunicorn + PostgreSQL): "
        f"{d.get('cpu_ms_per_checkin')} ms, the floor {d.get('floor_cpu_ms_per_request')} ms: by CPU per "
        f"request the ratio is {d.get('cpu_ratio_to_floor')} (the rates of the two passes also move with "
        "other work on the machine).",
        f"- context: `{d['pgbench']['command']}` on a database of its own in the same cluster, right "
        f"before the load: {d.get('pgbench_tps')} tps; check-ins ÷ pgbench {d.get('ratio_to_pgbench')}, "
        f"the floor ÷ pgbench {d.get('floor_ratio_to_pgbench')}.",
        "- server: `python -m gunicorn anchang.wsgi:application -w 4` (sync workers, access log off), "
        "`DEBUG=false`, `LOG_LEVEL=WARNING`; PostgreSQL 15 from `scripts/pg.sh` (throwaway, fsync off).",
        "- load (`bench/checkin_load.py`): 16 clients in 4 processes; in every 10 check-ins 6 new visitors "
        "(unique new mobiles), 3 returning (existing customers, half still protected by their owner) and "
        "1 naming a consultant; 16 consultants signed in today. No channel visitors: channel reports do "
        "not exist in the product yet.",
        f"- attribution rules answered: {d.get('rules')}",
        f"- CPU in the measured window (cores): load generator {d.get('client_cpu_cores')}, gunicorn "
        f"{d.get('gunicorn_cpu_cores')}, PostgreSQL {d.get('postgres_cpu_cores')}, whole machine "
        f"{d.get('machine_busy_cores')}.",
        "- SQL statements per check-in (whole request incl. token auth and commit hooks, counted with "
        "`CaptureQueriesContext`, `python -m bench.queries`): before the load, consultants free: "
        f"{_queries(d, 'queries_per_checkin_consultants_free')}; after it, all busy: {_queries(d)}.",
        f"- keep-alive: {d.get('keep_alive')}.",
        "- framework floor: the same server and clients sending `GET /api/v1/projects` (bearer-token "
        "lookup, one read, nothing written) for 15 s after the check-ins. It bounds what any endpoint of "
        "this stack (Django, django-ninja, gunicorn sync workers) can reach here; a check-in at the bar "
        "costs at most 2.5 such requests. The floor is measured as the endpoint ships: a slower floor "
        "raises the ratio and is a regression, not progress (compare `floor_rps` across runs).",
    ]


def _s2_notes(e: Entry) -> list[str]:
    d = e["details"]
    return [
        "- same server and visitor mix as S1 with 8 clients, on a fresh SQLite file in a temporary "
        "`ANCHANG_VAR_DIR` (WAL, `BEGIN IMMEDIATE`, 20 s busy timeout, as configured in settings).",
        f"- CPU in the measured window (cores): gunicorn {d.get('gunicorn_cpu_cores')}, whole machine "
        f"{d.get('machine_busy_cores')}.",
        f"- SQL statements per check-in: {_queries(d)}.",
    ]


NOTES: dict[str, Callable[[Entry], list[str]]] = {
    "S1": _s1_notes,
    "S2": _s2_notes,
    "S5": s5_notes,
    "S3": deals.s3_notes,
    "S4": deals.s4_notes,
    "R2": deals.r2_notes,
}


# --- main --------------------------------------------------------------------------------------------


STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)


def _terminate(signum: int, frame: object) -> None:
    # The first signal unwinds the harness (every `finally` and ExitStack callback stops what it
    # started); further ones are ignored so that they cannot interrupt that cleanup half-way.
    for sig in STOP_SIGNALS:
        signal.signal(sig, signal.SIG_IGN)
    raise KeyboardInterrupt(f"signal {signum}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Run the quality.md benchmarks.")
    parser.add_argument("--only", default="", help="comma-separated keys, e.g. S1,S2 (default: all)")
    parser.add_argument(
        "--quick", action="store_true", help="short passes to test the harness; not for figures"
    )
    args = parser.parse_args(argv)

    wanted = [k.strip().upper() for k in args.only.split(",") if k.strip()] or list(BENCHMARKS)
    unknown = [k for k in wanted if k not in BENCHMARKS]
    for key in unknown:
        print(
            f"bench: {key} is not implemented yet (known: {', '.join(BENCHMARKS)}) — skipped", file=sys.stderr
        )
    keys = [k for k in wanted if k in BENCHMARKS]
    keys += [k for k, host_key in RIDES_ON.items() if host_key in keys and k not in keys]
    command = (
        "make bench" + (f" ONLY={args.only}" if args.only else "") + (" (--quick)" if args.quick else "")
    )
    host = machine()
    log(
        f"{command}: {', '.join(keys) or 'nothing to run'} on {host['nproc']} cores, {host['memory_gib']} GiB"
    )

    for sig in STOP_SIGNALS:  # also SIGINT: a shell starts background jobs with it ignored
        signal.signal(sig, _terminate)
    workdir = Path(tempfile.mkdtemp(prefix="anchang-bench-"))
    harness: Harness | None = None
    try:
        with ExitStack() as stack:
            stack.callback(shutil.rmtree, workdir, ignore_errors=True)
            harness = Harness(stack, workdir, quick=args.quick, host=host)
            for key in keys:
                try:
                    harness.need(key)
                except Exception:
                    log(f"{key}: harness error")
                    traceback.print_exc()
    except KeyboardInterrupt:
        log("interrupted: everything started has been stopped")
        return 130
    assert harness is not None
    if not harness.results and not harness.failed:
        return 0
    print_table(harness.results, harness.failed)
    if args.quick:
        log("--quick: figures not written to results.json / docs")
        return 1 if harness.failed else 0
    merged = write_results(harness.results, harness.failed)
    write_doc(merged, command=command, host=host)
    log(f"wrote {RESULTS.relative_to(ROOT)} and {DOC.relative_to(ROOT)}")
    return 1 if harness.failed else 0


if __name__ == "__main__":
    sys.exit(main())
