from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.utils.translation import gettext_lazy as _

from anchang.accounts.models import Company, ProjectMembership, Team, User


@admin.register(Company)
class CompanyAdmin(admin.ModelAdmin):
    list_display = ["name", "short_name", "kind"]
    list_filter = ["kind"]
    search_fields = ["name", "short_name"]


@admin.register(Team)
class TeamAdmin(admin.ModelAdmin):
    list_display = ["name", "company"]
    list_filter = ["company"]
    list_select_related = ["company"]


class MembershipInline(admin.TabularInline):
    model = ProjectMembership
    extra = 1
    autocomplete_fields = ["project"]


@admin.register(User)
class UserAdmin(DjangoUserAdmin):
    list_display = ["username", "name", "role", "company", "team", "is_active"]
    list_filter = ["role", "company", "is_active"]
    list_select_related = ["company", "team"]
    search_fields = ["username", "name"]
    inlines = [MembershipInline]
    fieldsets = (
        *(DjangoUserAdmin.fieldsets or ()),
        (_("案场"), {"fields": ("name", "role", "company", "team", "mobile")}),
    )
    add_fieldsets = (
        *DjangoUserAdmin.add_fieldsets,
        (_("案场"), {"fields": ("name", "role", "company", "team")}),
    )
