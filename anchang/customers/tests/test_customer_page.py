import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from anchang.reception.services import check_in, visit_end
from anchang.reception.testing import run_check_in_follow_ups

pytestmark = pytest.mark.django_db


@pytest.fixture
def returning(project, frontdesk, on_duty):
    first = check_in(
        project=project, phone="13812345678", name="王小明", gender="male", by=frontdesk, consent=True
    )
    visit_end(visit_id=first.visit.pk, by=on_duty[0], outcome="return")
    check_in(project=project, phone="13812345678", by=frontdesk, consent=True)
    run_check_in_follow_ups()  # the timeline rows come from the worker
    return first.customer


def test_customer_page_shows_why_each_visit_went_to_its_consultant(client_for, returning, manager) -> None:
    html = client_for(manager).get(reverse("customers:detail", args=[returning.pk])).content.decode()
    assert "首次到访" in html and "由归属顾问接待" in html
    assert "138****5678" in html and "13812345678" not in html
    assert "归属顾问：无 → 顾问1" in html


def test_the_owner_sees_the_full_phone_and_other_consultants_get_404(client_for, returning, on_duty) -> None:
    url = reverse("customers:detail", args=[returning.pk])
    assert "138 1234 5678" in client_for(on_duty[0]).get(url).content.decode()
    assert client_for(on_duty[1]).get(url).status_code == 404


@pytest.mark.parametrize("role_fixture", ["agent", "service", "attendant"])
def test_roles_without_customer_access_get_404(client_for, returning, role_fixture, request) -> None:
    user = request.getfixturevalue(role_fixture)
    assert client_for(user).get(reverse("customers:detail", args=[returning.pk])).status_code == 404


def test_customer_page_query_count_does_not_grow_with_visits(
    client_for, returning, manager, project, frontdesk, on_duty
) -> None:
    client = client_for(manager)
    url = reverse("customers:detail", args=[returning.pk])
    client.get(url)
    with CaptureQueriesContext(connection) as few:
        client.get(url)
    for _ in range(4):
        visit = check_in(project=project, phone="13812345678", by=frontdesk, consent=True).visit
        visit_end(visit_id=visit.pk, by=frontdesk, outcome="return")
    with CaptureQueriesContext(connection) as many:
        client.get(url)
    assert len(many) == len(few)


def test_a_manager_reveals_the_phone_with_a_reason_and_it_is_logged(client_for, returning, manager) -> None:
    from anchang.core.models import AccessLog

    url = reverse("customers:detail", args=[returning.pk])
    refused = client_for(manager).post(url, {"reveal_reason": " "}).content.decode()
    assert "13812345678" not in refused and AccessLog.objects.count() == 0
    html = client_for(manager).post(url, {"reveal_reason": "客户来电要求回拨"}).content.decode()
    assert "138 1234 5678" in html and 'href="tel:13812345678"' in html
    assert AccessLog.objects.filter(user=manager).count() == 1


def test_a_consultant_cannot_reveal_through_the_page(client_for, returning, on_duty) -> None:
    from anchang.core.models import AccessLog

    response = client_for(on_duty[1]).post(
        reverse("customers:detail", args=[returning.pk]), {"reveal_reason": "x"}
    )
    assert response.status_code == 404 and not AccessLog.objects.exists()


def test_pool_customers_are_open_to_the_projects_consultants_masked(client_for, returning, on_duty) -> None:
    from django.utils import timezone

    from anchang.customers.models import Customer

    Customer.objects.filter(pk=returning.pk).update(
        owner=None, pooled_at=timezone.now(), pool_reason="protection_expired"
    )
    html = client_for(on_duty[1]).get(reverse("customers:detail", args=[returning.pk])).content.decode()
    assert "认领该客户" in html and "138****5678" in html and "13812345678" not in html


def test_customer_page_shows_needs_stations_follow_ups_and_callbacks(
    client_for, project, frontdesk, manager, on_duty, service
) -> None:
    from anchang.customers.needs import needs_intent_update
    from anchang.followups.services import callback_record
    from anchang.reception.checkout import visit_check_out
    from anchang.reception.stations import station_tick, stations_ensure_defaults

    stations_ensure_defaults(project=project)
    visit = check_in(project=project, phone="13812345678", name="王小明", by=frontdesk, consent=True).visit
    station_tick(visit=visit, code=visit.project.stations.order_by("sort_order").first().code, by=on_duty[0])
    needs_intent_update(
        customer=visit.customer,
        by=on_duty[0],
        needs={"bedrooms": 3, "concerns": "离地铁远"},
        intent_level="B",
    )
    visit_check_out(visit_id=visit.pk, by=on_duty[0], outcome="return")
    visit.refresh_from_db()
    callback_record(visit=visit, by=service, satisfaction=5, comments="顾问很专业")
    html = client_for(manager).get(reverse("customers:detail", args=[visit.customer_id])).content.decode()
    assert "离地铁远" in html and "3室" in html
    assert "已讲解" in html and "回访满意度 5/5" in html
    assert "待跟进" in html  # the first follow-up, scheduled by the check-out
