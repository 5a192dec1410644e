"""API plumbing shared by every router: the error format of api.md and pagination."""

from typing import Any

from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet
from django.http import Http404, HttpRequest, HttpResponse
from django.utils.translation import gettext as _
from ninja import NinjaAPI, Schema
from ninja.errors import AuthenticationError, HttpError, ValidationError

from anchang.core.errors import DomainError

MAX_PAGE_SIZE = 200


class ErrorOut(Schema):
    code: str
    message: str
    fields: dict[str, str] = {}


def error_response(api: NinjaAPI, request: HttpRequest, *, status: int, code: str, message: str,
                   fields: dict[str, str] | None = None) -> HttpResponse:
    return api.create_response(request, {"code": code, "message": message, "fields": fields or {}}, status=status)


def _field_message(error: dict[str, Any]) -> str:
    kind = error.get("type", "")
    if kind == "missing":
        return _("此项为必填项。")
    if kind in {"json_invalid", "model_attributes_type"}:
        return _("请求体不是有效的 JSON 对象。")
    if kind.startswith(("int_", "float_", "decimal_")):
        return _("请输入数字。")
    if kind.startswith(("datetime_", "date_")):
        return _("请输入 ISO 8601 格式的时间，如 2026-11-26T14:00:00+08:00。")
    if kind.startswith("string_too_long"):
        return _("内容过长。")
    if kind.startswith("literal_error") or kind == "enum":
        return _("不是允许的取值。")
    return _("格式不正确。")


def _field_name(loc: list[Any]) -> str:
    # ninja prefixes locations with "body"/"query"/"path" and the parameter name; keep the field path.
    parts = [str(p) for p in loc if p not in ("body", "query", "path", "payload", "filters", "header")]
    return ".".join(parts) or "body"


def install_error_handlers(api: NinjaAPI) -> None:
    @api.exception_handler(DomainError)
    def domain_error(request: HttpRequest, exc: DomainError) -> HttpResponse:
        return error_response(api, request, status=exc.status, code=exc.code, message=exc.message, fields=exc.fields)

    @api.exception_handler(ValidationError)
    def validation_error(request: HttpRequest, exc: ValidationError) -> HttpResponse:
        fields: dict[str, str] = {}
        for error in exc.errors:
            fields.setdefault(_field_name(list(error.get("loc", []))), _field_message(error))
        return error_response(api, request, status=400, code="invalid",
                              message=_("输入有误，请检查标出的字段。"), fields=fields)

    @api.exception_handler(AuthenticationError)
    def unauthenticated(request: HttpRequest, exc: AuthenticationError) -> HttpResponse:
        return error_response(api, request, status=401, code="unauthenticated",
                              message=_("请先登录：在 Authorization 头中提供有效的 Bearer 令牌。"))

    @api.exception_handler(PermissionDenied)
    def forbidden(request: HttpRequest, exc: PermissionDenied) -> HttpResponse:
        return error_response(api, request, status=403, code="forbidden", message=_("您的角色无权执行此操作。"))

    @api.exception_handler(Http404)
    def not_found(request: HttpRequest, exc: Http404) -> HttpResponse:
        return error_response(api, request, status=404, code="not_found", message=_("未找到，或您无权查看。"))

    @api.exception_handler(HttpError)
    def http_error(request: HttpRequest, exc: HttpError) -> HttpResponse:
        return error_response(api, request, status=exc.status_code, code="http_error", message=str(exc))


class Page(Schema):
    count: int


def paginate(queryset: QuerySet[Any], *, limit: int, offset: int) -> tuple[list[Any], int]:
    """Slice a queryset for `?limit=&offset=`; limits are clamped instead of refused."""
    limit = max(1, min(limit, MAX_PAGE_SIZE))
    offset = max(0, offset)
    return list(queryset[offset : offset + limit]), queryset.count()
