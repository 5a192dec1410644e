"""The demo's certificates (五证) and buyers' disclosures: every building can be sold, every buyer the
demo sold to confirmed the risk disclosure (or converted a reservation, which required it), and a rerun
adds nothing."""

import pytest

from anchang.deals.models import Reservation, Subscription
from anchang.demo.loader import HIGH_RISE, TOWNHOUSE, load_demo
from anchang.inventory.models import Building, Certificate, CertificateKind
from anchang.inventory.permits import building_is_permitted
from anchang.reception.stations import risk_disclosure_recorded

pytestmark = pytest.mark.django_db


def test_the_demo_has_five_certificates_covering_every_building_and_disclosed_buyers() -> None:
    load_demo()
    for code in (HIGH_RISE, TOWNHOUSE):
        kinds = set(Certificate.objects.filter(project__code=code).values_list("kind", flat=True))
        assert kinds == set(CertificateKind.values), code
        for building in Building.objects.filter(project__code=code):
            assert building_is_permitted(building_id=building.pk), building
    buyers = {s.customer_id for s in Subscription.objects.filter(reservation__isnull=True)}
    buyers |= set(Reservation.objects.values_list("customer_id", flat=True))
    assert buyers
    assert all(risk_disclosure_recorded(customer_id=pk) for pk in buyers)

    certificates = Certificate.objects.count()
    load_demo()
    assert Certificate.objects.count() == certificates
