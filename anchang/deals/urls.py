from django.urls import path

from anchang.deals import views

app_name = "deals"

urlpatterns = [
    path("projects/<int:project_id>/subscriptions/", views.subscription_list, name="subscriptions"),
    path("projects/<int:project_id>/approvals/", views.approvals, name="approvals"),
    path("projects/<int:project_id>/holds/", views.holds, name="holds"),
    path("projects/<int:project_id>/reservations/", views.reservations, name="reservations"),
    path("projects/<int:project_id>/sales-summary/", views.summary, name="sales_summary"),
    path("subscriptions/<int:subscription_id>/", views.subscription_detail, name="subscription"),
    path("subscriptions/<int:subscription_id>/approve/", views.subscription_approve, name="approve"),
    path("subscriptions/<int:subscription_id>/reject/", views.subscription_reject, name="reject"),
    path("subscriptions/<int:subscription_id>/contract/", views.subscription_contract, name="contract"),
    path("subscriptions/<int:subscription_id>/cancel/", views.subscription_cancel, name="cancel"),
    path(
        "subscriptions/<int:subscription_id>/change-unit/", views.subscription_change_unit, name="change_unit"
    ),
    path("units/<int:unit_id>/subscribe/", views.subscription_new, name="subscribe"),
    path("units/<int:unit_id>/deals/", views.unit_panel, name="unit_panel"),
    path("units/<int:unit_id>/hold/", views.unit_hold, name="hold"),
    path("units/<int:unit_id>/release/", views.unit_release, name="release"),
    path("reservations/<int:reservation_id>/refund/", views.reservation_refund, name="refund"),
    path("customers/<int:customer_id>/deals/", views.customer_deals, name="customer_deals"),
]
