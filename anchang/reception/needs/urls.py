from django.urls import path

from anchang.reception.needs import views

app_name = "needs"

urlpatterns = [
    path("visits/<int:visit_id>/needs/", views.needs_form_view, name="form"),
    path("visits/<int:visit_id>/recommendations/", views.recommendations_view, name="recommendations"),
]
