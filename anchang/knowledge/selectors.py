"""Reads of the knowledge base: who may read or edit, search, a station's scripts."""

from django.db.models import Case, Count, F, IntegerField, OuterRef, Q, QuerySet, Subquery, Sum, Value, When
from django.db.models.functions import Coalesce, StrIndex

from anchang.accounts.models import Role, User
from anchang.accounts.selectors import project_visible_to
from anchang.inventory.models import Project
from anchang.knowledge.grams import IN_TOPIC, grams_needed, text_grams
from anchang.knowledge.models import Article, ArticleGram, ArticleKind
from anchang.knowledge.services import TITLE_TOPIC_SEPARATOR, pinyin_key
from anchang.reception.models import Station

# Site staff and the property desk read the knowledge base; brokers and owners do not (a 404 for them).
READER_ROLES = (Role.MANAGER, Role.FRONTDESK, Role.CONSULTANT, Role.ATTENDANT, Role.SERVICE)
EDITOR_ROLES = (Role.MANAGER,)
SEARCH_LIMIT = 50
QUERY_MAX_LENGTH = 40

# The whole query in the title, in the topic, part of it in title or topic, the whole in the body, a part.
RANK_TITLE, RANK_TOPIC, RANK_PART_IN_TITLE, RANK_BODY, RANK_PART_IN_BODY = 0, 1, 2, 3, 4


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
    """Articles matching `q`: the whole query or its Chinese words in title, topic or body, or the
    拼音/initials of title and topic. One query.

    Chinese is matched by pairs of neighbouring characters (`grams`): an article is found when it
    contains the whole query, or enough of the query's pairs (`grams_needed`), so 物业费 finds
    物业服务费 and 公摊 finds it inside a sentence. Ranked so that what the title says comes first:
    the whole query in the title, in the topic, part of it in the title or topic, the whole query in the
    body, part of it in the body; within a rank the article sharing the most (and the most title) pairs
    first, then by kind and the editor's order.
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
    in_title = Q(title__icontains=text)
    in_topic = Q(topic__icontains=text)
    found = in_title | in_topic | Q(body__icontains=text)
    key = pinyin_key(text) if text.isascii() else ""
    if key:
        # Where the typed letters occur in "<title pinyin>|<topic pinyin>": before the bar is a title hit.
        articles = articles.annotate(
            pinyin_at=StrIndex("search_pinyin", Value(key)),
            bar_at=StrIndex("search_pinyin", Value(TITLE_TOPIC_SEPARATOR)),
        )
        found |= Q(search_pinyin__contains=key)
        in_title |= Q(pinyin_at__gt=0, pinyin_at__lt=F("bar_at"))
        in_topic |= Q(pinyin_at__gt=F("bar_at"))
    # Nothing is "part of the query" when it has no pair of Chinese characters (拼音, digits, one 字).
    part_in_head = Q(pk__in=[])
    grams = text_grams(text)
    if grams:
        # Correlated counts over the article's pairs, each an index lookup on (article, gram). A weight
        # of IN_TOPIC or more has the title or topic bit set: the pair is in the title or the topic.
        pairs = ArticleGram.objects.filter(article=OuterRef("pk"), gram__in=grams).order_by()
        articles = articles.annotate(
            gram_hits=_pair_total(pairs, Count("pk")),
            head_hits=_pair_total(pairs.filter(weight__gte=IN_TOPIC), Count("pk")),
            gram_score=_pair_total(pairs, Sum("weight")),
        )
        found |= Q(gram_hits__gte=grams_needed(len(grams)))
        part_in_head = Q(head_hits__gt=0)
    else:
        articles = articles.annotate(gram_score=Value(0))
    rank = Case(
        When(in_title, then=Value(RANK_TITLE)),
        When(in_topic, then=Value(RANK_TOPIC)),
        When(part_in_head, then=Value(RANK_PART_IN_TITLE)),
        When(body__icontains=text, then=Value(RANK_BODY)),
        default=Value(RANK_PART_IN_BODY),
        output_field=IntegerField(),
    )
    return (
        articles.filter(found).annotate(rank=rank).order_by("rank", "-gram_score", "kind", "sort_order", "pk")
    )


def _pair_total(pairs: QuerySet[ArticleGram], total: Count | Sum) -> Coalesce:
    return Coalesce(
        Subquery(pairs.values("article").annotate(total=total).values("total")[:1]),
        0,
        output_field=IntegerField(),
    )


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
