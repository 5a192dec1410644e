"""`GET /customers/{id}/recommendations`: units that fit the customer's needs (api.md)."""

from django.http import HttpRequest
from ninja import Router, Schema

from anchang.accounts.api_access import request_user
from anchang.core.api import error_responses
from anchang.core.errors import NotFound
from anchang.customers.recommendations import DEFAULT_LIMIT, recommend_units
from anchang.customers.selectors import customer_visible_to

router = Router(tags=["customers"])


class RecommendationOut(Schema):
    unit_id: int
    score: int
    reasons: list[str]


@router.get(
    "/customers/{customer_id}/recommendations",
    response={200: list[RecommendationOut], **error_responses(400, 401, 404)},
    summary="按需求推荐可售房源",
)
def customer_recommendations(
    request: HttpRequest, customer_id: int, limit: int = DEFAULT_LIMIT
) -> list[dict[str, object]]:
    customer = customer_visible_to(user=request_user(request), customer_id=customer_id)
    if customer is None:
        raise NotFound()
    return [
        {"unit_id": r.unit.pk, "score": r.score, "reasons": r.reasons}
        for r in recommend_units(customer=customer, limit=limit)
    ]
