"""What the benchmarks start and stop: a throwaway PostgreSQL cluster, gunicorn, pgbench, and samplers
of CPU time and memory read from /proc. Everything here is registered with the harness's ExitStack by
the caller, so it is stopped on success, failure and Ctrl+C alike."""

import http.client
import json
import os
import re
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
PGBIN = Path("/usr/lib/postgresql/15/bin")
PYTHON = sys.executable
CLK_TCK = os.sysconf("SC_CLK_TCK")


class HarnessError(RuntimeError):
    """The benchmark could not be carried out (as opposed to: it ran and missed its bar)."""


def log(message: str) -> None:
    print(f"[bench {time.strftime('%H:%M:%S')}] {message}", flush=True)


def run(cmd: list[str], *, env: dict[str, str] | None = None, timeout: float = 300, what: str = "") -> str:
    """Run a command to completion; its output is returned, or shown in the error when it fails."""
    try:
        done = subprocess.run(
            cmd, cwd=ROOT, env=env, capture_output=True, text=True, timeout=timeout, start_new_session=True
        )
    except subprocess.TimeoutExpired as exc:
        raise HarnessError(f"{what or cmd[0]} took longer than {timeout:.0f} s") from exc
    if done.returncode != 0:
        output = f"{done.stdout[-2000:]}\n{done.stderr[-3000:]}"
        raise HarnessError(f"{what or ' '.join(cmd)} failed ({done.returncode}):\n{output}")
    return done.stdout


def port_in_use(port: int) -> bool:
    with socket.socket() as s:
        s.settimeout(0.2)
        return s.connect_ex(("127.0.0.1", port)) == 0


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def base_env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "ANCHANG_VAR_DIR"}}
    env.update(DJANGO_SETTINGS_MODULE="anchang.settings", PYTHONDONTWRITEBYTECODE="1")
    env.update(extra)
    return env


# --- /proc -------------------------------------------------------------------------------------------


def children(pid: int) -> list[int]:
    try:
        text = Path(f"/proc/{pid}/task/{pid}/children").read_text()
    except OSError:
        return []
    return [int(p) for p in text.split()]


def cpu_seconds(pids: list[int]) -> float:
    total = 0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        # utime + stime, plus cutime + cstime: children that exited and were waited for (PostgreSQL
        # backends that closed their connection) stay counted in their parent's figures.
        total += sum(int(x) for x in fields[11:15])
    return total / CLK_TCK


def machine_busy_seconds() -> float:
    """CPU seconds spent not idle, summed over all cores, since boot."""
    fields = [int(x) for x in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    idle = fields[3] + fields[4]  # idle + iowait
    return (sum(fields[:8]) - idle) / CLK_TCK


def rss_mb(pid: int) -> float | None:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    except OSError:
        return None
    return None


def machine() -> dict[str, Any]:
    mem_kb = int(re.search(r"MemTotal:\s+(\d+)", Path("/proc/meminfo").read_text()).group(1))  # type: ignore[union-attr]
    model = re.search(r"model name\s*:\s*(.+)", Path("/proc/cpuinfo").read_text())
    return {
        "nproc": os.cpu_count(),
        "memory_gib": round(mem_kb / 1024 / 1024, 1),
        "cpu": model.group(1).strip() if model else "?",
        "loadavg_at_start": os.getloadavg()[0],
    }


class CpuWindow:
    """CPU used by named groups of processes between `mark("start")` and `mark("end")`."""

    def __init__(self, groups: dict[str, Any]) -> None:
        self.groups = groups  # name -> callable returning the pids of that group now
        self.at: dict[str, tuple[float, float, dict[str, float]]] = {}

    def mark(self, edge: str) -> None:
        self.at[edge] = (
            time.monotonic(),
            machine_busy_seconds(),
            {name: cpu_seconds(pids()) for name, pids in self.groups.items()},
        )

    def cores(self) -> dict[str, float]:
        if "start" not in self.at or "end" not in self.at:
            return {}
        (t0, busy0, g0), (t1, busy1, g1) = self.at["start"], self.at["end"]
        span = t1 - t0
        figures = {f"{name}_cpu_cores": round((g1[name] - g0[name]) / span, 3) for name in self.groups}
        figures["machine_busy_cores"] = round((busy1 - busy0) / span, 3)
        return figures


class RssSampler:
    """Samples VmRSS of every gunicorn worker every 0.25 s while the server runs."""

    def __init__(self, pids: Any) -> None:
        self.pids = pids
        self.max_by_pid: dict[int, float] = {}
        self.samples = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, daemon=True)

    def _loop(self) -> None:
        while not self._stop.wait(0.25):
            for pid in self.pids():
                value = rss_mb(pid)
                if value is not None:
                    self.max_by_pid[pid] = max(value, self.max_by_pid.get(pid, 0.0))
            self.samples += 1

    def start(self) -> "RssSampler":
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(timeout=2)

    def figures(self) -> dict[str, Any]:
        return {
            "max_mb": round(max(self.max_by_pid.values(), default=0.0), 1),
            "per_worker_max_mb": sorted(round(v, 1) for v in self.max_by_pid.values()),
            "samples": self.samples,
        }


# --- PostgreSQL --------------------------------------------------------------------------------------


class PgCluster:
    """`scripts/pg.sh` on a private port and state file of our own, plus a few helpers."""

    def __init__(self, workdir: Path) -> None:
        port = int(os.environ.get("BENCH_PG_PORT", "55470"))
        while port_in_use(port):
            port += 1
        self.port = port
        self.state_file = workdir / "pg.state"
        self.env = {**os.environ, "PG_PORT": str(port), "PG_STATE_FILE": str(self.state_file)}
        self.url = ""

    def start(self) -> "PgCluster":
        log(f"starting PostgreSQL 15 on 127.0.0.1:{self.port}")
        self.url = run(
            ["scripts/pg.sh", "start"], env=self.env, timeout=120, what="scripts/pg.sh start"
        ).strip()
        return self

    def stop(self) -> None:
        if self.state_file.exists():
            log("stopping PostgreSQL")
            subprocess.run(["scripts/pg.sh", "stop"], cwd=ROOT, env=self.env, timeout=60, check=False)

    def pg_env(self) -> dict[str, str]:
        return {**os.environ, "PGHOST": "127.0.0.1", "PGPORT": str(self.port), "PGUSER": "postgres"}

    def create_database(self, name: str) -> str:
        run(
            [str(PGBIN / "psql"), "-q", "-d", "postgres", "-c", f'CREATE DATABASE "{name}"'],
            env=self.pg_env(),
        )
        return self.url.rsplit("/", 1)[0] + f"/{name}"

    def pids(self) -> list[int]:
        try:
            data_dir = Path(self.state_file.read_text().strip()) / "data"
            master = int((data_dir / "postmaster.pid").read_text().split()[0])
        except (OSError, ValueError, IndexError):
            return []
        return [master, *children(master)]

    def restart(self) -> float:
        """`pg_ctl restart -m fast` (R2): every backend is cut off, committed work survives (the fast
        shutdown writes a checkpoint). The server keeps the options of its first start
        (postmaster.opts); `-l` is needed so that it does not inherit our pipes. Returns the seconds."""
        folder = Path(self.state_file.read_text().strip())
        command = f"{PGBIN}/pg_ctl -D {folder}/data -l {folder}/log -m fast -w -t 60 restart"
        as_owner = ["su", "postgres", "-s", "/bin/bash", "-c"] if os.geteuid() == 0 else ["bash", "-c"]
        started = time.monotonic()
        run([*as_owner, command], env=self.env, timeout=90, what="pg_ctl restart")
        return time.monotonic() - started

    def pgbench(self, *, clients: int, threads: int, seconds: int) -> dict[str, Any]:
        """`pgbench -N` on a database of its own in this cluster: context beside S1 (ADR 0002)."""
        self.create_database("pgbench")
        env = self.pg_env()
        run([str(PGBIN / "pgbench"), "-i", "-q", "pgbench"], env=env, what="pgbench -i")
        cmd = [
            str(PGBIN / "pgbench"),
            "-N",
            "-c",
            str(clients),
            "-j",
            str(threads),
            "-T",
            str(seconds),
            "pgbench",
        ]
        log("baseline: pgbench " + " ".join(cmd[1:]))
        out = run(cmd, env=env, timeout=seconds + 60, what="pgbench -N")
        match = re.search(r"tps = ([\d.]+) \(without initial connection time\)", out) or re.search(
            r"tps = ([\d.]+)", out
        )
        if not match:
            raise HarnessError(f"could not read TPS from pgbench:\n{out}")
        latency = re.search(r"latency average = ([\d.]+) ms", out)
        return {
            "tps": round(float(match.group(1)), 1),
            "latency_avg_ms": float(latency.group(1)) if latency else None,
            "command": "pgbench -N " + " ".join(cmd[2:-1]),
        }


# --- gunicorn ----------------------------------------------------------------------------------------


class Gunicorn:
    """`python -m gunicorn anchang.wsgi:application -w N` on a free loopback port, access log off."""

    def __init__(self, *, env: dict[str, str], workers: int, log_path: Path) -> None:
        self.port = free_port()
        self.workers = workers
        self.env = env
        self.log_path = log_path
        self.proc: subprocess.Popen[bytes] | None = None
        self.rss = RssSampler(self.worker_pids)  # worker memory, sampled for as long as the server runs

    def start(self) -> "Gunicorn":
        cmd = [
            PYTHON, "-m", "gunicorn", "anchang.wsgi:application",
            "-w", str(self.workers), "-b", f"127.0.0.1:{self.port}", "--timeout", "60",
        ]  # fmt: skip
        log(f"starting gunicorn ({self.workers} sync workers) on 127.0.0.1:{self.port}")
        with self.log_path.open("ab") as out:
            self.proc = subprocess.Popen(
                cmd, cwd=ROOT, env=self.env, stdout=out, stderr=out, start_new_session=True
            )
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise HarnessError(f"gunicorn exited ({self.proc.returncode}):\n{self.log_tail()}")
            if port_in_use(self.port) and len(self.worker_pids()) >= self.workers:
                self.rss.start()
                return self
            time.sleep(0.2)
        raise HarnessError(f"gunicorn did not come up within 60 s:\n{self.log_tail()}")

    def log_tail(self) -> str:
        try:
            return self.log_path.read_text(errors="replace")[-3000:]
        except OSError:
            return ""

    def worker_pids(self) -> list[int]:
        return children(self.proc.pid) if self.proc else []

    def pids(self) -> list[int]:
        return [self.proc.pid, *self.worker_pids()] if self.proc else []

    def stop(self) -> None:
        self.rss.stop()
        if self.proc is None or self.proc.poll() is not None:
            return
        log("stopping gunicorn")
        try:
            os.killpg(self.proc.pid, signal.SIGTERM)
            self.proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait(timeout=5)
        except ProcessLookupError:
            pass

    def token(self, username: str, password: str) -> str:
        """One login per front desk user, before the run (django-axes throttles logins)."""
        deadline = time.monotonic() + 30
        while True:
            conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
            try:
                body = json.dumps({"username": username, "password": password})
                conn.request(
                    "POST", "/api/v1/auth/token", body=body, headers={"Content-Type": "application/json"}
                )
                response = conn.getresponse()
                data = response.read()
            except OSError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.3)
                continue
            finally:
                conn.close()
            if response.status != 200:
                raise HarnessError(f"login of {username} answered {response.status}: {data[:300]!r}")
            return str(json.loads(data)["token"])
