"""The bell over the API: GET /notifications, POST /notifications/{id}/read and /read-all."""

import pytest

from anchang.core.models import Notification, NotificationChannel
from anchang.core.notifications import notify

pytestmark = pytest.mark.django_db


def bell(user, title: str) -> Notification:
    rows = notify(recipients=[user], kind="test", title=title, url="/visits/1/")
    return next(row for row in rows if row.channel == NotificationChannel.IN_APP)


def test_own_notifications_newest_first_with_the_unread_count(
    client, consultant, other_consultant, api_token_for
) -> None:
    older = bell(consultant, "第一条")
    newer = bell(consultant, "第二条")
    bell(other_consultant, "别人的")
    headers = api_token_for(consultant)

    body = client.get("/api/v1/notifications", headers=headers).json()

    assert [item["id"] for item in body["items"]] == [newer.pk, older.pk]
    assert body["count"] == 2 and body["unread"] == 2
    assert body["items"][0]["created_at"].endswith("+08:00") and body["items"][0]["read_at"] is None


def test_marking_read(client, consultant, other_consultant, api_token_for) -> None:
    first = bell(consultant, "第一条")
    bell(consultant, "第二条")
    theirs = bell(other_consultant, "别人的")
    headers = api_token_for(consultant)

    read = client.post(f"/api/v1/notifications/{first.pk}/read", headers=headers)
    unread_only = client.get("/api/v1/notifications", {"unread": "true"}, headers=headers).json()
    others = client.post(f"/api/v1/notifications/{theirs.pk}/read", headers=headers)
    all_read = client.post("/api/v1/notifications/read-all", headers=headers)

    assert read.status_code == 200 and read.json()["read_at"].endswith("+08:00")
    assert unread_only["count"] == unread_only["unread"] == 1
    assert others.status_code == 404
    assert all_read.json() == {"marked": 1}
    assert client.get("/api/v1/notifications", headers=headers).json()["unread"] == 0


@pytest.mark.parametrize("rows", [1, 6])
def test_query_budget(client, consultant, api_token_for, django_assert_max_num_queries, rows) -> None:
    for n in range(rows):
        bell(consultant, f"消息{n}")
    headers = api_token_for(consultant)

    with django_assert_max_num_queries(4):  # token and user, the page, the count, the unread count
        response = client.get("/api/v1/notifications", headers=headers)

    assert response.json()["count"] == rows
