"""GET /projects/{pid}/today: the figures of the manager's home page and the hall board's header;
GET /overview: the administrator's home page.

The rows behind each figure have their own endpoints (visits, rotation, appointments, vip-tasks,
follow-ups, units); this answer only counts, with a fixed number of aggregate queries.
"""

from datetime import date

from django.http import HttpRequest
from django.utils import timezone
from ninja import Field, Router, Schema

from anchang.accounts.api_access import request_user, visible_project
from anchang.accounts.models import Role, User
from anchang.core.api import DecimalString, LocalDateTime, error_responses
from anchang.core.errors import Forbidden
from anchang.followups.selectors import overdue_counts_by_consultant
from anchang.inventory.selectors import unit_status_summary
from anchang.reception import selectors as reception
from anchang.reception.vip import local_day_bounds, vip_tasks_overdue
from anchang.workspace.selectors import (
    active_users_by_role,
    companies_with_user_counts,
    projects_with_unit_counts,
)

router = Router(tags=["workspace"])


class VisitCounts(Schema):
    total: int
    first: int = Field(description="首访")
    returning: int = Field(description="复访")
    owner: int = Field(description="业主到访")
    waiting: int = Field(description="等待接待")
    with_consultant: int = Field(description="接待中")
    checked_out: int = Field(description="已离场（含无效接待）")


class QueueCounts(Schema):
    waiting: int = Field(description="待接")
    receiving: int = Field(description="接待中")
    away: int = Field(description="暂离")
    off: int = Field(description="下岗")


class AppointmentCounts(Schema):
    booked: int
    checked_in: int
    cancelled: int
    no_show: int


class OverdueFollowUps(Schema):
    consultant_id: int
    consultant_name: str
    count: int
    oldest_due_at: LocalDateTime


class UnitCounts(Schema):
    total: int
    available: int
    held: int
    reserved: int
    subscribed: int
    contracted: int
    sold_amount: DecimalString
    available_amount: DecimalString


class TodayOut(Schema):
    date: date
    visits: VisitCounts
    queue: QueueCounts
    appointments: AppointmentCounts
    vip_tasks_overdue: int
    follow_ups_overdue: list[OverdueFollowUps]
    units: UnitCounts


def _require_site_staff(user: User) -> None:
    # The per-consultant overdue counts are a manager's view of the team; the desk runs the day with them.
    if not (user.is_site_manager or user.role == Role.FRONTDESK):
        raise Forbidden()


@router.get(
    "/projects/{pid}/today",
    response={200: TodayOut, **error_responses(401, 403, 404)},
    summary="今日概况：来访、轮排、预约、贵宾准备、逾期跟进与房源数字（经理、前台）",
)
def today_get(request: HttpRequest, pid: int) -> TodayOut:
    user = request_user(request)
    project = visible_project(user, pid)
    _require_site_staff(user)
    day = timezone.localdate()
    start, end = local_day_bounds(day)
    visits = reception.visit_counts_between(project=project, start=start, end=end)
    units = unit_status_summary(project=project)
    return TodayOut(
        date=day,
        visits=VisitCounts(
            total=visits["total"],
            first=visits["kind_first"],
            returning=visits["kind_return"],
            owner=visits["kind_owner"],
            waiting=visits["waiting"],
            with_consultant=visits["receiving"],
            checked_out=visits["ended"] + visits["invalid"],
        ),
        queue=QueueCounts(**reception.queue_state_counts(project=project)),
        appointments=AppointmentCounts(
            **reception.appointment_status_counts(project=project, start=start, end=end)
        ),
        vip_tasks_overdue=vip_tasks_overdue(project=project).count(),
        follow_ups_overdue=[
            OverdueFollowUps(
                consultant_id=row.consultant_id,
                consultant_name=row.name,
                count=row.count,
                oldest_due_at=row.oldest_due_at,
            )
            for row in overdue_counts_by_consultant(project=project)
        ],
        units=UnitCounts(
            total=units.total,
            **units.counts,
            sold_amount=units.sold_amount,
            available_amount=units.available_amount,
        ),
    )


class CompanyCount(Schema):
    id: int
    name: str
    kind: str
    users: int


class ProjectCount(Schema):
    id: int
    name: str
    city: str
    units: int


class RoleCount(Schema):
    role: str
    role_label: str
    users: int


class OverviewOut(Schema):
    companies: list[CompanyCount]
    projects: list[ProjectCount]
    active_users_by_role: list[RoleCount]


@router.get(
    "/overview",
    response={200: OverviewOut, **error_responses(401, 403)},
    summary="系统概况：公司、项目与各角色在用账号数（系统管理员）",
)
def overview_get(request: HttpRequest) -> OverviewOut:
    user = request_user(request)
    if not user.sees_all_projects:
        raise Forbidden()
    return OverviewOut(
        companies=[
            CompanyCount(id=c.pk, name=c.name, kind=c.kind, users=c.n_users)
            for c in companies_with_user_counts()
        ],
        projects=[
            ProjectCount(id=p.pk, name=p.name, city=p.city, units=p.n_units)
            for p in projects_with_unit_counts(user=user)
        ],
        active_users_by_role=[
            RoleCount(role=role, role_label=str(Role(role).label), users=n)
            for role, n in active_users_by_role()
        ],
    )
