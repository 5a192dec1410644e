"""Check-out (product.md §6): outcome, materials, club, duration, first follow-up, thank-you message."""

from datetime import timedelta

import pytest
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone

from anchang.accounts.models import Role
from anchang.accounts.testing import user_in
from anchang.core.errors import Conflict, Forbidden, InvalidInput, NotFound
from anchang.core.models import Notification, NotificationChannel
from anchang.customers.models import CustomerEvent, EventKind
from anchang.followups.models import FollowUp
from anchang.inventory.models import ProjectSettings
from anchang.reception.checkout import (
    checkout_send_thank_you,
    format_duration,
    render_thank_you,
    visit_check_out,
)
from anchang.reception.checkout_views import checkout_context
from anchang.reception.models import QueueState, RotationEntry, Visit, VisitKind, VisitState
from anchang.reception.services import check_in

pytestmark = pytest.mark.django_db

PHONE = "13812345678"


def arrive(project, frontdesk, phone=PHONE, minutes_ago=72):
    visit = check_in(
        project=project, phone=phone, by=frontdesk, consent=True, name="王小明", gender="male"
    ).visit
    # Arrived a while ago (and ten seconds more, so that whole minutes are what we expect).
    Visit.objects.filter(pk=visit.pk).update(
        checked_in_at=timezone.now() - timedelta(minutes=minutes_ago, seconds=10)
    )
    visit.refresh_from_db()
    return visit


@pytest.fixture
def visit(project, frontdesk, on_duty):
    return arrive(project, frontdesk)


def test_checkout_records_what_happened_at_the_door(visit, on_duty) -> None:
    result = visit_check_out(
        visit_id=visit.pk,
        by=on_duty[0],
        outcome="return",
        materials=["price_list", "brochure", "price_list"],
        club="joined",
        next_step="  周六带家人复访  ",
        summary="关注学区，预算 300 万",
    )
    visit.refresh_from_db()
    assert visit.state == VisitState.ENDED and visit.outcome == "return"
    # The fixed list's order, each once.
    assert visit.materials_given == ["brochure", "price_list"]
    assert (visit.club, visit.next_step, visit.summary) == (
        "joined",
        "周六带家人复访",
        "关注学区，预算 300 万",
    )
    assert visit.checked_out_at is not None
    assert result.duration_minutes == 72
    event = CustomerEvent.objects.filter(customer=visit.customer, kind=EventKind.VISIT).first()
    assert "1小时12分" in event.text and event.data["outcome"] == "return"


def test_duration_reads_in_hours_and_minutes() -> None:
    assert format_duration(72) == "1小时12分"
    assert format_duration(45) == "45分"
    assert format_duration(120) == "2小时"
    assert format_duration(0) == "0分"


def test_a_valid_first_visit_starts_the_first_follow_up(project, visit, on_duty) -> None:
    ProjectSettings.objects.filter(project=project).update(first_followup_due_hours=6)
    result = visit_check_out(visit_id=visit.pk, by=on_duty[0], outcome="no_interest")
    follow_up = FollowUp.objects.get()
    assert result.follow_up == follow_up
    assert follow_up.customer_id == visit.customer_id and follow_up.consultant == on_duty[0]
    assert follow_up.visit_id == visit.pk and follow_up.reason == "首访后回访"
    assert result.visit.checked_out_at is not None
    assert follow_up.due_at == result.visit.checked_out_at + timedelta(hours=6)
    assert follow_up.done_at is None and follow_up.state == "open"


def test_a_return_visit_starts_no_automatic_follow_up(project, frontdesk, visit, on_duty) -> None:
    visit_check_out(visit_id=visit.pk, by=on_duty[0], outcome="return")
    again = arrive(project, frontdesk)
    assert again.kind == VisitKind.RETURN
    result = visit_check_out(visit_id=again.pk, by=again.consultant, outcome="return")
    assert result.follow_up is None
    assert FollowUp.objects.count() == 1


def test_invalid_needs_a_reason_and_gives_the_make_up_turn(visit, on_duty) -> None:
    with pytest.raises(InvalidInput) as error:
        visit_check_out(visit_id=visit.pk, by=on_duty[0], outcome="invalid", invalid_reason="  ")
    assert "invalid_reason" in error.value.fields
    visit.refresh_from_db()
    assert visit.state == VisitState.RECEIVING and visit.checked_out_at is None

    result = visit_check_out(visit_id=visit.pk, by=on_duty[0], outcome="invalid", invalid_reason="同行踩盘")
    assert result.visit.state == VisitState.INVALID and result.visit.invalid_reason == "同行踩盘"
    assert result.follow_up is None and not FollowUp.objects.exists()
    head = RotationEntry.objects.order_by("position").first()
    assert head.consultant_id == on_duty[0].pk and head.state == QueueState.WAITING


def test_checking_out_twice_is_a_conflict_and_changes_nothing(visit, on_duty) -> None:
    visit_check_out(visit_id=visit.pk, by=on_duty[0], outcome="return", summary="第一次")
    with pytest.raises(Conflict):
        visit_check_out(visit_id=visit.pk, by=on_duty[0], outcome="subscribed", summary="第二次")
    # Even with bad input, a repeat is answered as what it is.
    with pytest.raises(Conflict):
        visit_check_out(visit_id=visit.pk, by=on_duty[0], outcome="nonsense")
    visit.refresh_from_db()
    assert (visit.outcome, visit.summary) == ("return", "第一次")
    assert FollowUp.objects.count() == 1


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"outcome": "bought"}, "outcome"),
        ({"materials": ["brochure", "gold_bar"]}, "materials"),
        ({"club": "vip"}, "club"),
        ({"next_step": "很" * 201}, "next_step"),
        ({"summary": "长" * 2001}, "summary"),
        ({"outcome": "invalid", "invalid_reason": "原" * 101}, "invalid_reason"),
    ],
)
def test_bad_input_is_refused_and_nothing_changes(visit, on_duty, changes, field) -> None:
    with pytest.raises(InvalidInput) as error:
        visit_check_out(visit_id=visit.pk, by=on_duty[0], **{"outcome": "return", **changes})
    assert field in error.value.fields
    visit.refresh_from_db()
    assert visit.state == VisitState.RECEIVING and visit.materials_given == []
    assert not FollowUp.objects.exists()
    assert RotationEntry.objects.get(consultant=on_duty[0]).state == QueueState.RECEIVING


def test_who_may_check_out(
    project, visit, on_duty, frontdesk, manager, agent, service, other_project
) -> None:
    with pytest.raises(NotFound):
        visit_check_out(visit_id=visit.pk, by=on_duty[1], outcome="return")
    with pytest.raises(Forbidden):
        visit_check_out(visit_id=visit.pk, by=agent, outcome="return")
    with pytest.raises(Forbidden):
        visit_check_out(visit_id=visit.pk, by=service, outcome="return")
    stranger = user_in(other_project, role=Role.MANAGER)
    with pytest.raises(NotFound):
        visit_check_out(visit_id=visit.pk, by=stranger, outcome="return")
    with pytest.raises(NotFound):
        visit_check_out(visit_id=999_999, by=manager, outcome="return")
    assert visit_check_out(visit_id=visit.pk, by=frontdesk, outcome="return").visit.state == VisitState.ENDED
    second = arrive(project, frontdesk, phone="13912345678")
    assert visit_check_out(visit_id=second.pk, by=manager, outcome="return").visit.state == VisitState.ENDED


def test_the_covering_consultant_checks_out_the_owners_customer(
    project, frontdesk, consultants, on_duty
) -> None:
    first = arrive(project, frontdesk)
    visit_check_out(visit_id=first.pk, by=on_duty[0], outcome="return")
    from anchang.reception.rotation import rotation_set_state

    rotation_set_state(project=project, consultant=on_duty[0], state="off", by=on_duty[0])
    covered = arrive(project, frontdesk)
    assert covered.covering_for_id == on_duty[0].pk and covered.consultant_id != on_duty[0].pk
    # The owner is not here: the one covering checks out; the owner cannot end someone else's reception.
    with pytest.raises(NotFound):
        visit_check_out(visit_id=covered.pk, by=on_duty[0], outcome="return")
    result = visit_check_out(visit_id=covered.pk, by=covered.consultant, outcome="return")
    assert result.visit.state == VisitState.ENDED


def test_the_desk_ends_a_visit_that_nobody_received(
    project, frontdesk, django_capture_on_commit_callbacks
) -> None:
    waiting = check_in(project=project, phone=PHONE, by=frontdesk, consent=True).visit
    assert waiting.state == VisitState.WAITING and waiting.consultant_id is None
    with django_capture_on_commit_callbacks(execute=True):
        result = visit_check_out(
            visit_id=waiting.pk, by=frontdesk, outcome="no_interest", summary="等不及先走了"
        )
    assert result.visit.state == VisitState.ENDED and result.follow_up is None
    assert not FollowUp.objects.exists() and not Notification.objects.filter(kind="thank_you").exists()


# --- the thank-you message -----------------------------------------------------------------------


def test_the_thank_you_goes_out_after_commit_with_a_masked_phone(
    project, visit, on_duty, django_capture_on_commit_callbacks
) -> None:
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        visit_check_out(visit_id=visit.pk, by=on_duty[0], outcome="return")
        assert not Notification.objects.filter(kind="thank_you").exists()
    for callback in callbacks:
        callback()
    rows = {row.channel: row for row in Notification.objects.filter(kind="thank_you")}
    assert set(rows) == {NotificationChannel.IN_APP, NotificationChannel.LOG}
    assert {row.recipient_id for row in rows.values()} == {on_duty[0].pk}
    log = rows[NotificationChannel.LOG]
    assert "138****5678" in log.body and PHONE not in log.body and "5678" not in log.title
    assert f"王先生您好，感谢今天莅临{project.name}，我是置业顾问{on_duty[0].display_name}" in log.body
    assert "王小明" not in log.body + log.title


def test_the_thank_you_is_written_once_however_often_it_runs(
    visit, on_duty, django_capture_on_commit_callbacks
) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        visit_check_out(visit_id=visit.pk, by=on_duty[0], outcome="subscribed")
    assert checkout_send_thank_you(visit_id=visit.pk) is False
    assert Notification.objects.filter(kind="thank_you").count() == 2  # in-app copy + log


def test_an_invalid_visit_gets_no_thank_you(visit, on_duty, django_capture_on_commit_callbacks) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        visit_check_out(visit_id=visit.pk, by=on_duty[0], outcome="invalid", invalid_reason="问路")
    assert not Notification.objects.filter(kind="thank_you").exists()


def test_the_project_template_is_used_and_a_broken_one_falls_back(
    project, visit, on_duty, django_capture_on_commit_callbacks
) -> None:
    ProjectSettings.objects.filter(project=project).update(
        thank_you_template="{name}，{consultant}谢谢您来{project}。{unknown}"
    )
    with django_capture_on_commit_callbacks(execute=True):
        visit_check_out(visit_id=visit.pk, by=on_duty[0], outcome="return")
    body = Notification.objects.get(kind="thank_you", channel=NotificationChannel.LOG).body
    assert f"王先生，{on_duty[0].display_name}谢谢您来{project.name}。{{unknown}}" in body
    values = {"name": "李女士", "project": "花园", "consultant": "小张"}
    assert render_thank_you("感谢{name", values).startswith("李女士您好，感谢今天莅临花园")
    assert render_thank_you("{0}{name.__class__}", values).startswith("李女士您好")
    assert render_thank_you("{name:{project}}", values).startswith("李女士您好")


# --- for pages ------------------------------------------------------------------------------------


def test_checkout_context_offers_the_form_then_the_record(
    visit, on_duty, frontdesk, django_assert_max_num_queries
) -> None:
    context = checkout_context(visit=visit, viewer=on_duty[0])["checkout"]
    assert context["can_check_out"] and context["form"] is not None and context["summary"] is None
    assert context["elapsed"] == "1小时12分"
    assert checkout_context(visit=visit, viewer=on_duty[1])["checkout"]["form"] is None

    visit_check_out(
        visit_id=visit.pk, by=on_duty[0], outcome="return", materials=["floor_plan"], club="offered"
    )
    ended = Visit.objects.select_related("customer", "consultant").get(pk=visit.pk)
    with django_assert_max_num_queries(1):
        context = checkout_context(visit=ended, viewer=frontdesk)
    summary = context["checkout"]["summary"]
    assert (
        summary.duration == "1小时12分" and summary.materials == ["户型图"] and summary.club == "已介绍会员"
    )
    assert summary.follow_up is not None and context["checkout"]["form"] is None
    html = render_to_string("reception/checkout/_checkout_form.html", context)
    assert "1小时12分" in html and "户型图" in html and "离场记录" in html


def test_the_checkout_page_and_its_htmx_partial(client_for, visit, on_duty) -> None:
    client = client_for(on_duty[0])
    url = reverse("checkout:visit", args=[visit.pk])
    page = client.get(url)
    assert page.status_code == 200 and 'name="outcome"' in page.content.decode()

    bad = client.post(url, {"outcome": "invalid", "invalid_reason": ""})
    assert bad.status_code == 400 and "请说明无效原因" in bad.content.decode()
    bad_htmx = client.post(url, {"outcome": "invalid"}, headers={"HX-Request": "true"})
    assert bad_htmx.status_code == 200 and "请说明无效原因" in bad_htmx.content.decode()
    assert Visit.objects.get(pk=visit.pk).state == VisitState.RECEIVING

    done = client.post(
        url,
        {
            "outcome": "return",
            "materials": ["brochure", "price_list"],
            "club": "declined",
            "summary": "<b>x</b>",
        },
        headers={"HX-Request": "true"},
    )
    html = done.content.decode()
    assert done.headers["HX-Trigger"] == "visit-checked-out"
    assert done.status_code == 200 and "已离场，接待时长 1小时12分" in html and "<html" not in html
    assert "楼书、价格单" in html and "&lt;b&gt;x&lt;/b&gt;" in html

    again = client.post(url, {"outcome": "return"})
    assert again.status_code == 409 and "已经结束" in again.content.decode()


def test_the_page_redirects_to_the_visit_after_a_plain_post(client_for, visit, on_duty) -> None:
    response = client_for(on_duty[0]).post(
        reverse("checkout:visit", args=[visit.pk]), {"outcome": "subscribed"}, follow=True
    )
    assert response.redirect_chain[-1][0] == reverse("reception:visit", args=[visit.pk])
    assert "已离场" in response.content.decode()


def test_the_page_is_404_for_another_consultant(client_for, visit, on_duty) -> None:
    url = reverse("checkout:visit", args=[visit.pk])
    assert client_for(on_duty[1]).get(url).status_code == 404
    assert client_for(on_duty[1]).post(url, {"outcome": "return"}).status_code == 404
    assert Visit.objects.get(pk=visit.pk).state == VisitState.RECEIVING


# --- API ------------------------------------------------------------------------------------------


def post(client, url, body, headers):
    return client.post(url, body, content_type="application/json", headers=headers)


def test_api_checkout_answers_the_pinned_shape(client, visit, on_duty, api_token_for) -> None:
    url = f"/api/v1/visits/{visit.pk}/checkout"
    response = post(
        client,
        url,
        {"outcome": "return", "materials": ["brochure"], "club": "offered", "next_step": "周末再来"},
        api_token_for(on_duty[0]),
    )
    assert response.status_code == 200, response.content
    body = response.json()
    follow_up = FollowUp.objects.get()
    assert body == {
        "id": visit.pk,
        "state": "ended",
        "outcome": "return",
        "duration_minutes": 72,
        "follow_up_id": follow_up.pk,
    }


def test_api_checkout_errors(client, visit, on_duty, api_token_for, agent) -> None:
    url = f"/api/v1/visits/{visit.pk}/checkout"
    mine = api_token_for(on_duty[0])
    assert client.post(url, {"outcome": "return"}, content_type="application/json").status_code == 401
    bad = post(client, url, {"outcome": "bought"}, mine)
    assert bad.status_code == 400 and "outcome" in bad.json()["fields"]
    bad = post(client, url, {"outcome": "return", "materials": ["gold_bar"]}, mine)
    assert bad.status_code == 400 and "materials" in bad.json()["fields"]
    assert post(client, url, {"outcome": "return", "summary": "a\x00b"}, mine).status_code == 400
    assert post(client, url, {"outcome": "return"}, api_token_for(on_duty[1])).status_code == 404
    assert post(client, url, {"outcome": "return"}, api_token_for(agent)).status_code == 403
    assert post(client, "/api/v1/visits/999999/checkout", {"outcome": "return"}, mine).status_code == 404
    assert Visit.objects.get(pk=visit.pk).state == VisitState.RECEIVING
    assert post(client, url, {"outcome": "return"}, mine).status_code == 200
    conflict = post(client, url, {"outcome": "return"}, mine)
    assert conflict.status_code == 409 and conflict.json()["code"] == "visit_already_ended"
