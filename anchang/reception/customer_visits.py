"""The visits section of the customer page: each visit with why it went to its consultant, the stations
shown and the callbacks. Reception records visits and builds on customers, so the customer page
(customers.views) does not import this: the URL wiring hands `customer_visits_section` in."""

from django.db.models import Prefetch, QuerySet

from anchang.customers.models import Attribution, Customer
from anchang.reception.models import Visit, VisitStation

TEMPLATE = "reception/_customer_visits.html"


def customer_visits(*, customer: Customer) -> QuerySet[Visit]:
    return (
        Visit.objects.filter(customer=customer)
        .select_related("consultant", "covering_for")
        .prefetch_related(
            Prefetch(
                "attributions",
                queryset=Attribution.objects.select_related("consultant").order_by("decided_at", "pk"),
            ),
            Prefetch("stations_done", queryset=VisitStation.objects.select_related("station")),
            "callbacks",
        )
        .order_by("-checked_in_at")
    )


def customer_visits_section(customer: Customer) -> tuple[str, dict[str, object]]:
    """A `customers.views.CustomerSection`: the template and its context."""
    return TEMPLATE, {"visits": customer_visits(customer=customer)}
