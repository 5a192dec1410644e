from django.contrib.auth import views as auth_views
from django.urls import path

from anchang.accounts import views

urlpatterns = [
    path("login/", views.LoginView.as_view(), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("me/", views.profile, name="profile"),
    path("switch-project/", views.switch_project, name="switch_project"),
    path("projects/<int:project_id>/staff/", views.project_staff, name="project_staff"),
]
