"""Small HTTP helpers shared by the apps' views."""

from urllib.parse import urlsplit

from django.http import HttpRequest, HttpResponseRedirect
from django.utils.http import url_has_allowed_host_and_scheme


def _on_this_site(request: HttpRequest, target: str) -> bool:
    return bool(target) and url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    )


def came_from(request: HttpRequest) -> str:
    """Where a form page was opened from, for its hidden `next`: the `next` it was given, else the
    page that linked to it (Referer), so that a link without `?next=` still leads back; "" if neither
    is on this site or it is the form page itself."""
    target = request.POST.get("next") or request.GET.get("next") or ""
    if _on_this_site(request, target):
        return target
    referer = request.headers.get("referer", "")
    if not _on_this_site(request, referer):
        return ""
    parsed = urlsplit(referer)
    path = parsed.path + (f"?{parsed.query}" if parsed.query else "")
    return "" if parsed.path == request.path else path


def redirect_back(request: HttpRequest, default: str) -> HttpResponseRedirect:
    """Back to the page the form came from (`next`), if it is on this site; else to `default`.

    The check keeps `?next=https://evil.example` from turning an action into an open redirect.
    """
    target = request.POST.get("next") or request.GET.get("next") or ""
    if _on_this_site(request, target):
        return HttpResponseRedirect(target)
    return HttpResponseRedirect(default)
