"""GET /projects/{pid}/callbacks and /callback-results: the 回访 pages' data over the API."""

from datetime import timedelta

import pytest
from django.utils import timezone

from anchang.accounts.models import Role
from anchang.accounts.testing import user_in
from anchang.customers.models import AttributionRule, Customer
from anchang.followups.services import callback_record
from anchang.reception.models import Visit, VisitKind, VisitState

pytestmark = pytest.mark.django_db


def ended(project, phone, consultant, *, days_ago=0, name="王小明", gender="male") -> Visit:
    customer, _ = Customer.objects.get_or_create(
        project=project, phone=f"+86{phone}", defaults={"name": name, "gender": gender, "owner": consultant}
    )
    left = timezone.now() - timedelta(days=days_ago)
    return Visit.objects.create(
        project=project,
        customer=customer,
        kind=VisitKind.FIRST,
        state=VisitState.ENDED,
        rule=AttributionRule.ROTATION,
        consultant=consultant,
        checked_in_at=left - timedelta(hours=1),
        checked_out_at=left,
    )


def test_receptions_awaiting_a_callback(client, project, service, consultant, api_token_for) -> None:
    recent = ended(project, "13812340001", consultant)
    older = ended(project, "13812340002", consultant, days_ago=3)
    ended(project, "13812340003", consultant, days_ago=20)  # beyond the default 7 days
    called = ended(project, "13812340004", consultant)
    callback_record(visit=called, by=service, satisfaction=5)
    headers = api_token_for(service)

    body = client.get(f"/api/v1/projects/{project.pk}/callbacks", headers=headers).json()
    wider = client.get(f"/api/v1/projects/{project.pk}/callbacks", {"days": 30}, headers=headers).json()

    assert [item["visit_id"] for item in body["items"]] == [recent.pk, older.pk] and body["count"] == 2
    assert body["items"][0]["name"] == "王先生" and body["items"][0]["phone"] == "138****0001"
    assert body["items"][0]["checked_out_at"].endswith("+08:00")
    assert body["items"][0]["consultant_name"] == consultant.display_name
    assert wider["count"] == 3


def test_callback_results_per_consultant(
    client, project, manager, service, consultant, api_token_for
) -> None:
    callback_record(visit=ended(project, "13812340001", consultant), by=service, satisfaction=5)
    callback_record(visit=ended(project, "13812340002", consultant), by=service, satisfaction=2)

    response = client.get(f"/api/v1/projects/{project.pk}/callback-results", headers=api_token_for(manager))

    assert response.status_code == 200, response.content
    body = response.json()
    assert body["date_to"] == str(timezone.localdate())
    assert body["date_from"] == str(timezone.localdate() - timedelta(days=29))
    assert body["rows"] == [
        {
            "consultant_id": consultant.pk,
            "consultant_name": consultant.display_name,
            "count": 2,
            "average": 3.5,
            "satisfied_share": 0.5,
        }
    ]


@pytest.mark.parametrize(
    ("path", "query", "field"),
    [
        ("callbacks", {"days": 0}, "days"),
        ("callbacks", {"days": 31}, "days"),
        ("callback-results", {"date_from": "2026-12-05", "date_to": "2026-12-01"}, "date_to"),
        ("callback-results", {"date_to": "9999-12-31"}, "date_to"),
        ("callback-results", {"date_from": "someday"}, "date_from"),
    ],
)
def test_bad_input_is_400_naming_the_field(
    client, project, manager, api_token_for, path, query, field
) -> None:
    response = client.get(f"/api/v1/projects/{project.pk}/{path}", query, headers=api_token_for(manager))

    assert response.status_code == 400 and field in response.json()["fields"], response.content


def test_who_may_see_them(client, project, other_project, service, consultant, api_token_for) -> None:
    stranger = user_in(other_project, role=Role.SERVICE, username="elsewhere")
    base = f"/api/v1/projects/{project.pk}"

    assert client.get(f"{base}/callbacks", headers=api_token_for(consultant)).status_code == 403
    assert client.get(f"{base}/callback-results", headers=api_token_for(service)).status_code == 403
    assert client.get(f"{base}/callbacks", headers=api_token_for(stranger)).status_code == 404


@pytest.mark.parametrize("rows", [1, 8])
def test_query_budget(
    client, project, service, consultant, api_token_for, django_assert_max_num_queries, rows
) -> None:
    for i in range(rows):
        ended(project, f"138123400{i:02d}", consultant)
    headers = api_token_for(service)

    # token and user, project, one page (customer and consultant joined), the count
    with django_assert_max_num_queries(4):
        response = client.get(f"/api/v1/projects/{project.pk}/callbacks", headers=headers)

    assert response.json()["count"] == rows
