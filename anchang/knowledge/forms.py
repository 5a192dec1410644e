from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from anchang.inventory.models import Project
from anchang.knowledge.models import Article, ArticleKind
from anchang.reception.models import Station


class ArticleForm(forms.ModelForm):
    """Create and edit an article; the view hands the cleaned data to `article_create`/`article_update`."""

    class Meta:
        model = Article
        fields = ["kind", "title", "topic", "station", "body", "sort_order", "is_published"]
        widgets = {
            "kind": forms.Select(attrs={"class": "form-select"}),
            "title": forms.TextInput(attrs={"class": "form-control"}),
            "topic": forms.TextInput(attrs={"class": "form-control"}),
            "station": forms.Select(attrs={"class": "form-select"}),
            "body": forms.Textarea(attrs={"class": "form-control", "rows": 10}),
            "sort_order": forms.NumberInput(attrs={"class": "form-control", "inputmode": "numeric"}),
            "is_published": forms.CheckboxInput(attrs={"class": "form-check-input"}),
        }
        help_texts = {
            "body": _("纯文本，换行会保留。话术中写 {顾问} 的地方，显示时换成正在看的顾问的姓名。"),
            "station": _("说辞可以挂在讲解点上，接待时在该讲解点直接显示。"),
        }

    def __init__(self, *args: Any, project: Project, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        station_field = self.fields["station"]
        assert isinstance(station_field, forms.ModelChoiceField)
        station_field.queryset = Station.objects.filter(project=project).order_by("sort_order", "pk")
        station_field.empty_label = _("（不挂讲解点）")
        self.fields["kind"].initial = ArticleKind.MUST_KNOW


class SearchForm(forms.Form):
    q = forms.CharField(label=_("搜索"), required=False, max_length=40)
    kind = forms.ChoiceField(label=_("类型"), required=False, choices=[("", _("全部")), *ArticleKind.choices])
