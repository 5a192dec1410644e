from collections.abc import Callable

from django.contrib.auth.decorators import login_required
from django.db.models import Count, Q
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.templatetags.static import static
from django.utils import timezone

from anchang.accounts.models import Role, User
from anchang.accounts.navigation import current_project
from anchang.accounts.selectors import staff_of_project
from anchang.customers.pool import protection_ending_soon
from anchang.deals.selectors import subscriptions_pending_approval
from anchang.deals.summary import sales_summary
from anchang.followups.selectors import followups_due_for, overdue_counts_by_consultant
from anchang.inventory.models import Project
from anchang.inventory.selectors import available_by_bedrooms, recent_unit_changes, unit_status_summary
from anchang.reception import selectors as reception
from anchang.reception.models import QueueState, Visit, VisitState
from anchang.reception.vip import vip_task_rows, vip_tasks_for_role_on, vip_tasks_overdue
from anchang.workspace.selectors import (
    active_users_by_role,
    companies_with_user_counts,
    projects_with_unit_counts,
)

# The oldest few on the home page; the approvals page has the rest.
PENDING_ON_HOME = 5


def favicon(request: HttpRequest) -> HttpResponse:
    """Browsers ask for /favicon.ico whatever the page's <link rel="icon"> says; send them to the icon.

    Not a permanent redirect: the target's name carries the file's hash, which a new icon changes.
    """
    return redirect(static("anchang/favicon.svg"))


def _admin(user: User) -> dict[str, object]:
    return {
        "companies": companies_with_user_counts(),
        "projects": projects_with_unit_counts(user=user),
        "users_by_role": [(Role(role).label, n) for role, n in active_users_by_role()],
    }


def _site_today(project: Project) -> dict[str, object]:
    in_progress = list(reception.visits_in_progress(project=project))
    queue = reception.queue_for(project=project)
    return {
        "queue": queue,
        "on_duty": sum(1 for e in queue if e.state != QueueState.OFF),
        "receiving": [v for v in in_progress if v.state == VisitState.RECEIVING],
        "waiting": reception.waiting_minutes([v for v in in_progress if v.state == VisitState.WAITING]),
        "appointments": reception.appointments_today(project=project),
        "visits_today": Visit.objects.filter(
            project=project, checked_in_at__date=timezone.localdate()
        ).count(),
    }


def _manager(project: Project, user: User) -> dict[str, object]:
    pending = subscriptions_pending_approval(project=project)
    today = timezone.localdate()
    return {
        **_site_today(project),
        # What waits for the manager's decision, and what the day has sold so far.
        "pending_approvals": list(pending[:PENDING_ON_HOME]),
        "pending_count": pending.count(),
        "deals_today": sales_summary(project=project, date_from=today, date_to=today).totals,
        "approval_threshold": project.settings.discount_approval_threshold,
        "summary": unit_status_summary(project=project),
        "recent_changes": recent_unit_changes(project=project),
        "offers": available_by_bedrooms(project=project),
        "overdue_vip": vip_task_rows(tasks=list(vip_tasks_overdue(project=project)[:10]), viewer=user),
        "overdue_counts": overdue_counts_by_consultant(project=project),
        "staff_counts": [
            (Role(row["role"]).label, row["n"])
            for row in staff_of_project(project=project)
            .order_by()
            .values("role")
            .annotate(n=Count("pk"))
            .order_by("role")
        ],
    }


def _consultant(project: Project, user: User) -> dict[str, object]:
    # With the visitors a colleague receives for them (代接待): they take over from here with one tap.
    mine = list(
        reception.visits_in_progress(project=project).filter(Q(consultant=user) | Q(covering_for=user))
    )
    queue = reception.queue_for(project=project)
    return {
        "my_visits": mine,
        "my_entry": next((e for e in queue if e.consultant_id == user.pk), None),
        "queue_position": next((i for i, e in enumerate(queue, 1) if e.consultant_id == user.pk), None),
        "my_appointments": [
            a for a in reception.appointments_today(project=project) if a.consultant_id == user.pk
        ],
        "summary": unit_status_summary(project=project),
        "offers": available_by_bedrooms(project=project),
        "due_followups": followups_due_for(user=user, project=project),
        "protection_ending": list(protection_ending_soon(consultant=user, project=project)[:5]),
    }


def _attendant(project: Project, user: User) -> dict[str, object]:
    tasks = list(vip_tasks_for_role_on(project=project, day=timezone.localdate(), role=Role.ATTENDANT))
    return {"vip_rows": vip_task_rows(tasks=tasks, viewer=user)}


@login_required
def home(request: HttpRequest) -> HttpResponse:
    user: User = request.user  # type: ignore[assignment]
    project = current_project(request)
    if user.role == Role.FRONTDESK and project is not None and not user.sees_all_projects:
        # ui.md: the front desk lands on the check-in screen.
        return redirect("reception:checkin", project_id=project.pk)
    role = Role.ADMIN if user.sees_all_projects else user.role
    context: dict[str, object] = {"active_nav": "home", "project": project}
    if role == Role.ADMIN:
        context.update(_admin(user))
    if project is not None:
        builders: dict[str, Callable[[Project, User], dict[str, object]]] = {
            Role.ADMIN: _manager,
            Role.MANAGER: _manager,
            Role.CONSULTANT: _consultant,
            Role.ATTENDANT: _attendant,
        }
        if role in builders:
            context.update(builders[role](project, user))
    template = (
        role if role in {"admin", "manager", "consultant", "agent", "attendant", "service"} else "agent"
    )
    return render(request, f"workspace/{template}.html", context)
