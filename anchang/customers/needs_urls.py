from django.urls import path

from anchang.customers import needs_views

app_name = "needs"

urlpatterns = [
    path("visits/<int:visit_id>/needs/", needs_views.needs_form_view, name="form"),
    path("visits/<int:visit_id>/recommendations/", needs_views.recommendations_view, name="recommendations"),
]
