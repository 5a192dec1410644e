"""Issue 11 §2: a callback nobody answered is counted and tried again; saving leads back to the page
the user came from."""

import pytest
from django.urls import reverse

from anchang.core.errors import Conflict, InvalidInput
from anchang.customers.models import CustomerEvent, EventKind
from anchang.followups.models import Callback, FollowUp
from anchang.followups.selectors import callback_results_by_consultant, visits_awaiting_callback
from anchang.followups.services import callback_record
from anchang.followups.tests.helpers import customer_of, ended_visit

pytestmark = pytest.mark.django_db

HTMX = {"HX-Request": "true"}


@pytest.fixture
def visit(project, consultant):
    return ended_visit(project, customer_of(project, consultant), consultant)


def test_not_reached_needs_no_score_and_the_visit_stays_due(visit, service, project) -> None:
    first = callback_record(visit=visit, by=service, satisfaction=None, reached=False, comments="无人接听")
    assert first.satisfaction is None and first.attempts == 1 and not first.reached
    second = callback_record(visit=visit, by=service, satisfaction=None, reached=False)
    assert second.pk == first.pk and second.attempts == 2
    [awaiting] = visits_awaiting_callback(project=project, viewer=service)
    assert awaiting.pk == visit.pk and awaiting.callback_attempts == 2  # type: ignore[attr-defined]
    texts = list(CustomerEvent.objects.filter(kind=EventKind.CALLBACK).values_list("text", flat=True))
    assert "回访未接通（第 1 次），客户意见：无人接听" in texts and "回访未接通（第 2 次）" in texts
    # Unanswered calls are not scores: the results leave them out.
    from django.utils import timezone

    today = timezone.localdate()
    assert callback_results_by_consultant(project=project, date_from=today, date_to=today) == []

    answered = callback_record(visit=visit, by=service, satisfaction=4)
    assert (answered.pk, answered.attempts, answered.satisfaction) == (first.pk, 3, 4)
    assert visits_awaiting_callback(project=project, viewer=service) == []
    with pytest.raises(Conflict):
        callback_record(visit=visit, by=service, satisfaction=None, reached=False)
    assert Callback.objects.get().attempts == 3


def test_reached_still_needs_a_score(visit, service) -> None:
    with pytest.raises(InvalidInput) as error:
        callback_record(visit=visit, by=service, satisfaction=None)
    assert "satisfaction" in error.value.fields and not Callback.objects.exists()


def test_not_reached_from_the_page_and_the_list_shows_the_attempts(
    client_for, visit, service, project
) -> None:
    client = client_for(service)
    url = reverse("followups:callback", args=[visit.pk])
    done = client.post(url, {"reached": "no"}, headers=HTMX).content.decode()
    assert "未接通（已拨 1 次）" in done and "再次回访" in done
    listing = client.get(reverse("followups:callbacks", args=[project.pk])).content.decode()
    assert "未接通 1 次" in listing and f"callback-visit-{visit.pk}" in listing
    bad = client.post(url, {"reached": "yes"})
    assert bad.status_code == 400 and "满意度请选择 1–5 分" in bad.content.decode()
    assert Callback.objects.get().attempts == 1


def test_not_reached_through_the_api(api_token_for, client, visit, service) -> None:
    headers = api_token_for(service)
    url = f"/api/v1/visits/{visit.pk}/callback"
    response = client.post(url, {"reached": False}, content_type="application/json", headers=headers)
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["reached"] is False and body["satisfaction"] is None and body["attempts"] == 1
    missing = client.post(url, {}, content_type="application/json", headers=headers)
    assert missing.status_code == 400 and "satisfaction" in missing.content.decode()


def test_a_callback_saved_without_htmx_goes_back_where_it_came_from(client_for, visit, service) -> None:
    client = client_for(service)
    url = reverse("followups:callback", args=[visit.pk])
    came_from = reverse("customers:detail", args=[visit.customer_id])
    page = client.get(url, headers={"Referer": f"http://testserver{came_from}"}).content.decode()
    assert f'name="next" value="{came_from}"' in page
    response = client.post(url, {"reached": "no", "next": came_from})
    assert response.status_code == 302 and response.url == came_from


def test_a_follow_up_saved_from_the_customer_page_goes_back_to_it(client_for, project, consultant) -> None:
    customer = customer_of(project, consultant)
    client = client_for(consultant)
    url = reverse("followups:record", args=[customer.pk])
    came_from = reverse("customers:detail", args=[customer.pk])
    # A link without ?next=: the page it was opened from (Referer) is where the save leads.
    page = client.get(url, headers={"Referer": f"http://testserver{came_from}"}).content.decode()
    assert f'name="next" value="{came_from}"' in page
    # Another site's page is never a target.
    foreign = client.get(url, headers={"Referer": "https://evil.example/x"}).content.decode()
    assert "evil.example" not in foreign
    response = client.post(url, {"method": "phone", "content": "聊了户型", "next": came_from})
    assert response.status_code == 302 and response.url == came_from
    assert FollowUp.objects.get().done_at is not None


def test_the_record_page_posting_through_htmx_is_sent_back(client_for, project, consultant) -> None:
    customer = customer_of(project, consultant)
    client = client_for(consultant)
    url = reverse("followups:record", args=[customer.pk])
    came_from = reverse("customers:detail", args=[customer.pk])
    # The list's inline form (an htmx GET) answers in place: no way back is put in it.
    inline = client.get(url, headers={**HTMX, "Referer": f"http://testserver{came_from}"}).content.decode()
    assert 'name="next"' not in inline
    response = client.post(url, {"method": "phone", "content": "聊了户型", "next": came_from}, headers=HTMX)
    assert response.headers["HX-Redirect"] == came_from
    inline_done = client.post(url, {"method": "wechat", "content": "发了户型图"}, headers=HTMX)
    assert "HX-Redirect" not in inline_done.headers and inline_done.status_code == 200
