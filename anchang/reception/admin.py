from django.contrib import admin
from simple_history.admin import SimpleHistoryAdmin

from anchang.reception.models import Appointment, Station, VipTaskTemplate


@admin.register(Station)
class StationAdmin(admin.ModelAdmin):
    list_display = [
        "name",
        "project",
        "sort_order",
        "required_on_first_visit",
        "is_risk_disclosure",
        "is_active",
    ]
    list_filter = ["project", "is_active"]
    list_select_related = ["project"]


@admin.register(VipTaskTemplate)
class VipTaskTemplateAdmin(admin.ModelAdmin):
    list_display = ["title", "project", "tier", "assignee_role", "minutes_before"]
    list_filter = ["project", "tier"]
    list_select_related = ["project"]


@admin.register(Appointment)
class AppointmentAdmin(SimpleHistoryAdmin):
    list_display = ["code", "project", "start_at", "status", "vip_tier"]
    list_filter = ["project", "status", "vip_tier"]
    list_select_related = ["project"]
    # Personal data: phones stay out of the list, and bookings change through the services.
    readonly_fields = ["code", "phone", "status", "consent_at", "reminder_sent_at"]
