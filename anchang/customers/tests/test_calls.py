"""Inbound calls (来电): the customer is found or created, the call protection starts, the day's list."""

import threading
from datetime import timedelta

import pytest
from django.db import IntegrityError, connection, transaction
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from anchang.accounts.models import Role
from anchang.accounts.testing import user_in
from anchang.core.errors import Forbidden, InvalidInput
from anchang.core.models import Notification, NotificationChannel
from anchang.core.testing.mobiles import mobile_for
from anchang.core.testing.races import run_in_parallel
from anchang.customers.calls.services import inbound_call_record
from anchang.customers.models import Customer, CustomerEvent, EventKind, InboundCall, PoolReason, Stage
from anchang.inventory.testing import project_with_units

pytestmark = pytest.mark.django_db

PHONE = "13812345678"
E164 = "+8613812345678"


def record(project, by, phone: str = PHONE, **extra):
    fields = {"source": "online", "question": "三房的价格和开盘时间", **extra}
    return inbound_call_record(project=project, by=by, phone=phone, **fields)


def test_a_new_phone_becomes_the_consultants_customer_with_the_call_protection(project, consultant) -> None:
    days = project.settings.protection_days_after_call
    now = timezone.now()

    recorded = record(project, consultant, name="王先生", next_step="周六来访", at=now)

    customer = Customer.objects.get()
    assert (customer.phone, customer.name, customer.source, customer.stage) == (
        E164,
        "王先生",
        "online",
        Stage.LEAD,
    )
    assert customer.owner == consultant and recorded.now_owner
    assert customer.protected_until == now + timedelta(days=days)
    call = InboundCall.objects.get()
    assert (call.customer, call.taken_by, call.recorded_by, call.new_customer) == (
        customer,
        consultant,
        consultant,
        True,
    )
    assert (call.source, call.question, call.next_step) == ("online", "三房的价格和开盘时间", "周六来访")
    event = CustomerEvent.objects.get(customer=customer)
    assert event.kind == EventKind.CALL and "三房的价格和开盘时间" in event.text and "网络" in event.text


def test_the_same_phone_never_makes_a_second_customer(project, consultant, other_consultant) -> None:
    record(project, consultant, phone="138 1234 5678")
    again = record(project, other_consultant, phone="+86 138-1234-5678")

    assert Customer.objects.count() == 1
    assert InboundCall.objects.count() == 2 and not again.call.new_customer
    # The first consultant keeps the customer; a colleague's call does not take it.
    assert Customer.objects.get().owner == consultant and not again.now_owner


def test_the_desk_names_the_consultant_who_took_the_call(project, frontdesk, consultant) -> None:
    recorded = record(project, frontdesk, taken_by_id=consultant.pk)

    assert recorded.customer.owner == consultant
    assert (recorded.call.taken_by, recorded.call.recorded_by) == (consultant, frontdesk)


def test_the_callers_own_consultant_extends_protection_like_a_follow_up(project, consultant) -> None:
    now = timezone.now()
    record(project, consultant, at=now - timedelta(days=6))
    Customer.objects.update(protected_until=now + timedelta(days=1))

    record(project, consultant, at=now)

    customer = Customer.objects.get()
    assert customer.protected_until == now + timedelta(days=project.settings.protection_days_after_call)
    assert customer.last_contact_at == now


def test_a_call_never_shortens_protection(project, consultant) -> None:
    now = timezone.now()
    record(project, consultant, at=now)
    after_visit = now + timedelta(days=15)
    Customer.objects.update(protected_until=after_visit, last_visit_at=now)

    record(project, consultant, at=now + timedelta(hours=1))

    assert Customer.objects.get().protected_until == after_visit


def test_calls_alone_never_carry_protection_past_the_ceiling(project, consultant) -> None:
    settings = project.settings
    now = timezone.now()
    record(project, consultant, at=now)
    registered = now - timedelta(days=settings.protection_ceiling_days - 2)
    Customer.objects.update(created_at=registered, protected_until=now + timedelta(hours=1))

    record(project, consultant, at=now)

    assert Customer.objects.get().protected_until == registered + timedelta(
        days=settings.protection_ceiling_days
    )


def test_a_colleagues_call_leaves_owner_and_protection(project, consultant, other_consultant) -> None:
    record(project, consultant)
    protected = Customer.objects.get().protected_until

    recorded = record(project, other_consultant, question="问车位")

    customer = Customer.objects.get()
    assert (customer.owner, customer.protected_until) == (consultant, protected)
    assert not recorded.now_owner
    assert CustomerEvent.objects.filter(customer=customer, kind=EventKind.CALL).count() == 2


def test_the_owner_hears_of_a_colleagues_call_and_the_taker_of_the_desks(
    project, consultant, other_consultant, frontdesk
) -> None:
    record(project, consultant, name="王先生")
    assert not Notification.objects.exists()  # their own call: nothing to tell

    record(project, frontdesk, question="问车位", taken_by_id=other_consultant.pk)

    told = {n.recipient_id: n for n in Notification.objects.filter(channel=NotificationChannel.IN_APP)}
    assert set(told) == {consultant.pk, other_consultant.pk}
    owner_notice = told[consultant.pk]
    assert owner_notice.title == "您的客户 王先生 来电" and "问车位" in owner_notice.body
    assert owner_notice.url == reverse("customers:detail", args=[Customer.objects.get().pk])
    # The colleague is told the call was written down for them, without a link to a customer not theirs.
    assert "归属其他顾问" in told[other_consultant.pk].body and told[other_consultant.pk].url == ""


def test_a_pool_customer_who_calls_becomes_the_takers(project, consultant) -> None:
    now = timezone.now()
    customer = Customer.objects.create(
        project=project,
        phone=E164,
        pooled_at=now - timedelta(days=3),
        pool_reason=PoolReason.PROTECTION_EXPIRED,
    )

    recorded = record(project, consultant, at=now)

    customer.refresh_from_db()
    assert recorded.now_owner and not recorded.call.new_customer
    assert (customer.owner, customer.pooled_at, customer.pool_reason) == (consultant, None, "")
    assert customer.protected_until == now + timedelta(days=project.settings.protection_days_after_call)
    assert customer.events.filter(kind=EventKind.OWNER_CHANGED).exists()


def test_a_signed_owner_is_not_given_to_anyone(project, consultant) -> None:
    Customer.objects.create(project=project, phone=E164, is_owner=True, stage=Stage.OWNER)

    recorded = record(project, consultant)

    assert Customer.objects.get().owner is None and not recorded.now_owner


def test_bad_input_names_every_field_and_changes_nothing(project, frontdesk, other_project) -> None:
    elsewhere = user_in(other_project, role=Role.CONSULTANT, username="gw_elsewhere")

    with pytest.raises(InvalidInput) as caught:
        record(
            project,
            frontdesk,
            phone="12345",
            source="radio",
            question=" ",
            name="名" * 51,
            taken_by_id=elsewhere.pk,
        )

    assert set(caught.value.fields) == {"phone", "source", "question", "name", "consultant_id"}
    assert "手机号" in caught.value.fields["phone"]
    assert not Customer.objects.exists() and not InboundCall.objects.exists()


def test_a_consultant_cannot_record_for_a_colleague(project, consultant, other_consultant) -> None:
    with pytest.raises(InvalidInput) as caught:
        record(project, consultant, taken_by_id=other_consultant.pk)

    assert set(caught.value.fields) == {"consultant_id"}


def test_the_desk_must_name_the_consultant(project, frontdesk) -> None:
    with pytest.raises(InvalidInput) as caught:
        record(project, frontdesk)

    assert set(caught.value.fields) == {"consultant_id"}


def test_roles_that_take_no_calls_and_other_projects_are_refused(
    project, other_project, agent, consultant
) -> None:
    with pytest.raises(Forbidden):
        record(project, agent)
    with pytest.raises(Forbidden):
        record(other_project, consultant)
    assert not Customer.objects.exists()


# --- API ------------------------------------------------------------------------------------------------


def test_api_records_a_call(client, api_token_for, project, frontdesk, consultant) -> None:
    response = client.post(
        f"/api/v1/projects/{project.pk}/calls",
        {
            "phone": PHONE,
            "name": "王先生",
            "source": "friend",
            "question": "学区",
            "consultant_id": consultant.pk,
        },
        content_type="application/json",
        headers=api_token_for(frontdesk),
    )

    assert response.status_code == 201, response.content
    data = response.json()
    customer = Customer.objects.get()
    assert data["customer_id"] == customer.pk and data["new_customer"] and data["owner_is_consultant"]
    # The desk is not the customer's consultant: the phone is masked, protection not shown.
    assert data["phone"] == "138****5678" and data["protected_until"] is None
    assert data["consultant_id"] == consultant.pk and data["source"] == "friend"


def test_api_bad_input_is_a_400_naming_the_fields(client, api_token_for, project, consultant) -> None:
    response = client.post(
        f"/api/v1/projects/{project.pk}/calls",
        {"phone": "1381234", "source": "", "question": ""},
        content_type="application/json",
        headers=api_token_for(consultant),
    )

    assert response.status_code == 400
    assert set(response.json()["fields"]) == {"phone", "source", "question"}
    assert not Customer.objects.exists()


def test_api_other_project_is_404_and_agent_403(
    client, api_token_for, project, other_project, consultant, agent
):
    body = {"phone": PHONE, "source": "online", "question": "价格"}
    url = f"/api/v1/projects/{other_project.pk}/calls"

    assert (
        client.post(url, body, content_type="application/json", headers=api_token_for(consultant)).status_code
        == 404
    )
    assert client.get(url, headers=api_token_for(consultant)).status_code == 404
    own = f"/api/v1/projects/{project.pk}/calls"
    assert (
        client.post(own, body, content_type="application/json", headers=api_token_for(agent)).status_code
        == 403
    )
    assert client.get(own, headers=api_token_for(agent)).status_code == 403
    assert not Customer.objects.exists()


def test_api_list_masks_phones_except_for_the_owner_and_a_consultant_sees_their_own_calls(
    client, api_token_for, project, consultant, other_consultant, frontdesk
) -> None:
    record(project, consultant, phone=PHONE)
    record(project, other_consultant, phone="13900001111")
    url = f"/api/v1/projects/{project.pk}/calls"

    mine = client.get(url, headers=api_token_for(consultant)).json()
    desk = client.get(url, headers=api_token_for(frontdesk)).json()

    assert mine["count"] == 1 and mine["items"][0]["phone"] == "13812345678"
    assert mine["items"][0]["protected_until"] is not None
    assert desk["count"] == 2
    assert sorted(item["phone"] for item in desk["items"]) == ["138****5678", "139****1111"]


def test_phones_typed_into_the_call_are_masked_for_everyone_but_the_owner(
    client, api_token_for, project, consultant, frontdesk
) -> None:
    record(project, consultant, name="13900001111", question="请回电 13900002222", next_step="打 13900003333")
    url = f"/api/v1/projects/{project.pk}/calls"

    desk = client.get(url, headers=api_token_for(frontdesk)).json()["items"][0]
    mine = client.get(url, headers=api_token_for(consultant)).json()["items"][0]

    assert (desk["name"], desk["question"], desk["next_step"]) == (
        "139****1111",
        "请回电 139****2222",
        "打 139****3333",
    )
    assert (mine["name"], mine["question"], mine["next_step"]) == (
        "13900001111",
        "请回电 13900002222",
        "打 13900003333",
    )


def test_api_list_of_another_day_and_a_bad_date(client, api_token_for, project, consultant) -> None:
    record(project, consultant, at=timezone.now() - timedelta(days=1))
    url = f"/api/v1/projects/{project.pk}/calls"
    headers = api_token_for(consultant)
    yesterday = (timezone.localdate() - timedelta(days=1)).isoformat()

    assert client.get(url, headers=headers).json()["count"] == 0
    assert client.get(url, {"date": yesterday}, headers=headers).json()["count"] == 1
    assert client.get(url, {"date": "9999-12-31"}, headers=headers).status_code == 400
    assert client.get(url, {"date": "昨天"}, headers=headers).status_code == 400


def test_api_list_has_a_fixed_query_count(client, api_token_for, project, frontdesk, consultants) -> None:
    url = f"/api/v1/projects/{project.pk}/calls"
    headers = api_token_for(frontdesk)
    record(project, consultants[0], phone=mobile_for(1))
    with CaptureQueriesContext(connection) as few:
        client.get(url, headers=headers)
    for seed in range(2, 12):
        record(project, consultants[seed % 3], phone=mobile_for(seed))

    with CaptureQueriesContext(connection) as many:
        assert client.get(url, headers=headers).json()["count"] == 11

    assert len(many) == len(few)


# --- page -----------------------------------------------------------------------------------------------


def test_page_records_a_call_and_lists_todays(client_for, project, frontdesk, consultant) -> None:
    page = client_for(frontdesk)
    url = reverse("calls:list", args=[project.pk])

    response = page.post(
        url,
        {
            "phone": PHONE,
            "name": "李女士",
            "source": "outdoor_ad",
            "question": "有没有小三房",
            "consultant": consultant.pk,
        },
    )

    assert response.status_code == 302 and response["Location"] == url
    listing = page.get(url).content.decode()
    assert "已登记来电并新建客户" in listing
    assert "李女士" in listing and "有没有小三房" in listing and "户外广告" in listing
    assert "138****5678" in listing and PHONE not in listing
    assert reverse("customers:detail", args=[Customer.objects.get().pk]) in listing


def test_page_bad_input_is_a_400_with_the_fields_and_nothing_stored(client_for, project, consultant) -> None:
    response = client_for(consultant).post(
        reverse("calls:list", args=[project.pk]), {"phone": "1234", "source": "online", "question": "价格"}
    )

    assert response.status_code == 400
    assert "请输入正确的中国大陆手机号码" in response.content.decode()
    assert not Customer.objects.exists()


def test_a_consultant_records_their_own_calls_without_choosing(client_for, project, consultant) -> None:
    page = client_for(consultant)
    url = reverse("calls:list", args=[project.pk])

    assert 'name="consultant"' not in page.get(url).content.decode()
    page.post(url, {"phone": PHONE, "source": "online", "question": "价格"})

    assert Customer.objects.get().owner == consultant
    # Their own customer: the full number.
    assert PHONE in page.get(url).content.decode()


def test_page_is_404_for_agents_and_other_projects(
    client_for, project, other_project, agent, consultant
) -> None:
    assert client_for(agent).get(reverse("calls:list", args=[project.pk])).status_code == 404
    assert client_for(consultant).get(reverse("calls:list", args=[other_project.pk])).status_code == 404


def test_page_has_a_fixed_query_count(client_for, project, manager, consultants) -> None:
    page = client_for(manager)
    url = reverse("calls:list", args=[project.pk])
    record(project, consultants[0], phone=mobile_for(1))
    with CaptureQueriesContext(connection) as few:
        page.get(url)
    for seed in range(2, 10):
        record(project, consultants[seed % 3], phone=mobile_for(seed))

    with CaptureQueriesContext(connection) as many:
        assert page.get(url).content.decode().count("data-call=") == 9

    assert len(many) == len(few)


def test_the_desk_and_consultants_find_calls_in_their_navigation(
    client_for, project, frontdesk, consultant, manager
):
    url = reverse("calls:list", args=[project.pk])
    for user in (frontdesk, consultant, manager):
        assert f'href="{url}"' in client_for(user).get(reverse("home"), follow=True).content.decode()


# --- concurrency on PostgreSQL, with a control that shows the race without the guard --------------------


def _race_site():
    project = project_with_units(buildings=1, floors=1, units_per_floor=1)
    team = [user_in(project, role=Role.CONSULTANT) for _ in range(2)]
    return project, team


@pytest.mark.postgres_only
@pytest.mark.django_db(transaction=True)
def test_calls_from_a_new_phone_at_once_make_one_customer() -> None:
    project, team = _race_site()

    outcomes = run_in_parallel(lambda i: record(project, team[i % 2]), 4)

    assert not [o for o in outcomes if isinstance(o, Exception)], outcomes
    customer = Customer.objects.get()
    assert InboundCall.objects.filter(customer=customer).count() == 4
    assert InboundCall.objects.filter(new_customer=True).count() == 1
    first = InboundCall.objects.get(new_customer=True)
    assert customer.owner_id == first.taken_by_id


@pytest.mark.postgres_only
@pytest.mark.django_db(transaction=True)
def test_control_a_naive_read_then_insert_fails_a_call() -> None:
    """The race the savepoint and the re-read absorb: both read "no such phone", both insert."""
    project, _team = _race_site()
    read_done = threading.Barrier(2)

    def naive_create(_: int) -> Customer:
        with transaction.atomic():
            found = Customer.objects.filter(project=project, phone=E164).first()
            read_done.wait()
            return found or Customer.objects.create(project=project, phone=E164)

    outcomes = run_in_parallel(naive_create, 2)

    assert any(isinstance(o, IntegrityError) for o in outcomes), outcomes
