"""VIP reception preparation (贵宾接待准备, product.md §4): checklists per tier and their tasks.

A project's checklist for a tier lives in `VipTaskTemplate` rows; a project that has none yet gets
the defaults below the first time a VIP is booked. Booking a tier-1 or tier-2 guest copies the
template into `VipTask` rows with a due time counted back from the arrival time.
"""

from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import NamedTuple

from django.db import transaction
from django.db.models import QuerySet
from django.urls import NoReverseMatch, reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from anchang.accounts.models import Role, User
from anchang.accounts.selectors import project_visible_to, staff_of_project
from anchang.core.errors import Conflict, Forbidden, NotFound
from anchang.core.notifications import notify
from anchang.core.privacy import public_name
from anchang.inventory.models import Project, ProjectSettings
from anchang.reception.models import Appointment, AppointmentStatus, VipTask, VipTaskTemplate, VipTier

VIP_TIERS = (VipTier.TIER_1, VipTier.TIER_2)
# product.md §4: 4–8 honour guards line the entrance for a tier-1 guest. ProjectSettings has no
# field for it yet, so the default count is written into the task title, where a manager can edit it.
DEFAULT_TIER_1_GUARDS = 6
TIER_2_GUARDS = 2
# Roles that run the whole reception and may tick off any task, whoever it is assigned to.
SUPERVISING_ROLES = frozenset({Role.MANAGER, Role.FRONTDESK})
# Who opens the preparation task list: the reception staff and the attendants who do the work.
TASK_LIST_ROLES = frozenset({Role.MANAGER, Role.FRONTDESK, Role.CONSULTANT, Role.ATTENDANT})


class DefaultTask(NamedTuple):
    title: str
    assignee_role: str
    minutes_before: int


# Stored as data in the project's language (Chinese); gettext_noop marks them for the catalogue.
DEFAULT_TEMPLATES: dict[str, tuple[DefaultTask, ...]] = {
    VipTier.TIER_1: (
        DefaultTask(gettext_noop("案场及物业负责人全员到门口迎接，全程陪同参观"), Role.MANAGER, 30),
        DefaultTask(
            gettext_noop("安排礼宾 %(n)s 人在入口两侧列队迎宾") % {"n": DEFAULT_TIER_1_GUARDS},
            Role.ATTENDANT,
            30,
        ),
        DefaultTask(gettext_noop("备好冰镇矿泉水和毛巾"), Role.ATTENDANT, 20),
        DefaultTask(gettext_noop("样板房开灯、开空调，到访前完成卫生检查"), Role.ATTENDANT, 60),
        DefaultTask(gettext_noop("每栋别墅 / 每层样板房安排一名接待员"), Role.ATTENDANT, 30),
        DefaultTask(gettext_noop("门口迎宾人员交底：来宾身份、到达时间、接待动线"), Role.FRONTDESK, 15),
    ),
    VipTier.TIER_2: (
        DefaultTask(gettext_noop("在场经理到门口迎接并陪同参观"), Role.MANAGER, 20),
        DefaultTask(gettext_noop("安排礼宾 %(n)s 人在入口迎宾") % {"n": TIER_2_GUARDS}, Role.ATTENDANT, 20),
        DefaultTask(gettext_noop("备好矿泉水和毛巾"), Role.ATTENDANT, 15),
        DefaultTask(gettext_noop("样板房开灯、开空调并检查卫生"), Role.ATTENDANT, 60),
        DefaultTask(gettext_noop("各样板房安排好接待员"), Role.ATTENDANT, 30),
    ),
}


def is_vip(tier: str) -> bool:
    return tier in VIP_TIERS


@transaction.atomic
def vip_templates_ensure_defaults(*, project: Project) -> int:
    """Give each VIP tier of the project the default checklist unless it already has one.

    Returns how many template rows were created (0 on every later call).
    """
    # Two bookings of the first VIP at the same moment would both find no template and seed twice:
    # the project row lock serialises them on PostgreSQL (SQLite serialises writers anyway).
    Project.objects.select_for_update().filter(pk=project.pk).first()
    existing = set(VipTaskTemplate.objects.filter(project=project).values_list("tier", flat=True).distinct())
    rows = [
        VipTaskTemplate(
            project=project,
            tier=tier,
            title=task.title,
            assignee_role=task.assignee_role,
            minutes_before=task.minutes_before,
            sort_order=order,
        )
        for tier, tasks in DEFAULT_TEMPLATES.items()
        if tier not in existing
        for order, task in enumerate(tasks, start=1)
    ]
    VipTaskTemplate.objects.bulk_create(rows)
    return len(rows)


@transaction.atomic
def vip_tasks_create_for(*, appointment: Appointment) -> list[VipTask]:
    """The preparation checklist of a VIP appointment; creates it once, then returns the same rows."""
    if not is_vip(appointment.vip_tier):
        return []
    existing = list(appointment.preparation_tasks.order_by("due_at", "sort_order"))
    if existing:
        return existing
    vip_templates_ensure_defaults(project=appointment.project)
    templates = VipTaskTemplate.objects.filter(
        project=appointment.project, tier=appointment.vip_tier
    ).order_by("sort_order", "pk")
    tasks = VipTask.objects.bulk_create(
        VipTask(
            appointment=appointment,
            title=template.title,
            assignee_role=template.assignee_role,
            due_at=appointment.start_at - timedelta(minutes=template.minutes_before),
            sort_order=template.sort_order,
        )
        for template in templates
    )
    _notify_assignees(appointment=appointment, tasks=tasks)
    return sorted(tasks, key=lambda t: (t.due_at, t.sort_order))


def _notify_assignees(*, appointment: Appointment, tasks: list[VipTask]) -> None:
    by_role: dict[str, list[VipTask]] = defaultdict(list)
    for task in tasks:
        by_role[task.assignee_role].append(task)
    if not by_role:
        return
    members = staff_of_project(project=appointment.project).filter(role__in=list(by_role))
    members_by_role: dict[str, list[User]] = defaultdict(list)
    for member in members:
        members_by_role[member.role].append(member)
    arrival = timezone.localtime(appointment.start_at)
    title = _("贵宾接待准备：%(time)s %(guest)s（%(tier)s）") % {
        "time": arrival.strftime("%m-%d %H:%M"),
        "guest": public_name(appointment.name, appointment.gender),
        "tier": appointment.get_vip_tier_display(),
    }
    for role, role_tasks in by_role.items():
        body = "\n".join(
            _("%(due)s 前：%(title)s")
            % {"due": timezone.localtime(t.due_at).strftime("%H:%M"), "title": t.title}
            for t in role_tasks
        )
        notify(
            recipients=members_by_role.get(role, []),
            kind="vip_task",
            title=title,
            body=body,
            url=_tasks_url(appointment.project_id),
            project_id=appointment.project_id,
        )


def _tasks_url(project_id: int) -> str:
    # The URLconf is wired by the project; services must work (and notify) before and without it.
    try:
        return reverse("appointments:vip_tasks", args=[project_id])
    except NoReverseMatch:
        return ""


def vip_task_may_complete(*, user: User, task: VipTask) -> bool:
    """The task's own role, the reception's supervisors (manager, front desk) and admins."""
    return bool(
        user.is_active
        and (user.sees_all_projects or user.role in SUPERVISING_ROLES or user.role == task.assignee_role)
    )


@transaction.atomic
def vip_task_complete(*, task: VipTask, by: User) -> VipTask:
    """Tick a task off. Ticking it again changes nothing (the first person and time are kept)."""
    if project_visible_to(user=by, project_id=task.appointment.project_id) is None:
        raise NotFound()
    if not vip_task_may_complete(user=by, task=task):
        raise Forbidden(
            _("这项准备工作由“%(role)s”负责，您不能代为完成。") % {"role": role_label(task.assignee_role)}
        )
    status = Appointment.objects.filter(pk=task.appointment_id).values_list("status", flat=True).first()
    if status in (AppointmentStatus.CANCELLED, AppointmentStatus.NO_SHOW):
        raise Conflict(_("该预约已取消或未到访，无需再做准备。"))
    now = timezone.now()
    # Conditional UPDATE: two people pressing "done" together record the first one only.
    VipTask.objects.filter(pk=task.pk, done_at__isnull=True).update(done_at=now, done_by=by)
    task.refresh_from_db(fields=["done_at", "done_by"])
    return task


@transaction.atomic
def vip_tasks_shift(*, appointment: Appointment, delta: timedelta) -> int:
    """Move every task's due time with its appointment (reschedule)."""
    tasks = list(VipTask.objects.filter(appointment=appointment))
    for task in tasks:
        task.due_at = task.due_at + delta
    VipTask.objects.bulk_update(tasks, ["due_at"])
    return len(tasks)


def role_label(role: str) -> str:
    try:
        return str(Role(role).label)
    except ValueError:
        return role


# --- selectors ------------------------------------------------------------------------------------


def may_see_task_list(user: User) -> bool:
    return bool(
        user.is_authenticated and user.is_active and (user.sees_all_projects or user.role in TASK_LIST_ROLES)
    )


def vip_task_visible_to(*, user: User, task_id: int) -> VipTask | None:
    task = VipTask.objects.select_related("appointment__project").filter(pk=task_id).first()
    if (
        task is None
        or not may_see_task_list(user)
        or project_visible_to(user=user, project_id=task.appointment.project_id) is None
    ):
        return None
    return task


def _open_appointment_tasks(*, project: Project) -> QuerySet[VipTask]:
    return VipTask.objects.filter(
        appointment__project=project,
        appointment__status__in=[AppointmentStatus.BOOKED, AppointmentStatus.CHECKED_IN],
    ).select_related("appointment", "done_by")


def vip_tasks_for_role_on(*, project: Project, day: date, role: str | None) -> QuerySet[VipTask]:
    """Tasks due on `day` (local) for one role, or for every role when `role` is None."""
    start, end = local_day_bounds(day)
    tasks = _open_appointment_tasks(project=project).filter(due_at__gte=start, due_at__lt=end)
    if role:
        tasks = tasks.filter(assignee_role=role)
    return tasks.order_by("due_at", "sort_order", "pk")


def vip_tasks_overdue(
    *, project: Project, role: str | None = None, now: datetime | None = None
) -> QuerySet[VipTask]:
    """Not done and past their due time, for appointments that are still going to happen or happening."""
    now = now or timezone.now()
    tasks = _open_appointment_tasks(project=project).filter(done_at__isnull=True, due_at__lt=now)
    if role:
        tasks = tasks.filter(assignee_role=role)
    return tasks.order_by("due_at", "sort_order", "pk")


@dataclass(frozen=True)
class TaskRow:
    """One line of a checklist as a viewer sees it."""

    task: VipTask
    overdue: bool
    can_complete: bool

    @property
    def role_label(self) -> str:
        return role_label(self.task.assignee_role)


def vip_task_rows(*, tasks: list[VipTask], viewer: User, now: datetime | None = None) -> list[TaskRow]:
    now = now or timezone.now()
    return [
        TaskRow(
            task=task,
            overdue=task.done_at is None and task.due_at < now,
            can_complete=task.done_at is None and vip_task_may_complete(user=viewer, task=task),
        )
        for task in tasks
    ]


def local_day_bounds(day: date) -> tuple[datetime, datetime]:
    """[00:00, next 00:00) of a local calendar day, as aware datetimes."""
    start = timezone.make_aware(datetime.combine(day, datetime.min.time()))
    end = timezone.make_aware(datetime.combine(day + timedelta(days=1), datetime.min.time()))
    return start, end


def project_settings_for(project: Project) -> ProjectSettings:
    """The project's settings row, or the defaults when none was saved yet (never writes)."""
    found = ProjectSettings.objects.filter(project=project).first()
    return found if found is not None else ProjectSettings(project=project)
