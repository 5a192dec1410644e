"""`anchang worker`: the background process of the embedded default and of production.

One process does both kinds of background work:
- the task queue: django-tasks-db's own worker loop (`db_worker`), claiming tasks from the database;
- the periodic jobs of `core.periodic`, called on their interval from one background thread.

On SQLite run one worker (the database serialises writers anyway); on PostgreSQL run as many as needed:
tasks are claimed with `SELECT … FOR UPDATE SKIP LOCKED` and each periodic job takes an advisory lock.
"""

import logging
import os
from argparse import ArgumentTypeError
from types import FrameType

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils.crypto import get_random_string
from django_tasks import DEFAULT_TASK_BACKEND_ALIAS, DEFAULT_TASK_QUEUE_NAME, task_backends
from django_tasks_db import DatabaseBackend
from django_tasks_db.management.commands.db_worker import Worker

from anchang.core import periodic


class _Worker(Worker):
    """db_worker's loop, which also stops the periodic thread when SIGTERM/SIGINT arrives."""

    def __init__(self, *, scheduler: periodic.PeriodicScheduler | None, **kwargs: object) -> None:
        super().__init__(**kwargs)  # type: ignore[arg-type]
        self.scheduler = scheduler

    def shutdown(self, signum: int, frame: FrameType | None) -> None:
        if self.scheduler is not None:
            # Stop starting new jobs now; a job in progress finishes while the main loop winds down.
            self.scheduler.stop_event.set()
        super().shutdown(signum, frame)


def _positive_seconds(value: str) -> float:
    try:
        seconds = float(value)
    except ValueError:
        raise ArgumentTypeError(f"不是数字：{value}") from None
    if not seconds > 0:
        raise ArgumentTypeError("必须大于 0")
    return seconds


def _parse_every(items: list[str]) -> dict[str, float]:
    overrides: dict[str, float] = {}
    for item in items:
        for part in filter(None, (p.strip() for p in item.split(","))):
            name, sep, seconds = part.partition("=")
            if not sep:
                raise CommandError(f"--every 的格式是 任务名=秒数，收到：{part}")
            try:
                overrides[name.strip()] = _positive_seconds(seconds)
            except ArgumentTypeError as error:
                raise CommandError(f"--every {part}：{error}") from None
    return overrides


class Command(BaseCommand):
    help = "启动后台任务进程：执行任务队列（通知发送等），并按间隔运行定时任务。Ctrl+C 或 SIGTERM 平稳退出。"

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--queue-name",
            default=DEFAULT_TASK_QUEUE_NAME,
            help="要处理的队列，多个用逗号分隔，'*' 表示全部（默认 %(default)s）。",
        )
        parser.add_argument(
            "--interval",
            type=_positive_seconds,
            default=1.0,
            help="队列为空时，隔多少秒再查一次（默认 %(default)s）。",
        )
        parser.add_argument("--backend", default=DEFAULT_TASK_BACKEND_ALIAS, help="TASKS 中的后端别名。")
        parser.add_argument("--worker-id", default="", help="进程标识，多个进程之间必须唯一（默认随机）。")
        parser.add_argument("--max-tasks", type=int, default=None, help="执行这么多个任务后退出。")
        parser.add_argument(
            "--batch",
            action="store_true",
            help="先运行一遍定时任务，再处理完队列中现有的任务，然后退出（适合 cron 或测试）。",
        )
        parser.add_argument(
            "--no-periodic",
            action="store_false",
            dest="run_periodic",
            help="不在本进程运行定时任务（例如已由系统定时器调用 `anchang tick`）。",
        )
        parser.add_argument(
            "--periodic-poll",
            type=_positive_seconds,
            default=float(os.environ.get("ANCHANG_PERIODIC_POLL", "5")),
            help="定时任务线程每隔多少秒检查一次哪些任务到期"
            "（默认 %(default)s，环境变量 ANCHANG_PERIODIC_POLL）。",
        )
        parser.add_argument(
            "--every",
            action="append",
            default=[os.environ.get("ANCHANG_PERIODIC_EVERY", "")],
            metavar="NAME=SECONDS",
            help="覆盖某个定时任务的间隔，可重复或用逗号分隔"
            "（如 core.notification_sweep=10；环境变量 ANCHANG_PERIODIC_EVERY）。",
        )

    def handle(
        self,
        *args: object,
        queue_name: str,
        interval: float,
        backend: str,
        worker_id: str,
        max_tasks: int | None,
        batch: bool,
        run_periodic: bool,
        periodic_poll: float,
        every: list[str],
        verbosity: int,
        **options: object,
    ) -> None:
        self._configure_logging(verbosity)
        try:
            task_backend = task_backends[backend]
        except Exception as error:
            raise CommandError(f"没有这个任务后端：{backend}（{error}）") from None
        if not isinstance(task_backend, DatabaseBackend):
            raise CommandError(
                f"任务后端 {backend} 不是数据库后端（{type(task_backend).__name__}），后台进程无事可做。"
            )
        if max_tasks is not None and max_tasks <= 0:
            raise CommandError("--max-tasks 必须大于 0")
        overrides = _parse_every(every)
        jobs = periodic.registered_jobs() if run_periodic else []
        unknown = sorted(set(overrides) - {job.name for job in periodic.registered_jobs()})
        if unknown:
            raise CommandError(f"没有这个定时任务：{', '.join(unknown)}（用 `anchang tick --list` 查看）")
        scheduler = (
            periodic.PeriodicScheduler(jobs=jobs, every_overrides=overrides, poll_seconds=periodic_poll)
            if jobs
            else None
        )
        worker_id = worker_id or get_random_string(32)
        worker = _Worker(
            scheduler=scheduler,
            queue_names=queue_name.split(","),
            interval=interval,
            batch=batch,
            backend_name=backend,
            startup_delay=not batch,
            max_tasks=max_tasks,
            worker_id=worker_id,
            excluded_queue_names=[],
        )

        schedule = (
            "，".join(f"{job.name} 每 {scheduler.interval_of(job):g} 秒" for job in jobs)
            if scheduler
            else "无"
        )
        self.stdout.write(
            f"案场后台任务进程已启动（PID {os.getpid()}，进程标识 {worker_id[:8]}，队列 {queue_name}，"
            f"空闲时每 {interval:g} 秒查一次）；定时任务：{schedule}。"
            + ("处理完现有任务后退出。" if batch else "按 Ctrl+C 停止。")
        )
        self.stdout.flush()

        if batch:
            for outcome in periodic.tick([job.name for job in jobs]):
                if outcome.status == "error":
                    self.stderr.write(f"✗ {outcome.name}：{outcome.error}")
            worker.run()
            self.stdout.write(f"队列已处理完，共执行 {worker._run_tasks} 个任务，退出。")
            return

        worker.configure_signals()
        if scheduler is not None:
            scheduler.start()
        try:
            worker.run()
        finally:
            if scheduler is not None:
                scheduler.stop()
            worker.reset_signals()
            self.stdout.write(f"后台任务进程已停止（共执行 {worker._run_tasks} 个任务）。")

    def _configure_logging(self, verbosity: int) -> None:
        level = {0: logging.CRITICAL, 1: logging.INFO}.get(verbosity, logging.DEBUG)
        for name in ("django_tasks", "django_tasks_db", "anchang.periodic"):
            logging.getLogger(name).setLevel(level)
