from django.urls import path

from anchang.customers.calls import views

app_name = "calls"

urlpatterns = [path("projects/<int:project_id>/calls/", views.calls_page, name="list")]
