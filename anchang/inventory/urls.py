from django.urls import path

from anchang.inventory import permit_views, views

app_name = "inventory"

urlpatterns = [
    path("projects/<int:project_id>/board/", views.board, name="board"),
    path("projects/<int:project_id>/units/import/", views.unit_import, name="import"),
    path(
        "projects/<int:project_id>/units/import/template.xlsx",
        views.unit_import_template_download,
        name="import_template",
    ),
    path("projects/<int:project_id>/permits/", permit_views.permits, name="permits"),
    path("units/<int:unit_id>/", views.unit_detail, name="unit"),
    path("units/<int:unit_id>/status/", views.unit_status_change, name="unit_status"),
]
