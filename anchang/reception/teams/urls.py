from django.urls import path

from anchang.reception.teams import views

app_name = "teams"

urlpatterns = [
    path("projects/<int:project_id>/rotation/fairness/", views.fairness_page, name="fairness"),
]
