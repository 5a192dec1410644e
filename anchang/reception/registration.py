"""Registration completeness (登记完整性): which of the project's required fields a visit still lacks.

A visit is flagged at check-in with what was missing then; the flag is worked out again, and clears,
when the consultant fills the needs during the visit and when the visit is checked out.
"""

from django.db import transaction

from anchang.customers.models import Customer, Needs
from anchang.inventory.models import ProjectSettings
from anchang.reception.models import Visit


def registration_missing(*, settings: ProjectSettings, customer: Customer, needs: Needs | None) -> list[str]:
    """The project's required field codes (in its order) that the customer's record does not fill."""
    filled = {
        "name": bool(customer.name.strip()),
        "gender": bool(customer.gender),
        "phone": bool(customer.phone),
        "source": bool(customer.source),
        "area_range": needs is not None and (needs.area_min is not None or needs.area_max is not None),
        "layout": needs is not None and needs.bedrooms is not None,
    }
    return [code for code in settings.mandatory_registration_fields if not filled.get(code, True)]


@transaction.atomic
def visit_registration_refresh(*, visit_id: int) -> Visit:
    """Work the visit's missing fields out again from the customer as they are now."""
    visit = (
        Visit.objects.select_for_update(of=("self",))
        .select_related("project__settings", "customer")
        .get(pk=visit_id)
    )
    needs = Needs.objects.filter(customer_id=visit.customer_id).first()
    missing = registration_missing(settings=visit.project.settings, customer=visit.customer, needs=needs)
    if missing != visit.missing_fields:
        visit.missing_fields = missing
        visit.save(update_fields=["missing_fields", "updated_at"])
    return visit
