import json

from django.core.management.base import BaseCommand, CommandError, CommandParser

from anchang.core import periodic


class Command(BaseCommand):
    help = (
        "运行一遍所有定时任务（每个任务独立事务，并发运行时同一任务不会同时执行）。"
        "由系统定时器（cron/systemd timer）调用；`anchang worker` 也会按间隔自动运行它们。"
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--job",
            action="append",
            dest="jobs",
            metavar="NAME",
            help="只运行指定的任务（可重复）；默认运行全部。",
        )
        parser.add_argument(
            "--list", action="store_true", dest="list_jobs", help="列出已注册的定时任务后退出。"
        )

    def handle(self, *args: object, jobs: list[str] | None, list_jobs: bool, **options: object) -> None:
        if list_jobs:
            for job in periodic.registered_jobs():
                self.stdout.write(f"{job.name}\t每 {job.every_seconds:g} 秒")
            return
        try:
            selected = periodic.registered_jobs(jobs)
        except KeyError as error:
            raise CommandError(f"没有这个定时任务：{error.args[0]}（用 --list 查看）") from None
        outcomes = [periodic.run_job(job) for job in selected]
        for outcome in outcomes:
            if outcome.status == "ran":
                summary = json.dumps(outcome.result, ensure_ascii=False, default=str)
                self.stdout.write(f"✓ {outcome.name}：{summary}")
            elif outcome.status == "skipped":
                self.stdout.write(f"- {outcome.name}：跳过（另一个进程正在运行）")
            else:
                self.stderr.write(f"✗ {outcome.name}：{outcome.error}")
        failed = [outcome.name for outcome in outcomes if outcome.status == "error"]
        if failed:
            raise CommandError(f"定时任务出错：{', '.join(failed)}")
