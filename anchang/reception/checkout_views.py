"""The check-out page and its htmx partial (included in the visit page). HTTP only."""

from typing import Any

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from anchang.accounts.models import Role, User
from anchang.core.errors import DomainError, NotFound
from anchang.core.forms import apply_domain_error
from anchang.reception.checkout import (
    ENDED_STATES,
    INVALID_REASON_MAX_LENGTH,
    NEXT_STEP_MAX_LENGTH,
    SUMMARY_MAX_LENGTH,
    Material,
    Outcome,
    checkout_summary,
    duration_minutes,
    format_duration,
    may_check_out,
    visit_check_out,
)
from anchang.reception.models import ClubStatus, Visit
from anchang.reception.stations import visit_for_stations

PARTIAL = "reception/checkout/_checkout_form.html"
PAGE = "reception/checkout/page.html"


class CheckoutForm(forms.Form):
    outcome = forms.ChoiceField(
        label=gettext_lazy("接待结果"),
        choices=Outcome.choices,
        widget=forms.RadioSelect,
        error_messages={"required": gettext_lazy("请选择接待结果。")},
    )
    invalid_reason = forms.CharField(
        label=gettext_lazy("无效原因"),
        max_length=INVALID_REASON_MAX_LENGTH,
        required=False,
        widget=forms.TextInput(attrs={"placeholder": gettext_lazy("问路、送货、同行踩盘、重复登记…")}),
    )
    materials = forms.MultipleChoiceField(
        label=gettext_lazy("已发资料"),
        choices=Material.choices,
        widget=forms.CheckboxSelectMultiple,
        required=False,
    )
    club = forms.ChoiceField(
        label=gettext_lazy("会员"),
        choices=[("", gettext_lazy("未介绍")), *ClubStatus.choices],
        widget=forms.RadioSelect,
        required=False,
    )
    next_step = forms.CharField(
        label=gettext_lazy("下一步"),
        max_length=NEXT_STEP_MAX_LENGTH,
        required=False,
        widget=forms.TextInput(attrs={"placeholder": gettext_lazy("如：周六带家人复访、发送 3 号楼价格")}),
    )
    summary = forms.CharField(
        label=gettext_lazy("接待小结"),
        max_length=SUMMARY_MAX_LENGTH,
        required=False,
        widget=forms.Textarea(attrs={"rows": 3, "placeholder": gettext_lazy("客户关注点、抗性、决策人…")}),
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        # The form lives inside the visit page, next to its other forms: its own ids.
        kwargs.setdefault("auto_id", "checkout_%s")
        super().__init__(*args, **kwargs)


def checkout_context(
    *, visit: Visit, viewer: User, form: CheckoutForm | None = None
) -> dict[str, dict[str, Any]]:
    """What `reception/checkout/_checkout_form.html` needs, under one key: `{"checkout": {...}}`.

    While the visit goes on, the viewer who may end it gets the form; once ended, everyone who sees
    the visit gets the summary (outcome, duration, materials, the first follow-up).
    """
    ended = visit.state in ENDED_STATES
    allowed = may_check_out(visit=visit, user=viewer)
    return {
        "checkout": {
            "visit": visit,
            "ended": ended,
            "can_check_out": allowed and not ended,
            "form": (form or CheckoutForm()) if allowed and not ended else None,
            "elapsed": format_duration(duration_minutes(visit)) if not ended else "",
            "summary": checkout_summary(visit) if ended else None,
            "url": reverse("checkout:visit", args=[visit.pk]),
        }
    }


def _user(request: HttpRequest) -> User:
    return request.user  # type: ignore[return-value]


def _visit_for(request: HttpRequest, visit_id: int) -> Visit:
    """Those who see the visit page: the desk, managers, the receiver and the owner it covers for."""
    try:
        return visit_for_stations(user=_user(request), visit_id=visit_id)
    except NotFound:
        raise Http404 from None


@login_required
def checkout(request: HttpRequest, visit_id: int) -> HttpResponse:
    """GET: the check-out form (or, once ended, its record). POST: check the visitor out."""
    visit = _visit_for(request, visit_id)
    user = _user(request)
    is_htmx = bool(getattr(request, "htmx", False))
    form = None
    status = 200
    just_done = False
    error_message = ""
    if request.method == "POST":
        form = CheckoutForm(request.POST)
        if form.is_valid():
            data = form.cleaned_data
            try:
                result = visit_check_out(
                    visit_id=visit.pk,
                    by=user,
                    outcome=data["outcome"],
                    invalid_reason=data["invalid_reason"],
                    materials=data["materials"],
                    club=data["club"],
                    next_step=data["next_step"],
                    summary=data["summary"],
                )
            except NotFound:
                raise Http404 from None
            except DomainError as error:
                apply_domain_error(form, error, {})
                status = error.status
                error_message = "" if error.fields else error.message
            else:
                if not is_htmx:
                    messages.success(
                        request,
                        _("已离场，接待时长 %(duration)s。")
                        % {"duration": format_duration(result.duration_minutes)},
                    )
                    return redirect("reception:visit", visit_id=visit.pk)
                visit, form, just_done = result.visit, None, True
        else:
            status = 400
    context = {
        **checkout_context(visit=visit, viewer=user, form=form),
        "visit": visit,
        "project": visit.project,
        "just_done": just_done,
        "checkout_error": error_message,
        "active_nav": "checkin" if user.role in (Role.FRONTDESK, Role.MANAGER) else "home",
    }
    if is_htmx:
        # htmx swaps no 4xx answer by default: the inline errors must arrive as a 200 to be seen.
        response = render(request, PARTIAL, context)
        if just_done:
            # The visit page may refresh its other parts (state badge, end/override forms) on this event.
            response["HX-Trigger"] = "visit-checked-out"
        return response
    return render(request, PAGE, context, status=status)
