"""GET /me: who the token belongs to, so that a client can ask for "my" rows (`?consultant_id=<id>`)."""

from django.http import HttpRequest
from ninja import Router, Schema

from anchang.accounts.api_access import request_user
from anchang.accounts.models import Role
from anchang.accounts.selectors import project_list_visible_to
from anchang.core.api import error_responses

router = Router(tags=["auth"])


class MyProjectOut(Schema):
    id: int
    name: str


class MeOut(Schema):
    id: int
    username: str
    name: str
    role: str
    role_label: str
    team: str | None
    projects: list[MyProjectOut]


@router.get("/me", response={200: MeOut, **error_responses(401)}, summary="当前用户：身份、角色与可见项目")
def me_get(request: HttpRequest) -> MeOut:
    user = request_user(request)
    return MeOut(
        id=user.pk,
        username=user.username,
        name=user.display_name,
        role=user.role,
        role_label=str(Role(user.role).label),
        team=user.team.name if user.team else None,
        projects=[MyProjectOut(id=p.pk, name=p.name) for p in project_list_visible_to(user=user)],
    )
