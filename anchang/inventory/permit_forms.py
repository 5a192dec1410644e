"""The manager's form to register a certificate (五证). It checks shape; `certificate_create` decides."""

from django import forms
from django.utils.translation import gettext_lazy as _

from anchang.inventory.models import Building, CertificateKind, Project
from anchang.inventory.permits import AUTHORITY_MAX_LENGTH, NUMBER_MAX_LENGTH

_DATE_ATTRS = {"type": "date", "class": "form-control"}


class CertificateForm(forms.Form):
    kind = forms.ChoiceField(
        label=_("证照类型"),
        choices=CertificateKind.choices,
        initial=CertificateKind.PRESALE,
        widget=forms.Select(attrs={"class": "form-select"}),
        error_messages={"required": _("请选择证照类型。"), "invalid_choice": _("请选择证照类型。")},
    )
    number = forms.CharField(
        label=_("证号"),
        max_length=NUMBER_MAX_LENGTH,
        widget=forms.TextInput(
            attrs={"class": "form-control", "placeholder": _("如 杭售许字(2026)第0012号")}
        ),
        error_messages={"required": _("请填写证号。")},
    )
    authority = forms.CharField(
        label=_("发证机关"),
        required=False,
        max_length=AUTHORITY_MAX_LENGTH,
        widget=forms.TextInput(
            attrs={"class": "form-control", "placeholder": _("如 杭州市住房保障和房产管理局")}
        ),
    )
    buildings = forms.TypedMultipleChoiceField(
        label=_("预售范围（楼栋）"),
        required=False,
        coerce=int,
        help_text=_("仅预售许可证填写；其他证照覆盖全项目。"),
        widget=forms.CheckboxSelectMultiple(attrs={"class": "form-check-input m-0"}),
        error_messages={"invalid_choice": _("所选楼栋不属于本项目。")},
    )
    valid_from = forms.DateField(
        label=_("生效日期"),
        widget=forms.DateInput(attrs=_DATE_ATTRS, format="%Y-%m-%d"),
        error_messages={"required": _("请填写生效日期。"), "invalid": _("请选择正确的日期。")},
    )
    valid_until = forms.DateField(
        label=_("有效期至（长期有效可留空）"),
        required=False,
        widget=forms.DateInput(attrs=_DATE_ATTRS, format="%Y-%m-%d"),
        error_messages={"invalid": _("请选择正确的日期。")},
    )

    def __init__(self, *args: object, project: Project, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        field = self.fields["buildings"]
        assert isinstance(field, forms.TypedMultipleChoiceField)
        field.choices = [(b.pk, b.name) for b in Building.objects.filter(project=project)]
