from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from anchang.knowledge.models import Article
from anchang.knowledge.services import article_index_words, article_search_pinyin


@admin.register(Article)
class ArticleAdmin(admin.ModelAdmin):
    list_display = ["title", "project", "kind", "topic", "station", "sort_order", "is_published"]
    list_filter = ["project", "kind", "is_published"]
    search_fields = ["title", "topic", "body", "search_pinyin"]
    readonly_fields = ["search_pinyin"]
    list_select_related = ["project", "station"]

    def save_model(self, request: HttpRequest, obj: Article, form: Any, change: bool) -> None:
        # The admin saves the row directly; keep the 拼音 and the word index the search relies on in step.
        obj.search_pinyin = article_search_pinyin(title=obj.title, topic=obj.topic)
        super().save_model(request, obj, form, change)
        article_index_words(article=obj)
