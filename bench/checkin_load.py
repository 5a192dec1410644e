"""Load generator for `POST /api/v1/projects/{pid}/checkins` (S1, S2).

No Django here: the generator must cost as little CPU as possible on a 2-core machine that also runs
gunicorn and the database. Several processes (so the GIL is not the limit) each run a few threads;
every thread is one client with its own `http.client` connection object, reused for every request
(gunicorn's sync worker answers `Connection: close`, so http.client reconnects transparently — the
TCP handshake on loopback is part of what a request costs there).

Two modes:

- closed loop (`rate=None`): each client sends its next request as soon as the previous answer is in;
  throughput = 201 answers completed inside the measured window / window length.
- paced (`rate=R`): open loop; client i of N sends request k at `start + phase_i + k * N / R`. Latency is
  counted from the *scheduled* send time, so a server that falls behind shows it (no coordinated
  omission); the plain send→answer time is reported beside it as `service_ms`.

With `probe_path` set, every request is instead a plain `GET` of that path (200 counts as success):
S1 uses it to measure the framework's floor — an authenticated endpoint that only reads — on the
same server, clients and window as the check-ins.

The visitor mix per client cycles through ten requests: 6 new visitors (a unique new phone each),
3 returning visitors (phones of existing customers, this client's own slice of the pool, so two clients
never check in the same person at the same instant) and 1 visitor who names a consultant.
"""

import http.client
import json
import multiprocessing as mp
import os
import queue
import resource
import signal
import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

MIX = ("new", "returning", "new", "new", "returning", "designated", "new", "returning", "new", "new")
ERROR_SAMPLES = 5


@dataclass
class LoadSpec:
    host: str
    port: int
    project_id: int
    tokens: list[str]
    consultant_ids: list[int]
    returning: list[list[str]]  # groups of national mobiles of existing customers (protected, lapsed …)
    new_prefix: str  # three digits; new phones are prefix + client(3) + counter(5)
    clients: int
    processes: int
    warmup: float
    duration: float
    rate: float | None = None  # total requests/s for the paced mode; None = closed loop
    timeout: float = 30.0
    label: str = ""
    probe_path: str | None = None  # GET this path instead of checking in (the framework's floor)


@dataclass
class _ClientStats:
    latencies: list[float] = field(default_factory=list)  # ms, for requests inside the window
    service: list[float] = field(default_factory=list)
    ok: int = 0
    errors: int = 0
    errors_5xx: int = 0
    locked: int = 0
    transport_errors: int = 0
    in_window: int = 0
    behind_schedule: int = 0
    statuses: Counter = field(default_factory=Counter)
    rules: Counter = field(default_factory=Counter)
    kinds: Counter = field(default_factory=Counter)
    samples: list[str] = field(default_factory=list)


def _client(spec: LoadSpec, index: int, t_go: float, stats: _ClientStats) -> None:
    path = f"/api/v1/projects/{spec.project_id}/checkins"
    headers = {
        "Authorization": f"Bearer {spec.tokens[index % len(spec.tokens)]}",
        "Content-Type": "application/json",
        "Accept": "application/json",
        "Connection": "keep-alive",
    }
    # This client's own slice of every group, interleaved: protected, lapsed, protected, …
    slices = [group[index :: spec.clients] or group for group in spec.returning if group]
    mine = [phone for several in zip(*slices, strict=False) for phone in several]
    warm_end, end = t_go + spec.warmup, t_go + spec.warmup + spec.duration
    interval = spec.clients / spec.rate if spec.rate else 0.0
    phase = interval * index / spec.clients
    conn = http.client.HTTPConnection(spec.host, spec.port, timeout=spec.timeout)
    n = 0
    while True:
        if spec.rate:
            scheduled = t_go + phase + n * interval
            if scheduled >= end:
                break
            delay = scheduled - time.monotonic()
            if delay > 0:
                time.sleep(delay)
            elif delay < -0.005:
                stats.behind_schedule += 1
        else:
            scheduled = time.monotonic()
            if scheduled >= end:
                break
        kind = MIX[(n + index) % len(MIX)]
        if n >= 100_000:
            raise RuntimeError("more than 100,000 requests for one client: widen the phone scheme")
        new_phone = f"{spec.new_prefix}{index:03d}{n:05d}"
        if kind == "new":
            body: dict[str, Any] = {
                "phone": new_phone,
                "name": "张访客",
                "gender": "male",
                "source": "passing_by",
            }
        elif kind == "returning":
            body = {"phone": mine[(n // len(MIX)) % len(mine)]}
        else:
            consultant = spec.consultant_ids[(index + n) % len(spec.consultant_ids)]
            body = {"phone": new_phone, "name": "李指定", "designated_consultant_id": consultant}
        body["consent"] = True
        payload = json.dumps(body).encode()
        n += 1

        sent = time.monotonic()
        status, data = 0, b""
        try:
            if spec.probe_path:
                conn.request("GET", spec.probe_path, headers=headers)
            else:
                conn.request("POST", path, body=payload, headers=headers)
            response = conn.getresponse()
            data = response.read()
            status = response.status
        except (OSError, http.client.HTTPException) as exc:
            conn.close()
            data = f"{type(exc).__name__}: {exc}".encode()
        done = time.monotonic()

        counted = (scheduled if spec.rate else done) >= warm_end and (spec.rate or done < end)
        if not counted:
            continue
        stats.in_window += 1
        stats.kinds[kind] += 1
        stats.statuses[status] += 1
        if status == (200 if spec.probe_path else 201):
            stats.ok += 1
            stats.latencies.append((done - scheduled) * 1000)
            stats.service.append((done - sent) * 1000)
            try:
                stats.rules[json.loads(data)["attribution"]["rule"]] += 1
            except (ValueError, KeyError, TypeError):
                stats.rules["probe" if spec.probe_path else "?"] += 1
        else:
            stats.errors += 1
            if status == 0:
                stats.transport_errors += 1
            if status >= 500:
                stats.errors_5xx += 1
            if b"locked" in data.lower():
                stats.locked += 1
            if len(stats.samples) < ERROR_SAMPLES:
                stats.samples.append(f"{status} {kind} {data[:300].decode(errors='replace')}")
    conn.close()


def _process(
    spec: LoadSpec,
    clients: list[int],
    ready: Any,
    go: Any,
    t_go_value: Any,
    results: Any,
) -> None:
    # Ctrl+C reaches the whole process group: the parent stops these processes itself.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    stats = {index: _ClientStats() for index in clients}
    ready.put(os.getpid())
    go.wait()
    t_go = t_go_value.value
    threads = [
        threading.Thread(target=_client, args=(spec, index, t_go, stats[index]), daemon=True)
        for index in clients
    ]
    for thread in threads:
        thread.start()
    time.sleep(max(0.0, t_go + spec.warmup - time.monotonic()))
    before = resource.getrusage(resource.RUSAGE_SELF)
    time.sleep(max(0.0, t_go + spec.warmup + spec.duration - time.monotonic()))
    after = resource.getrusage(resource.RUSAGE_SELF)
    for thread in threads:
        thread.join()
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    results.put({"pid": os.getpid(), "cpu": cpu, "clients": [plain_stats(s) for s in stats.values()]})


def plain_stats(stats: object) -> dict[str, Any]:
    """A client's stats as plain data for the results queue (its Counters as dicts)."""
    # Not dataclasses.asdict: it rebuilds a Counter from (key, value) pairs, counting the pairs.
    return {k: dict(v) if isinstance(v, Counter) else v for k, v in vars(stats).items()}


def start_processes(
    target: Callable[..., None], groups: list[list[int]], args: tuple[Any, ...], start_timeout: float
) -> tuple[list[Any], Any, Any, Any]:
    """Start one process per group and wait until each reports ready; (procs, results, go, t_go).

    `target` is called as `target(args[0], group, ready, go, t_go, *args[1:], results)`. If they do not
    all start (or the wait is interrupted), the started ones are stopped before the error goes up.
    """
    ctx = mp.get_context("spawn")
    ready, results = ctx.Queue(), ctx.Queue()
    go, t_go_value = ctx.Event(), ctx.Value("d", 0.0)
    procs = [
        ctx.Process(
            target=target, args=(*args[:1], group, ready, go, t_go_value, *args[1:], results), daemon=True
        )
        for group in groups
        if group
    ]
    try:
        for proc in procs:
            proc.start()
        waiting, deadline = len(procs), time.monotonic() + start_timeout
        while waiting:
            try:
                ready.get(timeout=0.5)
                waiting -= 1
            except queue.Empty:
                dead = [p.exitcode for p in procs if not p.is_alive()]
                if dead or time.monotonic() > deadline:
                    raise RuntimeError(
                        f"load generator processes did not start (exit codes {dead})"
                    ) from None
    except BaseException:
        for proc in procs:
            if proc.is_alive():
                proc.terminate()
        raise
    return procs, results, go, t_go_value


def _percentile(values: list[float], q: float) -> float | None:
    if not values:
        return None
    values = sorted(values)
    return round(values[min(len(values) - 1, round(q * (len(values) - 1)))], 2)


def _summary(values: list[float]) -> dict[str, float | None]:
    return {
        "p50": _percentile(values, 0.50),
        "p95": _percentile(values, 0.95),
        "p99": _percentile(values, 0.99),
        "max": round(max(values), 2) if values else None,
        "mean": round(sum(values) / len(values), 2) if values else None,
    }


def run_load(spec: LoadSpec, on_window: Callable[[str], None] | None = None) -> dict[str, Any]:
    """Run one pass and return its figures. `on_window("start"|"end")` is called at the edges of the
    measured window (after the warm-up), so callers can sample the server's CPU over the same span."""
    groups = [list(range(spec.clients))[p :: spec.processes] for p in range(spec.processes)]
    procs, results, go, t_go_value = start_processes(_process, groups, (spec,), 60)
    outputs: list[dict[str, Any]] = []
    try:
        t_go = time.monotonic() + 0.2
        t_go_value.value = t_go
        go.set()
        time.sleep(max(0.0, t_go + spec.warmup - time.monotonic()))
        if on_window:
            on_window("start")
        time.sleep(max(0.0, t_go + spec.warmup + spec.duration - time.monotonic()))
        if on_window:
            on_window("end")
        for _ in procs:
            outputs.append(results.get(timeout=spec.timeout + 30))
        for proc in procs:
            proc.join(timeout=10)
    finally:
        for proc in procs:
            if proc.is_alive():
                proc.terminate()
                proc.join(timeout=5)
    return _aggregate(spec, outputs)


def _aggregate(spec: LoadSpec, outputs: list[dict[str, Any]]) -> dict[str, Any]:
    clients = [c for out in outputs for c in out["clients"]]
    latencies = [v for c in clients for v in c["latencies"]]
    service = [v for c in clients for v in c["service"]]

    def total(key: str) -> int:
        return sum(c[key] for c in clients)

    def counter(key: str) -> dict[str, int]:
        merged: Counter = Counter()
        for c in clients:
            merged.update({str(k): v for k, v in c[key].items()})
        return dict(merged.most_common())

    cpu = sum(out["cpu"] for out in outputs)
    ncpu = os.cpu_count() or 1
    ok = total("ok")
    return {
        "label": spec.label,
        "mode": "paced" if spec.rate else "closed loop",
        "clients": spec.clients,
        "processes": len(outputs),
        "warmup_s": spec.warmup,
        "duration_s": spec.duration,
        "target_rate": round(spec.rate, 1) if spec.rate else None,
        "requests": total("in_window"),
        "ok": ok,
        "throughput": round(ok / spec.duration, 1),
        "errors": total("errors"),
        "errors_5xx": total("errors_5xx"),
        "locked": total("locked"),
        "transport_errors": total("transport_errors"),
        "behind_schedule": total("behind_schedule") if spec.rate else None,
        "error_samples": [s for c in clients for s in c["samples"]][:ERROR_SAMPLES],
        "statuses": counter("statuses"),
        "rules": counter("rules"),
        "kinds": counter("kinds"),
        "latency_ms": _summary(latencies),
        "service_ms": _summary(service) if spec.rate else None,
        "client_cpu_s": round(cpu, 2),
        "client_cpu_cores": round(cpu / spec.duration, 3),
        "client_cpu_share": round(cpu / spec.duration / ncpu, 3),
        "client_busiest_process_core": round(max((o["cpu"] for o in outputs), default=0) / spec.duration, 3),
    }
