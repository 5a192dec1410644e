from django.urls import path

from anchang.reception.project_settings import views

app_name = "project_settings"

urlpatterns = [
    path("projects/<int:project_id>/settings/", views.settings_page, name="page"),
    path("projects/<int:project_id>/settings/vip/", views.vip_templates_page, name="vip"),
    path("projects/<int:project_id>/settings/vip/add/", views.vip_template_add, name="vip_add"),
    path(
        "projects/<int:project_id>/settings/vip/<int:template_id>/", views.vip_template_edit, name="vip_edit"
    ),
    path(
        "projects/<int:project_id>/settings/vip/<int:template_id>/delete/",
        views.vip_template_delete,
        name="vip_delete",
    ),
]
