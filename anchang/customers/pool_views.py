"""The public pool page, claiming, a manager's reassignment and the consultant's "my customers". HTTP only:
reads come from `customers.pool` selectors, writes go through its services."""

from datetime import timedelta

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Page, Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from anchang.accounts.models import Role, User
from anchang.accounts.navigation import project_page
from anchang.accounts.selectors import project_list_visible_to, staff_of_project
from anchang.core.errors import DomainError
from anchang.core.http import redirect_back
from anchang.core.privacy import public_name
from anchang.customers import pool
from anchang.customers.models import Customer
from anchang.inventory.models import Project

PAGE_SIZE = 50


def _user(request: HttpRequest) -> User:
    return request.user  # type: ignore[return-value]


def _project(request: HttpRequest, project_id: int) -> Project:
    return project_page(request, project_id)


def _query(request: HttpRequest) -> str:
    # A NUL byte cannot reach PostgreSQL (a 500); searches are short anyway.
    return request.GET.get("q", "").replace("\x00", "")[:30]


def _page(request: HttpRequest, rows: object) -> Page:
    return Paginator(rows, PAGE_SIZE).get_page(request.GET.get("page"))  # type: ignore[arg-type]


def _customer_in_my_projects(request: HttpRequest, customer_id: int) -> Customer:
    customer = (
        Customer.objects.select_related("project", "owner")
        .filter(pk=customer_id, project__in=project_list_visible_to(user=_user(request)))
        .first()
    )
    if customer is None:
        raise Http404
    return customer


@login_required
def pool_list(request: HttpRequest, project_id: int) -> HttpResponse:
    user = _user(request)
    project = _project(request, project_id)
    if not pool.may_use_pool(user):
        raise PermissionDenied
    q = _query(request)
    page = _page(request, pool.pool_list(project=project, q=q))
    is_consultant = user.role == Role.CONSULTANT
    cap = pool.settings_of(project).pool_claims_per_day if is_consultant else 0
    context = {
        "project": project,
        "active_nav": "pool",
        "page": page,
        "q": q,
        "can_claim": is_consultant,
        "can_reassign": pool.may_manage_customers(user, project.pk),
        "claims_left": max(0, cap - pool.claims_today(consultant=user, project=project))
        if is_consultant
        else 0,
        "claims_cap": cap,
    }
    if request.htmx:  # type: ignore[attr-defined]
        return render(request, "customers/pool/_rows.html", context)
    return render(request, "customers/pool/list.html", context)


@login_required
@require_POST
def pool_claim(request: HttpRequest, customer_id: int) -> HttpResponse:
    user = _user(request)
    customer = _customer_in_my_projects(request, customer_id)
    default = reverse("pool:list", args=[customer.project_id])
    try:
        claimed = pool.pool_claim(customer=customer, consultant=user)
    except DomainError as error:
        messages.error(request, error.message)
        return redirect_back(request, default)
    until = (
        timezone.localtime(claimed.protected_until).strftime("%Y-%m-%d") if claimed.protected_until else ""
    )
    messages.success(
        request,
        _("已认领 %(name)s，保护期至 %(until)s。")
        % {"name": public_name(claimed.name, claimed.gender), "until": until},
    )
    return redirect_back(request, default)


class ReassignForm(forms.Form):
    to = forms.TypedChoiceField(label=gettext_lazy("改派给"), coerce=int)
    reason = forms.CharField(
        label=gettext_lazy("原因"),
        max_length=pool.REASON_MAX_LENGTH,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=gettext_lazy("必填，写入客户动态与变更记录。"),
    )

    def __init__(self, *args: object, consultants: list[User], **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        self.fields["to"].choices = [(u.pk, u.display_name) for u in consultants]  # type: ignore[attr-defined]


@login_required
def customer_reassign(request: HttpRequest, customer_id: int) -> HttpResponse:
    user = _user(request)
    customer = _customer_in_my_projects(request, customer_id)
    if not pool.may_manage_customers(user, customer.project_id):
        raise PermissionDenied
    consultants = list(
        staff_of_project(project=customer.project, role=Role.CONSULTANT).exclude(pk=customer.owner_id or 0)
    )
    form = ReassignForm(request.POST if request.method == "POST" else None, consultants=consultants)
    if request.method == "POST" and form.is_valid():
        to = next(u for u in consultants if u.pk == form.cleaned_data["to"])
        try:
            pool.customer_reassign(customer=customer, to=to, by=user, reason=form.cleaned_data["reason"])
        except DomainError as error:
            for field, message in error.fields.items():
                form.add_error(field if field in form.fields else None, message)
            if not error.fields:
                form.add_error(None, error.message)
        else:
            messages.success(
                request,
                _("已将 %(customer)s 改派给 %(name)s。")
                % {"customer": public_name(customer.name, customer.gender), "name": to.display_name},
            )
            return redirect("pool:list", project_id=customer.project_id)
    return render(
        request,
        "customers/pool/reassign.html",
        {"customer": customer, "project": customer.project, "form": form, "active_nav": "pool"},
    )


@login_required
def my_customers(request: HttpRequest, project_id: int) -> HttpResponse:
    user = _user(request)
    project = _project(request, project_id)
    if user.role != Role.CONSULTANT:
        raise PermissionDenied
    q = _query(request)
    page = _page(request, pool.customers_of(consultant=user, project=project, q=q))
    now = timezone.now()
    warn_before = now + timedelta(days=pool.PROTECTION_WARNING_DAYS)
    rows = [
        (
            customer,
            customer.protected_until is not None and customer.protected_until <= warn_before,
            customer.protected_until is not None and customer.protected_until < now,
        )
        for customer in page.object_list
    ]
    context = {
        "project": project,
        "active_nav": "mine",
        "page": page,
        "rows": rows,
        "q": q,
        "warning_days": pool.PROTECTION_WARNING_DAYS,
    }
    if request.htmx:  # type: ignore[attr-defined]
        return render(request, "customers/pool/_mine_rows.html", context)
    return render(request, "customers/mine.html", context)
