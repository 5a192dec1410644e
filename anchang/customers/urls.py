from django.urls import path

from anchang.customers import views

app_name = "customers"

urlpatterns = [path("customers/<int:customer_id>/", views.customer_detail, name="detail")]
