"""The consultant's phone-first follow-up list, the record form, and the manager's overdue view."""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from anchang.customers.models import Customer
from anchang.followups.models import FollowUp
from anchang.followups.tests.helpers import customer_of, follow_up_for, queries_of

pytestmark = pytest.mark.django_db

HOUR = timedelta(hours=1)
HTMX = {"HX-Request": "true"}


def test_my_list_shows_overdue_and_due_with_a_one_tap_record_button(
    client_for, project, consultant, other_consultant
) -> None:
    mine = customer_of(project, consultant, name="李雷")
    overdue = follow_up_for(mine, consultant, due_in=-3 * HOUR, reason="首访后回访")
    follow_up_for(customer_of(project, consultant, name="韩梅梅", gender="female"), consultant, due_in=HOUR)
    follow_up_for(customer_of(project, consultant, name="钱完成"), consultant, due_in=-HOUR, done=True)
    follow_up_for(customer_of(project, other_consultant, name="赵别人"), other_consultant, due_in=-HOUR)
    html = client_for(consultant).get(reverse("followups:mine", args=[project.pk])).content.decode()
    assert "李雷" in html and "韩梅梅" in html and "赵别人" not in html and "钱完成" not in html
    assert html.index("李雷") < html.index("韩梅梅")  # the overdue one first
    assert "逾期 3小时" in html and "首访后回访" in html
    assert f'hx-get="{reverse("followups:record", args=[mine.pk])}"' in html
    assert f'href="tel:{mine.phone}"' in html  # their own customer: one tap to call
    assert f"#followup-form-{overdue.pk}" in html


def test_tabs_filter_the_list(client_for, project, consultant) -> None:
    customer = customer_of(project, consultant, name="李雷")
    follow_up_for(customer, consultant, due_in=-HOUR, done=True)
    client = client_for(consultant)
    url = reverse("followups:mine", args=[project.pk])
    assert "李雷" not in client.get(url).content.decode()
    assert "李雷" in client.get(url, {"state": "done"}).content.decode()
    assert client.get(url, {"state": "<script>"}).status_code == 200


def test_my_list_has_a_fixed_query_count(client_for, project, consultant) -> None:
    client = client_for(consultant)
    url = reverse("followups:mine", args=[project.pk])
    client.get(url)  # warm the session

    def seed(n: int) -> None:
        for i in range(n):
            follow_up_for(customer_of(project, consultant), consultant, due_in=(i - n // 2) * HOUR)

    seed(3)
    few = queries_of(lambda: client.get(url))
    seed(27)
    assert queries_of(lambda: client.get(url)) == few


def test_the_list_is_not_for_other_roles(client_for, project, agent, service, frontdesk) -> None:
    url = reverse("followups:mine", args=[project.pk])
    for user in (agent, service, frontdesk):
        assert client_for(user).get(url).status_code == 404


def test_recording_from_the_list_with_htmx(client_for, project, consultant) -> None:
    customer = customer_of(project, consultant)
    task = follow_up_for(customer, consultant, due_in=-HOUR)
    client = client_for(consultant)
    url = reverse("followups:record", args=[customer.pk])
    form = client.get(url, headers=HTMX)
    assert form.status_code == 200 and 'name="content"' in form.content.decode()
    assert "<html" not in form.content.decode()

    empty = client.post(url, {"method": "phone", "content": ""}, headers=HTMX)
    assert empty.status_code == 200 and "请填写跟进内容" in empty.content.decode()
    past = client.post(
        url,
        {"method": "phone", "content": "x", "next_in": "custom", "next_due_at": "2020-01-01T10:00"},
        headers=HTMX,
    )
    assert "下次跟进时间不能早于现在" in past.content.decode()
    assert FollowUp.objects.get(pk=task.pk).done_at is None

    done = client.post(
        url,
        {
            "method": "wechat",
            "content": "发了户型图",
            "result": "reached",
            "intent_level": "B",
            "next_in": "3",
        },
        headers=HTMX,
    )
    assert done.status_code == 200 and "已记录微信跟进" in done.content.decode()
    task.refresh_from_db()
    assert task.done_at is not None and task.content == "发了户型图"
    following = FollowUp.objects.get(done_at__isnull=True)
    assert abs((following.due_at - (timezone.now() + timedelta(days=3))).total_seconds()) < 60
    assert Customer.objects.get(pk=customer.pk).intent_level == "B"


def test_recording_without_htmx_redirects_back(client_for, project, consultant) -> None:
    customer = customer_of(project, consultant)
    client = client_for(consultant)
    url = reverse("followups:record", args=[customer.pk])
    page = client.get(url)
    assert page.status_code == 200 and "记录跟进" in page.content.decode()
    bad = client.post(url, {"method": "phone", "content": ""})
    assert bad.status_code == 400 and not FollowUp.objects.exists()
    response = client.post(url, {"method": "phone", "content": "ok", "next": "https://evil.example/"})
    assert response.status_code == 302 and response.url == reverse("followups:mine", args=[project.pk])
    assert FollowUp.objects.get().done_at is not None


def test_record_form_is_the_owners(
    client_for, project, consultant, other_consultant, frontdesk, manager
) -> None:
    customer = customer_of(project, consultant)
    url = reverse("followups:record", args=[customer.pk])
    assert client_for(other_consultant).get(url).status_code == 404
    assert client_for(other_consultant).post(url, {"method": "phone", "content": "x"}).status_code == 404
    assert client_for(frontdesk).post(url, {"method": "phone", "content": "x"}).status_code == 403
    assert not FollowUp.objects.exists()
    assert client_for(manager).post(url, {"method": "phone", "content": "经理回访"}).status_code == 302


def test_the_manager_sees_overdue_grouped_by_consultant(client_for, project, manager, consultants) -> None:
    a, b, _c = consultants
    for name in ("甲一", "甲二"):
        follow_up_for(customer_of(project, a, name=name), a, due_in=-HOUR)
    follow_up_for(customer_of(project, b, name="乙一"), b, due_in=-2 * HOUR)
    follow_up_for(customer_of(project, b, name="乙未到期"), b, due_in=HOUR)
    response = client_for(manager).get(reverse("followups:overdue", args=[project.pk]))
    html = response.content.decode()
    assert response.status_code == 200
    assert "共 3 条逾期跟进" in html
    assert html.index("顾问1") < html.index("顾问2")  # most overdue first
    assert "甲一" in html and "乙一" in html and "乙未到期" not in html
    assert f'id="consultant-{a.pk}"' in html


def test_the_overdue_view_is_for_managers_with_a_fixed_query_count(
    client_for, project, manager, consultants
) -> None:
    url = reverse("followups:overdue", args=[project.pk])
    assert client_for(consultants[0]).get(url).status_code == 404
    client = client_for(manager)
    client.get(url)

    def seed(n: int) -> None:
        for i in range(n):
            owner = consultants[i % 3]
            follow_up_for(customer_of(project, owner), owner, due_in=-HOUR)

    seed(3)
    few = queries_of(lambda: client.get(url))
    seed(27)
    assert queries_of(lambda: client.get(url)) == few


def test_the_home_partials_render(project, consultant, manager) -> None:
    from django.template.loader import render_to_string

    from anchang.followups.selectors import followups_due_for, overdue_counts_by_consultant

    customer = customer_of(project, consultant, name="李雷")
    follow_up_for(customer, consultant, due_in=-HOUR)
    html = render_to_string(
        "followups/_due_card.html",
        {
            "due_followups": followups_due_for(user=consultant, project=project),
            "project": project,
            "user": consultant,
        },
    )
    assert "李雷" in html and "逾期" in html
    html = render_to_string(
        "followups/_overdue_card.html",
        {"overdue_counts": overdue_counts_by_consultant(project=project), "project": project},
    )
    assert consultant.display_name in html and ">1<" in html
