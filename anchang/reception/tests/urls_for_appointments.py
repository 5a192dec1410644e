"""The project's URLconf plus the appointment pages and API router, for this app's tests.

Used until (and works after) the appointment URLs and router are wired into `anchang.urls` and
`anchang.api`; the API is mounted on its own NinjaAPI under /test-api/.
"""

from django.urls import include, path
from ninja import NinjaAPI

from anchang.accounts.api import BearerTokenAuth
from anchang.core.api import install_error_handlers
from anchang.reception.appointment_api import router
from anchang.urls import urlpatterns as project_urlpatterns

api = NinjaAPI(
    title="appointments (tests)",
    urls_namespace="appointments_test_api",
    auth=BearerTokenAuth(),
    docs_url=None,
)
install_error_handlers(api)
api.add_router("", router)

API_PREFIX = "/test-api"

urlpatterns = [
    path("test-api/", api.urls),
    path("", include("anchang.reception.appointment_urls")),
    *project_urlpatterns,
]
