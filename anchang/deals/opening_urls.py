from django.urls import path

from anchang.deals import opening_views as views

app_name = "openings"

urlpatterns = [
    path("projects/<int:project_id>/openings/", views.opening_list, name="list"),
    path("projects/<int:project_id>/openings/new/", views.opening_new, name="new"),
    path("openings/<int:session_id>/", views.opening_detail, name="detail"),
    path("openings/<int:session_id>/edit/", views.opening_edit, name="edit"),
    path("openings/<int:session_id>/draw/", views.opening_draw, name="draw"),
    path("openings/<int:session_id>/open/", views.opening_open, name="open"),
    path("openings/<int:session_id>/close/", views.opening_close, name="close"),
    path("openings/<int:session_id>/results.xlsx", views.opening_export, name="export"),
    path(
        "openings/<int:session_id>/buyers/<int:buyer_id>/link/", views.opening_buyer_link, name="buyer_link"
    ),
    path("openings/<int:session_id>/desk/", views.opening_desk, name="desk"),
    path("openings/<int:session_id>/desk/<int:buyer_id>/", views.opening_desk_buyer, name="desk_buyer"),
    path(
        "openings/<int:session_id>/desk/<int:buyer_id>/units/<int:unit_id>/",
        views.opening_desk_unit,
        name="desk_unit",
    ),
    # The buyer's own link: no login, the token is the key.
    path("o/<str:token>/", views.buyer_page, name="buyer"),
    path("o/<str:token>/units/<int:unit_id>/", views.buyer_unit, name="buyer_unit"),
]
