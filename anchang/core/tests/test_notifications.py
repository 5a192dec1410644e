"""The notifications outbox: writing, delivering (log, WeCom against a real local HTTP server), retrying,
the sweep, and the bell / list pages."""

import json
import logging
import threading
from collections.abc import Iterator
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from anchang.core import delivery, notifications
from anchang.core.delivery import MAX_ATTEMPTS, notification_deliver
from anchang.core.models import DeliveryStatus, Notification, NotificationChannel
from anchang.core.notifications import notification_sweep_due, notify

pytestmark = pytest.mark.django_db

IMMEDIATE_TASKS = {
    "default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend", "QUEUES": ["default"]}
}
DELIVER_TASK_PATH = "anchang.core.tasks.deliver_notification"


class WecomStub:
    """A WeCom group-robot webhook on 127.0.0.1: records every JSON body it receives and answers as told
    (`ok` → errcode 0, `errcode` → 93000, `http500`, `timeout` → answers only after the client gave up)."""

    def __init__(self) -> None:
        self.mode = "ok"
        self.delay = 0.0  # seconds to wait before answering, in every mode
        self.errmsg = "invalid webhook url"
        self.received: list[dict[str, Any]] = []
        self.content_types: list[str] = []
        self.paths: list[str] = []
        self.release = threading.Event()
        self._lock = threading.Lock()
        stub = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                with stub._lock:
                    stub.received.append(json.loads(body))
                    stub.content_types.append(self.headers.get("Content-Type", ""))
                    stub.paths.append(self.path)
                if stub.delay:
                    stub.release.wait(stub.delay)
                if stub.mode == "timeout":
                    stub.release.wait(5)
                if stub.mode == "http500":
                    self._answer(500, b"internal error")
                elif stub.mode == "errcode":
                    self._answer(200, json.dumps({"errcode": 93000, "errmsg": stub.errmsg}).encode())
                else:
                    self._answer(200, b'{"errcode": 0, "errmsg": "ok"}')

            def _answer(self, status: int, payload: bytes) -> None:
                try:
                    self.send_response(status)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(payload)))
                    self.end_headers()
                    self.wfile.write(payload)
                except OSError:
                    pass  # the client timed out and closed the connection

            def log_message(self, format: str, *args: object) -> None:
                pass

        class Server(ThreadingHTTPServer):
            daemon_threads = True

            def handle_error(self, request: object, client_address: object) -> None:
                pass

        self.server = Server(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}/cgi-bin/webhook/send?key=test-key"

    @property
    def posts(self) -> int:
        with self._lock:
            return len(self.received)

    def start(self) -> "WecomStub":
        self.thread.start()
        return self

    def stop(self) -> None:
        self.release.set()
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def wecom() -> Iterator[WecomStub]:
    stub = WecomStub().start()
    yield stub
    stub.stop()


@pytest.fixture
def fast_timeout(settings: Any) -> None:
    settings.WECOM_TIMEOUT_SECONDS = 0.3


def _wecom_row(webhook_url: str, **fields: Any) -> Notification:
    defaults: dict[str, Any] = {
        "channel": NotificationChannel.WECOM,
        "kind": "visit.arrived",
        "title": "客户到访",
        "body": "张先生 已到达售楼处",
        "target": webhook_url,
        "project_id": 7,
    }
    return Notification.objects.create(**{**defaults, **fields})


def _enqueued_ids() -> list[int]:
    return sorted(
        row.args_kwargs["kwargs"]["notification_id"]
        for row in DBTaskResult.objects.filter(task_path=DELIVER_TASK_PATH)
    )


# --- notify ----------------------------------------------------------------------------------------


def test_notify_writes_bell_and_log_rows_per_recipient_and_one_wecom_row(
    consultant, manager, django_capture_on_commit_callbacks
) -> None:
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        rows = notify(
            recipients=[consultant, manager, consultant, None],
            kind="visit.arrived",
            title="客户到访",
            body="张先生 已到达",
            url="/reception/",
            project_id=3,
            webhook_url="https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=k",
        )
    assert len(rows) == 5  # the duplicate recipient and None are dropped
    assert Notification.objects.count() == 5
    in_app = Notification.objects.filter(channel=NotificationChannel.IN_APP)
    assert {r.recipient_id for r in in_app} == {consultant.pk, manager.pk}
    assert all(r.status == DeliveryStatus.SENT and r.read_at is None for r in in_app)
    log_rows = Notification.objects.filter(channel=NotificationChannel.LOG)
    assert {r.status for r in log_rows} == {DeliveryStatus.PENDING}
    wecom_row = Notification.objects.get(channel=NotificationChannel.WECOM)
    assert wecom_row.recipient_id is None and wecom_row.target.startswith("https://qyapi")
    # One on_commit callback; it put one delivery task per pending row in the database queue.
    assert len(callbacks) == 1
    pending_ids = sorted(
        Notification.objects.filter(status=DeliveryStatus.PENDING).values_list("pk", flat=True)
    )
    assert _enqueued_ids() == pending_ids


def test_notify_enqueues_nothing_when_the_transaction_rolls_back(consultant) -> None:
    from django.db import transaction

    with pytest.raises(RuntimeError), transaction.atomic():
        notify(recipients=[consultant], kind="k", title="t")
        raise RuntimeError("the business action failed")
    assert Notification.objects.count() == 0
    assert _enqueued_ids() == []


def test_notify_with_immediate_backend_delivers_after_commit(
    consultant, wecom, settings, django_capture_on_commit_callbacks
) -> None:
    settings.TASKS = IMMEDIATE_TASKS
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        notify(recipients=[consultant], kind="k", title="标题", body="正文", webhook_url=wecom.url)
    assert wecom.posts == 0  # nothing leaves before commit
    for callback in callbacks:
        callback()
    assert wecom.posts == 1
    assert not Notification.objects.filter(status=DeliveryStatus.PENDING).exists()


# --- delivery --------------------------------------------------------------------------------------


def test_delivering_a_log_row_writes_a_structured_line_and_marks_it_sent(consultant, caplog) -> None:
    rows = notify(recipients=[consultant], kind="followup.due", title="跟进到期", project_id=9)
    log_row = next(r for r in rows if r.channel == NotificationChannel.LOG)
    with caplog.at_level(logging.INFO, logger="anchang.notifications"):
        assert notification_deliver(notification_id=log_row.pk) == "sent"
    record = next(r for r in caplog.records if r.name == "anchang.notifications")
    assert record.getMessage() == "notification: 跟进到期"
    fields = record.__dict__
    assert (fields["kind"], fields["recipient"], fields["project"]) == ("followup.due", consultant.pk, 9)
    log_row.refresh_from_db()
    assert log_row.status == DeliveryStatus.SENT and log_row.sent_at is not None
    assert log_row.attempts == 1 and log_row.next_attempt_at is None


def test_wecom_success_posts_exactly_the_expected_json_and_marks_sent(wecom) -> None:
    row = _wecom_row(wecom.url)
    assert notification_deliver(notification_id=row.pk) == "sent"
    assert wecom.received == [{"msgtype": "text", "text": {"content": "客户到访\n张先生 已到达售楼处"}}]
    assert wecom.content_types[0].startswith("application/json")
    assert wecom.paths == ["/cgi-bin/webhook/send?key=test-key"]
    row.refresh_from_db()
    assert row.status == DeliveryStatus.SENT and row.sent_at is not None and row.last_error == ""


@pytest.mark.parametrize(
    ("mode", "error_part"),
    [("errcode", "errcode 93000"), ("http500", "HTTP 500"), ("timeout", "timed out")],
)
def test_wecom_failure_counts_the_attempt_backs_off_and_stays_pending(
    wecom, fast_timeout, mode: str, error_part: str
) -> None:
    wecom.mode = mode
    row = _wecom_row(wecom.url)
    before = timezone.now()
    assert notification_deliver(notification_id=row.pk) == "retry"
    row.refresh_from_db()
    assert row.status == DeliveryStatus.PENDING
    assert row.attempts == 1
    assert error_part in row.last_error
    # 30 s × 2^1 after the failure.
    assert row.next_attempt_at is not None
    assert before + timedelta(seconds=59) <= row.next_attempt_at <= timezone.now() + timedelta(seconds=61)
    # Not due yet: running the task again now does nothing.
    assert notification_deliver(notification_id=row.pk) == "skipped"
    assert wecom.posts == 1


def test_backoff_doubles_and_is_capped() -> None:
    delays = [delivery.retry_delay(n).total_seconds() for n in range(1, 10)]
    assert delays[:4] == [60, 120, 240, 480]
    assert max(delays) == delivery.BACKOFF_CAP_SECONDS


def test_after_max_attempts_the_row_is_failed_and_never_sent_again(wecom) -> None:
    wecom.mode = "errcode"
    row = _wecom_row(wecom.url, body="")
    outcomes = []
    for _ in range(MAX_ATTEMPTS):
        Notification.objects.filter(pk=row.pk, next_attempt_at__isnull=False).update(
            next_attempt_at=timezone.now() - timedelta(seconds=1)  # the backoff has passed
        )
        outcomes.append(notification_deliver(notification_id=row.pk))
    assert outcomes == ["retry"] * (MAX_ATTEMPTS - 1) + ["failed"]
    row.refresh_from_db()
    assert (row.status, row.attempts, row.next_attempt_at) == (DeliveryStatus.FAILED, MAX_ATTEMPTS, None)
    assert "93000" in row.last_error
    assert wecom.received[0] == {"msgtype": "text", "text": {"content": "客户到访"}}
    wecom.mode = "ok"
    assert notification_deliver(notification_id=row.pk) == "skipped"
    assert wecom.posts == MAX_ATTEMPTS


def test_running_the_task_twice_delivers_once(wecom, settings) -> None:
    from anchang.core.tasks import deliver_notification

    settings.TASKS = IMMEDIATE_TASKS
    row = _wecom_row(wecom.url)
    first = deliver_notification.enqueue(notification_id=row.pk)
    second = deliver_notification.enqueue(notification_id=row.pk)
    assert (first.return_value, second.return_value) == ("sent", "skipped")
    assert wecom.posts == 1


def test_a_long_error_is_truncated_to_the_column(wecom) -> None:
    wecom.mode, wecom.errmsg = "errcode", "很长的错误说明" * 100
    row = _wecom_row(wecom.url)
    assert notification_deliver(notification_id=row.pk) == "retry"
    row.refresh_from_db()
    assert row.last_error.startswith("errcode 93000: 很长的错误说明") and len(row.last_error) == 300


def test_a_refused_connection_is_a_failure(db) -> None:
    row = _wecom_row("http://127.0.0.1:1/cgi-bin/webhook/send")  # nothing listens on port 1
    assert notification_deliver(notification_id=row.pk) == "retry"
    row.refresh_from_db()
    assert "Connection refused" in row.last_error


def test_a_webhook_that_is_not_http_is_refused_without_opening_it(tmp_path) -> None:
    secret = tmp_path / "secret.txt"
    secret.write_text("do not read")
    row = _wecom_row(f"file://{secret}")
    assert notification_deliver(notification_id=row.pk) == "retry"
    row.refresh_from_db()
    assert "http(s)" in row.last_error


def test_a_missing_or_in_app_row_is_skipped(consultant) -> None:
    assert notification_deliver(notification_id=987654) == "skipped"
    in_app = notify(recipients=[consultant], kind="k", title="t")[0]
    assert in_app.channel == NotificationChannel.IN_APP
    assert notification_deliver(notification_id=in_app.pk) == "skipped"


@pytest.mark.postgres_only
@pytest.mark.django_db(transaction=True)
def test_two_workers_delivering_the_same_row_at_once_send_one_message(wecom) -> None:
    wecom.delay = 0.3  # the first send is still in flight when the second worker tries to claim
    row = _wecom_row(wecom.url)
    outcomes = _race(lambda: notification_deliver(notification_id=row.pk))
    assert sorted(outcomes) == ["sent", "skipped"]
    assert wecom.posts == 1


@pytest.mark.postgres_only
@pytest.mark.django_db(transaction=True)
def test_control_without_the_claim_two_workers_send_twice(wecom) -> None:
    """The race the conditional claim prevents: read 'pending', send, then mark sent."""
    wecom.delay = 0.3
    row = _wecom_row(wecom.url)

    def naive_deliver() -> str:
        current = Notification.objects.get(pk=row.pk)
        if current.status != DeliveryStatus.PENDING:
            return "skipped"
        delivery._send_wecom(current)
        Notification.objects.filter(pk=row.pk).update(status=DeliveryStatus.SENT)
        return "sent"

    assert _race(naive_deliver) == ["sent", "sent"]
    assert wecom.posts == 2


def _race(func: Any) -> list[str]:
    barrier = threading.Barrier(2)
    outcomes: list[str] = []

    def run() -> None:
        try:
            barrier.wait()
            outcomes.append(func())
        finally:
            connection.close()

    threads = [threading.Thread(target=run) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(10)
    return outcomes


# --- the sweep -------------------------------------------------------------------------------------


def test_sweep_requeues_due_rows_only(consultant, django_capture_on_commit_callbacks) -> None:
    now = timezone.now()
    url = "https://example.invalid/hook"
    due_retry = _wecom_row(url, attempts=1, next_attempt_at=now - timedelta(seconds=5))
    lost_lease = _wecom_row(url, attempts=2, next_attempt_at=now - timedelta(minutes=10))
    not_yet = _wecom_row(url, attempts=1, next_attempt_at=now + timedelta(minutes=1))
    fresh = _wecom_row(url)  # its own task was just enqueued on commit
    stale_never_enqueued = _wecom_row(url)
    Notification.objects.filter(pk=stale_never_enqueued.pk).update(created_at=now - timedelta(minutes=5))
    _wecom_row(url, status=DeliveryStatus.SENT, next_attempt_at=now - timedelta(minutes=5))
    _wecom_row(url, status=DeliveryStatus.FAILED, attempts=5)
    in_app = notify(recipients=[consultant], kind="k", title="t")[0]
    Notification.objects.filter(pk=in_app.pk).update(created_at=now - timedelta(hours=1))
    DBTaskResult.objects.all().delete()
    exhausted = _wecom_row(url, attempts=MAX_ATTEMPTS, next_attempt_at=now - timedelta(seconds=1))

    with django_capture_on_commit_callbacks(execute=True):
        summary = notification_sweep_due(now=now)

    assert summary == {"requeued": 3, "given_up": 1}
    assert _enqueued_ids() == sorted([due_retry.pk, lost_lease.pk, stale_never_enqueued.pk])
    assert not_yet.pk not in _enqueued_ids() and fresh.pk not in _enqueued_ids()
    exhausted.refresh_from_db()
    assert exhausted.status == DeliveryStatus.FAILED and exhausted.last_error


def test_sweep_enqueues_nothing_before_commit(django_capture_on_commit_callbacks) -> None:
    _wecom_row("https://example.invalid/hook", next_attempt_at=timezone.now() - timedelta(seconds=1))
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        notification_sweep_due()
    assert _enqueued_ids() == [] and len(callbacks) == 1


def test_a_failed_enqueue_is_logged_and_left_to_the_sweep(consultant, settings, caplog) -> None:
    settings.TASKS = {"default": {"BACKEND": "django_tasks.backends.dummy.DummyBackend", "QUEUES": ["other"]}}
    rows = notify(recipients=[consultant], kind="k", title="t")
    log_row = next(r for r in rows if r.channel == NotificationChannel.LOG)
    with caplog.at_level(logging.ERROR, logger="anchang.notifications"):
        notifications._enqueue_delivery([log_row.pk])  # invalid queue: enqueue raises
    assert "could not enqueue" in caplog.text
    log_row.refresh_from_db()
    assert log_row.status == DeliveryStatus.PENDING


# --- the bell and the list -------------------------------------------------------------------------


def _bell_rows(user: Any, n: int, *, minutes_ago: int = 0) -> list[Notification]:
    created = Notification.objects.bulk_create(
        Notification(
            recipient=user,
            channel=NotificationChannel.IN_APP,
            kind="k",
            title=f"通知 {i}",
            body=f"内容 {i}",
            url="/me/",
            status=DeliveryStatus.SENT,
        )
        for i in range(n)
    )
    if minutes_ago:
        Notification.objects.filter(pk__in=[r.pk for r in created]).update(
            created_at=timezone.now() - timedelta(minutes=minutes_ago)
        )
    return created


def test_every_page_shows_the_bell_without_querying_the_count(client_for, consultant) -> None:
    response = client_for(consultant).get(reverse("home"))
    html = response.content.decode()
    assert 'id="notification-bell"' in html
    assert 'hx-trigger="load, every 10s"' in html
    assert f'hx-get="{reverse("notifications:bell")}"' in html
    assert 'hx-swap="outerHTML"' in html
    assert "data-unread" not in html


def test_bell_partial_counts_my_unread_in_app_notifications_in_one_query(
    client_for, consultant, other_consultant, django_assert_num_queries
) -> None:
    mine = _bell_rows(consultant, 3)
    Notification.objects.filter(pk=mine[0].pk).update(read_at=timezone.now())
    _bell_rows(other_consultant, 5)
    notify(recipients=[consultant], kind="k", title="t")  # + one in-app (and one log row, not counted)
    client = client_for(consultant)
    client.get(reverse("notifications:bell"))  # warm the session
    # session + user (authentication) + the count
    with django_assert_num_queries(3) as captured:
        response = client.get(reverse("notifications:bell"), headers={"HX-Request": "true"})
    assert sum("COUNT(" in q["sql"].upper() for q in captured.captured_queries) == 1
    html = response.content.decode()
    assert 'data-unread="3"' in html
    assert 'hx-trigger="every 10s"' in html


def test_bell_shows_99_plus_and_stops_polling_when_logged_out(client, client_for, consultant) -> None:
    _bell_rows(consultant, 120)
    assert ">99+<" in client_for(consultant).get(reverse("notifications:bell")).content.decode()
    client.logout()
    assert client.get(reverse("notifications:bell")).status_code == 286


def test_list_is_mine_newest_first_paginated_with_relative_times(
    client_for, consultant, other_consultant
) -> None:
    _bell_rows(consultant, 1, minutes_ago=3)
    _bell_rows(consultant, 34)
    _bell_rows(other_consultant, 2)
    Notification.objects.filter(recipient=other_consultant).update(title="别人的通知")
    client = client_for(consultant)
    html = client.get(reverse("notifications:list")).content.decode()
    assert html.count('class="list-group-item') == 30
    assert html.index("通知 33") < html.index("通知 32")  # newest first
    assert "别人的通知" not in html
    assert "全部标为已读" in html
    assert "1 / 2" in html
    page2 = client.get(reverse("notifications:list"), {"page": 2}).content.decode()
    assert page2.count('class="list-group-item') == 5
    assert "3分钟前" in page2


def test_list_runs_a_fixed_number_of_queries(client_for, consultant) -> None:
    client = client_for(consultant)

    def queries_for(n: int) -> int:
        Notification.objects.all().delete()
        _bell_rows(consultant, n)
        with CaptureQueriesContext(connection) as ctx:
            response = client.get(reverse("notifications:list"))
        assert response.status_code == 200
        return len(ctx.captured_queries)

    few, many = queries_for(3), queries_for(40)
    assert few == many
    assert many <= 8


def test_opening_an_item_marks_it_read_and_follows_its_link(client_for, consultant) -> None:
    row = _bell_rows(consultant, 1)[0]
    response = client_for(consultant).post(reverse("notifications:open", args=[row.pk]))
    assert response.status_code == 302 and response["Location"] == "/me/"
    row.refresh_from_db()
    first_read = row.read_at
    assert first_read is not None
    client_for(consultant).post(reverse("notifications:open", args=[row.pk]))
    row.refresh_from_db()
    assert row.read_at == first_read  # opening again keeps the first reading time


def test_opening_never_redirects_off_site_and_needs_post(client_for, consultant) -> None:
    row = _bell_rows(consultant, 1)[0]
    Notification.objects.filter(pk=row.pk).update(url="https://evil.example/phish")
    client = client_for(consultant)
    assert client.get(reverse("notifications:open", args=[row.pk])).status_code == 405
    response = client.post(reverse("notifications:open", args=[row.pk]), {"page": "2"})
    assert response["Location"] == reverse("notifications:list") + "?page=2"


def test_another_users_notification_cannot_be_opened(client_for, consultant, other_consultant) -> None:
    theirs = _bell_rows(other_consultant, 1)[0]
    response = client_for(consultant).post(reverse("notifications:open", args=[theirs.pk]))
    assert response.status_code == 404
    theirs.refresh_from_db()
    assert theirs.read_at is None


def test_mark_all_read_touches_only_my_notifications(client_for, consultant, other_consultant) -> None:
    _bell_rows(consultant, 4)
    _bell_rows(other_consultant, 2)
    client = client_for(consultant)
    response = client.post(reverse("notifications:read_all"))
    assert response.status_code == 302
    assert not Notification.objects.filter(recipient=consultant, read_at__isnull=True).exists()
    assert Notification.objects.filter(recipient=other_consultant, read_at__isnull=True).count() == 2
    assert "data-unread" not in client.get(reverse("notifications:bell")).content.decode()


def test_pages_need_login(client, db) -> None:
    response = client.get(reverse("notifications:list"))
    assert response.status_code == 302 and "/login/" in response["Location"]
    assert client.post(reverse("notifications:read_all")).status_code == 302


def test_empty_list_says_so(client_for, consultant) -> None:
    html = client_for(consultant).get(reverse("notifications:list")).content.decode()
    assert "暂无通知" in html and "全部标为已读" not in html


def test_time_ago_wording() -> None:
    from anchang.core.views import time_ago

    now = timezone.now()
    assert time_ago(now - timedelta(seconds=20), now) == "刚刚"
    assert time_ago(now - timedelta(minutes=3, seconds=10), now) == "3分钟前"
    assert time_ago(now - timedelta(hours=2), now) == "2小时前"
    assert time_ago(now - timedelta(days=5), now) == "5天前"
    assert time_ago(now - timedelta(days=40), now) == timezone.localtime(now - timedelta(days=40)).strftime(
        "%Y-%m-%d"
    )
