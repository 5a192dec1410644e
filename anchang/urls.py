from django.contrib import admin
from django.urls import include, path

from anchang.api import api
from anchang.reception.customer_visits import customer_visits_section

admin.site.site_header = "案场 Anchang 管理后台"
admin.site.site_title = "案场 Anchang"

urlpatterns = [
    path("admin/", admin.site.urls),
    path("api/v1/", api.urls),
    path("i18n/", include("django.conf.urls.i18n")),
    path("notifications/", include("anchang.core.urls")),
    path("", include("anchang.workspace.urls")),
    path("", include("anchang.accounts.urls")),
    path("", include("anchang.inventory.urls")),
    # The customer page shows the visits reception recorded; customers does not import reception.
    path("", include("anchang.customers.urls"), {"sections": (customer_visits_section,)}),
    path("", include("anchang.reception.urls")),
    path("", include("anchang.reception.appointment_urls")),
    path("", include("anchang.reception.station_urls")),
    path("", include("anchang.reception.checkout_urls")),
    path("", include("anchang.reception.teams.urls")),
    path("", include("anchang.reception.project_settings.urls")),
    path("", include("anchang.reception.needs.urls")),
    path("", include("anchang.customers.pool_urls")),
    path("", include("anchang.customers.calls.urls")),
    path("", include("anchang.followups.urls")),
    path("", include("anchang.knowledge.urls")),
    path("", include("anchang.deals.urls")),
    path("", include("anchang.deals.opening_urls")),
    path("", include("anchang.deals.document_urls")),
]
