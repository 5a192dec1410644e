"""Periodic jobs: a small registry, run once per `anchang tick` and on their interval by `anchang worker`.

Registering a job — in the app's `AppConfig.ready` (or a module imported from there), never at import
time of models::

    class ReceptionConfig(AppConfig):
        name = "anchang.reception"

        def ready(self) -> None:
            from anchang.reception import jobs  # periodic.register("reception.…", job, every_seconds=60)

Rules for a job (quality R5: run twice or concurrently, the result is the same as once):

- a function without arguments returning a short summary (a dict of counts) that `tick` prints;
- it runs inside one transaction opened by `run_job`; side effects that leave the database (enqueueing
  tasks, HTTP) go to `transaction.on_commit`;
- it decides from the rows ("customers whose protection ended before now"), never from "when did I
  last run": a missed, late or doubled run must not change the outcome. `every_seconds` is how often
  the worker calls it, not an input to its logic.

Concurrency: on PostgreSQL each job first takes `pg_try_advisory_xact_lock(<hash of its name>)` in its
transaction; a second tick (another worker, another machine, a cron timer) skips the job while the
first one holds it, and the lock ends with the transaction. On SQLite transactions begin IMMEDIATE
(settings), which takes the database write lock at BEGIN, so concurrent ticks simply run one after
the other.
"""

import hashlib
import logging
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Literal

from django.core.exceptions import ImproperlyConfigured
from django.db import DEFAULT_DB_ALIAS, close_old_connections, connections, transaction

logger = logging.getLogger("anchang.periodic")


@dataclass(frozen=True)
class PeriodicJob:
    name: str
    func: Callable[[], object]
    every_seconds: float


@dataclass(frozen=True)
class JobOutcome:
    name: str
    status: Literal["ran", "skipped", "error"]
    result: object = None
    error: str = ""


_registry: dict[str, PeriodicJob] = {}
_registry_lock = threading.Lock()


def register(name: str, func: Callable[[], object], every_seconds: float) -> PeriodicJob:
    """Add a job. Registering the same function under the same name again is a no-op (ready() may
    run more than once); a different function under a taken name is a configuration error."""
    if every_seconds <= 0:
        raise ImproperlyConfigured(f"periodic job {name!r}: every_seconds must be positive")
    job = PeriodicJob(name=name, func=func, every_seconds=float(every_seconds))
    with _registry_lock:
        existing = _registry.get(name)
        if existing is not None and existing.func is not func:
            raise ImproperlyConfigured(f"periodic job {name!r} is already registered to {existing.func!r}")
        _registry[name] = job
    return job


def unregister(name: str) -> None:
    with _registry_lock:
        _registry.pop(name, None)


def registered_jobs(names: Iterable[str] | None = None) -> list[PeriodicJob]:
    """The jobs in name order; `names` picks some of them (an unknown name is a KeyError)."""
    with _registry_lock:
        if names is None:
            return [_registry[name] for name in sorted(_registry)]
        return [_registry[name] for name in names]


def advisory_lock_key(name: str) -> int:
    """A stable signed 64-bit key per job name (Python's hash() changes between processes)."""
    digest = hashlib.blake2b(f"anchang.periodic:{name}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big", signed=True)


def run_job(job: PeriodicJob, *, using: str = DEFAULT_DB_ALIAS) -> JobOutcome:
    """Run one job in its own transaction, unless another process is running it right now."""
    started = time.monotonic()
    try:
        with transaction.atomic(using=using):
            connection = connections[using]
            if connection.vendor == "postgresql":
                with connection.cursor() as cursor:
                    cursor.execute("SELECT pg_try_advisory_xact_lock(%s)", [advisory_lock_key(job.name)])
                    row = cursor.fetchone()
                if not (row and row[0]):
                    logger.info("periodic job skipped: running elsewhere", extra={"job": job.name})
                    return JobOutcome(name=job.name, status="skipped")
            result = job.func()
    except Exception as error:
        # One broken job must not stop the others in the same tick; the error is logged and reported.
        logger.exception("periodic job failed", extra={"job": job.name})
        return JobOutcome(name=job.name, status="error", error=f"{type(error).__name__}: {error}")
    logger.debug(
        "periodic job ran",
        extra={"job": job.name, "result": result, "ms": round((time.monotonic() - started) * 1000)},
    )
    return JobOutcome(name=job.name, status="ran", result=result)


def tick(names: Iterable[str] | None = None) -> list[JobOutcome]:
    """Run every registered job (or the named ones) once."""
    return [run_job(job) for job in registered_jobs(names)]


@dataclass
class PeriodicScheduler:
    """Calls each job on its interval from one background thread (used by `anchang worker`).

    Every job runs once right after start, then every `every_seconds` (or the override). A pass that
    takes longer than an interval just makes the next run late; runs never overlap within a process,
    and across processes the advisory lock / IMMEDIATE transaction of `run_job` keeps them apart.
    """

    jobs: list[PeriodicJob]
    every_overrides: dict[str, float] = field(default_factory=dict)
    poll_seconds: float = 5.0
    clock: Callable[[], float] = time.monotonic
    stop_event: threading.Event = field(default_factory=threading.Event)
    _next_run: dict[str, float] = field(default_factory=dict)
    _thread: threading.Thread | None = None

    def interval_of(self, job: PeriodicJob) -> float:
        return self.every_overrides.get(job.name, job.every_seconds)

    def run_due(self) -> list[JobOutcome]:
        outcomes = []
        for job in self.jobs:
            if self.stop_event.is_set():
                break
            now = self.clock()
            if self._next_run.get(job.name, now) <= now:
                outcomes.append(run_job(job))
                self._next_run[job.name] = now + self.interval_of(job)
        return outcomes

    def _loop(self) -> None:
        try:
            while not self.stop_event.is_set():
                close_old_connections()
                try:
                    self.run_due()
                except Exception:
                    logger.exception("periodic scheduler pass failed")
                close_old_connections()
                self.stop_event.wait(self.poll_seconds)
        finally:
            # Connections are per thread: close the ones this thread opened.
            connections.close_all()

    def start(self) -> None:
        self._thread = threading.Thread(target=self._loop, name="anchang-periodic", daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 30.0) -> None:
        """Ask the thread to stop and wait for a job in progress to finish (up to `timeout`)."""
        self.stop_event.set()
        if self._thread is not None:
            self._thread.join(timeout)

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()


def _notification_sweep() -> object:
    from anchang.core.notifications import notification_sweep_due

    return notification_sweep_due()


def _prune_task_results() -> object:
    """Every delivered notification leaves a finished row in the task queue table; keep a week of them
    (a month of failures, for diagnosis) so the table stays small."""
    from datetime import timedelta

    from django.db.models import Q
    from django.utils import timezone
    from django_tasks import TaskResultStatus
    from django_tasks_db.models import DBTaskResult

    now = timezone.now()
    deleted, _ = DBTaskResult.objects.filter(
        Q(status=TaskResultStatus.SUCCESSFUL, finished_at__lte=now - timedelta(days=7))
        | Q(status=TaskResultStatus.FAILED, finished_at__lte=now - timedelta(days=30))
    ).delete()
    return {"deleted": deleted}


# Core registers its own jobs here (core imports no app; other apps register from their ready()).
register("core.notification_sweep", _notification_sweep, every_seconds=30)
register("core.prune_task_results", _prune_task_results, every_seconds=3600)
