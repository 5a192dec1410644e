from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render

from anchang.accounts.models import User
from anchang.customers.models import EventKind
from anchang.customers.selectors import customer_visible_to, customer_visits


@login_required
def customer_detail(request: HttpRequest, customer_id: int) -> HttpResponse:
    user: User = request.user  # type: ignore[assignment]
    customer = customer_visible_to(user=user, customer_id=customer_id)
    if customer is None:
        raise Http404
    events = list(customer.events.select_related("by")[:100])
    context = {
        "customer": customer,
        "project": customer.project,
        "visits": customer_visits(customer=customer),
        "events": events,
        "ownership": [e for e in events if e.kind == EventKind.OWNER_CHANGED],
        "full_details": customer.owner_id == user.pk,
        "household": customer.household.all()[:10],
    }
    return render(request, "customers/customer_detail.html", context)
