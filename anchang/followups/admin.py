from django.contrib import admin

from anchang.followups.models import Callback, FollowUp


@admin.register(FollowUp)
class FollowUpAdmin(admin.ModelAdmin):
    list_display = ["customer", "consultant", "due_at", "done_at", "method", "intent_level", "reason"]
    list_filter = ["method", "intent_level"]
    list_select_related = ["customer", "consultant"]
    raw_id_fields = ["customer", "consultant", "visit"]
    date_hierarchy = "due_at"
    readonly_fields = ["reminded_at", "created_at"]


@admin.register(Callback)
class CallbackAdmin(admin.ModelAdmin):
    list_display = ["visit", "customer", "consultant", "by", "satisfaction", "at"]
    list_filter = ["satisfaction"]
    list_select_related = ["visit", "customer", "consultant", "by"]
    raw_id_fields = ["visit", "customer", "consultant", "by"]
    date_hierarchy = "at"
