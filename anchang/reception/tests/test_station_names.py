"""Tour routes are shown by their stations' names; the codes ("parking", "hall") stay internal."""

import re

import pytest
from django.urls import reverse

from anchang.reception.models import Station
from anchang.reception.stations import stations_ensure_defaults

pytestmark = pytest.mark.django_db


def test_the_route_page_names_stations_without_their_codes(client_for, project, manager) -> None:
    stations_ensure_defaults(project=project)
    html = client_for(manager).get(reverse("stations:list", args=[project.pk])).content.decode()
    main = html[html.index("<main") : html.index("</main>")]
    text = re.sub(r"<[^>]+>", " ", main)  # what is read, not the markup's attributes
    stations = list(Station.objects.filter(project=project))
    assert stations
    for station in stations:
        assert station.name in text
        assert not re.search(rf"\b{re.escape(station.code)}\b", text), station.code
