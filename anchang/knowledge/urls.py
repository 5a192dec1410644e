from django.urls import path

from anchang.knowledge import views

app_name = "knowledge"

urlpatterns = [
    path("knowledge/", views.knowledge_home, name="home"),
    path("projects/<int:project_id>/knowledge/", views.knowledge_list, name="list"),
    path("projects/<int:project_id>/knowledge/new/", views.article_create, name="create"),
    path("knowledge/<int:article_id>/", views.article_detail, name="detail"),
    path("knowledge/<int:article_id>/edit/", views.article_edit, name="edit"),
]
