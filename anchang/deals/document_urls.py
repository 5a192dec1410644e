from django.urls import path

from anchang.deals import document_views

app_name = "documents"

urlpatterns = [
    path(
        "subscriptions/<int:subscription_id>/letter.pdf",
        document_views.subscription_letter,
        name="subscription_letter",
    ),
    path(
        "visits/<int:visit_id>/registration.pdf",
        document_views.visit_registration_form,
        name="visit_registration_form",
    ),
    path(
        "projects/<int:project_id>/registration-form.pdf",
        document_views.blank_registration_form,
        name="blank_registration_form",
    ),
]
