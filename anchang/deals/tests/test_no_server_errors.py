"""Odd values in every field and query of the deals API answer 4xx, never 5xx (quality P3, P4)."""

import itertools
from decimal import Decimal

import pytest

from anchang.deals.services import reservation_create
from anchang.deals.tests.helpers import customer_of, pending, subscribe, units_of

pytestmark = pytest.mark.django_db

ODD: list[object] = [
    None,
    "",
    "x",
    "\x00",
    "<script>alert(1)</script>",
    "' OR 1=1 --",
    -1,
    0,
    2**63,
    2**64,
    1.5,
    "1e400",
    "NaN",
    [],
    {},
    True,
    "9" * 60,
    "2026-13-45",
    "0001-01-01T00:00:00+14:00",
]
RAW_BODIES = ["", "[]", "null", "{", '"x"', "1"]


def test_odd_input_never_makes_a_server_error(client, project, consultant, manager, api_token_for) -> None:
    units = units_of(project)
    active = subscribe(units[0], customer_of(project, consultant), consultant)
    waiting = pending(units[1], customer_of(project, consultant), consultant)
    reservation = reservation_create(
        project=project, customer=customer_of(project, consultant), amount=Decimal(1), by=consultant
    )
    posts = {
        f"/api/v1/units/{units[2].pk}/subscriptions": ["customer_id", "price", "deposit"],
        f"/api/v1/units/{units[3].pk}/hold": ["reason", "expires_at"],
        f"/api/v1/units/{units[3].pk}/release": ["reason"],
        f"/api/v1/subscriptions/{active.pk}/contract": ["contract_number"],
        f"/api/v1/subscriptions/{waiting.pk}/approve": ["note"],
        f"/api/v1/subscriptions/{waiting.pk}/reject": ["note"],
        f"/api/v1/subscriptions/{active.pk}/change-unit": ["unit_id", "price", "deposit", "reason"],
        f"/api/v1/projects/{project.pk}/reservations": ["customer_id", "amount"],
        f"/api/v1/reservations/{reservation.pk}/refund": ["reason"],
    }
    queries = [
        "/api/v1/subscriptions?project={v}",
        "/api/v1/subscriptions?status={v}",
        "/api/v1/subscriptions?date_from={v}",
        "/api/v1/subscriptions?limit={v}&offset={v}",
        "/api/v1/subscriptions/{v}",
        f"/api/v1/projects/{project.pk}/sales-summary?date_from={{v}}",
        f"/api/v1/projects/{project.pk}/sales-summary?date_to={{v}}",
        f"/api/v1/projects/{project.pk}/reservations?status={{v}}",
        f"/api/v1/projects/{project.pk}/holds?offset={{v}}",
        "/api/v1/projects/{v}/holds",
    ]
    failures = []
    for user in (consultant, manager):
        headers = api_token_for(user)
        for url, fields in posts.items():
            for field, value in itertools.product(fields, ODD):
                body = {**dict.fromkeys(fields, "1"), field: value}
                answer = client.post(url, body, content_type="application/json", headers=headers)
                if answer.status_code >= 500:
                    failures.append((url, body, answer.status_code))
            for raw in RAW_BODIES:
                answer = client.post(url, raw, content_type="application/json", headers=headers)
                if answer.status_code >= 500:
                    failures.append((url, raw, answer.status_code))
        for query, value in itertools.product(queries, [v for v in ODD if v is not None]):
            answer = client.get(query.format(v=value), headers=headers)
            if answer.status_code >= 500:
                failures.append((query, value, answer.status_code))
    assert not failures, failures[:10]
