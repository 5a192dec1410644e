from django.urls import path

from anchang.reception import views

app_name = "reception"

urlpatterns = [
    path("projects/<int:project_id>/checkin/", views.checkin, name="checkin"),
    path("projects/<int:project_id>/checkin/preview/", views.checkin_preview, name="checkin_preview"),
    path("projects/<int:project_id>/checkin/live/", views.desk_live, name="desk_live"),
    path("projects/<int:project_id>/checkin/family/", views.checkin_family_search, name="checkin_family"),
    path("projects/<int:project_id>/hall/", views.hall_board, name="hall"),
    path("projects/<int:project_id>/rotation/", views.rotation_page, name="rotation"),
    path("visits/<int:visit_id>/", views.visit_detail, name="visit"),
    path("visits/<int:visit_id>/override/", views.visit_override_view, name="visit_override"),
    path("visits/<int:visit_id>/registration/", views.visit_registration_view, name="visit_registration"),
    path("visits/<int:visit_id>/take-over/", views.visit_take_over_view, name="visit_take_over"),
]
