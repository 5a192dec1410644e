"""One time format in the whole API (api.md "Conventions"): ISO 8601 with the project's offset, never `Z`.

Two walks: the OpenAPI document (every example, and every timestamp an answer schema declares) and the
real answers of every GET endpoint, called as the demo's manager on the demo's data.
"""

import json
import re
from collections.abc import Iterator
from typing import Any

import pytest
from django.db.models import QuerySet
from django.test import Client

from anchang.accounts.models import ApiToken, User
from anchang.core.api import LOCAL_DATETIME_EXAMPLE
from anchang.customers.models import Customer, Needs
from anchang.deals.models import OpeningSession, Subscription
from anchang.demo.loader import HIGH_RISE, load_demo
from anchang.inventory.models import Project, Unit, UnitStatus
from anchang.reception.models import Appointment, Visit

pytestmark = pytest.mark.django_db

TIMESTAMP = re.compile(r"\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}")
WITH_OFFSET = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d+)?\+08:00$")


def strings(value: Any, path: str = "") -> Iterator[tuple[str, str]]:
    """Every string in a JSON value with where it was found."""
    if isinstance(value, str):
        yield path, value
    elif isinstance(value, dict):
        for key, item in value.items():
            yield from strings(item, f"{path}.{key}")
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from strings(item, f"{path}[{index}]")


def bad_timestamps(value: Any) -> list[tuple[str, str]]:
    """Strings that are a timestamp (a whole value, not a date in free text) without the +08:00 form."""
    return [
        (path, text)
        for path, text in strings(value)
        if TIMESTAMP.match(text) and len(text) <= 40 and not WITH_OFFSET.match(text)
    ]


def test_the_format_itself() -> None:
    assert WITH_OFFSET.match(LOCAL_DATETIME_EXAMPLE)
    assert not bad_timestamps({"at": "2026-12-04T10:30:00+08:00", "day": "2026-12-04"})
    assert bad_timestamps({"a": "2026-12-04T02:30:00Z"}) == [(".a", "2026-12-04T02:30:00Z")]
    assert bad_timestamps([{"b": "2026-12-04T10:30:00"}]) == [("[0].b", "2026-12-04T10:30:00")]


@pytest.fixture
def document(client: Client) -> dict:
    return json.loads(client.get("/api/v1/openapi.json").content)


def _answer_schemas(document: dict) -> set[str]:
    """Names of the component schemas reachable from any documented answer."""
    schemas = document["components"]["schemas"]
    pending = [
        answer["content"]["application/json"]["schema"]
        for operations in document["paths"].values()
        for operation in operations.values()
        for answer in operation["responses"].values()
        if "content" in answer
    ]
    seen: set[str] = set()
    while pending:
        for _path, text in strings(pending.pop()):
            if text.startswith("#/components/schemas/"):
                name = text.rsplit("/", 1)[1]
                if name not in seen:
                    seen.add(name)
                    pending.append(schemas[name])
    return seen


def _date_time_properties(schema: Any, path: str = "") -> Iterator[tuple[str, dict]]:
    if isinstance(schema, dict):
        if schema.get("format") == "date-time":
            yield path, schema
        for key, item in schema.items():
            yield from _date_time_properties(item, f"{path}.{key}")
    elif isinstance(schema, list):
        for index, item in enumerate(schema):
            yield from _date_time_properties(item, f"{path}[{index}]")


def test_every_example_in_the_document_has_the_offset(document: dict) -> None:
    examples = [
        (path, value)
        for path, value in strings(document)
        if re.search(r"\.examples\[\d+\]$|\.example$", path)
    ]

    assert examples, "the document shows no examples at all?"
    assert bad_timestamps(dict(examples)) == []


def test_every_answered_timestamp_is_declared_in_the_local_form(document: dict) -> None:
    """A schema that answers a bare `datetime` instead of core.api.LocalDateTime fails here."""
    schemas = document["components"]["schemas"]
    declared = [
        (f"{name}{path}", schema)
        for name in _answer_schemas(document)
        for path, schema in _date_time_properties(schemas[name])
    ]

    assert len(declared) > 20
    for where, schema in declared:
        assert schema.get("examples") == [LOCAL_DATETIME_EXAMPLE], where


def _first_pk(rows: QuerySet[Any]) -> int:
    row = rows.order_by("pk").first()
    assert row is not None, f"the demo has no {rows.model.__name__}"
    return int(row.pk)


# Where each path parameter of a GET endpoint comes from in the demo data; a new GET endpoint with a
# parameter not listed here fails the walk (KeyError) until it is added.
def _path_values(project: Project) -> dict[str, int]:
    return {
        "pid": project.pk,
        "visit_id": _first_pk(Visit.objects.filter(project=project, checked_out_at__isnull=False)),
        "customer_id": _first_pk(Customer.objects.filter(project=project, visits__isnull=False)),
        "subscription_id": _first_pk(Subscription.objects.filter(unit__building__project=project)),
        # a unit whose history has a status change in it
        "uid": _first_pk(Unit.objects.filter(project=project).exclude(status=UnitStatus.AVAILABLE)),
        "session_id": _first_pk(OpeningSession.objects.filter(project=project)),
        "appointment_id": _first_pk(Appointment.objects.filter(project=project)),
    }


ADMIN_ONLY = {"/api/v1/overview"}


def _bearer(user: User) -> dict[str, str]:
    _token, raw = ApiToken.issue(user)
    return {"Authorization": f"Bearer {raw}"}


def test_real_answers_of_every_get_endpoint_have_the_offset(client: Client, document: dict) -> None:
    load_demo()
    manager = User.objects.get(username="manager")
    project = Project.objects.get(code=HIGH_RISE)
    headers = _bearer(manager)
    # The administrator's overview is theirs alone; everything else is walked as the manager.
    admin_headers = _bearer(User.objects.get(username="admin"))
    values = _path_values(project)
    # The demo records no needs; without any, recommendations answer "fill in the needs first" (400).
    Needs.objects.create(customer_id=values["customer_id"], bedrooms=3)
    checked: list[str] = []
    seen_timestamps = 0

    for path, operations in document["paths"].items():
        if "get" not in operations or path.endswith(("/openapi.json", "/docs")):
            continue
        url = re.sub(r"\{(\w+)\}", lambda match: str(values[match.group(1)]), path)
        query: dict[str, object] = {"project": project.pk} if "{pid}" not in path else {}
        if path.endswith("/checkins/preview"):  # judges a phone: one of the demo's customers
            query = {"phone": Customer.objects.filter(pk=values["customer_id"]).get().phone}
        response = client.get(url, query, headers=admin_headers if path in ADMIN_ONLY else headers)
        assert response.status_code == 200, (path, response.content[:300])
        answer = response.json()
        assert bad_timestamps(answer) == [], path
        seen_timestamps += sum(1 for _path, text in strings(answer) if WITH_OFFSET.match(text))
        checked.append(path)

    assert "/api/v1/projects/{pid}/visits" in checked and len(checked) >= 15
    assert seen_timestamps > 50, "the demo answered hardly any timestamps: the walk proves nothing"
