from collections.abc import Callable, Sequence

from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_http_methods

from anchang.accounts.models import User
from anchang.core.audit import client_ip
from anchang.core.errors import DomainError
from anchang.customers.models import Customer, EventKind
from anchang.customers.needs import needs_of
from anchang.customers.pool import customer_reveal_phone, may_manage_customers
from anchang.customers.selectors import customer_visible_to, may_record_followup

# A section of the customer page that another app renders from what it recorded (reception: the visits,
# why each went to its consultant, stations and callbacks): its template and the context it needs. Those
# apps build on customers, so the URL wiring hands their sections in (anchang/urls.py) and nothing
# here imports them.
CustomerSection = Callable[[Customer], tuple[str, dict[str, object]]]


@login_required
@require_http_methods(["GET", "POST"])
def customer_detail(
    request: HttpRequest, customer_id: int, sections: Sequence[CustomerSection] = ()
) -> HttpResponse:
    user: User = request.user  # type: ignore[assignment]
    customer = customer_visible_to(user=user, customer_id=customer_id)
    if customer is None:
        raise Http404
    events = list(customer.events.select_related("by")[:100])
    context = {
        "customer": customer,
        "project": customer.project,
        "events": events,
        "ownership": [e for e in events if e.kind == EventKind.OWNER_CHANGED],
        "full_details": customer.owner_id == user.pk,
        "household": customer.household.all()[:10],
        "needs": needs_of(customer),
        "follow_ups": customer.follow_ups.select_related("consultant").order_by("-due_at")[:20],
        "in_pool": customer.owner_id is None and customer.pooled_at is not None,
        "can_manage": may_manage_customers(user, customer.project_id),
        "may_follow_up": may_record_followup(user=user, customer=customer),
        "revealed_phone": None,
        "reveal_error": "",
    }
    templates = []
    for section in sections:
        template, section_context = section(customer)
        context.update(section_context)
        templates.append(template)
    context["sections"] = templates
    if request.method == "POST" and "reveal_reason" in request.POST:
        try:
            context["revealed_phone"] = customer_reveal_phone(
                customer=customer,
                by=user,
                reason=request.POST["reveal_reason"],
                ip=client_ip(request),
            )
        except DomainError as error:
            context["reveal_error"] = next(iter(error.fields.values()), error.message)
    return render(request, "customers/customer_detail.html", context)
