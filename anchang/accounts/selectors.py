from django.db.models import QuerySet

from anchang.accounts.models import User
from anchang.inventory.models import Project


def project_list_visible_to(*, user: User) -> QuerySet[Project]:
    """Projects the user may see: all for admins, otherwise only those they are a member of."""
    # Creation order: a deployment's first (main) project is everyone's default current project.
    projects = Project.objects.select_related("company", "settings").order_by("pk")
    if not user.is_authenticated or not user.is_active:
        return projects.none()
    if user.sees_all_projects:
        return projects.all()
    return projects.filter(memberships__user=user)


def project_visible_to(*, user: User, project_id: int) -> Project | None:
    return project_list_visible_to(user=user).filter(pk=project_id).first()


def staff_of_project(*, project: Project, role: str | None = None) -> QuerySet[User]:
    staff = User.objects.filter(memberships__project=project, is_active=True).select_related(
        "company", "team"
    )
    if role:
        staff = staff.filter(role=role)
    return staff.order_by("role", "username")
