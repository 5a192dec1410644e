"""The project's certificates page (五证): everyone on the project reads it, the manager registers."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from anchang.accounts.models import User
from anchang.accounts.navigation import project_page
from anchang.core.errors import DomainError
from anchang.core.forms import apply_domain_error
from anchang.inventory.permit_forms import CertificateForm
from anchang.inventory.permits import certificate_create, certificate_rows, may_manage_certificates


@login_required
@require_http_methods(["GET", "POST"])
def permits(request: HttpRequest, project_id: int) -> HttpResponse:
    user: User = request.user  # type: ignore[assignment]
    project = project_page(request, project_id)
    manager = may_manage_certificates(user)
    if request.method == "POST" and not manager:
        # Reading is for everyone on the project; registering is the manager's.
        raise PermissionDenied
    form = CertificateForm(request.POST or None, project=project) if manager else None
    status = 200
    if request.method == "POST" and form is not None:
        status = 400
        if form.is_valid():
            data = form.cleaned_data
            try:
                certificate = certificate_create(
                    project=project,
                    kind=data["kind"],
                    number=data["number"],
                    authority=data["authority"],
                    building_ids=data["buildings"],
                    valid_from=data["valid_from"],
                    valid_until=data["valid_until"],
                    by=user,
                )
            except DomainError as error:
                apply_domain_error(form, error, {"building_ids": "buildings"})
                status = error.status
            else:
                messages.success(request, _("已登记 %(c)s。") % {"c": certificate})
                return redirect("inventory:permits", project_id=project.pk)
    return render(
        request,
        "inventory/permits.html",
        {
            "project": project,
            "rows": certificate_rows(project=project),
            "form": form,
            "active_nav": "permits",
        },
        status=status,
    )
