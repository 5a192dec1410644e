"""Opening-day pages (开盘选房): the manager's session pages, the consultant's device, the buyer's link.

HTTP only: the rules live in `deals.opening`, the reads in `deals.opening_selectors`.

The buyer's link `/o/<token>/` needs no login. An unknown or malformed token is a 404; a token of a
closed session (or of a buyer who reached the limit) keeps showing that buyer's own result, read-only,
so the buyer can come back to it — it reveals nothing about anyone else. Selections through a link are
rate-limited per token (`LINK_SELECTIONS_PER_MINUTE`), which stops a script, not a person.
"""

from collections.abc import Callable
from dataclasses import dataclass, field
from urllib.parse import quote

import segno
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.cache import cache
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from anchang.accounts.models import User
from anchang.accounts.navigation import project_page
from anchang.core.audit import client_ip
from anchang.core.errors import DomainError
from anchang.core.forms import apply_domain_error
from anchang.deals import opening as svc
from anchang.deals import opening_selectors as sel
from anchang.deals.models import OpeningBuyer, OpeningSession, OpeningStatus
from anchang.deals.opening_export import opening_results_export
from anchang.deals.opening_forms import (
    BuyerSearchForm,
    ConfirmForm,
    OpeningSessionForm,
)
from anchang.inventory.models import Project, UnitStatus

BUYERS_PER_PAGE = 100
DESK_RESULTS = 20
LINK_SELECTIONS_PER_MINUTE = 20
ACTIVE_NAV = "openings"


def _user(request: HttpRequest) -> User:
    return request.user  # type: ignore[return-value]


def _building_id(request: HttpRequest) -> int | None:
    raw = request.GET.get("b", "")
    return int(raw) if raw.isdigit() and len(raw) <= 9 else None


def _session(request: HttpRequest, session_id: int, *, manage: bool = False) -> OpeningSession:
    user = _user(request)
    session = sel.opening_visible_to(user=user, session_id=session_id)
    if session is None or (manage and not svc.may_manage_openings(user)):
        raise Http404
    # Make the session's project the current one, so that the navigation follows.
    project_page(request, session.project_id)
    return session


# --- manager: sessions -----------------------------------------------------------------------------


@login_required
def opening_list(request: HttpRequest, project_id: int) -> HttpResponse:
    user = _user(request)
    project = project_page(request, project_id, allowed=svc.may_sell_at_openings(user))
    return render(
        request,
        "deals/opening_list.html",
        {
            "project": project,
            "rows": sel.opening_list_for(project=project),
            "can_manage": svc.may_manage_openings(user),
            "active_nav": ACTIVE_NAV,
        },
    )


def _session_form_page(
    request: HttpRequest,
    form: OpeningSessionForm,
    *,
    project: Project,
    session: OpeningSession | None,
    save: Callable[[svc.SessionInput], OpeningSession],
    saved_message: str,
) -> HttpResponse:
    """The new and the edit form: the service's refusals next to the fields, the session page after."""
    if request.method == "POST" and form.is_valid():
        try:
            saved = save(form.to_input())
        except DomainError as error:
            apply_domain_error(form, error)
        else:
            messages.success(request, saved_message)
            return redirect("openings:detail", session_id=saved.pk)
    return render(
        request,
        "deals/opening_form.html",
        {"project": project, "form": form, "session": session, "active_nav": ACTIVE_NAV},
        status=400 if form.is_bound and form.errors else 200,
    )


@login_required
def opening_new(request: HttpRequest, project_id: int) -> HttpResponse:
    user = _user(request)
    project = project_page(request, project_id, allowed=svc.may_manage_openings(user))
    initial = {"slot_minutes": 10, "buyers_per_slot": 20, "units_per_buyer": 1, "order_method": "lottery"}
    return _session_form_page(
        request,
        OpeningSessionForm(request.POST if request.method == "POST" else None, initial=initial),
        project=project,
        session=None,
        save=lambda data: svc.opening_session_create(project=project, data=data, by=user),
        saved_message=_("已创建场次，下一步请生成选房顺序。"),
    )


@login_required
def opening_edit(request: HttpRequest, session_id: int) -> HttpResponse:
    session = _session(request, session_id, manage=True)
    if session.status != OpeningStatus.DRAFT:
        messages.error(request, _("场次已开始或结束，不能再修改。"))
        return redirect("openings:detail", session_id=session.pk)
    return _session_form_page(
        request,
        OpeningSessionForm.for_session(session, request.POST if request.method == "POST" else None),
        project=session.project,
        session=session,
        save=lambda data: svc.opening_session_update(session_id=session.pk, data=data, by=_user(request)),
        saved_message=_("场次已保存。"),
    )


def _detail_context(request: HttpRequest, session: OpeningSession) -> dict[str, object]:
    buyers = sel.opening_buyers(session=session)
    page = Paginator(buyers, BUYERS_PER_PAGE).get_page(request.GET.get("page"))
    rows = sel.buyer_rows(session=session, buyers=list(page.object_list))
    for row in rows:
        row.link = request.build_absolute_uri(  # type: ignore[attr-defined]
            reverse("openings:buyer", args=[row.buyer.token])
        )
    return {
        "session": session,
        "project": session.project,
        "progress": sel.opening_progress(session=session),
        "recent": sel.opening_recent_picks(session=session),
        "rows": rows,
        "page": page,
        "can_manage": svc.may_manage_openings(_user(request)),
        "now": timezone.now(),
        "active_nav": ACTIVE_NAV,
    }


@login_required
def opening_detail(request: HttpRequest, session_id: int) -> HttpResponse:
    session = _session(request, session_id)
    context = _detail_context(request, session)
    if getattr(request, "htmx", False):
        return render(request, "deals/_opening_live.html", context)
    draws = sel.opening_draws(session=session)
    context.update(
        draws=draws,
        draw_methods={row.draw.method for row in draws},
        confirm_form=ConfirmForm(),
        last_slot_end=sel.session_last_slot_end(session=session),
    )
    return render(request, "deals/opening_detail.html", context)


@login_required
@require_POST
def opening_draw(request: HttpRequest, session_id: int) -> HttpResponse:
    session = _session(request, session_id, manage=True)
    try:
        buyers = svc.opening_buyers_draw(session_id=session.pk, by=_user(request))
    except DomainError as error:
        messages.error(request, error.message)
    else:
        messages.success(request, _("已生成选房顺序，共 %(n)s 位客户。") % {"n": len(buyers)})
    return redirect("openings:detail", session_id=session.pk)


def _state_change(request: HttpRequest, session_id: int, *, open_it: bool) -> HttpResponse:
    session = _session(request, session_id, manage=True)
    form = ConfirmForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("请勾选确认后再提交。"))
        return redirect("openings:detail", session_id=session.pk)
    try:
        if open_it:
            svc.opening_session_open(session_id=session.pk, by=_user(request))
        else:
            svc.opening_session_close(session_id=session.pk, by=_user(request))
    except DomainError as error:
        messages.error(request, error.message)
    else:
        messages.success(request, _("已开始选房。") if open_it else _("选房已结束。"))
    return redirect("openings:detail", session_id=session.pk)


@login_required
@require_POST
def opening_open(request: HttpRequest, session_id: int) -> HttpResponse:
    return _state_change(request, session_id, open_it=True)


@login_required
@require_POST
def opening_close(request: HttpRequest, session_id: int) -> HttpResponse:
    return _state_change(request, session_id, open_it=False)


def _qr_data_uri(text: str) -> str:
    return str(segno.make(text, error="m", micro=False).png_data_uri(scale=6, border=2))


@login_required
def opening_buyer_link(request: HttpRequest, session_id: int, buyer_id: int) -> HttpResponse:
    session = _session(request, session_id, manage=True)
    buyer = sel.opening_buyer_in(session=session, buyer_id=buyer_id)
    if buyer is None:
        raise Http404
    link = request.build_absolute_uri(reverse("openings:buyer", args=[buyer.token]))
    return render(
        request,
        "deals/opening_buyer_link.html",
        {
            "session": session,
            "project": session.project,
            "buyer": buyer,
            "link": link,
            "qr_data_uri": _qr_data_uri(link),
            "active_nav": ACTIVE_NAV,
        },
    )


@login_required
def opening_export(request: HttpRequest, session_id: int) -> HttpResponse:
    session = _session(request, session_id, manage=True)
    content = opening_results_export(session=session, by=_user(request), ip=client_ip(request))
    response = HttpResponse(
        content, content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    )
    filename = f"{session.project.name}-{session.name}-选房结果.xlsx"
    response["Content-Disposition"] = f"attachment; filename*=UTF-8''{quote(filename)}"
    return response


# --- consultant's device -----------------------------------------------------------------------------


@login_required
def opening_desk(request: HttpRequest, session_id: int) -> HttpResponse:
    session = _session(request, session_id)
    form = BuyerSearchForm(request.GET or None)
    q = form.cleaned_data["q"] if form.is_valid() else ""
    found = list(sel.opening_buyers(session=session, q=q)[:DESK_RESULTS]) if q else []
    rows = sel.buyer_rows(session=session, buyers=found)
    return render(
        request,
        "deals/opening_desk.html",
        {
            "session": session,
            "project": session.project,
            "form": form,
            "q": q,
            "rows": rows,
            "active_nav": ACTIVE_NAV,
        },
    )


def _desk_buyer(request: HttpRequest, session_id: int, buyer_id: int) -> tuple[OpeningSession, OpeningBuyer]:
    session = _session(request, session_id)
    buyer = sel.opening_buyer_in(session=session, buyer_id=buyer_id)
    if buyer is None:
        raise Http404
    buyer.session = session
    return session, buyer


def _buyer_state(session: OpeningSession, buyer: OpeningBuyer, picks: int) -> str:
    if session.status == OpeningStatus.CLOSED:
        return "closed"
    if picks >= session.units_per_buyer:
        return "done"
    if session.status == OpeningStatus.DRAFT:
        return "draft"
    if timezone.now() < buyer.slot_starts_at:
        return "waiting"
    return "selecting"


def _batch(session: OpeningSession, buyer: OpeningBuyer) -> int:
    return (buyer.position - 1) // session.buyers_per_slot + 1


def _selection_context(
    request: HttpRequest, session: OpeningSession, buyer: OpeningBuyer, **extra: object
) -> dict[str, object]:
    picks = sel.buyer_picks(buyer=buyer)
    state = _buyer_state(session, buyer, len(picks))
    grid = (
        sel.opening_grid(project=session.project, building_id=_building_id(request))
        if state in ("waiting", "selecting", "draft")
        else None
    )
    return {
        "session": session,
        "project": session.project,
        "buyer": buyer,
        "building_query": f"?b={grid.current.pk}" if grid and grid.current else "",
        "picks": picks,
        "picked_ids": {s.unit_id for s in picks},
        "remaining": max(session.units_per_buyer - len(picks), 0),
        "state": state,
        "grid": grid,
        "batch": _batch(session, buyer),
        **extra,
    }


@dataclass(frozen=True)
class _Place:
    """Where a buyer selects: a consultant's device or the buyer's own link. The pages are the same
    but for their templates, their home (the buyer's selection page) and the staff navigation."""

    home: str
    page_template: str
    confirm_template: str
    extra: dict[str, object] = field(default_factory=dict)


def _selection_page(
    request: HttpRequest,
    session: OpeningSession,
    buyer: OpeningBuyer,
    place: _Place,
    *,
    status: int = 200,
    error_message: str = "",
) -> HttpResponse:
    """The buyer's page, or its live part for htmx; a refused selection shows it with a fresh grid."""
    context = _selection_context(
        request, session, buyer, home_url=place.home, error_message=error_message, **place.extra
    )
    template = (
        "deals/_opening_selection_live.html" if getattr(request, "htmx", False) else place.page_template
    )
    return render(request, template, context, status=status)


def _unit_to_confirm(
    request: HttpRequest, session: OpeningSession, buyer: OpeningBuyer, place: _Place, unit_id: int
) -> HttpResponse:
    """GET of a unit: the confirm page while the buyer may select it; else back to their page."""
    if _buyer_state(session, buyer, len(sel.buyer_picks(buyer=buyer))) != "selecting":
        return redirect(place.home)
    unit = sel.opening_unit(project=session.project, unit_id=unit_id)
    if unit is None:
        raise Http404
    if unit.status != UnitStatus.AVAILABLE:
        message = _("房源 %(unit)s 刚刚已被选走，请选择其他房源。") % {"unit": unit.label}
        return _selection_page(request, session, buyer, place, status=409, error_message=message)
    return render(
        request,
        place.confirm_template,
        {
            "session": session,
            "project": session.project,
            "buyer": buyer,
            "unit": unit,
            "deposit": svc.deposit_for(buyer.reservation, unit.list_price_total),
            "back": f"{place.home}?b={unit.building_id}",
            **place.extra,
        },
    )


def _desk_place(session: OpeningSession, buyer: OpeningBuyer) -> _Place:
    return _Place(
        home=reverse("openings:desk_buyer", args=[session.pk, buyer.pk]),
        page_template="deals/opening_desk_buyer.html",
        confirm_template="deals/opening_desk_confirm.html",
        # The buyer's card on the confirm page shows the batch too.
        extra={"active_nav": ACTIVE_NAV, "batch": _batch(session, buyer)},
    )


@login_required
def opening_desk_buyer(request: HttpRequest, session_id: int, buyer_id: int) -> HttpResponse:
    session, buyer = _desk_buyer(request, session_id, buyer_id)
    return _selection_page(request, session, buyer, _desk_place(session, buyer))


@login_required
def opening_desk_unit(request: HttpRequest, session_id: int, buyer_id: int, unit_id: int) -> HttpResponse:
    session, buyer = _desk_buyer(request, session_id, buyer_id)
    place = _desk_place(session, buyer)
    if request.method != "POST":
        return _unit_to_confirm(request, session, buyer, place, unit_id)
    try:
        subscription = svc.opening_select(
            buyer_id=buyer.pk, unit_id=unit_id, by=_user(request), session_id=session.pk
        )
    except DomainError as error:
        return _selection_page(
            request, session, buyer, place, status=error.status, error_message=error.message
        )
    messages.success(
        request,
        _("已为 %(n)s 号客户选定 %(unit)s（认购已生成）。")
        % {"n": buyer.position, "unit": subscription.unit.label},
    )
    return redirect(f"{place.home}?b={subscription.unit.building_id}")


# --- the buyer's own link ----------------------------------------------------------------------------


def _link_buyer(token: str) -> tuple[OpeningSession, OpeningBuyer, _Place]:
    buyer = sel.opening_buyer_by_token(token=token)
    if buyer is None:
        raise Http404
    place = _Place(
        home=reverse("openings:buyer", args=[token]),
        page_template="deals/opening_buyer.html",
        confirm_template="deals/opening_buyer_confirm.html",
    )
    return buyer.session, buyer, place


def buyer_page(request: HttpRequest, token: str) -> HttpResponse:
    return _selection_page(request, *_link_buyer(token))


def _rate_limited(token: str) -> bool:
    key = f"opening-link-select:{token}"
    cache.add(key, 0, timeout=60)
    try:
        count = cache.incr(key)
    except ValueError:  # expired between add and incr
        cache.set(key, 1, timeout=60)
        count = 1
    return count > LINK_SELECTIONS_PER_MINUTE


def buyer_unit(request: HttpRequest, token: str, unit_id: int) -> HttpResponse:
    """GET: confirm the unit; POST: select it. A refusal re-renders the page with a fresh grid at once."""
    session, buyer, place = _link_buyer(token)
    if request.method != "POST":
        return _unit_to_confirm(request, session, buyer, place, unit_id)
    if _rate_limited(token):
        message = _("操作过于频繁，请稍等一分钟再试。")
        return _selection_page(request, session, buyer, place, status=429, error_message=message)
    try:
        subscription = svc.opening_select(buyer_id=buyer.pk, unit_id=unit_id, by=None)
    except DomainError as error:
        return _selection_page(
            request, session, buyer, place, status=error.status, error_message=error.message
        )
    messages.success(request, _("恭喜，您已成功选定 %(unit)s！") % {"unit": subscription.unit.label})
    return redirect(f"{place.home}?b={subscription.unit.building_id}")
