"""`POST /visits/{id}/checkout` (api.md): translates HTTP to `checkout.visit_check_out`."""

from typing import Annotated, Literal

from django.http import HttpRequest
from ninja import Router, Schema
from pydantic import Field

from anchang.accounts.api_access import request_user
from anchang.core.api import NoNul, error_responses
from anchang.reception.checkout import visit_check_out

router = Router(tags=["reception"])


class CheckoutIn(Schema):
    outcome: Literal["subscribed", "return", "no_interest", "invalid"]
    invalid_reason: Annotated[str, NoNul] = ""
    materials: list[Annotated[str, NoNul]] = Field(default_factory=list, max_length=20)
    club: Literal["offered", "joined", "declined", ""] = ""
    next_step: Annotated[str, NoNul] = ""
    summary: Annotated[str, NoNul] = ""


class CheckoutOut(Schema):
    id: int
    state: str
    outcome: str
    duration_minutes: int
    follow_up_id: int | None


@router.post(
    "/visits/{visit_id}/checkout",
    response={200: CheckoutOut, **error_responses(400, 401, 403, 404, 409)},
    summary="离场登记（结束接待）",
    description=(
        "接待结果、已发资料、会员、下一步与小结；时长自动计算。无效接待须填原因，顾问获得补位。"
        "首访（有效）离场后生成首次跟进（follow_up_id），并向客户发送到访感谢短信。已结束的接待 → 409。"
    ),
)
def visit_checkout(request: HttpRequest, visit_id: int, payload: CheckoutIn) -> CheckoutOut:
    result = visit_check_out(visit_id=visit_id, by=request_user(request), **payload.dict())
    return CheckoutOut(
        id=result.visit.pk,
        state=result.visit.state,
        outcome=result.visit.outcome,
        duration_minutes=result.duration_minutes,
        follow_up_id=result.follow_up.pk if result.follow_up else None,
    )
