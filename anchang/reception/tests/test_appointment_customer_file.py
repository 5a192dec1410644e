"""A booking links to the customer's file when the phone is a customer the viewer may open."""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from anchang.customers.calls.services import inbound_call_record
from anchang.customers.models import Customer
from anchang.reception.appointments import appointment_create
from anchang.reception.models import BookingChannel

pytestmark = pytest.mark.django_db


def book(project, consultant, phone: str):
    return appointment_create(
        project=project,
        name="周先生",
        phone=phone,
        start_at=timezone.now() + timedelta(hours=3),
        consultant=consultant,
        consent=True,
        channel=BookingChannel.DESK,
    )


def test_the_consultant_sees_who_is_coming_through_the_customers_file(
    client_for, project, consultant, other_consultant, frontdesk
) -> None:
    inbound_call_record(project=project, by=consultant, phone="13612345678", source="online", question="价格")
    appointment = book(project, consultant, "136 1234 5678")
    customer_url = reverse("customers:detail", args=[Customer.objects.get().pk])
    url = reverse("appointments:detail", args=[appointment.pk])

    assert customer_url in client_for(consultant).get(url).content.decode()
    assert customer_url in client_for(frontdesk).get(url).content.decode()
    # A colleague may see the booking but not another consultant's customer: no link.
    other = book(project, other_consultant, "13612345678")
    assert (
        customer_url
        not in client_for(other_consultant)
        .get(reverse("appointments:detail", args=[other.pk]))
        .content.decode()
    )


def test_a_phone_the_project_does_not_know_has_no_file_to_link(client_for, project, consultant) -> None:
    appointment = book(project, consultant, "13612345678")

    html = client_for(consultant).get(reverse("appointments:detail", args=[appointment.pk])).content.decode()

    assert 'id="customer-file"' not in html
