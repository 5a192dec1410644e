"""Writes to the knowledge base (说辞 / 应知应会 / 岗位规范用语)."""

import re

from django.db import transaction
from django.utils.translation import gettext as _
from pypinyin import Style, lazy_pinyin

from anchang.core.errors import InvalidInput
from anchang.inventory.models import Project
from anchang.knowledge.grams import article_gram_weights
from anchang.knowledge.models import Article, ArticleGram, ArticleKind
from anchang.reception.models import Station

_NOT_SEARCHABLE = re.compile(r"[^0-9a-z]")
# `search_pinyin` is "<title pinyin> <title initials>|<topic pinyin> <topic initials>": the bar lets the
# search tell a title hit from a topic hit, so title hits can be ranked first.
TITLE_TOPIC_SEPARATOR = "|"
_TITLE_PART_MAX = 280
_TOPIC_PART_MAX = 119


def pinyin_key(text: str) -> str:
    """What a typed query is compared with: lower-case letters and digits only (`物业费` → `wuyefei`)."""
    return _NOT_SEARCHABLE.sub("", text.lower())


def text_pinyin(text: str) -> tuple[str, str]:
    """Full pinyin and initials of a title or topic: `物业费标准` → (`wuyefeibiaozhun`, `wyfbz`).

    Letters and digits pass through (`IC卡` → `icka`, `ick`). Titles read in their common reading;
    pypinyin's phrase dictionary picks it from context (重庆 → chongqing).
    """
    full = pinyin_key("".join(lazy_pinyin(text, style=Style.NORMAL)))
    initials = pinyin_key("".join(lazy_pinyin(text, style=Style.FIRST_LETTER)))
    return full, initials


def article_search_pinyin(*, title: str, topic: str) -> str:
    title_full, title_initials = text_pinyin(title)
    topic_full, topic_initials = text_pinyin(topic)
    title_part = f"{title_full} {title_initials}"[:_TITLE_PART_MAX]
    topic_part = f"{topic_full} {topic_initials}".strip()[:_TOPIC_PART_MAX]
    return f"{title_part}{TITLE_TOPIC_SEPARATOR}{topic_part}"


def _check(*, project: Project, kind: str, title: str, body: str, station: Station | None) -> None:
    fields = {}
    if kind not in ArticleKind.values:
        fields["kind"] = _("请选择类型：说辞、应知应会或岗位规范用语。")
    if not title.strip():
        fields["title"] = _("请填写标题。")
    if not body.strip():
        fields["body"] = _("请填写内容。")
    if station is not None and station.project_id != project.pk:
        fields["station"] = _("讲解点不属于本项目。")
    if fields:
        raise InvalidInput(fields=fields)


@transaction.atomic
def article_create(
    *,
    project: Project,
    kind: str,
    title: str,
    body: str,
    topic: str = "",
    station: Station | None = None,
    sort_order: int = 0,
    is_published: bool = True,
) -> Article:
    return article_update(
        article=Article(project=project),
        kind=kind,
        title=title,
        body=body,
        topic=topic,
        station=station,
        sort_order=sort_order,
        is_published=is_published,
    )


@transaction.atomic
def article_update(
    *,
    article: Article,
    kind: str,
    title: str,
    body: str,
    topic: str = "",
    station: Station | None = None,
    sort_order: int = 0,
    is_published: bool = True,
) -> Article:
    """Write the article's fields (a new `Article(project=…)` is inserted), its 拼音 and character pairs
    (the search index of its Chinese words) derived from them."""
    _check(project=article.project, kind=kind, title=title, body=body, station=station)
    article.kind = kind
    article.title = title.strip()
    article.body = body.strip()
    article.topic = topic.strip()
    article.station = station
    article.sort_order = sort_order
    article.is_published = is_published
    article.search_pinyin = article_search_pinyin(title=article.title, topic=article.topic)
    article.save()
    article_index_words(article=article)
    return article


@transaction.atomic
def article_index_words(*, article: Article) -> None:
    """Rewrite the saved article's character pairs from its text: the search's index of Chinese words."""
    article.grams.all().delete()
    weights = article_gram_weights(title=article.title, topic=article.topic, body=article.body)
    ArticleGram.objects.bulk_create(
        ArticleGram(article=article, gram=gram, weight=weight) for gram, weight in weights.items()
    )
