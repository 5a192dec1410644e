"""GET /knowledge: search the knowledge base of a project (scripts, must-know, standard phrases)."""

from typing import Annotated, Literal

from django.http import HttpRequest
from django.utils.translation import gettext as _
from ninja import Query, Router, Schema
from pydantic import Field

from anchang.accounts.api_access import request_user, visible_project
from anchang.core.api import BlankIsNone, NoNul, Page, error_responses, paginate
from anchang.core.errors import Forbidden
from anchang.knowledge import selectors

router = Router(tags=["knowledge"])


class KnowledgeQuery(Schema):
    project: int
    q: Annotated[str, NoNul, Field(max_length=selectors.QUERY_MAX_LENGTH)] = ""
    kind: Annotated[Literal["script", "must_know", "phrase"] | None, BlankIsNone] = None
    limit: int = 50
    offset: int = 0


class ArticleOut(Schema):
    id: int
    kind: str
    title: str
    topic: str
    station: str | None
    body: str


class ArticlePage(Page):
    items: list[ArticleOut]


@router.get(
    "/knowledge",
    response={200: ArticlePage, **error_responses(400, 401, 403, 404)},
    summary="知识库搜索（说辞、应知应会、岗位规范用语）",
)
def knowledge_search(request: HttpRequest, filters: Query[KnowledgeQuery]) -> ArticlePage:
    user = request_user(request)
    project = visible_project(user, filters.project)
    if not selectors.can_read_knowledge(user):
        raise Forbidden(_("您的角色不能查看知识库。"))
    articles, count = paginate(
        selectors.article_search_queryset(
            project=project,
            q=filters.q,
            kind=filters.kind,
            include_unpublished=selectors.can_edit_knowledge(user),
        ),
        limit=filters.limit,
        offset=filters.offset,
    )
    return ArticlePage(
        items=[
            ArticleOut(
                id=a.pk,
                kind=a.kind,
                title=a.title,
                topic=a.topic,
                station=a.station.code if a.station else None,
                body=a.body,
            )
            for a in articles
        ],
        count=count,
    )
