"""The caller's in-app notifications (the bell and 消息 page) in the JSON API.

Only the recipient's own rows, whatever the role: core needs to know no user model for that, only
`request.user`, which the bearer-token auth has set.
"""

from django.http import HttpRequest
from ninja import Field, Query, Router, Schema

from anchang.core.api import DbId, LocalDateTime, PageLimit, PageOffset, error_responses, paginate
from anchang.core.models import Notification
from anchang.core.notifications import (
    notification_list_for,
    notification_mark_all_read,
    notification_mark_read,
    notification_unread_count_for,
)

router = Router(tags=["notifications"])


class NotificationFilters(Schema):
    unread: bool = Field(False, description="true：只列未读")
    limit: PageLimit = 50
    offset: PageOffset = 0


class NotificationOut(Schema):
    id: int
    kind: str
    title: str
    body: str
    url: str = Field(description="站内相对链接（可为空）")
    created_at: LocalDateTime
    read_at: LocalDateTime | None


class NotificationPage(Schema):
    items: list[NotificationOut]
    count: int
    unread: int


class ReadAllOut(Schema):
    marked: int


def _out(row: Notification) -> NotificationOut:
    return NotificationOut(
        id=row.pk,
        kind=row.kind,
        title=row.title,
        body=row.body,
        url=row.url,
        created_at=row.created_at,
        read_at=row.read_at,
    )


@router.get(
    "/notifications",
    response={200: NotificationPage, **error_responses(400, 401)},
    summary="我的站内消息（新的在前）",
)
def notification_list(request: HttpRequest, filters: Query[NotificationFilters]) -> NotificationPage:
    rows = notification_list_for(user=request.user)
    if filters.unread:
        rows = rows.filter(read_at__isnull=True)
    page, count = paginate(rows, limit=filters.limit, offset=filters.offset)
    return NotificationPage(
        items=[_out(row) for row in page],
        count=count,
        unread=count if filters.unread else notification_unread_count_for(user=request.user),
    )


@router.post(
    "/notifications/{notification_id}/read",
    response={200: NotificationOut, **error_responses(400, 401, 404)},
    summary="标记一条消息已读（别人的消息答 404）",
)
def notification_read(request: HttpRequest, notification_id: DbId) -> NotificationOut:
    return _out(notification_mark_read(user=request.user, notification_id=notification_id))


@router.post(
    "/notifications/read-all", response={200: ReadAllOut, **error_responses(401)}, summary="全部标记已读"
)
def notification_read_all(request: HttpRequest) -> ReadAllOut:
    return ReadAllOut(marked=notification_mark_all_read(user=request.user))
