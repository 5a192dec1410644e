from django.contrib import admin
from simple_history.admin import SimpleHistoryAdmin

from anchang.inventory.admin import ProjectAdmin
from anchang.inventory.models import Project, ProjectSettings
from anchang.reception.models import Appointment, Station, VipTaskTemplate
from anchang.reception.stations import stations_ensure_defaults
from anchang.reception.vip import vip_templates_ensure_defaults


class ProjectWithReceptionDefaultsAdmin(ProjectAdmin):
    """A project created in the admin is ready to receive visitors: rules, tour route, VIP checklists.

    Registered here rather than in inventory so that inventory keeps knowing nothing of reception.
    """

    def save_related(self, request, form, formsets, change):
        super().save_related(request, form, formsets, change)
        project = form.instance
        ProjectSettings.objects.get_or_create(project=project)
        stations_ensure_defaults(project=project)
        vip_templates_ensure_defaults(project=project)


admin.site.unregister(Project)
admin.site.register(Project, ProjectWithReceptionDefaultsAdmin)


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
