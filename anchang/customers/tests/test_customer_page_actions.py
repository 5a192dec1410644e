"""The customer page leads somewhere (issue 11 §2): call, record a follow-up, one owner badge."""

import pytest
from django.urls import reverse

from anchang.core.phones import spaced_mobile
from anchang.customers.models import Customer, Stage
from anchang.reception.services import check_in

pytestmark = pytest.mark.django_db


@pytest.fixture
def customer(project, frontdesk, on_duty):
    return check_in(
        project=project, phone="13536343703", name="李梅", gender="female", by=frontdesk, consent=True
    ).customer


def test_spaced_mobile_reads_3_4_4_without_the_country_code() -> None:
    assert spaced_mobile("+8613536343703") == "135 3634 3703"
    assert spaced_mobile("13536343703") == "135 3634 3703"
    assert spaced_mobile("") == ""


def test_the_owner_gets_a_tap_to_call_link_and_a_follow_up_button(client_for, customer, on_duty) -> None:
    url = reverse("customers:detail", args=[customer.pk])
    html = client_for(on_duty[0]).get(url).content.decode()
    assert 'href="tel:13536343703"' in html and "135 3634 3703" in html
    assert "+86" not in html
    record = reverse("followups:record", args=[customer.pk])
    assert f'href="{record}?next={url}"' in html


def test_a_manager_records_follow_ups_but_sees_the_phone_masked(client_for, customer, manager) -> None:
    html = client_for(manager).get(reverse("customers:detail", args=[customer.pk])).content.decode()
    assert "135****3703" in html and "tel:" not in html and "3634" not in html
    assert reverse("followups:record", args=[customer.pk]) in html


def test_the_front_desk_gets_neither_call_nor_follow_up(client_for, customer, frontdesk) -> None:
    html = client_for(frontdesk).get(reverse("customers:detail", args=[customer.pk])).content.decode()
    assert "tel:" not in html and reverse("followups:record", args=[customer.pk]) not in html


def test_an_owner_shows_one_owner_badge_and_no_intent_level(client_for, customer, on_duty) -> None:
    Customer.objects.filter(pk=customer.pk).update(is_owner=True, stage=Stage.OWNER, intent_level="B")
    html = client_for(on_duty[0]).get(reverse("customers:detail", args=[customer.pk])).content.decode()
    assert html.count("已签约业主") == 1 and ">业主<" not in html
    assert "B 级" not in html
