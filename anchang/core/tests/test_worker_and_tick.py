"""`anchang tick`, the periodic registry and `anchang worker` (django-tasks-db's worker loop)."""

import io
import os
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings as django_settings
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import transaction
from django.utils import timezone
from django_tasks import TaskResultStatus
from django_tasks_db.models import DBTaskResult

from anchang.core import periodic
from anchang.core.models import DeliveryStatus, Notification, NotificationChannel
from anchang.core.notifications import notify
from anchang.core.tests.test_notifications import IMMEDIATE_TASKS, WecomStub

PROJECT_ROOT = Path(django_settings.BASE_DIR).parent


@pytest.fixture
def wecom() -> Iterator[WecomStub]:
    stub = WecomStub().start()
    yield stub
    stub.stop()


@pytest.fixture
def restore_signals() -> Iterator[None]:
    """db_worker installs SIGINT/SIGTERM handlers in the main thread; put pytest's back afterwards."""
    names = [signal.SIGINT, signal.SIGTERM] + ([signal.SIGQUIT] if hasattr(signal, "SIGQUIT") else [])
    saved = {sig: signal.getsignal(sig) for sig in names}
    yield
    for sig, handler in saved.items():
        signal.signal(sig, handler)


@pytest.fixture
def scratch_jobs() -> Iterator[list[str]]:
    """Names registered during a test are removed afterwards."""
    names: list[str] = []
    yield names
    for name in names:
        periodic.unregister(name)


def _due_rows(webhook_url: str) -> list[Notification]:
    past = timezone.now() - timedelta(minutes=2)
    return [
        Notification.objects.create(
            channel=NotificationChannel.WECOM,
            kind="visit.arrived",
            title="客户到访",
            body="请到前台",
            target=webhook_url,
            attempts=1,
            next_attempt_at=past,
            last_error="errcode 93000",
        ),
        Notification.objects.create(
            channel=NotificationChannel.LOG, kind="followup.due", title="跟进到期", next_attempt_at=past
        ),
    ]


def _not_due_row(webhook_url: str) -> Notification:
    return Notification.objects.create(
        channel=NotificationChannel.WECOM,
        kind="k",
        title="稍后重试",
        target=webhook_url,
        attempts=1,
        next_attempt_at=timezone.now() + timedelta(minutes=5),
    )


def _outbox_state() -> list[tuple[Any, ...]]:
    return list(
        Notification.objects.order_by("pk").values_list(
            "pk", "status", "attempts", "next_attempt_at", "sent_at", "last_error"
        )
    )


# --- tick ------------------------------------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_tick_twice_gives_the_same_result_as_once(wecom, settings) -> None:
    settings.TASKS = IMMEDIATE_TASKS
    due_wecom, due_log = _due_rows(wecom.url)
    not_due = _not_due_row(wecom.url)

    out = io.StringIO()
    call_command("tick", stdout=out)
    after_once = _outbox_state()
    call_command("tick", stdout=out)

    assert _outbox_state() == after_once
    assert "✓ core.notification_sweep" in out.getvalue()
    assert wecom.posts == 1
    assert wecom.received == [{"msgtype": "text", "text": {"content": "客户到访\n请到前台"}}]
    statuses = dict(Notification.objects.values_list("pk", "status"))
    assert statuses == {
        due_wecom.pk: DeliveryStatus.SENT,
        due_log.pk: DeliveryStatus.SENT,
        not_due.pk: DeliveryStatus.PENDING,
    }


@pytest.mark.django_db(transaction=True)
def test_two_ticks_then_the_database_worker_deliver_each_row_once(wecom, restore_signals) -> None:
    due_wecom, due_log = _due_rows(wecom.url)
    _not_due_row(wecom.url)

    call_command("tick", stdout=io.StringIO())
    call_command("tick", stdout=io.StringIO())
    queued = DBTaskResult.objects.filter(status=TaskResultStatus.READY)
    assert sorted(r.args_kwargs["kwargs"]["notification_id"] for r in queued) == sorted(
        [due_wecom.pk, due_wecom.pk, due_log.pk, due_log.pk]
    )

    call_command("db_worker", "--batch", "--no-startup-delay", "--no-reload", verbosity=0)

    assert wecom.posts == 1
    assert set(
        Notification.objects.filter(pk__in=[due_wecom.pk, due_log.pk]).values_list("status", flat=True)
    ) == {DeliveryStatus.SENT}
    results = DBTaskResult.objects.all()
    assert {r.status for r in results} == {TaskResultStatus.SUCCESSFUL}
    assert sorted(r.return_value for r in results) == ["sent", "sent", "skipped", "skipped"]


def test_tick_lists_jobs_and_refuses_unknown_ones(db) -> None:
    out = io.StringIO()
    call_command("tick", "--list", stdout=out)
    assert "core.notification_sweep\t每 30 秒" in out.getvalue()
    with pytest.raises(CommandError, match="没有这个定时任务"):
        call_command("tick", "--job", "no.such_job")


def test_tick_runs_only_the_named_job(db, scratch_jobs) -> None:
    calls: list[str] = []

    def counter() -> dict[str, int]:
        calls.append("x")
        return {"n": len(calls)}

    scratch_jobs.append("test.counter")
    periodic.register("test.counter", counter, every_seconds=5)
    out = io.StringIO()
    call_command("tick", "--job", "test.counter", stdout=out)
    assert calls == ["x"]
    assert '✓ test.counter：{"n": 1}' in out.getvalue()
    assert "core.notification_sweep" not in out.getvalue()


def test_a_failing_job_rolls_back_alone_and_the_others_still_run(db, scratch_jobs) -> None:
    def broken() -> None:
        Notification.objects.create(channel=NotificationChannel.LOG, kind="k", title="rolled back")
        raise RuntimeError("boom")

    def fine() -> dict[str, int]:
        Notification.objects.create(channel=NotificationChannel.LOG, kind="k", title="kept")
        return {"ok": 1}

    scratch_jobs.extend(["test.a_broken", "test.b_fine"])
    periodic.register("test.a_broken", broken, every_seconds=60)
    periodic.register("test.b_fine", fine, every_seconds=60)
    err = io.StringIO()
    with pytest.raises(CommandError, match=r"test\.a_broken"):
        call_command("tick", stdout=io.StringIO(), stderr=err)
    assert "RuntimeError: boom" in err.getvalue()
    assert list(Notification.objects.values_list("title", flat=True)) == ["kept"]


@pytest.mark.django_db(transaction=True)
def test_old_finished_task_results_are_pruned_and_recent_ones_kept(consultant) -> None:
    notify(recipients=[consultant], kind="k", title="t")  # one queued delivery task (after commit)
    queued = DBTaskResult.objects.get()
    long_ago = timezone.now() - timedelta(days=8)
    old_ok = DBTaskResult.objects.create(
        args_kwargs={"args": [], "kwargs": {}},
        task_path="x.y",
        backend_name="default",
        status=TaskResultStatus.SUCCESSFUL,
        finished_at=long_ago,
    )
    old_failed = DBTaskResult.objects.create(
        args_kwargs={"args": [], "kwargs": {}},
        task_path="x.y",
        backend_name="default",
        status=TaskResultStatus.FAILED,
        finished_at=long_ago,
    )
    out = io.StringIO()
    call_command("tick", "--job", "core.prune_task_results", stdout=out)
    call_command("tick", "--job", "core.prune_task_results", stdout=out)
    assert set(DBTaskResult.objects.values_list("pk", flat=True)) == {queued.pk, old_failed.pk}
    assert old_ok.pk not in set(DBTaskResult.objects.values_list("pk", flat=True))
    assert '{"deleted": 1}' in out.getvalue() and '{"deleted": 0}' in out.getvalue()


# --- the registry and the scheduler -----------------------------------------------------------------


def test_register_is_idempotent_for_the_same_function_and_strict_otherwise(scratch_jobs) -> None:
    def job() -> None:
        return None

    scratch_jobs.append("test.job")
    periodic.register("test.job", job, every_seconds=10)
    periodic.register("test.job", job, every_seconds=10)
    assert [j.name for j in periodic.registered_jobs()].count("test.job") == 1
    with pytest.raises(Exception, match="already registered"):
        periodic.register("test.job", lambda: None, every_seconds=10)
    with pytest.raises(Exception, match="positive"):
        periodic.register("test.other", job, every_seconds=0)


def test_advisory_lock_keys_are_stable_signed_64_bit_and_distinct() -> None:
    key = periodic.advisory_lock_key("core.notification_sweep")
    assert key == periodic.advisory_lock_key("core.notification_sweep")
    assert -(2**63) <= key < 2**63
    assert key != periodic.advisory_lock_key("customers.pool_recovery")


def test_scheduler_runs_each_job_at_start_then_on_its_interval(db, scratch_jobs) -> None:
    calls: list[str] = []
    scratch_jobs.extend(["test.fast", "test.slow"])
    fast = periodic.register("test.fast", lambda: calls.append("fast"), every_seconds=10)
    slow = periodic.register("test.slow", lambda: calls.append("slow"), every_seconds=60)
    now = [1000.0]
    scheduler = periodic.PeriodicScheduler(
        jobs=[fast, slow], every_overrides={"test.slow": 30}, clock=lambda: now[0]
    )
    scheduler.run_due()
    assert calls == ["fast", "slow"]
    now[0] += 9
    scheduler.run_due()
    assert calls == ["fast", "slow"]
    now[0] += 1
    scheduler.run_due()
    assert calls == ["fast", "slow", "fast"]
    now[0] += 20  # 30 s after start: the overridden interval of the slow job
    scheduler.run_due()
    assert calls == ["fast", "slow", "fast", "fast", "slow"]


@pytest.mark.django_db(transaction=True)
def test_scheduler_thread_runs_jobs_and_stops_promptly(scratch_jobs) -> None:
    ran = threading.Event()
    scratch_jobs.append("test.ping")
    job = periodic.register("test.ping", ran.set, every_seconds=60)
    scheduler = periodic.PeriodicScheduler(jobs=[job], poll_seconds=0.05)
    scheduler.start()
    try:
        assert ran.wait(5)
        assert scheduler.running
    finally:
        started = time.monotonic()
        scheduler.stop(timeout=5)
    assert not scheduler.running
    assert time.monotonic() - started < 2


@pytest.mark.postgres_only
@pytest.mark.django_db(transaction=True)
def test_a_job_already_running_elsewhere_is_skipped_on_postgresql(scratch_jobs) -> None:
    from django.db import connection

    inside, release = threading.Event(), threading.Event()

    def slow_job() -> dict[str, int]:
        inside.set()
        release.wait(10)
        return {"done": 1}

    scratch_jobs.append("test.slow_job")
    job = periodic.register("test.slow_job", slow_job, every_seconds=60)
    outcomes: list[periodic.JobOutcome] = []

    def first_tick() -> None:
        try:
            outcomes.append(periodic.run_job(job))
        finally:
            connection.close()

    thread = threading.Thread(target=first_tick)
    thread.start()
    assert inside.wait(10)
    second = periodic.run_job(job)  # another "process" while the first holds the advisory lock
    release.set()
    thread.join(10)
    assert second.status == "skipped"
    assert outcomes[0].status == "ran" and outcomes[0].result == {"done": 1}
    assert periodic.run_job(job).status == "ran"  # the lock ended with the first transaction


# --- the worker ------------------------------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_the_database_backend_stores_the_task_and_db_worker_delivers_it(wecom, restore_signals) -> None:
    from anchang.accounts.testing import UserFactory

    user = UserFactory(username="worker_user")
    with transaction.atomic():
        notify(
            recipients=[user], kind="visit.arrived", title="客户到访", body="请到前台", webhook_url=wecom.url
        )
        assert not DBTaskResult.objects.exists()  # only after commit
    stored = DBTaskResult.objects.all()
    assert len(stored) == 2
    assert {r.status for r in stored} == {TaskResultStatus.READY}
    assert {r.task_path for r in stored} == {"anchang.core.tasks.deliver_notification"}

    call_command("db_worker", "--batch", "--no-startup-delay", "--no-reload", verbosity=0)

    assert wecom.posts == 1
    assert not Notification.objects.exclude(status=DeliveryStatus.SENT).exists()
    assert {r.status for r in DBTaskResult.objects.all()} == {TaskResultStatus.SUCCESSFUL}


@pytest.mark.django_db(transaction=True)
def test_worker_batch_runs_the_periodic_jobs_then_the_queue(wecom) -> None:
    _due_rows(wecom.url)
    out = io.StringIO()
    call_command("worker", "--batch", "--every", "core.notification_sweep=5", stdout=out, verbosity=0)
    text = out.getvalue()
    assert "案场后台任务进程已启动" in text
    assert "core.notification_sweep 每 5 秒" in text
    assert "共执行 2 个任务" in text
    assert wecom.posts == 1
    assert set(Notification.objects.values_list("status", flat=True)) == {DeliveryStatus.SENT}


def test_worker_refuses_bad_options(db, settings) -> None:
    with pytest.raises(CommandError, match="没有这个定时任务"):
        call_command("worker", "--batch", "--every", "nope=5", stdout=io.StringIO())
    with pytest.raises(CommandError, match="任务名=秒数"):
        call_command("worker", "--batch", "--every", "core.notification_sweep", stdout=io.StringIO())
    settings.TASKS = IMMEDIATE_TASKS
    with pytest.raises(CommandError, match="不是数据库后端"):
        call_command("worker", "--batch", stdout=io.StringIO())


def test_worker_process_delivers_runs_the_sweep_and_stops_cleanly_on_sigterm(tmp_path, wecom) -> None:
    """The real thing: `manage.py worker` in its own process on a file SQLite database."""
    env = {
        **os.environ,
        "DATABASE_URL": f"sqlite:///{tmp_path / 'worker.sqlite3'}",
        "ANCHANG_VAR_DIR": str(tmp_path),
        "LOG_FORMAT": "plain",
    }
    manage = [sys.executable, str(PROJECT_ROOT / "manage.py")]
    subprocess.run([*manage, "migrate", "-v", "0"], env=env, check=True, cwd=PROJECT_ROOT, timeout=120)
    setup = (
        "from datetime import timedelta\n"
        "from django.utils import timezone\n"
        "from anchang.core.models import Notification\n"
        "from anchang.core.notifications import notify\n"
        f"notify(recipients=[], kind='visit.arrived', title='客户到访', webhook_url={wecom.url!r})\n"
        "lost = Notification.objects.create(channel='log', kind='k', title='enqueue was lost')\n"
        "Notification.objects.filter(pk=lost.pk).update(created_at=timezone.now() - timedelta(minutes=5))\n"
    )
    subprocess.run([*manage, "shell", "-c", setup], env=env, check=True, cwd=PROJECT_ROOT, timeout=60)

    worker = subprocess.Popen(
        [*manage, "worker", "--interval", "0.1", "--periodic-poll", "0.1"],
        env=env,
        cwd=PROJECT_ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        deadline = time.monotonic() + 30
        statuses: list[str] = []
        while time.monotonic() < deadline:
            with sqlite3.connect(tmp_path / "worker.sqlite3") as db:
                statuses = [row[0] for row in db.execute("SELECT status FROM core_notification")]
            if statuses and set(statuses) == {"sent"}:
                break
            time.sleep(0.2)
        assert statuses == ["sent", "sent"]  # the queued WeCom row and the one only the sweep found
        worker.send_signal(signal.SIGTERM)
        stdout, stderr = worker.communicate(timeout=20)
    finally:
        if worker.poll() is None:
            worker.kill()
            worker.communicate()
    assert worker.returncode == 0, stderr
    assert "案场后台任务进程已启动" in stdout
    assert "后台任务进程已停止" in stdout
    assert wecom.posts == 1
