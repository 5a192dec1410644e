"""Who is calling the API and which of their projects a request is about: the helpers every router uses
once BearerTokenAuth has run. They live here, not in core, because they know users and projects."""

from django.http import HttpRequest
from django.utils.translation import gettext as _

from anchang.accounts.models import User
from anchang.accounts.selectors import project_list_visible_to, project_visible_to
from anchang.core.errors import NotFound
from anchang.inventory.models import Project


def request_user(request: HttpRequest) -> User:
    """The caller: every operation but login runs behind BearerTokenAuth, which sets `request.user`."""
    return request.user  # type: ignore[return-value]


def visible_project(user: User, project_id: int | None) -> Project:
    """The project `project_id`, or with no id the caller's first project; a project the caller is not a
    member of answers 404 exactly like one that does not exist (api.md)."""
    # A member's project of the request path came with the token (`ApiToken.user_for`), membership
    # checked; the user object lives for this one request.
    preloaded: dict[int, Project] = getattr(user, "api_projects", {})
    project = preloaded.get(project_id) if project_id is not None else None
    if project is None:
        project = (
            project_visible_to(user=user, project_id=project_id)
            if project_id is not None
            else project_list_visible_to(user=user).first()
        )
    if project is None:
        raise NotFound(_("项目不存在，或您无权查看。"))
    return project
