"""VIP preparation tasks in the JSON API: the 接待准备 checklist of a day, and ticking a task off."""

from typing import Annotated

from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext as _
from ninja import Field, Query, Router, Schema

from anchang.accounts.api_access import request_user, visible_project
from anchang.accounts.models import User
from anchang.core.api import (
    BlankIsNone,
    CalendarDay,
    DbId,
    LocalDateTime,
    PageLimit,
    PageOffset,
    error_responses,
    paginate,
)
from anchang.core.errors import Forbidden, InvalidInput, NotFound
from anchang.core.privacy import public_name
from anchang.reception import vip

router = Router(tags=["appointments"])


class VipTaskFilters(Schema):
    date: Annotated[CalendarDay | None, BlankIsNone] = Field(
        None, description="YYYY-MM-DD：到期日为这一天的准备事项，默认今天"
    )
    overdue: bool = Field(False, description="true：改为列出所有已过期仍未完成的事项（不限日期）")
    limit: PageLimit = 100
    offset: PageOffset = 0


class VipTaskOut(Schema):
    id: int
    appointment_id: int
    guest: str = Field(description="贵宾称呼（王先生 / 王**），不含全名与手机号")
    vip_tier: str
    start_at: LocalDateTime = Field(description="贵宾预约到访时间")
    title: str
    assignee_role: str
    assignee_role_label: str
    due_at: LocalDateTime
    done_at: LocalDateTime | None
    done_by_name: str | None
    overdue: bool
    can_complete: bool = Field(description="调用者能否勾选完成（本岗位，或经理/前台）")


class VipTaskPage(Schema):
    items: list[VipTaskOut]
    count: int


def _row_out(row: vip.TaskRow) -> VipTaskOut:
    task = row.task
    appointment = task.appointment
    return VipTaskOut(
        id=task.pk,
        appointment_id=appointment.pk,
        guest=public_name(appointment.name),
        vip_tier=appointment.vip_tier,
        start_at=appointment.start_at,
        title=task.title,
        assignee_role=task.assignee_role,
        assignee_role_label=row.role_label,
        due_at=task.due_at,
        done_at=task.done_at,
        done_by_name=task.done_by.display_name if task.done_by else None,
        overdue=row.overdue,
        can_complete=row.can_complete,
    )


def _role_filter(user: User) -> str | None:
    # As on the page: the supervisors see every role's tasks, everyone else their own role's.
    return None if user.sees_all_projects or user.role in vip.SUPERVISING_ROLES else user.role


@router.get(
    "/projects/{pid}/vip-tasks",
    response={200: VipTaskPage, **error_responses(400, 401, 403, 404)},
    summary="贵宾接待准备事项（某天的，或所有已过期未完成的）",
)
def vip_task_list(request: HttpRequest, pid: int, filters: Query[VipTaskFilters]) -> VipTaskPage:
    user = request_user(request)
    project = visible_project(user, pid)
    if not vip.may_see_task_list(user):
        raise Forbidden()
    role = _role_filter(user)
    now = timezone.now()
    if filters.overdue:
        if filters.date is not None:
            raise InvalidInput(fields={"date": _("查看已过期事项时不能再按日期筛选。")})
        tasks = vip.vip_tasks_overdue(project=project, role=role, now=now)
    else:
        try:
            tasks = vip.vip_tasks_for_role_on(
                project=project, day=filters.date or timezone.localdate(), role=role
            )
        except OverflowError:
            raise InvalidInput(fields={"date": _("日期超出范围。")}) from None
    page, count = paginate(tasks, limit=filters.limit, offset=filters.offset)
    rows = vip.vip_task_rows(tasks=page, viewer=user, now=now)
    return VipTaskPage(items=[_row_out(row) for row in rows], count=count)


@router.post(
    "/vip-tasks/{task_id}/done",
    response={200: VipTaskOut, **error_responses(400, 401, 403, 404, 409)},
    summary="勾选准备事项已完成（再次勾选不改变首次完成人和时间）",
)
def vip_task_done(request: HttpRequest, task_id: DbId) -> VipTaskOut:
    user = request_user(request)
    task = vip.vip_task_visible_to(user=user, task_id=task_id)
    if task is None:
        raise NotFound()
    done = vip.vip_task_complete(task=task, by=user)
    return _row_out(vip.vip_task_rows(tasks=[done], viewer=user)[0])
