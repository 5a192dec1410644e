"""Deal pages: subscriptions (认购), contracts (签约), cancellations, holds (销控), reservations (认筹),
approvals and the sales summary. HTTP only: services decide, selectors read (architecture rule 1)."""

from collections.abc import Callable
from decimal import Decimal
from typing import Any, TypeVar

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_http_methods, require_POST
from django_stubs_ext import StrOrPromise

from anchang.accounts.models import User
from anchang.accounts.navigation import project_page
from anchang.core.errors import DomainError, InvalidInput
from anchang.core.forms import apply_domain_error
from anchang.core.http import redirect_back
from anchang.customers.models import Customer
from anchang.customers.selectors import customer_visible_to
from anchang.deals import selectors, services
from anchang.deals.forms import (
    CancelForm,
    ChangeUnitForm,
    ContractForm,
    DecisionForm,
    HoldForm,
    ReleaseForm,
    ReservationForm,
    SubscriptionFilterForm,
    SubscriptionForm,
    SummaryRangeForm,
    require_discount_reason,
)
from anchang.deals.models import OCCUPYING_STATUSES, ReservationStatus, Subscription, SubscriptionStatus
from anchang.deals.summary import sales_summary
from anchang.inventory.models import Unit, UnitStatus
from anchang.inventory.permits import unit_not_permitted_reason

PAGE_SIZE = 50
T = TypeVar("T")


def _user(request: HttpRequest) -> User:
    return request.user  # type: ignore[return-value]


def _htmx(request: HttpRequest) -> bool:
    return bool(getattr(request, "htmx", False))


def _found(row: T | None) -> T:
    """The row a `*_visible_to` selector found; else 404: what the user may not see does not exist."""
    if row is None:
        raise Http404
    return row


def _show_error(request: HttpRequest, form: Any, error: DomainError) -> None:
    """Field errors next to their field; a refusal about the whole action (a 403, a 409) at the top,
    where it shows even when the form it came from is no longer offered."""
    if error.fields:
        apply_domain_error(form, error)
    else:
        messages.error(request, error.message)


def _error_text(error: DomainError) -> str:
    return next(iter(error.fields.values()), error.message) if error.fields else error.message


# What a page action does once its form is valid: (who, the row the page is about, the form's data).
Act = Callable[[User, T, dict[str, Any]], object]
View = Callable[..., HttpResponse]


def _submit(
    request: HttpRequest, form: forms.Form, act: Callable[[], object], done: StrOrPromise
) -> int | None:
    """Validate a page action's form and call its service: None once done, else the status the
    refusing page answers with (the reason next to its field, or at the top)."""
    if not form.is_valid():
        return 400
    try:
        act()
    except DomainError as error:
        _show_error(request, form, error)
        return error.status
    messages.success(request, done)
    return None


def _action_forms(
    form_classes: dict[str, type[forms.Form]], refused: dict[str, forms.Form]
) -> dict[str, forms.Form]:
    """A page's action forms as `<prefix>_form`, their ids `<prefix>_…`: blank, or the one just refused."""
    return {
        f"{prefix}_form": refused.get(prefix) or form_class(auto_id=f"{prefix}_%s")
        for prefix, form_class in form_classes.items()
    }


# --- subscriptions --------------------------------------------------------------------------------------


@login_required
def subscription_list(request: HttpRequest, project_id: int) -> HttpResponse:
    user = _user(request)
    project = project_page(request, project_id, allowed=selectors.may_view_deals(user))
    form = SubscriptionFilterForm(request.GET or None)
    filters: dict[str, Any] = form.cleaned_data if form.is_valid() else {}
    rows = selectors.subscription_list_visible_to(
        user=user,
        project=project,
        status=filters.get("status") or None,
        date_from=filters.get("date_from"),
        date_to=filters.get("date_to"),
    )
    page = Paginator(rows, PAGE_SIZE).get_page(request.GET.get("page"))
    page.object_list = list(page.object_list)
    return render(
        request,
        "deals/subscription_list.html",
        {
            "project": project,
            "form": form,
            "page": page,
            "subscriptions": page.object_list,
            "active_nav": "subscriptions",
            "deals_tab": "subscriptions",
        },
    )


def _visible_subscription(request: HttpRequest, subscription_id: int) -> Subscription:
    return _found(selectors.subscription_visible_to(user=_user(request), subscription_id=subscription_id))


# The subscription page's action forms by prefix, each posting to a view of `_subscription_action`.
SUBSCRIPTION_FORMS: dict[str, type[forms.Form]] = {
    "decision": DecisionForm,
    "contract": ContractForm,
    "cancel": CancelForm,
}


def _subscription_page(
    request: HttpRequest,
    subscription: Subscription,
    *,
    refused: dict[str, forms.Form] | None = None,
    status: int = 200,
) -> HttpResponse:
    project_page(request, subscription.project_id)
    return render(
        request,
        "deals/subscription_detail.html",
        _detail_context(request, subscription, refused or {}),
        status=status,
    )


def _detail_context(
    request: HttpRequest, subscription: Subscription, refused: dict[str, forms.Form]
) -> dict[str, Any]:
    user = _user(request)
    status = subscription.status
    manager = user.is_site_manager
    seller = services.may_sell(user)
    occupying = status in OCCUPYING_STATUSES
    return {
        "subscription": subscription,
        "project": subscription.project,
        "unit": subscription.unit,
        "customer": subscription.customer,
        "discount_percent": subscription.discount_percent,
        "history": list(
            subscription.history.select_related("history_user").order_by("-history_date", "-history_id")[:50]
        ),
        "replaces": selectors.subscription_replaces(subscription),
        "can_decide": manager and status == SubscriptionStatus.PENDING_APPROVAL,
        "can_contract": seller and status == SubscriptionStatus.ACTIVE,
        "can_cancel": seller and occupying and (status != SubscriptionStatus.CONTRACTED or manager),
        "can_change_unit": seller
        and status in (SubscriptionStatus.PENDING_APPROVAL, SubscriptionStatus.ACTIVE),
        **_action_forms(SUBSCRIPTION_FORMS, refused),
        "active_nav": "subscriptions",
    }


@login_required
def subscription_detail(request: HttpRequest, subscription_id: int) -> HttpResponse:
    return _subscription_page(request, _visible_subscription(request, subscription_id))


def _subscription_action(prefix: str, act: Act[Subscription], done: StrOrPromise) -> View:
    """The POST of the subscription page's `prefix` form: back to the page (or `next`) once done,
    else the page again with the refused form."""

    @login_required
    @require_POST
    def view(request: HttpRequest, subscription_id: int) -> HttpResponse:
        subscription = _visible_subscription(request, subscription_id)
        form = SUBSCRIPTION_FORMS[prefix](request.POST, auto_id=f"{prefix}_%s")
        status = _submit(request, form, lambda: act(_user(request), subscription, form.cleaned_data), done)
        if status is None:
            return redirect_back(request, reverse("deals:subscription", args=[subscription.pk]))
        # Re-read: the page shows the subscription as it is now, with the refused form's errors inline.
        fresh = _visible_subscription(request, subscription_id)
        return _subscription_page(request, fresh, refused={prefix: form}, status=status)

    return view


subscription_approve = _subscription_action(
    "decision",
    lambda user, s, data: services.subscription_approve(subscription_id=s.pk, by=user, note=data["note"]),
    gettext_lazy("已审批通过，认购生效。"),
)
subscription_reject = _subscription_action(
    "decision",
    lambda user, s, data: services.subscription_reject(subscription_id=s.pk, by=user, note=data["note"]),
    gettext_lazy("已驳回，房源已恢复可售。"),
)
subscription_contract = _subscription_action(
    "contract",
    lambda user, s, data: services.subscription_contract(
        subscription_id=s.pk, by=user, contract_number=data["contract_number"]
    ),
    gettext_lazy("已签约，客户已成为业主。"),
)
subscription_cancel = _subscription_action(
    "cancel",
    lambda user, s, data: services.subscription_cancel(subscription_id=s.pk, by=user, reason=data["reason"]),
    gettext_lazy("已退订，房源已恢复可售。"),
)


@login_required
@require_http_methods(["GET", "POST"])
def subscription_change_unit(request: HttpRequest, subscription_id: int) -> HttpResponse:
    user = _user(request)
    subscription = _visible_subscription(request, subscription_id)
    project_page(request, subscription.project_id, allowed=services.may_sell(user))
    form = ChangeUnitForm(request.POST or None)
    status = 200
    if request.method == "POST":
        status = 400
        if form.is_valid():
            data = form.cleaned_data
            try:
                replacement = services.subscription_change_unit(
                    subscription_id=subscription.pk,
                    unit_id=data["unit"],
                    by=user,
                    price=data.get("price"),
                    deposit=data.get("deposit"),
                    reason=data["reason"],
                )
            except DomainError as error:
                apply_domain_error(form, _as_unit_field(error))
                status = error.status
            else:
                messages.success(
                    request, _("已换房至 %(unit)s，原认购已退订。") % {"unit": replacement.unit.label}
                )
                return redirect("deals:subscription", subscription_id=replacement.pk)
    return render(
        request,
        "deals/change_unit.html",
        {
            "subscription": subscription,
            "project": subscription.project,
            "form": form,
            "units": list(selectors.sellable_units(project=subscription.project)),
            "active_nav": "subscriptions",
        },
        status=status,
    )


def _as_unit_field(error: DomainError) -> DomainError:
    # The service names the API's field `unit_id`; the form calls it `unit`.
    if "unit_id" in error.fields:
        error.fields = {"unit" if k == "unit_id" else k: v for k, v in error.fields.items()}
    return error


@login_required
@require_http_methods(["GET", "POST"])
def subscription_new(request: HttpRequest, unit_id: int) -> HttpResponse:
    """认购 from the unit page: pick one of the customers you may sell to, the price starts at list."""
    user = _user(request)
    unit = selectors.unit_visible_to(user=user, unit_id=unit_id)
    if unit is None or not services.may_sell(user):
        raise Http404
    project = project_page(request, unit.project_id)
    q = (request.GET.get("q") or "").strip()[:30]
    if _htmx(request) and "q" in request.GET:
        return render(
            request,
            "deals/_customer_options.html",
            {"customers": selectors.customers_for_sale(user=user, project=project, q=q), "selected": None},
        )
    initial: dict[str, object] = {"price": unit.list_price_total, "deposit": Decimal("50000.00")}
    preselected = request.GET.get("customer") or ""
    if preselected.isdigit() and len(preselected) <= 18:
        initial["customer"] = int(preselected)
    form = SubscriptionForm(request.POST or None, initial=initial)
    status = 200
    if request.method == "POST":
        status = 400
        if form.is_valid() and require_discount_reason(form, list_price=unit.list_price_total):
            data = form.cleaned_data
            try:
                pooled = (
                    _pool_customer(user, data["customer"], unit.project_id)
                    if data["claim_from_pool"]
                    else None
                )
                customer = pooled or _customer_for_sale(
                    user,
                    data["customer"],
                    unit.project_id,
                    not_own=_("该客户不是您的客户：公客池客户请勾选“认领并认购”，或先认领。"),
                )
                subscription = services.subscription_create(
                    unit_id=unit.pk,
                    customer=customer,
                    price=data["price"],
                    deposit=data["deposit"],
                    by=user,
                    claim_from_pool=pooled is not None,
                    discount_reason=data["discount_reason"],
                    payment_method=data["payment_method"],
                    disclosure_override_reason=data["disclosure_override_reason"],
                    reservation=(
                        selectors.active_reservation(customer=customer)
                        if data.get("use_reservation")
                        else None
                    ),
                )
            except DomainError as error:
                apply_domain_error(form, error)
                status = error.status
            else:
                messages.success(
                    request,
                    _("已认购 %(unit)s。") % {"unit": unit.label}
                    if subscription.status == SubscriptionStatus.ACTIVE
                    else _("已提交认购 %(unit)s：优惠超出阈值，等待经理审批。") % {"unit": unit.label},
                )
                return redirect("deals:subscription", subscription_id=subscription.pk)
    customers = selectors.customers_for_sale(user=user, project=project, q=q)
    selected_id = form["customer"].value()
    selected = _selected_customer(user, selected_id, customers)
    if selected is not None and selected not in customers:
        customers = [selected, *customers]
    return render(
        request,
        "deals/subscription_form.html",
        {
            "unit": unit,
            "project": project,
            "form": form,
            "customers": customers,
            "selected": selected,
            "q": q,
            "sellable": unit.status in services.SUBSCRIBABLE_UNIT_STATUSES,
            "not_permitted": unit_not_permitted_reason(unit=unit),
            "active_nav": "board",
        },
        status=status,
    )


def _selected_customer(user: User, value: object, listed: list[Any]) -> Any:
    try:
        customer_id = int(str(value))
    except (TypeError, ValueError):
        return None
    if not 0 < customer_id < 2**63:
        return None
    for customer in listed:
        if customer.pk == customer_id:
            return customer
    found = selectors.customer_for_sale(user=user, customer_id=customer_id)
    return found.customer or found.pool_customer


def _pool_customer(user: User, customer_id: int, project_id: int) -> Customer | None:
    """The picked customer if they are in this project's public pool (claimed as they subscribe)."""
    pooled = selectors.customer_for_sale(user=user, customer_id=customer_id).pool_customer
    return pooled if pooled is not None and pooled.project_id == project_id else None


def _customer_for_sale(user: User, customer_id: int, project_id: int, *, not_own: str) -> Customer:
    """The customer picked on a form, if `user` may sell to them in this project; else the refusal
    shown under the picker (`not_own` for a visible customer of someone else or of the pool)."""
    found = selectors.customer_for_sale(user=user, customer_id=customer_id)
    if found.customer is None or found.customer.project_id != project_id:
        raise InvalidInput(fields={"customer": not_own if found.not_own else _("请选择客户。")})
    return found.customer


@login_required
def approvals(request: HttpRequest, project_id: int) -> HttpResponse:
    """The manager's queue of subscriptions whose discount waits for a decision."""
    user = _user(request)
    project = project_page(request, project_id, allowed=user.is_site_manager)
    pending = list(selectors.subscriptions_pending_approval(project=project)[:PAGE_SIZE])
    return render(
        request,
        "deals/approvals.html",
        {
            "project": project,
            "pending": pending,
            "active_nav": "approvals",
            "deals_tab": "approvals",
            "limit": PAGE_SIZE,
        },
    )


# --- units and holds --------------------------------------------------------------------------------------


def _visible_unit(request: HttpRequest, unit_id: int) -> Unit:
    return _found(selectors.unit_visible_to(user=_user(request), unit_id=unit_id))


# The unit panel's action forms by prefix, each posting to a view of `_unit_action`.
UNIT_FORMS: dict[str, type[forms.Form]] = {"hold": HoldForm, "release": ReleaseForm}


def _panel_context(
    request: HttpRequest, unit: Unit, refused: dict[str, forms.Form] | None = None
) -> dict[str, Any]:
    user = _user(request)
    occupying = selectors.occupying_subscription(unit=unit)
    visible = (
        selectors.subscription_visible_to(user=user, subscription_id=occupying.pk) if occupying else None
    )
    manager = user.is_site_manager
    return {
        "unit": unit,
        "project": unit.project,
        "hold": selectors.open_hold(unit=unit) if unit.status == UnitStatus.HELD else None,
        "occupying": occupying,
        "occupying_visible": visible is not None,
        "can_hold": manager and unit.status == UnitStatus.AVAILABLE,
        "can_release": manager and unit.status == UnitStatus.HELD,
        "can_subscribe": services.may_sell(user) and unit.status in services.SUBSCRIBABLE_UNIT_STATUSES,
        **_action_forms(UNIT_FORMS, refused or {}),
    }


def _unit_page(
    request: HttpRequest, unit: Unit, *, refused: dict[str, forms.Form] | None = None, status: int = 200
) -> HttpResponse:
    project_page(request, unit.project_id)
    return render(
        request,
        "deals/unit_deals.html",
        {**_panel_context(request, unit, refused), "active_nav": "board"},
        status=status,
    )


@login_required
def unit_panel(request: HttpRequest, unit_id: int) -> HttpResponse:
    """The unit page's 成交 panel (loaded by htmx); without htmx the same panel as a page of its own."""
    unit = _visible_unit(request, unit_id)
    if _htmx(request):
        return render(request, "deals/_unit_panel.html", _panel_context(request, unit))
    return _unit_page(request, unit)


def _unit_action(prefix: str, act: Act[Unit], done: StrOrPromise) -> View:
    """The POST of the unit panel's `prefix` form: back to the unit page (or `next`) once done, else
    the panel as a page with the refused form."""

    @login_required
    @require_POST
    def view(request: HttpRequest, unit_id: int) -> HttpResponse:
        unit = _visible_unit(request, unit_id)
        form = UNIT_FORMS[prefix](request.POST, auto_id=f"{prefix}_%s")
        status = _submit(request, form, lambda: act(_user(request), unit, form.cleaned_data), done)
        if status is None:
            return redirect_back(request, reverse("inventory:unit", args=[unit.pk]))
        return _unit_page(request, _visible_unit(request, unit_id), refused={prefix: form}, status=status)

    return view


unit_hold = _unit_action(
    "hold",
    lambda user, unit, data: services.hold_create(
        unit_id=unit.pk, reason=data["reason"], expires_at=data.get("expires_at"), by=user
    ),
    gettext_lazy("已销控该房源。"),
)
unit_release = _unit_action(
    "release",
    lambda user, unit, data: services.hold_release(unit_id=unit.pk, reason=data["reason"], by=user),
    gettext_lazy("已解除销控，房源恢复可售。"),
)


@login_required
def holds(request: HttpRequest, project_id: int) -> HttpResponse:
    """The project's current holds: which unit, who, why, until when; managers release from here."""
    user = _user(request)
    project = project_page(request, project_id, allowed=selectors.may_view_deals(user))
    rows = list(selectors.holds_open(project=project)[: PAGE_SIZE * 4])
    return render(
        request,
        "deals/holds.html",
        {
            "project": project,
            "holds": rows,
            "limit": PAGE_SIZE * 4,
            "can_release": user.is_site_manager,
            "active_nav": "subscriptions",
            "deals_tab": "holds",
        },
    )


# --- reservations ---------------------------------------------------------------------------------------


@login_required
@require_http_methods(["GET", "POST"])
def reservations(request: HttpRequest, project_id: int) -> HttpResponse:
    user = _user(request)
    project = project_page(request, project_id, allowed=selectors.may_view_deals(user))
    seller = services.may_sell(user)
    form = ReservationForm(request.POST if request.method == "POST" and seller else None)
    status = 200
    if request.method == "POST":
        if not seller:
            raise Http404
        status = 400
        if form.is_valid():
            data = form.cleaned_data
            try:
                customer = _customer_for_sale(
                    user, data["customer"], project.pk, not_own=_("该客户不是您的客户：公客池客户请先认领。")
                )
                reservation = services.reservation_create(
                    project=project, customer=customer, amount=data["amount"], by=user
                )
            except DomainError as error:
                apply_domain_error(form, error)
                status = error.status
            else:
                messages.success(request, _("已认筹，认筹号 %(n)s。") % {"n": reservation.number})
                return redirect("deals:reservations", project_id=project.pk)
    filter_status = request.GET.get("status") or ""
    if filter_status not in ReservationStatus.values:
        filter_status = ""
    rows = selectors.reservation_list_visible_to(user=user, project=project, status=filter_status or None)
    page = Paginator(rows, PAGE_SIZE).get_page(request.GET.get("page"))
    q = (request.GET.get("q") or "").strip()[:30]
    return render(
        request,
        "deals/reservations.html",
        {
            "project": project,
            "page": page,
            "reservations": page.object_list,
            "form": form,
            "customers": selectors.customers_for_sale(user=user, project=project, q=q) if seller else [],
            "q": q,
            "status": filter_status,
            "statuses": ReservationStatus.choices,
            "can_create": seller,
            "can_refund": user.is_site_manager,
            "active_nav": "subscriptions",
            "deals_tab": "reservations",
        },
        status=status,
    )


@login_required
@require_POST
def reservation_refund(request: HttpRequest, reservation_id: int) -> HttpResponse:
    user = _user(request)
    reservation = _found(selectors.reservation_visible_to(user=user, reservation_id=reservation_id))
    try:
        services.reservation_refund(
            reservation_id=reservation.pk, by=user, reason=request.POST.get("reason", "")
        )
    except DomainError as error:
        messages.error(request, _error_text(error))
    else:
        messages.success(request, _("认筹 %(n)s 号已退筹。") % {"n": reservation.number})
    return redirect("deals:reservations", project_id=reservation.project_id)


# --- the customer page's 成交 section, and the sales summary ------------------------------------------------


@login_required
def customer_deals(request: HttpRequest, customer_id: int) -> HttpResponse:
    user = _user(request)
    customer = customer_visible_to(user=user, customer_id=customer_id)
    if customer is None or not selectors.may_view_deals(user):
        raise Http404
    context = {
        "customer": customer,
        "project": customer.project,
        "subscriptions": list(selectors.subscriptions_of_customer(customer=customer)[:PAGE_SIZE]),
        "reservations": list(selectors.reservations_of_customer(customer=customer)[:PAGE_SIZE]),
    }
    if _htmx(request):
        return render(request, "deals/_customer_deals.html", context)
    return render(request, "deals/customer_deals.html", context)


@login_required
def summary(request: HttpRequest, project_id: int) -> HttpResponse:
    user = _user(request)
    project = project_page(request, project_id, allowed=user.is_site_manager)
    form = SummaryRangeForm(request.GET or None)
    data = form.cleaned_data if form.is_valid() else {}
    try:
        figures = sales_summary(project=project, date_from=data.get("date_from"), date_to=data.get("date_to"))
    except InvalidInput as error:
        # A range the summary refuses: the reason under its field, the default range below it.
        apply_domain_error(form, error)
        figures = sales_summary(project=project)
    if not form.is_bound:
        # The inputs show the range the table shows (the last two weeks by default).
        form = SummaryRangeForm(initial={"date_from": figures.date_from, "date_to": figures.date_to})
    return render(
        request,
        "deals/sales_summary.html",
        {
            "project": project,
            "form": form,
            "summary": figures,
            "active_nav": "sales_summary",
            "deals_tab": "summary",
        },
        status=400 if form.errors else 200,
    )
