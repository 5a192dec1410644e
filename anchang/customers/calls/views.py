"""The inbound calls page (来电登记): the form and the day's calls, for the desk, consultants and managers."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from anchang.accounts.models import User
from anchang.accounts.navigation import project_page
from anchang.core.errors import DomainError
from anchang.customers.calls import selectors
from anchang.customers.calls.forms import CallForm
from anchang.customers.calls.services import CallRecorded, inbound_call_record, may_record_calls


def _saved_message(recorded: CallRecorded) -> str:
    customer, call = recorded.customer, recorded.call
    taker = call.taken_by.display_name if call.taken_by else ""
    if recorded.now_owner and customer.protected_until:
        until = timezone.localtime(customer.protected_until).strftime("%Y-%m-%d")
        if call.new_customer:
            return _("已登记来电并新建客户，归属 %(name)s，保护期至 %(until)s。") % {
                "name": taker,
                "until": until,
            }
        return _("已登记来电，客户改由 %(name)s 跟进，保护期至 %(until)s。") % {"name": taker, "until": until}
    if customer.owner_id == call.taken_by_id:
        return _("已登记来电，记入 %(name)s 的客户档案。") % {"name": taker}
    return _("已登记来电。该客户已有归属顾问，归属不变。")


@login_required
@require_http_methods(["GET", "POST"])
def calls_page(request: HttpRequest, project_id: int) -> HttpResponse:
    user: User = request.user  # type: ignore[assignment]
    project = project_page(request, project_id, allowed=may_record_calls(user))
    form = CallForm(request.POST or None, project=project, user=user)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        consultant = data.get("consultant")
        try:
            recorded = inbound_call_record(
                project=project,
                by=user,
                phone=data["phone"],
                name=data["name"],
                source=data["source"],
                question=data["question"],
                next_step=data["next_step"],
                taken_by_id=consultant.pk if consultant else None,
            )
        except DomainError as error:
            for name, message in error.fields.items():
                field = "consultant" if name == "consultant_id" else name
                form.add_error(field if field in form.fields else None, message)
            if not error.fields:
                form.add_error(None, error.message)
        else:
            messages.success(request, _saved_message(recorded))
            return redirect("calls:list", project_id=project.pk)
    calls = selectors.calls_visible_to(user=user, project=project, day=timezone.localdate())
    return render(
        request,
        "customers/calls/calls.html",
        {
            "project": project,
            "form": form,
            "rows": [selectors.call_shown(call=call, viewer=user) for call in calls],
            "active_nav": "calls",
        },
        status=400 if request.method == "POST" else 200,
    )
