"""S5 — customer search at 1,000,000 customers through `GET /api/v1/customers?project=…&q=…`.

Registered in `bench/run.py`. Steps: a fresh database in the run's PostgreSQL cluster, `migrate`,
`bench.search_seed` (1M customers by COPY, indexes rebuilt, VACUUM ANALYZE), gunicorn with 2 sync
workers, a manager's token from `POST /api/v1/auth/token`, then one client sending requests one after
the other, the kinds interleaved (digits, name, initials, digits, …) so that machine noise hits them
alike:

- digits: the last 4 digits of an existing customer's mobile (`phone_last4` equality);
- names: alternately the surname + first given character of an existing name (王伟 for 王伟强) and an
  existing full name (2, 3 or 4 characters, as drawn) — `name LIKE '%…%'`;
- initials: the 拼音 initials of an existing 3-character name (wwq) — `name_initials`/`name_pinyin`
  `LIKE '%…%'`;
- initials_2 (reported, not part of the bar): initials of 2-character names (wl for 王磊);
- empty (the baseline): `q=` — the endpoint without any search, its first page and capped count.

Latency is measured by the client around the whole request (connect, send, answer read), in ms.
Afterwards `bench.search_plans` runs a few of the same query strings in process, captures the SQL the
endpoint sends and checks its EXPLAIN ANALYZE plan (see that module for what passes).
"""

import http.client
import json
import time
from typing import TYPE_CHECKING, Any
from urllib.parse import urlencode

from bench.checkin_load import _summary
from bench.infra import PYTHON, HarnessError, log, run

if TYPE_CHECKING:
    from bench.run import Entry, Harness

BARS = {"digits": 50.0, "names": 100.0, "initials": 100.0}
BAR_KINDS = ("digits", "names", "initials")
KIND_LABELS = {
    "digits": "last-4 digits",
    "names": "names (surname + 1st given char, or full name)",
    "initials": "拼音 initials, 3 letters",
    "initials_2": "拼音 initials, 2 letters (2-character names)",
    "empty": "no search (q empty): baseline",
}
SUBKIND_LABELS = {
    "name_prefix": "name: surname + 1st given char (2 chars, e.g. 王伟)",
    "name_full_2": "name: full name of 2 characters (e.g. 王磊)",
    "name_full_3": "name: full name of 3+ characters (e.g. 王伟强)",
}


def _row(figure: str, value: str, baseline: str = "", bar: str = "", ok: bool | None = None) -> list[str]:
    verdict = "" if ok is None else ("PASS" if ok else "FAIL")
    return [figure, value, baseline, bar, verdict]


class Client:
    """One client, one request at a time; keeps its connection when the server does (gunicorn's sync
    worker answers `Connection: close`, so in practice every request connects anew)."""

    def __init__(self, port: int, token: str) -> None:
        self.port = port
        self.headers = {"Authorization": f"Bearer {token}", "Connection": "keep-alive"}
        self.conn: http.client.HTTPConnection | None = None
        self.connects = 0

    def get(self, path: str) -> tuple[int, float, bytes]:
        started = time.perf_counter()
        if self.conn is None:
            self.conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=60)
            self.connects += 1
        try:
            self.conn.request("GET", path, headers=self.headers)
            response = self.conn.getresponse()
            body = response.read()
        except (OSError, http.client.HTTPException):
            self.close()
            raise
        elapsed = (time.perf_counter() - started) * 1000
        if response.will_close:
            self.close()
        return response.status, elapsed, body

    def close(self) -> None:
        if self.conn is not None:
            self.conn.close()
            self.conn = None


def schedule(
    queries: dict[str, list[str]], n: int
) -> tuple[list[tuple[str, str, str]], list[tuple[str, str, str]]]:
    """(kind, subkind, q) for warm-up and for the measured pass, kinds interleaved."""
    names = [("name_prefix", q) for q in queries["name_prefix"]]
    full = [("name_full_2" if len(q) == 2 else "name_full_3", q) for q in queries["name_full"]]
    name_mix = [names[i // 2] if i % 2 == 0 else full[i // 2] for i in range(len(names) + len(full))]
    streams = {
        "digits": [("digits", q) for q in queries["digits"]],
        "names": name_mix,
        "initials": [("initials", q) for q in queries["initials"]],
        "initials_2": [("initials_2", q) for q in queries["initials_2"]],
        "empty": [("empty", "")] * (2 * n),
    }
    warm_n = 10
    for kind, stream in streams.items():
        needed = warm_n + (n if kind in BAR_KINDS else n // 2 + 1)
        if len(stream) < needed:
            raise HarnessError(f"S5: only {len(stream)} query strings of kind {kind}, {needed} needed")
    warm: list[tuple[str, str, str]] = []
    measured: list[tuple[str, str, str]] = []
    for i in range(warm_n):
        warm += [(kind, *streams[kind][i]) for kind in streams]
    for i in range(n):
        for kind, stream in streams.items():
            if kind in BAR_KINDS:
                measured.append((kind, *stream[warm_n + i]))
            elif i % 2 == 0:  # the extra kinds run every second round
                measured.append((kind, *stream[warm_n + i // 2]))
    return warm, measured


def measure(
    server_port: int, token: str, project_id: int, plan: list[tuple[str, str, str]]
) -> dict[str, Any]:
    client = Client(server_port, token)
    latencies: dict[str, list[float]] = {}
    hits: dict[str, list[int]] = {}
    errors: list[str] = []
    empty_answers: dict[str, int] = {}
    estimates: dict[str, int] = {}
    started = time.monotonic()
    try:
        for kind, subkind, q in plan:
            path = "/api/v1/customers?" + urlencode({"project": project_id, "q": q})
            status, ms, body = client.get(path)
            if status != 200:
                errors.append(f"{kind} q={q!r}: {status} {body[:200]!r}")
                continue
            answer = json.loads(body)
            for key in {kind, subkind}:
                latencies.setdefault(key, []).append(ms)
                hits.setdefault(key, []).append(answer["count"])
            if not answer["items"]:
                empty_answers[kind] = empty_answers.get(kind, 0) + 1
            if answer.get("count_is_estimate"):
                estimates[kind] = estimates.get(kind, 0) + 1
    finally:
        client.close()
    per_kind = {}
    for key, values in latencies.items():
        counts = sorted(hits[key])
        per_kind[key] = {
            "requests": len(values),
            **_summary(values),
            "matches_median": counts[len(counts) // 2],
            "matches_max": counts[-1],
        }
    return {
        "per_kind": per_kind,
        "errors": len(errors),
        "error_samples": errors[:5],
        "empty_answers": empty_answers,
        "count_is_estimate": estimates,
        "connects": client.connects,
        "requests": len(plan),
        "seconds": round(time.monotonic() - started, 1),
    }


def plan_sample(queries: dict[str, list[str]]) -> dict[str, list[str]]:
    """A few query strings of each kind whose SQL and plans are checked (the same strings are in the
    load, so the plans are those of measured requests)."""
    full = queries["name_full"][10:]
    return {
        "digits": queries["digits"][10:14],
        "names": queries["name_prefix"][10:14]
        + [q for q in full if len(q) == 2][:3]
        + [q for q in full if len(q) >= 3][:3],
        "initials": queries["initials"][10:18],
        "initials_2": queries["initials_2"][10:14],
        "empty": [""],
    }


def check_plans(env: dict[str, str], seed: dict[str, Any], token: str) -> dict[str, Any]:
    sample = plan_sample(seed["queries"])
    cmd = [PYTHON, "-m", "bench.search_plans", "--seed", seed["path"], f"--token={token}"]
    for strings in sample.values():
        cmd += [f"--q={q}" for q in strings]
    out = run(cmd, env=env, what="bench.search_plans", timeout=300)
    answer = json.loads(out.strip().splitlines()[-1])
    result, table_rows = answer["queries"], answer["table_rows"]
    by_kind: dict[str, Any] = {"table_rows": table_rows}
    for kind, strings in sample.items():
        checked = []
        for q in strings:
            got = result[q]
            statements = []
            for s in got["statements"]:
                where = s["sql"].split(" WHERE ", 1)
                statements.append(
                    {
                        "role": s["role"],
                        "ok": s["ok"],
                        "why": s["why"],
                        "execution_ms": s["execution_ms"],
                        "seq_scan": s["seq_scan"],
                        "rows_read": s["rows_read"],
                        "rows_removed_by_filter": s["rows_removed_by_filter"],
                        "where": ("WHERE " + where[1]) if len(where) > 1 else s["sql"][-300:],
                        "nodes": [
                            " ".join(
                                str(n.get(k, ""))
                                for k in ("Node Type", "Index Name", "Scan Direction")
                                if n.get(k)
                            )
                            for n in s["nodes"]
                        ],
                    }
                )
            checked.append(
                {
                    "q": q,
                    "ok": got["ok"],
                    "count": got["count"],
                    "count_is_estimate": got["count_is_estimate"],
                    "statements_in_request": got["statements_in_request"],
                    "count_statement_run": any(s["role"] == "count" for s in statements),
                    "statements": statements,
                }
            )
        by_kind[kind] = {"ok": all(c["ok"] for c in checked), "checked": checked}
    return by_kind


def _plan_line(kind_plans: dict[str, Any]) -> str:
    """The distinct plans seen for a kind, each with how often and the most rows it read."""
    seen: dict[str, list[int]] = {}
    for c in kind_plans["checked"]:
        for s in c["statements"]:
            if s["why"].startswith("pk_order_scan"):
                how = "pk order walk, " + ("stopped early" if s["ok"] else "read ≥ 5 % of the table")
            elif not s["ok"]:
                how = s["why"]
            else:
                how = ", ".join(s["nodes"])
            seen.setdefault(f"{s['role']}: {how}", []).append(s["rows_read"])
    return "; ".join(f"{label} ×{len(rows)} (≤ {max(rows):,} rows read)" for label, rows in seen.items())


def _count_findings(plans: dict[str, Any]) -> list[dict[str, Any]]:
    """COUNT statements of the list that read (nearly) the whole table (quality S7). The count is capped
    at COUNT_CAP + 1 rows, but a scan that finds fewer matches than that reads every row to prove it."""
    found = []
    for kind, kind_plans in _kinds(plans).items():
        for c in kind_plans["checked"]:
            for s in c["statements"]:
                if s["role"] == "count" and s["rows_read"] >= plans["table_rows"] / 2:
                    found.append(
                        {
                            "kind": kind,
                            "q": c["q"],
                            "why": s["why"],
                            "rows_read": s["rows_read"],
                            "table_rows": plans["table_rows"],
                            "execution_ms": s["execution_ms"],
                        }
                    )
    return found


def _kinds(plans: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in plans.items() if k != "table_rows"}


def s5(h: "Harness") -> "Entry":
    customers = 100_000 if h.quick else 1_000_000
    n = 30 if h.quick else 200
    url = h.database("bench_s5")
    env = h.app_env("s5", url)
    log("S5: migrate")
    run([PYTHON, "manage.py", "migrate", "--noinput", "-v", "0"], env=env, what="migrate")
    log(f"S5: load {customers:,} customers (COPY, indexes rebuilt, VACUUM ANALYZE)")
    out = h.workdir / "seed-s5.json"
    started = time.monotonic()
    run(
        [PYTHON, "-m", "bench.search_seed", "--out", str(out), "--customers", str(customers)],
        env=env,
        what="bench.search_seed",
        timeout=900,
    )
    load_s = round(time.monotonic() - started, 1)
    seed: dict[str, Any] = json.loads(out.read_text())
    seed["path"] = str(out)
    log(f"S5: {seed['customers']:,} customers in {load_s} s ({seed['timings']}), table {seed['table_mb']} MB")

    warm, measured = schedule(seed["queries"], n)
    with h.serve(env, "S5", workers=2) as server:
        token = server.token(seed["manager"]["username"], seed["manager"]["password"])
        log(f"S5: warm-up {len(warm)} requests, then {len(measured)} measured, one client")
        measure(server.port, token, seed["project_id"], warm)
        result = measure(server.port, token, seed["project_id"], measured)
        log("S5: plans of the endpoint's SQL (EXPLAIN ANALYZE)")
        plans = check_plans(env, seed, token)

    per = result["per_kind"]
    for kind in (*BAR_KINDS, "initials_2", "empty", *SUBKIND_LABELS):
        if kind in per:
            p = per[kind]
            log(f"S5 {kind}: p50 {p['p50']} / p95 {p['p95']} / p99 {p['p99']} ms ({p['requests']} requests)")
    p95 = {kind: per[kind]["p95"] for kind in BAR_KINDS}
    ok_lat = {kind: p95[kind] is not None and p95[kind] < BARS[kind] for kind in BAR_KINDS}
    ok_plans = {kind: v["ok"] for kind, v in _kinds(plans).items()}
    ok_errors = result["errors"] == 0
    passed = all(ok_lat.values()) and all(ok_plans[k] for k in BAR_KINDS) and ok_errors
    value = max(p95["names"], p95["initials"])
    count_findings = _count_findings(plans)
    baseline = per["empty"]["p95"]

    def lat(kind: str) -> str:
        p = per[kind]
        return f"{p['p95']} ms"

    def ctx(kind: str) -> str:
        p = per[kind]
        return (
            f"p50 {p['p50']} / p99 {p['p99']} ms, {p['requests']} req, median {p['matches_median']} matches"
        )

    timings = seed["timings"]
    table = [
        _row(f"p95 {KIND_LABELS['digits']}", lat("digits"), ctx("digits"), "< 50 ms", ok_lat["digits"]),
        _row(f"p95 {KIND_LABELS['names']}", lat("names"), ctx("names"), "< 100 ms", ok_lat["names"]),
        *[_row(f"  p95 {label}", lat(sub), ctx(sub)) for sub, label in SUBKIND_LABELS.items() if sub in per],
        _row(
            f"p95 {KIND_LABELS['initials']}", lat("initials"), ctx("initials"), "< 100 ms", ok_lat["initials"]
        ),
        _row(f"p95 {KIND_LABELS['initials_2']} (not in the bar)", lat("initials_2"), ctx("initials_2")),
        _row(f"p95 {KIND_LABELS['empty']}", lat("empty"), ctx("empty")),
        *[
            _row(
                f"plan: {kind}",
                "— (no search)" if kind == "empty" else "index" if plans[kind]["ok"] else "NO INDEX",
                _plan_line(plans[kind]),
                "uses an index" if kind in BAR_KINDS else "",
                plans[kind]["ok"] if kind in BAR_KINDS else None,
            )
            for kind in ("digits", "names", "initials", "initials_2", "empty")
        ],
        _row(
            "COUNT(*) of the list reading the whole table (S7)",
            str(len(count_findings)),
            "; ".join(
                f"{f['kind']} q={f['q']}: {f['rows_read']:,} of {f['table_rows']:,} rows read, "
                f"{f['execution_ms']} ms"
                for f in count_findings[:4]
            ),
            "0 (S7)",
            not count_findings,
        ),
        _row("errors (non-200)", str(result["errors"]), f"{result['requests']} requests", "0", ok_errors),
        _row(
            f"load of {seed['customers']:,} customers",
            f"{load_s} s",
            f"rows built {timings['generate_rows_s']} s, COPY {timings['copy_s']} s, "
            f"indexes {timings['indexes_s']} s, VACUUM ANALYZE {timings['vacuum_analyze_s']} s",
        ),
    ]
    details = {
        "digits_p95": p95["digits"],
        "names_p95": p95["names"],
        "initials_p95": p95["initials"],
        "per_kind": per,
        "plans_ok": ok_plans,
        "plans": plans,
        "count_full_scans": count_findings,
        "errors": result["errors"],
        "error_samples": result["error_samples"],
        "empty_answers": result["empty_answers"],
        "count_is_estimate_answers": result["count_is_estimate"],
        "requests": result["requests"],
        "connects": result["connects"],
        "measured_seconds": result["seconds"],
        "customers": seed["customers"],
        "table_mb": seed["table_mb"],
        "load_seconds": load_s,
        "load_timings": seed["timings"],
        "search_keys_checked_against_app": seed["search_keys_checked_against_app"],
        "gunicorn_workers": 2,
        "baseline_meaning": "p95 of the same endpoint with q empty (no search) in the same run",
    }
    return h.entry(
        "S5",
        value=value,
        bar=100,
        unit="p95 ms (names/拼音)",
        passed=passed,
        baseline=baseline,
        details=details,
        table=table,
    )


def s5_notes(e: "Entry") -> list[str]:
    d = e["details"]
    t = d.get("load_timings", {})
    return [
        f"- data (`bench/search_seed.py`): {d.get('customers', 0):,} customers in one project "
        f"({d.get('table_mb')} MB with indexes), loaded in {d.get('load_seconds')} s: rows built in Python "
        f"{t.get('generate_rows_s')} s, one `COPY` {t.get('copy_s')} s with the secondary indexes dropped, "
        f"{t.get('indexes_rebuilt')} indexes rebuilt from their own definitions {t.get('indexes_s')} s, "
        f"`VACUUM ANALYZE` {t.get('vacuum_analyze_s')} s. Names from `anchang.demo.names` (surnames "
        "weighted by rank), 拼音 keys combined from per-surname / per-given-name pypinyin readings and "
        f"checked equal to `Customer.save()`'s on {d.get('search_keys_checked_against_app')} names.",
        "- server: `python -m gunicorn anchang.wsgi:application -w 2` (sync), `DEBUG=false`; one client "
        f"(`bench/search.py`), requests one after the other, kinds interleaved, after a warm-up; "
        f"{d.get('requests')} measured requests in {d.get('measured_seconds')} s, latency from connect to "
        "the last byte. Baseline: the same endpoint with `q=` (no search).",
        "- plans (`bench/search_plans.py`): the endpoint's own SQL captured in process with "
        "`CaptureQueriesContext`, then `EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON)`; a statement passes when "
        "an index on the searched column reads the customers table and there is no Seq Scan of it; a "
        "backward walk of the primary key filtering each row (`ORDER BY id DESC LIMIT 50`) passes only "
        "if it stopped within 5 % of the table.",
        f"- plans ok: {d.get('plans_ok')}; COUNT statements that read the whole table: "
        f"{len(d.get('count_full_scans', []))}.",
    ]
