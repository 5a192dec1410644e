"""Domain errors: raised by services, turned into HTTP answers by views and the API.

Each error carries a stable machine `code` (api.md), a translated human message and, for
invalid input, the offending fields. Services never build HTTP responses themselves.
"""

from typing import ClassVar

from django.utils.translation import gettext_lazy as _


class DomainError(Exception):
    status: ClassVar[int] = 400
    code: str = "invalid"
    default_message: ClassVar = _("请求无法处理。")

    def __init__(
        self, message: object = None, *, fields: dict[str, str] | None = None, code: str | None = None
    ):
        self.message = str(message if message is not None else self.default_message)
        self.fields = {key: str(value) for key, value in (fields or {}).items()}
        if code:
            self.code = code
        super().__init__(self.message)


class InvalidInput(DomainError):
    status = 400
    code = "invalid"
    default_message = _("输入有误，请检查标出的字段。")


class PhoneInvalid(InvalidInput):
    code = "phone_invalid"
    default_message = _("请输入正确的中国大陆手机号码（11 位，1 开头）。")


class NotFound(DomainError):
    status = 404
    code = "not_found"
    default_message = _("未找到，或您无权查看。")


class Forbidden(DomainError):
    status = 403
    code = "forbidden"
    default_message = _("您的角色无权执行此操作。")


class Conflict(DomainError):
    status = 409
    code = "conflict"
    default_message = _("操作与当前状态冲突，请刷新后重试。")
