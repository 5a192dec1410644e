"""The JSON API v1 (api.md): wiring only; each app owns its router."""

from typing import Any

from django.http import HttpRequest, HttpResponse
from django.urls import URLPattern, URLResolver, re_path
from django.views.decorators.csrf import csrf_exempt
from ninja import NinjaAPI

# Adds PATCH /visits/{id} (needs recorded during a visit) to reception's router, which answers GET on
# that path: Django resolves a path to its first pattern, so a second router's copy would never answer.
import anchang.reception.needs.api  # noqa: F401
from anchang.accounts.api import BearerTokenAuth
from anchang.accounts.api import router as accounts_router
from anchang.accounts.me_api import router as me_router
from anchang.core.api import install_error_handlers, not_found_response
from anchang.core.notifications_api import router as notifications_router
from anchang.customers.api import router as customers_router
from anchang.customers.calls.api import router as calls_router
from anchang.customers.recommendations_api import router as recommendations_router
from anchang.deals.api import router as deals_router
from anchang.deals.opening_api import router as openings_router
from anchang.followups.api import router as followups_router
from anchang.followups.callback_api import router as callbacks_router
from anchang.inventory.api import router as inventory_router
from anchang.inventory.permit_api import router as permits_router
from anchang.inventory.unit_api import router as units_router
from anchang.knowledge.api import router as knowledge_router
from anchang.reception.api import router as reception_router
from anchang.reception.appointment_api import router as appointments_router
from anchang.reception.checkout_api import router as checkout_router
from anchang.reception.project_settings.api import router as project_settings_router
from anchang.reception.station_api import router as stations_router
from anchang.reception.teams.api import router as teams_router
from anchang.reception.vip_api import router as vip_router
from anchang.reception.visits_api import router as visits_router
from anchang.workspace.api import router as workspace_router


class AnchangAPI(NinjaAPI):
    @property
    def urls(self) -> tuple[list[URLResolver | URLPattern], str, str]:
        """ninja's URLs plus a last catch-all, so that an unknown path under /api/v1 answers a JSON 404.

        ninja's own root view (kept only so that it can be reversed) would answer Django's HTML 404.
        """
        patterns, app_name, namespace = super().urls
        # `[\s\S]` rather than `.`: a path with an encoded newline must land here too, and Django's
        # reverse() cannot parse the inline flag `(?s)`.
        root = [p for p in patterns if getattr(p, "name", None) == "api-root"]
        others = [p for p in patterns if getattr(p, "name", None) != "api-root"]
        return [*others, re_path(r"^[\s\S]*$", self._unknown_path), *root], app_name, namespace

    @csrf_exempt
    def _unknown_path(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        return not_found_response(self, request)


api = AnchangAPI(
    title="Anchang 案场 API",
    version="1",
    description="案场接待、销控与物业前台的 JSON API。认证：POST /api/v1/auth/token 获取 Bearer 令牌。",
    urls_namespace="api",
    auth=BearerTokenAuth(),
    docs_url="/docs",
    openapi_url="/openapi.json",
)
install_error_handlers(api)
api.add_router("", accounts_router)
api.add_router("", me_router)
api.add_router("", notifications_router)
api.add_router("", workspace_router)
api.add_router("", inventory_router)
api.add_router("", units_router)
api.add_router("", permits_router)
api.add_router("", reception_router)
api.add_router("", visits_router)
api.add_router("", appointments_router)
api.add_router("", vip_router)
api.add_router("", stations_router)
api.add_router("", checkout_router)
api.add_router("", teams_router)
api.add_router("", project_settings_router)
api.add_router("", customers_router)
api.add_router("", calls_router)
api.add_router("", recommendations_router)
api.add_router("", followups_router)
api.add_router("", callbacks_router)
api.add_router("", knowledge_router)
api.add_router("", deals_router)
api.add_router("", openings_router)
