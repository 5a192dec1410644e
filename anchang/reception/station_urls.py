from django.urls import path

from anchang.reception import station_views as views

app_name = "stations"

urlpatterns = [
    path("visits/<int:visit_id>/stations/", views.visit_stations, name="visit"),
    path("projects/<int:project_id>/stations/", views.station_list, name="list"),
    path("projects/<int:project_id>/stations/new/", views.station_create, name="create"),
    path("projects/<int:project_id>/stations/defaults/", views.station_defaults, name="defaults"),
    path("projects/<int:project_id>/stations/compliance/", views.compliance, name="compliance"),
    path("stations/<int:station_id>/edit/", views.station_edit, name="edit"),
    path("stations/<int:station_id>/move/", views.station_move, name="move"),
    path("stations/<int:station_id>/toggle/", views.station_toggle, name="toggle"),
]
