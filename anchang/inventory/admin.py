from django import forms
from django.contrib import admin
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _
from simple_history.admin import SimpleHistoryAdmin

from anchang.inventory.models import Building, Certificate, CertificateKind, Project, ProjectSettings, Unit
from anchang.inventory.registration_fields import validate_registration_fields


class ProjectSettingsForm(forms.ModelForm):
    class Meta:
        model = ProjectSettings
        # The admin inline lists every field; this form adds the check of the one it guards.
        fields = ["mandatory_registration_fields"]

    def clean_mandatory_registration_fields(self) -> object:
        # Only codes some form can fill: an unknown one would flag every visit incomplete for good.
        value = self.cleaned_data["mandatory_registration_fields"]
        validate_registration_fields(value)
        return value


class ProjectSettingsInline(admin.StackedInline):
    model = ProjectSettings
    form = ProjectSettingsForm
    can_delete = False


class BuildingInline(admin.TabularInline):
    model = Building
    extra = 0


@admin.register(Project)
class ProjectAdmin(admin.ModelAdmin):
    list_display = ["name", "code", "city", "sales_phone", "kind", "company", "is_active"]
    list_filter = ["kind", "city", "is_active"]
    list_select_related = ["company"]
    search_fields = ["name", "code", "city"]
    inlines = [ProjectSettingsInline, BuildingInline]


@admin.register(Unit)
class UnitAdmin(SimpleHistoryAdmin):
    list_display = ["__str__", "project", "floor", "bedrooms", "gross_area", "list_price_total", "status"]
    list_filter = ["project", "status", "bedrooms"]
    list_select_related = ["project", "building"]
    search_fields = ["number", "building__name"]
    # Status changes go through the status machine (unit detail page), never a raw admin edit.
    readonly_fields = ["status", "status_changed_at"]


class CertificateForm(forms.ModelForm):
    class Meta:
        model = Certificate
        fields = ["project", "kind", "number", "authority", "buildings", "valid_from", "valid_until"]

    def clean(self) -> dict[str, object]:
        # The same rules as `certificate_create`: the admin writes the row and its buildings itself.
        data = super().clean() or {}
        project, kind, buildings = data.get("project"), data.get("kind"), data.get("buildings")
        chosen = list(buildings) if buildings is not None else []
        if kind == CertificateKind.PRESALE and not chosen:
            self.add_error("buildings", _("预售许可证须注明覆盖的楼栋。"))
        elif kind and kind != CertificateKind.PRESALE and chosen:
            self.add_error("buildings", _("只有预售许可证按楼栋登记，其他证照覆盖全项目。"))
        elif project is not None and any(b.project_id != project.pk for b in chosen):
            self.add_error("buildings", _("所选楼栋不属于本项目。"))
        return data


@admin.register(Certificate)
class CertificateAdmin(admin.ModelAdmin):
    form = CertificateForm
    list_display = ["__str__", "project", "authority", "valid_from", "valid_until"]
    list_filter = ["kind", "project"]
    list_select_related = ["project"]
    search_fields = ["number", "authority"]
    filter_horizontal = ["buildings"]
    readonly_fields = ["created_by"]

    def save_model(self, request: HttpRequest, obj: Certificate, form: forms.ModelForm, change: bool) -> None:
        if not change:
            obj.created_by = request.user  # type: ignore[assignment]
        super().save_model(request, obj, form, change)
