from decimal import Decimal
from typing import Annotated

from django.http import HttpRequest
from django.utils.translation import gettext as _
from ninja import Field, Header, Router, Schema
from ninja.responses import Status

from anchang.accounts.models import User
from anchang.core.api import DecimalString, error_responses
from anchang.core.errors import NotFound
from anchang.core.idempotency import run_idempotent
from anchang.customers.selectors import customer_visible_to
from anchang.deals.models import Subscription
from anchang.deals.services import subscription_create

router = Router(tags=["deals"])

# Money in yuan as api.md pins it: a decimal string (a JSON number is accepted too).
MoneyIn = Annotated[Decimal, Field(max_digits=14, decimal_places=2, examples=["3120000.00"])]


def _user(request: HttpRequest) -> User:
    return request.user  # type: ignore[return-value]


class SubscriptionIn(Schema):
    customer_id: int
    price: MoneyIn
    deposit: MoneyIn


class SubscriptionOut(Schema):
    id: int
    status: str
    unit_id: int
    customer_id: int
    price: DecimalString
    deposit: DecimalString
    list_price: DecimalString
    subscribed_on: str
    sign_deadline: str


def subscription_out(subscription: Subscription) -> dict[str, object]:
    return {
        "id": subscription.pk,
        "status": subscription.status,
        "unit_id": subscription.unit_id,
        "customer_id": subscription.customer_id,
        "price": f"{subscription.price:.2f}",
        "deposit": f"{subscription.deposit:.2f}",
        "list_price": f"{subscription.list_price:.2f}",
        "subscribed_on": subscription.subscribed_on.isoformat(),
        "sign_deadline": subscription.sign_deadline.isoformat(),
    }


@router.post(
    "/units/{uid}/subscriptions",
    response={201: SubscriptionOut, **error_responses(400, 401, 403, 404, 409)},
    summary="认购房源（支持 Idempotency-Key）",
)
def subscription_create_endpoint(
    request: HttpRequest,
    uid: int,
    payload: SubscriptionIn,
    idempotency_key: str | None = Header(default=None, alias="Idempotency-Key"),
) -> Status[dict[str, object]]:
    user = _user(request)
    # A customer the caller may not see answers like one that does not exist (api.md, P1).
    customer = customer_visible_to(user=user, customer_id=payload.customer_id)
    if customer is None:
        raise NotFound(_("客户不存在，或您无权查看。"))

    def work() -> tuple[int, dict[str, object]]:
        subscription = subscription_create(
            unit_id=uid, customer=customer, price=payload.price, deposit=payload.deposit, by=user
        )
        return 201, subscription_out(subscription)

    body = payload.dict()
    body.update(unit_id=uid, price=str(payload.price), deposit=str(payload.deposit))
    status, answer = run_idempotent(
        user=user, scope=f"subscription:{uid}", key=idempotency_key, body=body, work=work
    )
    return Status(status, answer)
