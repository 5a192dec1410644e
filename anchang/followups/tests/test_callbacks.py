"""Callbacks (回访): by service or a manager, never the receiving consultant; results per consultant."""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from anchang.accounts.testing import user_in
from anchang.core.errors import Conflict, Forbidden, InvalidInput, NotFound
from anchang.customers.models import CustomerEvent, EventKind
from anchang.followups.models import Callback
from anchang.followups.selectors import callback_results_by_consultant, visits_awaiting_callback
from anchang.followups.services import callback_record
from anchang.followups.tests.helpers import customer_of, ended_visit, queries_of
from anchang.inventory.testing import ProjectFactory
from anchang.reception.models import VisitState

pytestmark = pytest.mark.django_db

HTMX = {"HX-Request": "true"}


@pytest.fixture
def visit(project, consultant):
    return ended_visit(project, customer_of(project, consultant), consultant)


def test_service_records_a_callback(visit, service, consultant) -> None:
    callback = callback_record(visit=visit, by=service, satisfaction=4, comments="  讲解很专业 ")
    assert (callback.satisfaction, callback.comments, callback.consultant, callback.by) == (
        4,
        "讲解很专业",
        consultant,
        service,
    )
    assert callback.customer_id == visit.customer_id
    event = CustomerEvent.objects.get(kind=EventKind.CALLBACK)
    assert "4/5" in event.text and "讲解很专业" in event.text and event.data["visit_id"] == visit.pk


def test_the_receiving_consultant_is_refused_even_when_calling_the_service(visit, consultant) -> None:
    with pytest.raises(Forbidden) as error:
        callback_record(visit=visit, by=consultant, satisfaction=5)
    assert error.value.code == "own_reception"
    assert not Callback.objects.exists()


def test_a_manager_may_not_rate_their_own_reception(project, manager) -> None:
    own = ended_visit(project, customer_of(project, manager), manager)
    with pytest.raises(Forbidden):
        callback_record(visit=own, by=manager, satisfaction=5)


def test_other_roles_are_refused(visit, other_consultant, frontdesk, agent) -> None:
    for user in (other_consultant, frontdesk, agent):
        with pytest.raises(Forbidden):
            callback_record(visit=visit, by=user, satisfaction=3)
    stranger = user_in(ProjectFactory(), role="service")
    with pytest.raises(NotFound):
        callback_record(visit=visit, by=stranger, satisfaction=3)
    assert not Callback.objects.exists()


@pytest.mark.parametrize("score", [0, 6, -1, True, "5"])
def test_satisfaction_must_be_1_to_5(visit, service, score) -> None:
    with pytest.raises(InvalidInput) as error:
        callback_record(visit=visit, by=service, satisfaction=score)
    assert "satisfaction" in error.value.fields
    assert not Callback.objects.exists() and not CustomerEvent.objects.exists()


def test_one_callback_per_visit(visit, service, manager) -> None:
    callback_record(visit=visit, by=service, satisfaction=5)
    with pytest.raises(Conflict):
        callback_record(visit=visit, by=manager, satisfaction=1)
    assert Callback.objects.get().satisfaction == 5
    assert CustomerEvent.objects.filter(kind=EventKind.CALLBACK).count() == 1


def test_only_ended_valid_receptions(project, consultant, service) -> None:
    customer = customer_of(project, consultant)
    for state in (VisitState.RECEIVING, VisitState.INVALID):
        one = ended_visit(project, customer, consultant, state=state)
        with pytest.raises(Conflict):
            callback_record(visit=one, by=service, satisfaction=4)


# --- the list page --------------------------------------------------------------------------------


def test_the_list_shows_recent_ended_visits_without_a_callback(
    project, consultants, service, manager
) -> None:
    a, b, _ = consultants
    waiting = ended_visit(project, customer_of(project, a, name="李雷"), a)
    called = ended_visit(project, customer_of(project, b), b)
    callback_record(visit=called, by=service, satisfaction=5)
    ended_visit(project, customer_of(project, a), a, ended_ago=timedelta(days=10))
    ended_visit(project, customer_of(project, a), a, state=VisitState.INVALID)
    own = ended_visit(project, customer_of(project, manager), manager)
    assert [v.pk for v in visits_awaiting_callback(project=project, viewer=service)] == [own.pk, waiting.pk]
    assert [v.pk for v in visits_awaiting_callback(project=project, viewer=manager)] == [waiting.pk]
    assert len(visits_awaiting_callback(project=project, viewer=service, days=30)) == 3


def test_the_page_for_service_with_masked_phones(client_for, project, visit, service) -> None:
    response = client_for(service).get(reverse("followups:callbacks", args=[project.pk]))
    html = response.content.decode()
    assert response.status_code == 200
    assert "王先生" in html and "王小明" not in html
    digits = visit.customer.phone[3:]
    assert digits not in html and f"{digits[:3]}****{digits[-4:]}" in html
    assert f'hx-get="{reverse("followups:callback", args=[visit.pk])}"' in html


def test_consultants_never_see_the_callback_pages(
    client_for, project, visit, consultant, other_consultant
) -> None:
    for user in (consultant, other_consultant):
        client = client_for(user)
        assert client.get(reverse("followups:callbacks", args=[project.pk])).status_code == 404
        assert client.get(reverse("followups:callback", args=[visit.pk])).status_code == 404
        assert (
            client.post(reverse("followups:callback", args=[visit.pk]), {"satisfaction": 5}).status_code
            == 404
        )
        assert client.get(reverse("followups:callback_results", args=[project.pk])).status_code == 404
    assert not Callback.objects.exists()


def test_the_list_page_has_a_fixed_query_count(client_for, project, consultants, service) -> None:
    client = client_for(service)
    url = reverse("followups:callbacks", args=[project.pk])
    client.get(url)

    def seed(n: int) -> None:
        for i in range(n):
            owner = consultants[i % 3]
            ended_visit(project, customer_of(project, owner), owner)

    seed(3)
    few = queries_of(lambda: client.get(url))
    seed(27)
    assert queries_of(lambda: client.get(url)) == few


def test_recording_from_the_page(client_for, visit, service) -> None:
    client = client_for(service)
    url = reverse("followups:callback", args=[visit.pk])
    assert 'name="satisfaction"' in client.get(url, headers=HTMX).content.decode()
    for bad in ({"satisfaction": "0"}, {"satisfaction": "6"}, {}):
        response = client.post(url, bad, headers=HTMX)
        assert response.status_code == 200 and "满意度请选择 1–5 分" in response.content.decode()
    assert client.post(url, {"satisfaction": "6"}).status_code == 400
    assert not Callback.objects.exists()
    done = client.post(url, {"satisfaction": "4", "comments": "<script>x</script>"}, headers=HTMX)
    assert "回访已记录：满意度 4/5" in done.content.decode()
    again = client.post(url, {"satisfaction": "5"})
    assert again.status_code == 409 and "已经回访过了" in again.content.decode()
    assert Callback.objects.get().comments == "<script>x</script>"


def test_plain_post_redirects_to_the_list(client_for, project, visit, manager) -> None:
    response = client_for(manager).post(reverse("followups:callback", args=[visit.pk]), {"satisfaction": "5"})
    assert response.status_code == 302 and response.url == reverse("followups:callbacks", args=[project.pk])


# --- results --------------------------------------------------------------------------------------


def _rated(project, consultant, scores, service, *, days_ago=0):
    for score in scores:
        one = ended_visit(project, customer_of(project, consultant), consultant)
        callback = callback_record(visit=one, by=service, satisfaction=score)
        Callback.objects.filter(pk=callback.pk).update(at=timezone.now() - timedelta(days=days_ago))


def test_results_per_consultant(project, consultants, service, django_assert_num_queries) -> None:
    a, b, _c = consultants
    _rated(project, a, [5, 4, 2], service)
    _rated(project, b, [3], service)
    _rated(project, b, [1], service, days_ago=40)
    today = timezone.localdate()
    with django_assert_num_queries(1):
        rows = callback_results_by_consultant(
            project=project, date_from=today - timedelta(days=29), date_to=today
        )
    assert [(r.name, r.count, r.average, round(r.satisfied_share, 4)) for r in rows] == [
        ("顾问1", 3, 3.67, 0.6667),
        ("顾问2", 1, 3.0, 0.0),
    ]
    older = callback_results_by_consultant(
        project=project, date_from=today - timedelta(days=45), date_to=today - timedelta(days=35)
    )
    assert [(r.name, r.count) for r in older] == [("顾问2", 1)]


def test_results_page(client_for, project, consultants, service, manager) -> None:
    _rated(project, consultants[0], [5, 4], service)
    client = client_for(manager)
    url = reverse("followups:callback_results", args=[project.pk])
    html = client.get(url).content.decode()
    assert "顾问1" in html and "4.50" in html and "100%" in html
    assert client.get(url, {"date_from": "2026-02-01", "date_to": "2026-01-01"}).status_code == 400
    assert client.get(url, {"date_from": "nonsense"}).status_code == 400
    assert client_for(service).get(url).status_code == 404

    def seed(n: int) -> None:
        for i in range(n):
            _rated(project, consultants[i % 3], [1 + i % 5], service)

    few = queries_of(lambda: client.get(url))
    seed(28)
    assert queries_of(lambda: client.get(url)) == few


# --- API ------------------------------------------------------------------------------------------


def post(client, url, body, headers):
    return client.post(url, body, content_type="application/json", headers=headers)


def test_callback_api(client, visit, service, consultant, api_token_for) -> None:
    url = f"/api/v1/visits/{visit.pk}/callback"
    assert post(client, url, {"satisfaction": 5}, api_token_for(consultant)).status_code == 403
    bad = post(client, url, {"satisfaction": 6}, api_token_for(service))
    assert bad.status_code == 400 and "satisfaction" in bad.json()["fields"]
    assert post(client, url, {"satisfaction": "x"}, api_token_for(service)).status_code == 400
    created = post(client, url, {"satisfaction": 4, "comments": "好"}, api_token_for(service))
    assert created.status_code == 201
    body = created.json()
    assert (body["visit_id"], body["consultant_id"], body["satisfaction"]) == (visit.pk, consultant.pk, 4)
    assert post(client, url, {"satisfaction": 4}, api_token_for(service)).status_code == 409
    assert (
        post(
            client, "/api/v1/visits/999999/callback", {"satisfaction": 4}, api_token_for(service)
        ).status_code
        == 404
    )
