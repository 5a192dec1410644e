"""Reads of the knowledge base: who may read or edit, search, a station's scripts."""

from django.db.models import Case, F, IntegerField, Q, QuerySet, Value, When
from django.db.models.functions import StrIndex

from anchang.accounts.models import Role, User
from anchang.accounts.selectors import project_visible_to
from anchang.inventory.models import Project
from anchang.knowledge.models import Article, ArticleKind
from anchang.knowledge.services import TITLE_TOPIC_SEPARATOR, pinyin_key
from anchang.reception.models import Station

# Site staff and the property desk read the knowledge base; brokers and owners do not (a 404 for them).
READER_ROLES = (Role.MANAGER, Role.FRONTDESK, Role.CONSULTANT, Role.ATTENDANT, Role.SERVICE)
EDITOR_ROLES = (Role.MANAGER,)
SEARCH_LIMIT = 50
QUERY_MAX_LENGTH = 40

# Title hits first, then topic hits, then hits in the body only.
RANK_TITLE, RANK_TOPIC, RANK_BODY = 0, 1, 2


def can_read_knowledge(user: User) -> bool:
    return user.is_authenticated and (user.role in READER_ROLES or user.sees_all_projects)


def can_edit_knowledge(user: User) -> bool:
    return user.is_authenticated and (user.role in EDITOR_ROLES or user.sees_all_projects)


def article_visible_to(*, user: User, article_id: int) -> Article | None:
    if not can_read_knowledge(user):
        return None
    article = Article.objects.select_related("project", "station").filter(pk=article_id).first()
    if article is None or project_visible_to(user=user, project_id=article.project_id) is None:
        return None
    if not article.is_published and not can_edit_knowledge(user):
        return None
    return article


def article_search_queryset(
    *,
    project: Project,
    q: str = "",
    kind: str | None = None,
    station_id: int | None = None,
    include_unpublished: bool = False,
) -> QuerySet[Article]:
    """Articles matching `q` in Chinese (title, topic, body) or in 拼音/initials of title and topic.

    One query. Ranked: title hits, then topic hits, then body hits; within a rank by kind and the
    editor's order.
    """
    articles = Article.objects.filter(project=project).select_related("station")
    if not include_unpublished:
        articles = articles.filter(is_published=True)
    if kind:
        articles = articles.filter(kind=kind)
    if station_id:
        articles = articles.filter(station_id=station_id)
    text = q.strip()[:QUERY_MAX_LENGTH]
    if not text:
        return articles.order_by("kind", "sort_order", "pk")
    key = pinyin_key(text) if text.isascii() else ""
    text_match = Q(title__icontains=text) | Q(topic__icontains=text) | Q(body__icontains=text)
    if key:
        # Where the typed letters occur in "<title pinyin>|<topic pinyin>": before the bar is a title hit.
        articles = articles.annotate(
            pinyin_at=StrIndex("search_pinyin", Value(key)),
            bar_at=StrIndex("search_pinyin", Value(TITLE_TOPIC_SEPARATOR)),
        ).filter(text_match | Q(search_pinyin__contains=key))
        rank = Case(
            When(
                Q(title__icontains=text) | Q(pinyin_at__gt=0, pinyin_at__lt=F("bar_at")),
                then=Value(RANK_TITLE),
            ),
            When(Q(topic__icontains=text) | Q(pinyin_at__gt=F("bar_at")), then=Value(RANK_TOPIC)),
            default=Value(RANK_BODY),
            output_field=IntegerField(),
        )
    else:
        articles = articles.filter(text_match)
        rank = Case(
            When(title__icontains=text, then=Value(RANK_TITLE)),
            When(topic__icontains=text, then=Value(RANK_TOPIC)),
            default=Value(RANK_BODY),
            output_field=IntegerField(),
        )
    return articles.annotate(rank=rank).order_by("rank", "kind", "sort_order", "pk")


def article_search(
    *,
    project: Project,
    q: str = "",
    kind: str | None = None,
    station_id: int | None = None,
    include_unpublished: bool = False,
    limit: int = SEARCH_LIMIT,
) -> list[Article]:
    return list(
        article_search_queryset(
            project=project, q=q, kind=kind, station_id=station_id, include_unpublished=include_unpublished
        )[:limit]
    )


def scripts_for_station(*, station: Station) -> list[Article]:
    """The published scripts (说辞) written for a station, in the editor's order. One query."""
    return list(
        Article.objects.filter(station=station, kind=ArticleKind.SCRIPT, is_published=True).order_by(
            "sort_order", "pk"
        )
    )
