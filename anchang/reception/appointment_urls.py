from django.urls import path

from anchang.reception import appointment_views as views

app_name = "appointments"

urlpatterns = [
    path("book/<slug:project_code>/", views.public_booking, name="book"),
    path("book/<slug:project_code>/slots/", views.public_booking_slots, name="book_slots"),
    path("book/<slug:project_code>/done/<str:code>/", views.public_booking_done, name="booked"),
    path("projects/<int:project_id>/appointments/", views.appointment_day, name="day"),
    path("projects/<int:project_id>/appointments/week/", views.appointment_week, name="week"),
    path("projects/<int:project_id>/appointments/new/", views.appointment_new, name="new"),
    path("projects/<int:project_id>/vip-tasks/", views.vip_task_list, name="vip_tasks"),
    path("appointments/<int:appointment_id>/", views.appointment_detail, name="detail"),
    path("appointments/<int:appointment_id>/cancel/", views.appointment_cancel, name="cancel"),
    path("appointments/<int:appointment_id>/reschedule/", views.appointment_reschedule, name="reschedule"),
    path("appointments/<int:appointment_id>/no-show/", views.appointment_no_show, name="no_show"),
    path("vip-tasks/<int:task_id>/done/", views.vip_task_done, name="vip_task_done"),
]
