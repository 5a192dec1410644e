import os
import sys

from django.core.management.base import BaseCommand, CommandParser


class Command(BaseCommand):
    help = "用 gunicorn 启动 Anchang（生产同款服务器，静态文件由 whitenoise 提供）。"

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--host", default=os.environ.get("HOST", "127.0.0.1"))
        parser.add_argument("--port", type=int, default=int(os.environ.get("PORT", "8000")))
        parser.add_argument("--workers", type=int, default=int(os.environ.get("WEB_CONCURRENCY", "2")))

    def handle(self, *args: object, host: str, port: int, workers: int, **options: object) -> None:
        self.stdout.write(f"Anchang 已启动：http://{host}:{port}/  （Ctrl+C 停止）")
        # exec replaces this process, so Ctrl+C and signals from a supervisor reach gunicorn directly.
        os.execv(
            sys.executable,
            [
                sys.executable,
                "-m",
                "gunicorn",
                "anchang.wsgi:application",
                "--bind",
                f"{host}:{port}",
                "--workers",
                str(workers),
                "--access-logfile",
                "-",
                "--timeout",
                "60",
            ],
        )
