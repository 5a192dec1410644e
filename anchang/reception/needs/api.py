"""`PATCH /visits/{id}`: the needs and intent level recorded during a visit (api.md)."""

from decimal import Decimal
from typing import Annotated

from django.http import HttpRequest
from ninja import Field, Schema
from pydantic import BeforeValidator, WithJsonSchema

from anchang.accounts.api_access import request_user
from anchang.core.api import error_responses
from anchang.core.errors import InvalidInput, NotFound
from anchang.customers.needs import needs_out
from anchang.reception.api import router as visits_router
from anchang.reception.needs.services import (
    needs_visit_visible_to,
    visit_intent_level_out,
    visit_needs_update,
)


def _number_as_text(value: object) -> object:
    """JSON numbers become their text; strings pass; anything else is refused here (a 400)."""
    if value is None or isinstance(value, str):
        return value
    if isinstance(value, int | float | Decimal) and not isinstance(value, bool):
        return str(value)
    raise ValueError("not a number")


# Numbers arrive as JSON numbers or decimal strings (api.md: money in yuan, "3120000.00"). They are
# parsed and checked by the service, so that a bad value gets the same Chinese message as in the form
# ("请输入数字。", "居室应为 1–9 之间的整数。") instead of a generic schema error.
NumberIn = Annotated[
    str | None,
    BeforeValidator(_number_as_text),
    WithJsonSchema({"anyOf": [{"type": "number"}, {"type": "string"}, {"type": "null"}]}),
]
MONEY_HELP = '元，如 "3120000.00"'


class NeedsIn(Schema):
    purpose: str | None = Field(None, description="own_home | upgrade | investment | retirement | education")
    budget_min: NumberIn = Field(None, description=MONEY_HELP)
    budget_max: NumberIn = Field(None, description=MONEY_HELP)
    down_payment: NumberIn = Field(None, description=MONEY_HELP)
    bedrooms: NumberIn = Field(None, description="1–9")
    area_min: NumberIn = Field(None, description="㎡")
    area_max: NumberIn = Field(None, description="㎡")
    floor_min: NumberIn = None
    floor_max: NumberIn = None
    orientation: str | None = Field(None, description="S | NS | SE | SW | E | W | N | EW")
    buildings: list[str] | None = Field(None, description='楼栋名称，如 ["1栋"]')
    decision_makers: str | None = None
    concerns: str | None = None
    residence: str | None = None
    workplace_area: str | None = None


class VisitPatchIn(Schema):
    needs: NeedsIn | None = None
    intent_level: str | None = Field(None, description="A | B | C | D")


class NeedsOut(Schema):
    purpose: str | None
    budget_min: str | None = Field(..., examples=["3000000.00"])
    budget_max: str | None = Field(..., examples=["3500000.00"])
    down_payment: str | None
    bedrooms: int | None
    area_min: str | None
    area_max: str | None
    floor_min: int | None
    floor_max: int | None
    orientation: str | None
    buildings: list[str]
    decision_makers: str | None
    concerns: str | None
    residence: str | None
    workplace_area: str | None


class VisitNeedsOut(Schema):
    id: int
    needs: NeedsOut | None
    intent_level: str | None


# `GET /visits/{id}` belongs to the reception router. Django resolves a URL to the first matching
# pattern whatever the method, so a second router's `/visits/{visit_id}` would never be reached
# (PATCH would answer 405): the operation joins the same path on that router instead.
@visits_router.patch(
    "/visits/{visit_id}",
    response={200: VisitNeedsOut, **error_responses(400, 401, 404)},
    summary="记录客户需求与意向等级",
    tags=["customers"],
)
def visit_needs_patch(request: HttpRequest, visit_id: int, payload: VisitPatchIn) -> dict[str, object]:
    user = request_user(request)
    visit = needs_visit_visible_to(user=user, visit_id=visit_id)
    if visit is None:
        raise NotFound()
    given = payload.model_fields_set
    needs = payload.needs.model_dump(exclude_unset=True) if payload.needs is not None else None
    try:
        change = visit_needs_update(
            visit=visit,
            by=user,
            needs=needs,
            intent_level=payload.intent_level if "intent_level" in given else None,
        )
    except InvalidInput as error:
        fields = {
            (name if name == "intent_level" else f"needs.{name}"): message
            for name, message in error.fields.items()
        }
        raise InvalidInput(error.message, fields=fields, code=error.code) from None
    return {
        "id": visit.pk,
        "needs": needs_out(change.needs),
        "intent_level": visit_intent_level_out(visit=visit),
    }
