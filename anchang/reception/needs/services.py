"""The visit's side of needs: who may edit them during a visit, and the reads `GET /visits/{id}` shows."""

from collections.abc import Mapping

from anchang.accounts.models import User
from anchang.core.errors import NotFound
from anchang.customers.needs import NeedsChange, needs_intent_update, needs_may_edit, needs_of, needs_out
from anchang.reception.models import Visit
from anchang.reception.registration import visit_registration_refresh


def _attending(visit: Visit) -> tuple[int | None, int | None]:
    # The consultant receiving the customer, and the one covering for the owner, may edit the needs
    # of a customer they do not own for as long as the visit is theirs.
    return (visit.consultant_id, visit.covering_for_id)


def visit_needs_may_edit(*, user: User, visit: Visit) -> bool:
    return needs_may_edit(user=user, customer=visit.customer, attending=_attending(visit))


def needs_visit_visible_to(*, user: User, visit_id: int) -> Visit | None:
    """The visit with everything the needs form and the recommendations show, or None (a 404)."""
    visit = (
        Visit.objects.select_related("project", "customer", "customer__needs", "consultant", "covering_for")
        .filter(pk=visit_id)
        .first()
    )
    if visit is None or not visit_needs_may_edit(user=user, visit=visit):
        return None
    return visit


def visit_needs_update(
    *,
    visit: Visit,
    by: User,
    needs: Mapping[str, object] | None = None,
    intent_level: str | None = None,
) -> NeedsChange:
    """`needs_intent_update` for the visit's customer, made in this visit (its staff may edit).

    The needs may fill the project's required registration fields (意向面积, 意向户型), so the visit's
    completeness flag is worked out again here, whichever door the needs came in by (page or API).
    """
    if not visit_needs_may_edit(user=by, visit=visit):
        raise NotFound()
    change = needs_intent_update(
        customer=visit.customer,
        by=by,
        needs=needs,
        intent_level=intent_level,
        attending=_attending(visit),
        visit_id=visit.pk,
    )
    visit.missing_fields = visit_registration_refresh(visit_id=visit.pk).missing_fields
    return change


def visit_needs_out(*, visit: Visit) -> dict[str, object] | None:
    """The needs of the visit's customer for `GET /visits/{id}` (`needs`), or None when none yet."""
    return needs_out(needs_of(visit.customer))


def visit_intent_level_out(*, visit: Visit) -> str | None:
    """The visit's customer's intent level for `GET /visits/{id}` (`intent_level`), or None."""
    return visit.customer.intent_level or None
