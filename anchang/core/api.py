"""API plumbing shared by every router: the error format of api.md, input types and pagination."""

from datetime import date, datetime
from decimal import Decimal
from typing import Annotated, Any

from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet
from django.http import Http404, HttpRequest, HttpResponse
from django.utils import timezone
from django.utils.translation import gettext as _
from ninja import NinjaAPI, Schema
from ninja.errors import AuthenticationError, HttpError, ValidationError
from pydantic import AfterValidator, BeforeValidator, Field, PlainSerializer, WithJsonSchema

from anchang.core.errors import DomainError

MAX_PAGE_SIZE = 200
# OFFSET beyond a signed 64-bit integer crashes SQLite ("datatype mismatch") and PostgreSQL; no list
# of ours comes anywhere near this, so larger offsets are refused as invalid input instead.
MAX_OFFSET = 2**31 - 1


class ErrorOut(Schema):
    code: str
    message: str
    fields: dict[str, str] = {}


def error_responses(*statuses: int) -> dict[int, type[ErrorOut]]:
    """`response={200: X, **error_responses(400, 404)}` documents the error answers in the OpenAPI file."""
    return dict.fromkeys(statuses, ErrorOut)


def _reject_nul(value: str) -> str:
    # PostgreSQL text cannot hold NUL bytes: without this check such a string is a 500, not a 400.
    if "\x00" in value:
        raise ValueError("NUL character")
    return value


def _blank_to_none(value: object) -> object:
    # HTML forms and many kiosk clients send `?status=` for "any": an empty filter means no filter.
    return None if value == "" else value


NoNul = AfterValidator(_reject_nul)
BlankIsNone = BeforeValidator(_blank_to_none)

# Generous shape limits for free text in request bodies; the services apply the real rules, with a
# Chinese message per field.
ShortText = Annotated[str, Field(max_length=200), NoNul]
LongText = Annotated[str, Field(max_length=1000), NoNul]
PhoneText = Annotated[str, Field(max_length=40), NoNul]
# A list's `?date=` filter is named like the type, which would shadow `date` inside its schema.
CalendarDay = date

# A primary key in a path or body: beyond a signed 64-bit integer the database cannot compare it (a 500),
# so such a number is refused as invalid input.
DbId = Annotated[int, Field(ge=1, le=2**63 - 1)]
# `?limit=&offset=` of lists answered through `paginate`: a limit beyond MAX_PAGE_SIZE is clamped.
PageLimit = Annotated[int, Field(ge=0, description=f"每页条数，超过 {MAX_PAGE_SIZE} 按 {MAX_PAGE_SIZE} 计")]
PageOffset = Annotated[int, Field(ge=0, le=MAX_OFFSET)]

# Money and areas leave the API as decimal strings with two places ("3120000.00"), never floats.
DecimalString = Annotated[
    Decimal,
    PlainSerializer(lambda value: f"{value:.2f}", return_type=str),
    WithJsonSchema(
        {"type": "string", "pattern": r"^-?\d+\.\d{2}$", "examples": ["3120000.00"]}, mode="serialization"
    ),
]


def _local_iso(value: datetime) -> str:
    # The database hands back UTC; a client reads the project's wall clock with its offset. A naive value
    # (none should reach here) is taken as local time rather than guessed to be UTC.
    aware = value if timezone.is_aware(value) else timezone.make_aware(value)
    return timezone.localtime(aware).isoformat(timespec="seconds")


LOCAL_DATETIME_EXAMPLE = "2026-12-04T10:30:00+08:00"

# Every timestamp of every answer: ISO 8601 in the project's time zone with its offset
# (`2026-12-04T10:30:00+08:00`), never `Z`, never naive. Every output schema uses this type, never a
# bare `datetime` (core/tests/test_api_times.py walks the OpenAPI document and real answers for that).
LocalDateTime = Annotated[
    datetime,
    PlainSerializer(_local_iso, return_type=str),
    WithJsonSchema(
        {
            "type": "string",
            "format": "date-time",
            "pattern": r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}[+-]\d{2}:\d{2}$",
            "examples": [LOCAL_DATETIME_EXAMPLE],
        },
        mode="serialization",
    ),
]


# Free text typed by staff (a customer's name, a timeline entry) may hold a mobile number.
def error_response(
    api: NinjaAPI,
    request: HttpRequest,
    *,
    status: int,
    code: str,
    message: str,
    fields: dict[str, str] | None = None,
) -> HttpResponse:
    return api.create_response(
        request, {"code": code, "message": message, "fields": fields or {}}, status=status
    )


def _field_message(error: dict[str, Any]) -> str:
    kind = error.get("type", "")
    if kind == "missing":
        return _("此项为必填项。")
    if kind in {"json_invalid", "model_attributes_type", "model_type", "dict_type"}:
        return _("请求体不是有效的 JSON 对象。")
    if kind.startswith(("int_", "float_", "decimal_parsing", "decimal_type")):
        return _("请输入数字。")
    if kind.startswith(("decimal_max_digits", "decimal_whole_digits", "decimal_max_places")):
        return _("数字位数过多。")
    if kind in {"greater_than", "greater_than_equal", "less_than", "less_than_equal"}:
        return _("数值超出允许范围。")
    if kind.startswith(("datetime_", "date_")):
        return _("请输入 ISO 8601 格式的时间，如 2026-11-26T14:00:00+08:00。")
    if kind in {"string_too_long", "too_long"}:
        return _("内容过长。")
    if kind == "string_too_short":
        return _("此项不能为空。")
    if kind.startswith("literal_error") or kind == "enum":
        return _("不是允许的取值。")
    return _("格式不正确。")


def _field_name(loc: list[Any]) -> str:
    # ninja prefixes locations with "body"/"query"/"path" and the parameter name; keep the field path.
    parts = [str(p) for p in loc if p not in ("body", "query", "path", "payload", "filters", "header")]
    return ".".join(parts) or "body"


# Answers for errors that django-ninja raises itself (HttpError), keyed by status, in our format.
_HTTP_ERROR_CODES = {
    400: "invalid",
    401: "unauthenticated",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    409: "conflict",
    429: "too_many_requests",
}


def _http_error_message(status: int) -> str:
    messages = {
        400: _("输入有误，请检查标出的字段。"),
        401: _("请先登录：在 Authorization 头中提供有效的 Bearer 令牌。"),
        403: _("您的角色无权执行此操作。"),
        404: _("未找到，或您无权查看。"),
        429: _("请求过于频繁，请稍后再试。"),
    }
    return messages.get(status, _("请求无法处理。"))


def not_found_response(api: NinjaAPI, request: HttpRequest) -> HttpResponse:
    return error_response(api, request, status=404, code="not_found", message=_("未找到，或您无权查看。"))


def install_error_handlers(api: NinjaAPI) -> None:
    @api.exception_handler(DomainError)
    def domain_error(request: HttpRequest, exc: DomainError) -> HttpResponse:
        return error_response(
            api, request, status=exc.status, code=exc.code, message=exc.message, fields=exc.fields
        )

    @api.exception_handler(ValidationError)
    def validation_error(request: HttpRequest, exc: ValidationError) -> HttpResponse:
        # api.md: invalid input is a 400 naming the fields, never ninja's default 422.
        fields: dict[str, str] = {}
        for error in exc.errors:
            fields.setdefault(_field_name(list(error.get("loc", []))), _field_message(error))
        return error_response(
            api, request, status=400, code="invalid", message=_("输入有误，请检查标出的字段。"), fields=fields
        )

    @api.exception_handler(AuthenticationError)
    def unauthenticated(request: HttpRequest, exc: AuthenticationError) -> HttpResponse:
        return error_response(
            api, request, status=401, code="unauthenticated", message=_http_error_message(401)
        )

    @api.exception_handler(PermissionDenied)
    def forbidden(request: HttpRequest, exc: PermissionDenied) -> HttpResponse:
        return error_response(api, request, status=403, code="forbidden", message=_http_error_message(403))

    @api.exception_handler(Http404)
    def not_found(request: HttpRequest, exc: Http404) -> HttpResponse:
        return not_found_response(api, request)

    @api.exception_handler(HttpError)
    def http_error(request: HttpRequest, exc: HttpError) -> HttpResponse:
        status = exc.status_code
        fields: dict[str, str] = {}
        if status == 400 and str(exc).startswith("Cannot parse request body"):
            # ninja's own answer to a body that is not JSON (a form post, a truncated upload …).
            fields["body"] = _("请求体不是有效的 JSON 对象。")
        return error_response(
            api,
            request,
            status=status,
            code=_HTTP_ERROR_CODES.get(status, "error"),
            message=_http_error_message(status),
            fields=fields,
        )


class Page(Schema):
    count: int


def paginate(queryset: QuerySet[Any], *, limit: int, offset: int) -> tuple[list[Any], int]:
    """Slice a queryset for `?limit=&offset=`; limits are clamped to 1..MAX_PAGE_SIZE instead of refused."""
    limit = max(1, min(limit, MAX_PAGE_SIZE))
    offset = max(0, min(offset, MAX_OFFSET))
    return list(queryset[offset : offset + limit]), queryset.count()
