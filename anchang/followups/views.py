"""Follow-up and callback pages (phone-first for consultants). HTTP only: services decide, selectors read."""

from collections.abc import Callable
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.forms import Form
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django_htmx.http import HttpResponseClientRedirect

from anchang.accounts.models import User
from anchang.accounts.navigation import project_page
from anchang.accounts.selectors import project_visible_to
from anchang.core.errors import DomainError, Forbidden, NotFound
from anchang.core.forms import apply_domain_error
from anchang.core.http import came_from, redirect_back
from anchang.customers.models import Customer
from anchang.customers.selectors import customer_visible_to, may_record_followup
from anchang.followups import selectors
from anchang.followups.forms import (
    CallbackDaysForm,
    CallbackForm,
    DateRangeForm,
    FollowUpForm,
)
from anchang.followups.models import Callback, FollowUp, FollowUpState
from anchang.followups.services import callback_record, followup_record, may_call_back
from anchang.reception.models import Visit

MY_LIST_LIMIT = 100
TABS = (
    ("todo", gettext_lazy("待办")),
    (FollowUpState.OVERDUE.value, gettext_lazy("已逾期")),
    (FollowUpState.OPEN.value, gettext_lazy("未到期")),
    (FollowUpState.DONE.value, gettext_lazy("已完成")),
)


def _user(request: HttpRequest) -> User:
    return request.user  # type: ignore[return-value]


def _htmx(request: HttpRequest) -> bool:
    return bool(getattr(request, "htmx", False))


# --- follow-ups -------------------------------------------------------------------------------------


@login_required
def my_followups(request: HttpRequest, project_id: int) -> HttpResponse:
    """The consultant's follow-up list: overdue first, then due, each with a one-tap record form."""
    user = _user(request)
    project = project_page(request, project_id, allowed=selectors.may_list_followups(user))
    tab = request.GET.get("state") or "todo"
    if tab not in dict(TABS):
        tab = "todo"
    rows = selectors.followup_list_visible_to(
        user=user, project=project, mine=True, state=None if tab == "todo" else tab
    )
    if tab == "todo":
        rows = rows.filter(done_at__isnull=True)
    elif tab == FollowUpState.DONE:
        rows = rows.order_by("-done_at", "-pk")
    context = {
        "project": project,
        "follow_ups": list(rows[:MY_LIST_LIMIT]),
        "tab": tab,
        "tabs": TABS,
        "limit": MY_LIST_LIMIT,
        "active_nav": "followups",
    }
    return render(request, "followups/mine.html", context)


def _back_after_htmx(request: HttpRequest) -> HttpResponse | None:
    """The form's own page posts through htmx too: with a `next` it was opened from, the browser is
    sent back there (HX-Redirect) instead of getting the inline confirmation."""
    if not request.POST.get("next"):
        return None
    target = redirect_back(request, "").url
    return HttpResponseClientRedirect(target) if target else None


def _customer_for(request: HttpRequest, customer_id: int) -> Customer:
    user = _user(request)
    customer = customer_visible_to(user=user, customer_id=customer_id)
    if customer is None:
        raise Http404
    if not may_record_followup(user=user, customer=customer):
        # The front desk sees customer pages but follow-ups are the owner's work.
        raise PermissionDenied
    return customer


def _record_page(
    request: HttpRequest,
    form: Form,
    record: Callable[[], Any],
    *,
    done: Callable[[Any], HttpResponse],
    context: dict[str, Any],
    partial: str,
    page: str,
) -> HttpResponse:
    """GET: the form (the inline partial for htmx). POST: `record()`; `done(result)` answers a success.

    A service's field errors show next to the fields; a 404 from the service is the page's 404.
    """
    status = 200
    if request.method == "POST":
        if form.is_valid():
            try:
                result = record()
            except NotFound:
                raise Http404 from None
            except DomainError as error:
                apply_domain_error(form, error)
                status = error.status
            else:
                return done(result)
        else:
            status = 400
    # The inline form of a list (an htmx GET) answers in place; the form's own page leads back.
    inline = _htmx(request) and request.method == "GET"
    context = {**context, "form": form, "next": "" if inline else came_from(request)}
    if _htmx(request):
        # htmx swaps no 4xx answer by default: inline errors must arrive as a 200 to be seen.
        return render(request, partial, context)
    return render(request, page, context, status=status)


@login_required
def record_followup(request: HttpRequest, customer_id: int) -> HttpResponse:
    """GET: the record form (inline partial for htmx). POST: record it; htmx gets the done row back."""
    customer = _customer_for(request, customer_id)
    user = _user(request)
    # One form per open row can be on the list page at once: ids must not collide.
    form = FollowUpForm(request.POST if request.method == "POST" else None, auto_id=f"fu{customer.pk}_%s")

    def record() -> FollowUp:
        data = form.cleaned_data
        try:
            return followup_record(
                customer=customer,
                by=user,
                method=data["method"],
                content=data["content"],
                result=data["result"],
                intent_level=data["intent_level"],
                next_due_at=form.next_due(),
            )
        except Forbidden:
            raise PermissionDenied from None

    def done(follow_up: FollowUp) -> HttpResponse:
        back = _back_after_htmx(request) if _htmx(request) else None
        if back is not None:
            messages.success(request, _("跟进已记录。"))
            return back
        if _htmx(request):
            return render(
                request,
                "followups/_recorded.html",
                {"follow_up": follow_up, "customer": customer, "next_due_at": form.next_due()},
            )
        messages.success(request, _("跟进已记录。"))
        return redirect_back(request, reverse("followups:mine", args=[customer.project_id]))

    return _record_page(
        request,
        form,
        record,
        done=done,
        context={
            "customer": customer,
            "project": customer.project,
            "can_see_phone": customer.owner_id == user.pk,
            "active_nav": "followups",
        },
        partial="followups/_record_form.html",
        page="followups/record.html",
    )


@login_required
def overdue_followups(request: HttpRequest, project_id: int) -> HttpResponse:
    """The manager's view: overdue follow-ups grouped by consultant, with the count of each."""
    user = _user(request)
    project = project_page(request, project_id, allowed=user.is_site_manager)
    groups = selectors.overdue_by_consultant(project=project)
    context = {
        "project": project,
        "groups": groups,
        "total": sum(g.count for g in groups),
        "active_nav": "followups_overdue",
    }
    return render(request, "followups/overdue.html", context)


# --- callbacks --------------------------------------------------------------------------------------


@login_required
def callbacks(request: HttpRequest, project_id: int) -> HttpResponse:
    """Ended receptions of recent days waiting for a callback (customer service and managers)."""
    user = _user(request)
    project = project_page(request, project_id, allowed=may_call_back(user))
    days_form = CallbackDaysForm(request.GET or None)
    days = days_form.days_or_default()
    context = {
        "project": project,
        "visits": selectors.visits_awaiting_callback(project=project, viewer=user, days=days),
        "days": days,
        "days_form": days_form,
        "limit": selectors.CALLBACK_LIST_LIMIT,
        "active_nav": "callbacks",
    }
    return render(request, "followups/callbacks.html", context)


def _visit_for_callback(request: HttpRequest, visit_id: int) -> Visit:
    user = _user(request)
    visit = Visit.objects.select_related("project", "customer", "consultant").filter(pk=visit_id).first()
    if visit is None or project_visible_to(user=user, project_id=visit.project_id) is None:
        raise Http404
    # The receiving consultant never sees the callback of their own reception (product.md §7).
    if not may_call_back(user) or user.pk == visit.consultant_id:
        raise Http404
    return visit


@login_required
def record_callback(request: HttpRequest, visit_id: int) -> HttpResponse:
    visit = _visit_for_callback(request, visit_id)
    user = _user(request)
    form = CallbackForm(request.POST if request.method == "POST" else None, auto_id=f"cb{visit.pk}_%s")

    def record() -> Callback:
        return callback_record(
            visit=visit,
            by=user,
            satisfaction=form.cleaned_data["satisfaction"],
            comments=form.cleaned_data["comments"],
            reached=form.cleaned_data["reached"],
        )

    def done(callback: Callback) -> HttpResponse:
        back = _back_after_htmx(request) if _htmx(request) else None
        if back is not None:
            messages.success(request, _("回访已记录。") if callback.reached else _("已记录未接通。"))
            return back
        if _htmx(request):
            return render(request, "followups/_callback_done.html", {"callback": callback, "visit": visit})
        if callback.reached:
            messages.success(request, _("回访已记录。"))
        else:
            messages.info(
                request, _("已记录未接通（第 %(n)d 次），该接待仍在待回访中。") % {"n": callback.attempts}
            )
        return redirect_back(request, reverse("followups:callbacks", args=[visit.project_id]))

    return _record_page(
        request,
        form,
        record,
        done=done,
        context={"visit": visit, "project": visit.project, "active_nav": "callbacks"},
        partial="followups/_callback_form.html",
        page="followups/callback.html",
    )


@login_required
def callback_results(request: HttpRequest, project_id: int) -> HttpResponse:
    """Callback satisfaction per consultant over a date range (managers)."""
    user = _user(request)
    project = project_page(request, project_id, allowed=user.is_site_manager)
    form = DateRangeForm(request.GET or None)
    date_from, date_to = form.range()
    rows = selectors.callback_results_by_consultant(project=project, date_from=date_from, date_to=date_to)
    total = sum(r.count for r in rows)
    context = {
        "project": project,
        "form": form,
        "rows": rows,
        "date_from": date_from,
        "date_to": date_to,
        "total": total,
        "average": round(sum(r.average * r.count for r in rows) / total, 2) if total else None,
        "satisfied_share": sum(r.satisfied_share * r.count for r in rows) / total if total else None,
        "active_nav": "callback_results",
    }
    return render(request, "followups/callback_results.html", context, status=400 if form.errors else 200)
