from datetime import datetime

from django.contrib.auth import authenticate
from django.http import HttpRequest
from django.utils.translation import gettext as _
from ninja import Router, Schema
from ninja.security import HttpBearer

from anchang.accounts.models import ApiToken, User
from anchang.core.errors import DomainError

router = Router(tags=["auth"])


class BearerTokenAuth(HttpBearer):
    def authenticate(self, request: HttpRequest, token: str) -> User | None:
        user = ApiToken.user_for(token)
        if user is not None:
            request.user = user
        return user


class TokenIn(Schema):
    username: str
    password: str


class TokenOut(Schema):
    token: str
    expires_at: datetime


class WrongCredentials(DomainError):
    status = 401
    code = "invalid_credentials"


class TooManyAttempts(DomainError):
    status = 429
    code = "too_many_attempts"


@router.post("/auth/token", auth=None, response={200: TokenOut}, summary="用户名密码换取 Bearer 令牌")
def token_create(request: HttpRequest, payload: TokenIn) -> TokenOut:
    # django-axes counts this attempt like a form login: after AXES_FAILURE_LIMIT failures the
    # same username and address are refused (429) until the cool-off ends, even with the right password.
    user = authenticate(request, username=payload.username[:150], password=payload.password[:256])
    if getattr(request, "axes_locked_out", False):
        raise TooManyAttempts(_("密码错误次数过多，账号已临时锁定，请稍后再试。"))
    if user is None or not user.is_active:
        raise WrongCredentials(_("用户名或密码不正确。"))
    token, raw = ApiToken.issue(user)  # type: ignore[arg-type]
    return TokenOut(token=raw, expires_at=token.expires_at)
