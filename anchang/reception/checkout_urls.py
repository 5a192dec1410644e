from django.urls import path

from anchang.reception import checkout_views

app_name = "checkout"

urlpatterns = [
    path("visits/<int:visit_id>/checkout/", checkout_views.checkout, name="visit"),
]
