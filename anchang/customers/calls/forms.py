from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from anchang.accounts.models import Role, User
from anchang.accounts.selectors import staff_of_project
from anchang.customers.calls.services import NAME_MAX_LENGTH, NEXT_STEP_MAX_LENGTH, QUESTION_MAX_LENGTH
from anchang.customers.models import Source
from anchang.inventory.models import Project


class CallForm(forms.Form):
    """The call as the person who answered it tells it; `inbound_call_record` applies the rules."""

    phone = forms.CharField(
        label=_("来电号码"),
        max_length=40,
        widget=forms.TextInput(
            attrs={"class": "form-control", "type": "tel", "inputmode": "numeric", "autocomplete": "off"}
        ),
    )
    name = forms.CharField(
        label=_("称呼（可选）"),
        required=False,
        max_length=NAME_MAX_LENGTH,
        widget=forms.TextInput(attrs={"class": "form-control", "placeholder": _("如：王先生")}),
    )
    source = forms.ChoiceField(
        label=_("从哪里知道本项目"),
        choices=[("", _("请选择")), *Source.choices],
        widget=forms.Select(attrs={"class": "form-select"}),
    )
    question = forms.CharField(
        label=_("客户问了什么"),
        max_length=QUESTION_MAX_LENGTH,
        widget=forms.Textarea(
            attrs={"class": "form-control", "rows": 3, "placeholder": _("如：三房的价格、学区、开盘时间")}
        ),
    )
    consultant = forms.ModelChoiceField(
        label=_("接听顾问"),
        queryset=User.objects.none(),
        empty_label=_("请选择"),
        widget=forms.Select(attrs={"class": "form-select"}),
    )
    next_step = forms.CharField(
        label=_("下一步（可选）"),
        required=False,
        max_length=NEXT_STEP_MAX_LENGTH,
        widget=forms.TextInput(attrs={"class": "form-control", "placeholder": _("如：周六上午来访看样板房")}),
    )

    def __init__(self, *args: Any, project: Project, user: User, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if user.role == Role.CONSULTANT:
            # A consultant records the calls they answered themselves.
            del self.fields["consultant"]
        else:
            consultant = self.fields["consultant"]
            assert isinstance(consultant, forms.ModelChoiceField)
            consultant.queryset = staff_of_project(project=project, role=Role.CONSULTANT)
