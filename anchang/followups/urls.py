from django.urls import path

from anchang.followups import views

app_name = "followups"

urlpatterns = [
    path("projects/<int:project_id>/follow-ups/", views.my_followups, name="mine"),
    path("projects/<int:project_id>/follow-ups/overdue/", views.overdue_followups, name="overdue"),
    path("customers/<int:customer_id>/follow-ups/record/", views.record_followup, name="record"),
    path("projects/<int:project_id>/callbacks/", views.callbacks, name="callbacks"),
    path("projects/<int:project_id>/callbacks/results/", views.callback_results, name="callback_results"),
    path("visits/<int:visit_id>/callback/", views.record_callback, name="callback"),
]
