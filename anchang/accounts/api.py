from typing import Annotated

from axes.handlers.proxy import AxesProxyHandler
from django.contrib.auth import authenticate, user_logged_in
from django.http import HttpRequest
from django.utils.translation import gettext as _
from ninja import Field, Router, Schema
from ninja.security import HttpBearer

from anchang.accounts.models import ApiToken, User
from anchang.core.api import LocalDateTime, NoNul, error_responses
from anchang.core.errors import DomainError

router = Router(tags=["auth"])

# Longer passwords are refused before hashing: PBKDF2 over megabytes would be a cheap way to burn CPU.
MAX_PASSWORD_LENGTH = 4096


class BearerTokenAuth(HttpBearer):
    def authenticate(self, request: HttpRequest, token: str) -> User | None:
        user = ApiToken.user_for(token, project_id=_path_project_id(request))
        if user is not None:
            request.user = user
        return user


def _path_project_id(request: HttpRequest) -> int | None:
    """The `{pid}` of a /projects/{pid}/… path: the token lookup then loads that project too."""
    match = request.resolver_match
    raw = match.kwargs.get("pid") if match is not None else None
    try:
        pid = int(raw) if raw is not None else None
    except (TypeError, ValueError):
        return None  # a malformed id: the operation's own validation answers it
    # Only ids a database key can hold; anything else is the operation's own 404 or 422.
    return pid if pid is not None and 0 < pid < 2**63 else None


class TokenIn(Schema):
    username: Annotated[str, Field(min_length=1, max_length=150), NoNul]
    password: Annotated[str, Field(min_length=1, max_length=MAX_PASSWORD_LENGTH)]


class TokenOut(Schema):
    token: str
    expires_at: LocalDateTime


class WrongCredentials(DomainError):
    status = 401
    code = "invalid_credentials"


class TooManyAttempts(DomainError):
    status = 429
    code = "too_many_attempts"


@router.post(
    "/auth/token",
    auth=None,
    response={200: TokenOut, **error_responses(400, 401, 429)},
    summary="用户名密码换取 Bearer 令牌",
)
def token_create(request: HttpRequest, payload: TokenIn) -> TokenOut:
    # django-axes counts this attempt like a form login. AXES_FAILURE_LIMIT wrong passwords for one
    # username and address are each answered 401; any attempt after that is refused with 429 until
    # the cool-off ends, even with the right password (quality.md P6).
    credentials = {"username": payload.username}
    locked_before = not AxesProxyHandler.is_allowed(request, credentials)
    user = authenticate(request, username=payload.username, password=payload.password)
    # We answer lockouts ourselves in the API's JSON format: left set, this flag makes AxesMiddleware
    # replace our answer with its HTML lockout page.
    request.axes_locked_out = False  # type: ignore[attr-defined]
    if locked_before:
        raise TooManyAttempts(_("密码错误次数过多，账号已临时锁定，请稍后再试。"))
    if user is None or not user.is_active:
        raise WrongCredentials(_("用户名或密码不正确。"))
    token, raw = ApiToken.issue(user)
    # A token is a login without a session: tell the listeners (axes resets the failure count on success,
    # Django records last_login) as django.contrib.auth.login() would.
    user_logged_in.send(sender=type(user), request=request, user=user)
    return TokenOut(token=raw, expires_at=token.expires_at)
