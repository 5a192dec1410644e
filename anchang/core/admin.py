from django.contrib import admin
from django.http import HttpRequest

from anchang.core.models import AccessLog, MessageSend


@admin.register(AccessLog)
class AccessLogAdmin(admin.ModelAdmin):
    """The access log for admins: read-only, since an audit trail that can be edited proves nothing."""

    list_display = ("at", "username", "action", "object_type", "object_id", "project_id", "reason", "ip")
    list_filter = ("action", "object_type")
    search_fields = ("username", "reason")
    date_hierarchy = "at"
    list_select_related = False
    # The list never joins the user table: `username` is stored on the row.
    show_full_result_count = False
    readonly_fields = (
        "at",
        "user",
        "username",
        "action",
        "object_type",
        "object_id",
        "project_id",
        "reason",
        "ip",
        "data",
    )

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: AccessLog | None = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: AccessLog | None = None) -> bool:
        return False

    def has_view_permission(self, request: HttpRequest, obj: AccessLog | None = None) -> bool:
        user = request.user
        return bool(user.is_active and (user.is_superuser or getattr(user, "role", None) == "admin"))

    def has_module_permission(self, request: HttpRequest) -> bool:
        return self.has_view_permission(request)


@admin.register(MessageSend)
class MessageSendAdmin(admin.ModelAdmin):
    """Every attempt to text a customer, for the administrator tracing a complaint or a refused
    template: read-only like the access log, since it records what a provider answered."""

    list_display = ("at", "kind", "provider", "template_code", "phone_masked", "status", "error_code")
    list_filter = ("status", "provider", "kind")
    search_fields = ("provider_message_id", "error_code", "phone_masked")
    date_hierarchy = "at"
    show_full_result_count = False
    readonly_fields = (
        "at",
        "notification",
        "project_id",
        "kind",
        "provider",
        "template_code",
        "phone_masked",
        "status",
        "provider_message_id",
        "error_code",
        "error_message",
    )

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: MessageSend | None = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: MessageSend | None = None) -> bool:
        return False

    def has_view_permission(self, request: HttpRequest, obj: MessageSend | None = None) -> bool:
        user = request.user
        return bool(user.is_active and (user.is_superuser or getattr(user, "role", None) == "admin"))

    def has_module_permission(self, request: HttpRequest) -> bool:
        return self.has_view_permission(request)
