import os
import unicodedata
from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from anchang.demo.loader import DemoSummary, front_desk_lines, load_demo
from anchang.inventory.models import UnitStatus


def _display_width(text: str) -> int:
    return sum(2 if unicodedata.east_asian_width(char) in "WF" else 1 for char in text)


def _pad(text: str, width: int) -> str:
    """Left-align in a terminal column; Chinese characters take two cells."""
    return text + " " * max(width - _display_width(text), 0)


class Command(BaseCommand):
    help = (
        "载入演示数据：开发商、代理公司、两个项目的楼栋与房源、各角色的演示账号，"
        "以及前台的历史客户、今日轮排与接待、今明两天的预约。"
        "可重复运行，已有数据不会被改动。"
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--quiet", action="store_true", help="不输出摘要")

    def handle(self, *args: Any, quiet: bool = False, **options: Any) -> None:
        summary = load_demo()
        if not quiet:
            self._print_summary(summary)

    def _print_summary(self, summary: DemoSummary) -> None:
        write = self.stdout.write
        if summary.created_anything:
            created = "、".join(f"{label} {n}" for label, n in summary.created.items() if n)
            write(self.style.SUCCESS(f"演示数据已载入（本次新建：{created}）。"))
        else:
            write(self.style.SUCCESS("演示数据已存在，本次没有新建或改动任何记录。"))

        write("")
        write("项目：")
        for project in summary.projects:
            statuses = " · ".join(
                f"{UnitStatus(status).label} {n}" for status, n in project.units_by_status.items()
            )
            write(
                f"  {project.name}（{project.kind_label}，代码 {project.code}）："
                f"{project.buildings} 栋楼，{project.units} 套房源（{statuses}）"
            )

        write("")
        write(f"演示账号（密码均为 {summary.password}；重复运行不会重置已改过的密码）：")
        columns = [("用户名", 14), ("角色", 18), ("姓名", 10), ("公司", 0)]
        write("  " + "".join(_pad(title, width) for title, width in columns).rstrip())
        for login in summary.logins:
            cells = (login.username, login.role_label, login.name, login.company)
            write("  " + "".join(_pad(cell, width) for cell, (_, width) in zip(cells, columns, strict=True)))

        for line in front_desk_lines(summary):
            write(line)

        port = os.environ.get("PORT") or "8000"
        write("")
        write(f"启动服务后打开 http://127.0.0.1:{port} ，用上面任一账号登录。")
