"""Load generator for `POST /api/v1/units/{uid}/subscriptions` on opening day (S3, S4, R2).

No Django here, as in `bench/checkin_load.py`: a few processes (so the GIL is not the limit), each
running threads; every thread is one connection (an `http.client` connection object, reused; gunicorn's
sync worker answers `Connection: close`, so it reconnects per request).

Two modes:

- **buyers** (S3, R2, `run_buyers`): N connections share the buyers (buyer i goes to connection
  i mod N, served one after the other). A buyer reads the live board
  (`GET /projects/{pid}/units?status=available&limit=200`), picks one of the available units at random,
  and subscribes to it at its list price (`POST /units/{uid}/subscriptions`). On 409 the buyer re-reads
  the board and tries again; after 3 failed attempts, or when the board shows nothing available, the
  buyer leaves with nothing. A failed attempt is a POST that did not answer 201, or a board read that
  did not answer 200 (R2: the server may be unreachable; after such an error the buyer waits
  0.2 s × attempt before trying again, as a person at a kiosk would — a 409 is retried at once).
- **hot spot** (S4, `run_hot_spot`): one connection per buyer, all opened first; then every
  connection sends its POST for the same unit at the same moment (a barrier), each for its own buyer.

Each request is recorded: status (0 = no HTTP answer: connection refused/reset), latency from send to
the end of the answer, and for a 201 the subscription's id, unit and customer as the answer states them,
so the orchestrator can compare every success a client saw with the rows in the database.
"""

import http.client
import json
import multiprocessing as mp
import os
import queue
import random
import resource
import signal
import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from bench.checkin_load import _summary, plain_stats, start_processes

ERROR_SAMPLES = 8
OCCUPYING = ("pending_approval", "active", "contracted")


@dataclass
class BuyersSpec:
    host: str
    port: int
    project_id: int
    tokens: list[str]
    customer_ids: list[int]  # the buyers
    connections: int = 64
    processes: int = 4
    attempts: int = 3  # failed attempts before a buyer gives up
    deposit: str = "50000.00"
    error_backoff: float = 0.2  # seconds × attempt after an error that is not a 409
    timeout: float = 30.0
    seed: int = 20260501
    label: str = ""


@dataclass
class HotSpotSpec:
    host: str
    port: int
    tokens: list[str]
    customer_ids: list[int]  # one connection per buyer
    unit_id: int
    price: str
    deposit: str = "50000.00"
    processes: int = 4
    timeout: float = 120.0
    label: str = ""


@dataclass
class _Stats:
    post_ms: list[float] = field(default_factory=list)
    get_ms: list[float] = field(default_factory=list)
    post_statuses: Counter = field(default_factory=Counter)
    get_statuses: Counter = field(default_factory=Counter)
    outcomes: Counter = field(default_factory=Counter)
    attempts_of_winners: Counter = field(default_factory=Counter)
    wins: list[dict[str, Any]] = field(default_factory=list)
    wrong_answers: list[str] = field(default_factory=list)
    failures: list[tuple[float, str, int]] = field(default_factory=list)  # (at, GET/POST, status)
    samples: list[str] = field(default_factory=list)
    sent_at: list[float] = field(default_factory=list)  # hot spot: when each POST left
    connect_errors: int = 0
    finished_at: float = 0.0


def _headers(token: str) -> dict[str, str]:
    return {
        "Authorization": f"Bearer {token}",
        "Content-Type": "application/json",
        "Accept": "application/json",
        "Connection": "keep-alive",
    }


def _exchange(
    conn: http.client.HTTPConnection, method: str, path: str, body: bytes | None, headers: dict[str, str]
) -> tuple[int, bytes]:
    try:
        conn.request(method, path, body=body, headers=headers)
        response = conn.getresponse()
        data = response.read()
    except (OSError, http.client.HTTPException) as exc:
        conn.close()
        return 0, f"{type(exc).__name__}: {exc}".encode()
    if response.will_close:
        conn.close()
    return response.status, data


def _sample(stats: _Stats, text: str) -> None:
    if len(stats.samples) < ERROR_SAMPLES:
        stats.samples.append(text[:300])


def _check_win(stats: _Stats, data: bytes, *, unit_id: int, customer_id: int, at: float) -> None:
    """A 201 must describe the subscription that was asked for; kept for the check against the rows."""
    try:
        answer = json.loads(data)
        win = {
            "id": int(answer["id"]),
            "unit_id": int(answer["unit_id"]),
            "customer_id": int(answer["customer_id"]),
            "status": str(answer["status"]),
            "at": round(at, 4),
        }
    except (ValueError, KeyError, TypeError):
        stats.wrong_answers.append(f"unreadable 201: {data[:200]!r}")
        return
    if (win["unit_id"], win["customer_id"]) != (unit_id, customer_id) or win["status"] not in OCCUPYING:
        stats.wrong_answers.append(f"201 for unit {unit_id} customer {customer_id} said {win}")
    stats.wins.append(win)


# --- warm-up -----------------------------------------------------------------------------------------


def warm_up(
    host: str,
    port: int,
    *,
    project_id: int,
    tokens: list[str],
    customer_id: int,
    unit_id: int,
    connections: int = 16,
    rounds: int = 4,
) -> dict[str, int]:
    """Before the doors open: every gunicorn worker serves its first requests (the first one in a worker
    loads URLconf, API schemas and translation catalogs: about a second each on these machines) without
    selling anything — a board read and a subscription refused for its price (400)."""
    board = f"/api/v1/projects/{project_id}/units?status=available&limit=200"
    refused = json.dumps({"customer_id": customer_id, "price": "0", "deposit": "0"}).encode()
    statuses: Counter = Counter()
    lock = threading.Lock()

    def client(index: int) -> None:
        headers = _headers(tokens[index % len(tokens)])
        conn = http.client.HTTPConnection(host, port, timeout=60)
        for _ in range(rounds):
            got = [
                _exchange(conn, "GET", board, None, headers)[0],
                _exchange(conn, "POST", f"/api/v1/units/{unit_id}/subscriptions", refused, headers)[0],
            ]
            with lock:
                statuses.update(str(s) for s in got)
        conn.close()

    threads = [threading.Thread(target=client, args=(i,), daemon=True) for i in range(connections)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return dict(statuses)


# --- buyers (S3, R2) ---------------------------------------------------------------------------------


def _buyers_client(spec: BuyersSpec, index: int, t_go: float, stats: _Stats, progress: Any) -> None:
    headers = _headers(spec.tokens[index % len(spec.tokens)])
    board = f"/api/v1/projects/{spec.project_id}/units?status=available&limit=200"
    rng = random.Random(f"{spec.seed}-{index}")
    conn = http.client.HTTPConnection(spec.host, spec.port, timeout=spec.timeout)
    for customer_id in spec.customer_ids[index :: spec.connections]:
        failed = 0
        outcome = "gave_up"
        while failed < spec.attempts:
            sent = time.monotonic()
            status, data = _exchange(conn, "GET", board, None, headers)
            done = time.monotonic()
            stats.get_statuses[status] += 1
            stats.get_ms.append((done - sent) * 1000)
            if status != 200:
                failed += 1
                stats.failures.append((round(done - t_go, 3), "GET", status))
                _sample(stats, f"GET board {status} {data[:200].decode(errors='replace')}")
                time.sleep(spec.error_backoff * failed)
                continue
            try:
                units = [u for u in json.loads(data)["items"] if u["status"] == "available"]
            except (ValueError, KeyError, TypeError):
                stats.wrong_answers.append(f"unreadable board: {data[:200]!r}")
                failed += 1
                continue
            if not units:
                outcome = "sold_out"
                break
            unit = rng.choice(units)
            payload = json.dumps(
                {"customer_id": customer_id, "price": unit["total_price"], "deposit": spec.deposit}
            ).encode()
            path = f"/api/v1/units/{unit['id']}/subscriptions"
            sent = time.monotonic()
            status, data = _exchange(conn, "POST", path, payload, headers)
            done = time.monotonic()
            stats.post_statuses[status] += 1
            stats.post_ms.append((done - sent) * 1000)
            if status == 201:
                _check_win(stats, data, unit_id=unit["id"], customer_id=customer_id, at=done - t_go)
                with progress.get_lock():
                    progress.value += 1
                stats.attempts_of_winners[failed + 1] += 1
                outcome = "won"
                break
            failed += 1
            if status == 409:
                continue
            stats.failures.append((round(done - t_go, 3), "POST", status))
            _sample(stats, f"POST unit {unit['id']} {status} {data[:200].decode(errors='replace')}")
            time.sleep(spec.error_backoff * failed)
        stats.outcomes[outcome] += 1
    conn.close()
    stats.finished_at = time.monotonic() - t_go


def _buyers_process(
    spec: BuyersSpec, clients: list[int], ready: Any, go: Any, t_go_value: Any, progress: Any, results: Any
) -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the parent stops these processes itself
    stats = {index: _Stats() for index in clients}
    ready.put(os.getpid())
    go.wait()
    t_go = t_go_value.value
    before = resource.getrusage(resource.RUSAGE_SELF)
    threads = [
        threading.Thread(target=_buyers_client, args=(spec, i, t_go, stats[i], progress), daemon=True)
        for i in clients
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    after = resource.getrusage(resource.RUSAGE_SELF)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    results.put({"pid": os.getpid(), "cpu": cpu, "clients": [plain_stats(s) for s in stats.values()]})


def _collect(procs: list[Any], results: Any, timeout: float) -> list[dict[str, Any]]:
    outputs: list[dict[str, Any]] = []
    try:
        deadline = time.monotonic() + timeout
        while len(outputs) < len(procs):
            try:
                outputs.append(results.get(timeout=1.0))
            except queue.Empty:
                if time.monotonic() > deadline:
                    raise RuntimeError(f"the load did not finish within {timeout:.0f} s") from None
                if len(outputs) + sum(p.is_alive() for p in procs) < len(procs):
                    raise RuntimeError("a load generator process died") from None
        for proc in procs:
            proc.join(timeout=10)
    finally:
        for proc in procs:
            if proc.is_alive():
                proc.terminate()
                proc.join(timeout=5)
    return outputs


def run_buyers(
    spec: BuyersSpec,
    *,
    during: Callable[[Callable[[], int], float], None] | None = None,
    max_seconds: float = 900,
) -> dict[str, Any]:
    """Serve every buyer once; returns the figures. `during(sold_so_far, t_go)` runs in a thread of this
    process while the load runs (R2 breaks things from there); its exception is raised afterwards."""
    groups = [list(range(spec.connections))[p :: spec.processes] for p in range(spec.processes)]
    ctx = mp.get_context("spawn")
    progress = ctx.Value("i", 0)
    procs, results, go, t_go_value = start_processes(_buyers_process, groups, (spec, progress), 60)
    t_go = time.monotonic() + 0.2
    t_go_value.value = t_go
    go.set()
    failure: list[BaseException] = []
    thread = None
    if during is not None:

        def chaos() -> None:
            try:
                during(lambda: int(progress.value), t_go)
            except BaseException as exc:  # handed to the caller below
                failure.append(exc)

        thread = threading.Thread(target=chaos, daemon=True)
        thread.start()
    outputs = _collect(procs, results, max_seconds)
    if thread is not None:
        thread.join(timeout=120)
    if failure:
        raise failure[0]
    return _aggregate_buyers(spec, outputs)


def _merged(clients: list[dict[str, Any]], key: str) -> dict[str, int]:
    merged: Counter = Counter()
    for c in clients:
        merged.update({str(k): v for k, v in c[key].items()})
    return dict(sorted(merged.items()))


def _aggregate_buyers(spec: BuyersSpec, outputs: list[dict[str, Any]]) -> dict[str, Any]:
    clients = [c for out in outputs for c in out["clients"]]
    wins = sorted((w for c in clients for w in c["wins"]), key=lambda w: w["at"])
    post_statuses = _merged(clients, "post_statuses")
    get_statuses = _merged(clients, "get_statuses")
    posts = sum(post_statuses.values())
    gets = sum(get_statuses.values())
    duration = max((c["finished_at"] for c in clients), default=0.0)
    sold_out = wins[-1]["at"] if wins else None
    failures = sorted(f for c in clients for f in c["failures"])
    all_statuses = Counter(post_statuses) + Counter(get_statuses)
    cpu = sum(out["cpu"] for out in outputs)
    return {
        "label": spec.label,
        "connections": spec.connections,
        "processes": len(outputs),
        "buyers": len(spec.customer_ids),
        "duration_s": round(duration, 2),
        "sold_out_s": round(sold_out, 2) if sold_out is not None else None,
        "won": len(wins),
        "rate_per_min": round(len(wins) / sold_out * 60, 1) if sold_out else 0.0,
        "rate_over_whole_run_per_min": round(len(wins) / duration * 60, 1) if duration else 0.0,
        "wins": wins,
        "outcomes": _merged(clients, "outcomes"),
        "attempts_of_winners": _merged(clients, "attempts_of_winners"),
        "posts": posts,
        "post_statuses": post_statuses,
        "post_latency_ms": _summary([v for c in clients for v in c["post_ms"]]),
        "gets": gets,
        "get_statuses": get_statuses,
        "get_latency_ms": _summary([v for c in clients for v in c["get_ms"]]),
        "requests_per_s": round((posts + gets) / duration, 1) if duration else 0.0,
        "errors_5xx": sum(n for s, n in all_statuses.items() if int(s) >= 500),
        "no_answer": all_statuses.get("0", 0),
        "post_not_201_or_409": sum(n for s, n in post_statuses.items() if s not in ("201", "409")),
        "get_not_200": sum(n for s, n in get_statuses.items() if s != "200"),
        "wrong_answers": [w for c in clients for w in c["wrong_answers"]],
        "failures": failures,
        "error_samples": [s for c in clients for s in c["samples"]][:ERROR_SAMPLES],
        "client_cpu_s": round(cpu, 2),
        "client_cpu_cores": round(cpu / duration, 3) if duration else None,
    }


# --- hot spot (S4) -----------------------------------------------------------------------------------


def _hot_client(
    spec: HotSpotSpec, index: int, connected: threading.Barrier, release: threading.Event, stats: _Stats
) -> None:
    customer_id = spec.customer_ids[index]
    conn = http.client.HTTPConnection(spec.host, spec.port, timeout=spec.timeout)
    try:
        conn.connect()  # the TCP connection waits in gunicorn's backlog until a worker accepts it
    except OSError as exc:
        stats.connect_errors += 1
        _sample(stats, f"connect: {type(exc).__name__}: {exc}")
        conn.close()
    payload = json.dumps({"customer_id": customer_id, "price": spec.price, "deposit": spec.deposit}).encode()
    headers = _headers(spec.tokens[index % len(spec.tokens)])
    connected.wait()
    release.wait()
    sent = time.monotonic()
    stats.sent_at.append(sent)
    status, data = _exchange(conn, "POST", f"/api/v1/units/{spec.unit_id}/subscriptions", payload, headers)
    done = time.monotonic()
    conn.close()
    stats.post_statuses[status] += 1
    stats.post_ms.append((done - sent) * 1000)
    if status == 201:
        _check_win(stats, data, unit_id=spec.unit_id, customer_id=customer_id, at=done)
    elif status != 409:
        stats.failures.append((round(done, 3), "POST", status))
        _sample(stats, f"POST {status} {data[:200].decode(errors='replace')}")


def _hot_process(
    spec: HotSpotSpec, clients: list[int], ready: Any, go: Any, t_go_value: Any, results: Any
) -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    stats = {index: _Stats() for index in clients}  # one per thread: Counter updates are not atomic
    connected = threading.Barrier(len(clients) + 1)
    release = threading.Event()
    threads = [
        threading.Thread(target=_hot_client, args=(spec, i, connected, release, stats[i]), daemon=True)
        for i in clients
    ]
    for thread in threads:
        thread.start()
    connected.wait()  # every connection of this process is open
    ready.put(os.getpid())
    go.wait()
    release.set()
    for thread in threads:
        thread.join()
    results.put({"pid": os.getpid(), "cpu": 0.0, "clients": [plain_stats(s) for s in stats.values()]})


def run_hot_spot(spec: HotSpotSpec) -> dict[str, Any]:
    """Open one connection per buyer, then send every POST for the one unit at the same moment."""
    n = len(spec.customer_ids)
    groups = [list(range(n))[p :: spec.processes] for p in range(spec.processes)]
    connect_started = time.monotonic()
    procs, results, go, _ = start_processes(_hot_process, groups, (spec,), 120)
    connected_s = time.monotonic() - connect_started
    go.set()
    outputs = _collect(procs, results, spec.timeout + 60)
    clients = [c for out in outputs for c in out["clients"]]
    statuses = _merged(clients, "post_statuses")
    sent = sorted(t for c in clients for t in c["sent_at"])
    wins = [w for c in clients for w in c["wins"]]
    latencies = [v for c in clients for v in c["post_ms"]]
    return {
        "label": spec.label,
        "connections": n,
        "processes": len(outputs),
        "setup_s": round(connected_s, 2),
        "send_spread_ms": round((sent[-1] - sent[0]) * 1000, 1) if sent else None,
        "last_answer_s": round(max(latencies) / 1000, 2) if latencies else None,
        "statuses": statuses,
        "winners": len(wins),
        "wins": wins,
        "conflicts": statuses.get("409", 0),
        "errors_5xx": sum(v for s, v in statuses.items() if int(s) >= 500),
        "no_answer": statuses.get("0", 0),
        "connect_errors": sum(c["connect_errors"] for c in clients),
        "other": sum(v for s, v in statuses.items() if s not in ("201", "409")),
        "latency_ms": _summary(latencies),
        "wrong_answers": [w for c in clients for w in c["wrong_answers"]],
        "error_samples": [s for c in clients for s in c["samples"]][:ERROR_SAMPLES],
    }
