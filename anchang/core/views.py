"""The bell and the notification list (HTTP only; reads and writes live in core.notifications)."""

from datetime import datetime

from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_GET, require_POST

from anchang.core.errors import NotFound
from anchang.core.notifications import (
    notification_list_for,
    notification_mark_all_read,
    notification_mark_read,
    notification_unread_count_for,
)

PAGE_SIZE = 30
# htmx stops polling when a poll answers 286: a logged-out tab should not keep asking every 10 s.
HTMX_STOP_POLLING = 286


def time_ago(moment: datetime, now: datetime) -> str:
    """`刚刚`, `3分钟前`, `2小时前`, `5天前`, then the date."""
    seconds = max(0, int((now - moment).total_seconds()))
    if seconds < 60:
        return _("刚刚")
    if seconds < 3600:
        minutes = seconds // 60
        return ngettext("%(count)d分钟前", "%(count)d分钟前", minutes) % {"count": minutes}
    if seconds < 86400:
        hours = seconds // 3600
        return ngettext("%(count)d小时前", "%(count)d小时前", hours) % {"count": hours}
    days = seconds // 86400
    if days < 30:
        return ngettext("%(count)d天前", "%(count)d天前", days) % {"count": days}
    return timezone.localtime(moment).strftime("%Y-%m-%d")


@require_GET
def bell(request: HttpRequest) -> HttpResponse:
    if not request.user.is_authenticated:
        return HttpResponse(status=HTMX_STOP_POLLING)
    # Rendered without the request's context processors: the poll runs every 10 s on every open tab
    # and needs exactly one query, the count.
    html = render_to_string(
        "core/_bell.html",
        {"unread_count": notification_unread_count_for(user=request.user), "bell_loaded": True},
    )
    return HttpResponse(html)


@login_required
@require_GET
def notification_list(request: HttpRequest) -> HttpResponse:
    page = Paginator(notification_list_for(user=request.user), PAGE_SIZE).get_page(request.GET.get("page"))
    now = timezone.now()
    items = [(row, time_ago(row.created_at, now)) for row in page.object_list]
    return render(request, "core/notifications.html", {"page": page, "items": items})


@login_required
@require_POST
def notification_open(request: HttpRequest, notification_id: int) -> HttpResponse:
    try:
        row = notification_mark_read(user=request.user, notification_id=notification_id)
    except NotFound:
        raise Http404 from None
    if row.url and url_has_allowed_host_and_scheme(
        row.url, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return HttpResponseRedirect(row.url)
    return HttpResponseRedirect(_list_url(request))


@login_required
@require_POST
def notification_read_all(request: HttpRequest) -> HttpResponse:
    notification_mark_all_read(user=request.user)
    return HttpResponseRedirect(_list_url(request))


def _list_url(request: HttpRequest) -> str:
    page = request.POST.get("page", "")
    url = reverse("notifications:list")
    return f"{url}?page={int(page)}" if page.isdigit() else url
