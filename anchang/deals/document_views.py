"""PDF downloads: translate HTTP only (architecture rule 1); what is printed and who may print it
live in `deals.documents`. Anything the user may not see answers 404, never 403 (api.md)."""

from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.views.decorators.http import require_GET

from anchang.accounts.models import User
from anchang.core.audit import client_ip
from anchang.deals import documents


def _user(request: HttpRequest) -> User:
    return request.user  # type: ignore[return-value]


def _pdf_response(document: documents.Document | None) -> HttpResponse:
    if document is None:
        raise Http404
    response = HttpResponse(document.pdf, content_type=documents.PDF_CONTENT_TYPE)
    response["Content-Disposition"] = document.content_disposition
    # Personal data: neither the browser nor a proxy keeps a copy after the tab is closed.
    response["Cache-Control"] = "private, no-store"
    return response


@login_required
@require_GET
def subscription_letter(request: HttpRequest, subscription_id: int) -> HttpResponse:
    return _pdf_response(
        documents.subscription_letter_pdf(
            viewer=_user(request), subscription_id=subscription_id, ip=client_ip(request)
        )
    )


@login_required
@require_GET
def visit_registration_form(request: HttpRequest, visit_id: int) -> HttpResponse:
    return _pdf_response(
        documents.visit_registration_pdf(viewer=_user(request), visit_id=visit_id, ip=client_ip(request))
    )


@login_required
@require_GET
def blank_registration_form(request: HttpRequest, project_id: int) -> HttpResponse:
    return _pdf_response(documents.blank_registration_pdf(viewer=_user(request), project_id=project_id))
