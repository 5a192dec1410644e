from django.urls import path

from anchang.customers import pool_views as views

app_name = "pool"

urlpatterns = [
    path("projects/<int:project_id>/pool/", views.pool_list, name="list"),
    path("projects/<int:project_id>/my-customers/", views.my_customers, name="mine"),
    path("customers/<int:customer_id>/claim/", views.pool_claim, name="claim"),
    path("customers/<int:customer_id>/reassign/", views.customer_reassign, name="reassign"),
]
