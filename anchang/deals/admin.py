"""Deals in the admin: to look, never to edit. Every change of a hold, reservation or subscription goes
through `deals.services`, which keep the unit's status and the one-active-per-unit rule together."""

from typing import Any

from django.contrib import admin
from django.http import HttpRequest
from simple_history.admin import SimpleHistoryAdmin

from anchang.deals.models import Hold, OpeningDraw, Reservation, Subscription


class ReadOnlyAdmin(admin.ModelAdmin):
    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(Hold)
class HoldAdmin(ReadOnlyAdmin):
    list_display = ["unit", "reason", "expires_at", "created_by", "created_at", "released_at"]
    list_filter = ["unit__project"]
    list_select_related = ["unit__building", "created_by"]


@admin.register(Reservation)
class ReservationAdmin(ReadOnlyAdmin, SimpleHistoryAdmin):
    list_display = ["number", "project", "customer", "amount", "status", "registered_at"]
    list_filter = ["project", "status"]
    list_select_related = ["project", "customer"]


@admin.register(Subscription)
class SubscriptionAdmin(ReadOnlyAdmin, SimpleHistoryAdmin):
    list_display = ["unit", "project", "customer", "price", "status", "subscribed_on", "contract_number"]
    list_filter = ["project", "status"]
    list_select_related = ["project", "unit__building", "customer"]
    date_hierarchy = "subscribed_on"


@admin.register(OpeningDraw)
class OpeningDrawAdmin(ReadOnlyAdmin):
    """Every draw of an opening session with its seed, inputs and result; a record, never edited."""

    list_display = ["session", "drawn_at", "drawn_by", "method", "seed", "is_current"]
    list_filter = ["session__project", "method", "is_current"]
    list_select_related = ["session", "drawn_by"]
    date_hierarchy = "drawn_at"
    fields = [
        "session",
        "method",
        "seed",
        "drawn_by",
        "drawn_at",
        "is_current",
        "eligible_numbers",
        "drawn_numbers",
    ]
