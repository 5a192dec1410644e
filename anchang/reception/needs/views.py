"""Needs + intent form and unit recommendations, keyed by visit (phone-first htmx partials).

The visit page renders both inline through `needs_context` and `recommendations_context`; the
views below serve the same partials to htmx (and a small page of their own without htmx).
"""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods

from anchang.accounts.models import User
from anchang.core.errors import DomainError, NotFound
from anchang.customers.needs import needs_of
from anchang.customers.recommendations import NeedsMissing, recommend_units
from anchang.inventory.models import Building
from anchang.reception.models import Visit
from anchang.reception.needs.forms import NeedsForm
from anchang.reception.needs.services import needs_visit_visible_to, visit_needs_may_edit, visit_needs_update

NEEDS_PARTIAL = "customers/needs/_needs_form.html"
RECOMMENDATIONS_PARTIAL = "customers/needs/_recommendations.html"
PAGE = "customers/needs/page.html"
# htmx listens for this event (sent in HX-Trigger after a save) to refresh the recommendations.
NEEDS_UPDATED_EVENT = "needs-updated"


def _building_names(visit: Visit) -> list[str]:
    return list(
        Building.objects.filter(project_id=visit.project_id)
        .order_by("sort_order", "name")
        .values_list("name", flat=True)
    )


def needs_context(*, visit: Visit, viewer: User) -> dict[str, object]:
    """Context for `customers/needs/_needs_form.html`; NotFound if the viewer may not see it.

    `visit` should come with `customer` (and ideally `customer__needs`) selected.
    """
    if not visit_needs_may_edit(user=viewer, visit=visit):
        raise NotFound()
    return _needs_context(visit)


def recommendations_context(*, visit: Visit, viewer: User) -> dict[str, object]:
    """Context for `customers/needs/_recommendations.html`; NotFound if the viewer may not see it.

    Insufficient needs are not an error here: the partial says what to fill in instead.
    """
    if not visit_needs_may_edit(user=viewer, visit=visit):
        raise NotFound()
    return _recommendations_context(visit)


# The views below have checked the viewer already (`needs_visit_visible_to`): no second check.


def _needs_context(visit: Visit, form: NeedsForm | None = None, saved: bool = False) -> dict[str, object]:
    customer = visit.customer
    if form is None:
        form = NeedsForm(
            initial=NeedsForm.initial_for(needs_of(customer), customer.intent_level),
            building_names=_building_names(visit),
        )
    return {"visit": visit, "project": visit.project, "needs_form": form, "needs_saved": saved}


def _recommendations_context(visit: Visit) -> dict[str, object]:
    recommendations, missing = [], ""
    try:
        recommendations = recommend_units(customer=visit.customer)
    except NeedsMissing as error:
        missing = error.message
    return {
        "visit": visit,
        "project": visit.project,
        "recommendations": recommendations,
        "recommendations_missing": missing,
    }


def _user(request: HttpRequest) -> User:
    return request.user  # type: ignore[return-value]


def _visit(request: HttpRequest, visit_id: int) -> Visit:
    visit = needs_visit_visible_to(user=_user(request), visit_id=visit_id)
    if visit is None:
        raise Http404
    return visit


def _is_htmx(request: HttpRequest) -> bool:
    return bool(getattr(request, "htmx", False))


def _page(request: HttpRequest, visit: Visit, needs: dict[str, object], status: int = 200) -> HttpResponse:
    context = {
        **_recommendations_context(visit),
        **needs,
        "active_nav": "home",
    }
    return render(request, PAGE, context, status=status)


@login_required
@require_http_methods(["GET", "POST"])
def needs_form_view(request: HttpRequest, visit_id: int) -> HttpResponse:
    visit = _visit(request, visit_id)
    user = _user(request)
    if request.method == "GET":
        context = _needs_context(visit)
        if _is_htmx(request):
            return render(request, NEEDS_PARTIAL, context)
        return _page(request, visit, context)

    form = NeedsForm(request.POST, building_names=_building_names(visit))
    saved = False
    if form.is_valid():
        try:
            visit_needs_update(
                visit=visit,
                by=user,
                needs=form.needs_fields(),
                intent_level=form.intent_level_value(),
            )
        except DomainError as error:
            form.add_domain_error(error)
        else:
            saved = True
    if saved and not _is_htmx(request):
        messages.success(request, _("需求已保存。"))
        return redirect("needs:form", visit_id=visit.pk)
    if saved:
        response = render(request, NEEDS_PARTIAL, _needs_context(visit, saved=True))
        response["HX-Trigger"] = NEEDS_UPDATED_EVENT
        return response
    form.mark_invalid_fields()
    context = _needs_context(visit, form=form)
    if _is_htmx(request):
        # htmx swaps only 2xx answers by default: the form with its inline errors comes back as 200.
        return render(request, NEEDS_PARTIAL, context)
    return _page(request, visit, context, status=400)


@login_required
@require_GET
def recommendations_view(request: HttpRequest, visit_id: int) -> HttpResponse:
    visit = _visit(request, visit_id)
    if _is_htmx(request):
        return render(request, RECOMMENDATIONS_PARTIAL, _recommendations_context(visit))
    return _page(request, visit, _needs_context(visit))
