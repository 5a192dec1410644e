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


def _pdf_response(document: documents.Document) -> HttpResponse:
    response = HttpResponse(document.pdf, content_type=documents.PDF_CONTENT_TYPE)
    response["Content-Disposition"] = document.content_disposition
    # Personal data: neither the browser nor a proxy keeps a copy after the tab is closed.
    response["Cache-Control"] = "private, no-store"
    return response


@login_required
@require_GET
def subscription_letter(request: HttpRequest, subscription_id: int) -> HttpResponse:
    user = _user(request)
    subscription = documents.subscription_for_document(user=user, subscription_id=subscription_id)
    if subscription is None:
        raise Http404
    return _pdf_response(
        documents.subscription_letter_pdf(subscription=subscription, viewer=user, ip=client_ip(request))
    )


@login_required
@require_GET
def visit_registration_form(request: HttpRequest, visit_id: int) -> HttpResponse:
    user = _user(request)
    visit = documents.visit_for_document(user=user, visit_id=visit_id)
    if visit is None:
        raise Http404
    return _pdf_response(documents.visit_registration_pdf(visit=visit, viewer=user, ip=client_ip(request)))


@login_required
@require_GET
def blank_registration_form(request: HttpRequest, project_id: int) -> HttpResponse:
    user = _user(request)
    project = documents.project_for_blank_form(user=user, project_id=project_id)
    if project is None:
        raise Http404
    return _pdf_response(documents.blank_registration_pdf(project=project, viewer=user))
