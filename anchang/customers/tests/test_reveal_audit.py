"""`POST /customers/{id}/reveal-phone` and the access log (product.md §13, quality P2)."""

import re

import pytest
from django.urls import reverse

from anchang.core.audit import access_log_write
from anchang.core.models import AccessAction, AccessLog
from anchang.customers.tests.test_pool import make_customer, pooled

pytestmark = pytest.mark.django_db

FULL_MOBILE = re.compile(r"1[3-9]\d{9}")


@pytest.fixture
def customer(project, consultant):
    return make_customer(project, owner=consultant, name="王小明", phone="+8613712345678")


@pytest.fixture
def reveal(client, api_token_for):
    def call(user, customer_id: int, body: object, **meta: str):
        return client.post(
            f"/api/v1/customers/{customer_id}/reveal-phone",
            body,
            content_type="application/json",
            headers=api_token_for(user),
            **meta,
        )

    return call


def test_a_manager_reveals_with_a_reason_and_exactly_one_row_is_written(reveal, customer, manager) -> None:
    response = reveal(manager, customer.pk, {"reason": "客户来电要求核对登记号码"}, REMOTE_ADDR="10.1.2.3")

    assert response.status_code == 200 and response.json() == {"phone": "13712345678"}
    (row,) = AccessLog.objects.all()
    assert (row.user_id, row.username, row.action) == (
        manager.pk,
        manager.username,
        AccessAction.REVEAL_PHONE,
    )
    assert (row.object_type, row.object_id, row.project_id) == (
        "customers.customer",
        customer.pk,
        customer.project_id,
    )
    assert (row.reason, row.ip) == ("客户来电要求核对登记号码", "10.1.2.3")


def test_every_reveal_writes_its_own_row(reveal, customer, manager, admin_user) -> None:
    for user in (manager, manager, admin_user):
        assert reveal(user, customer.pk, {"reason": "核对"}).status_code == 200
    assert AccessLog.objects.filter(object_id=customer.pk, action="reveal_phone").count() == 3
    assert AccessLog.objects.filter(user=admin_user).count() == 1


def test_the_owner_may_reveal_and_it_is_logged_too(reveal, customer, consultant) -> None:
    assert reveal(consultant, customer.pk, {"reason": "拨号"}).json() == {"phone": "13712345678"}
    assert AccessLog.objects.filter(user=consultant).count() == 1


@pytest.mark.parametrize(
    "body", [{"reason": ""}, {"reason": "   "}, {}, {"reason": "x" * 201}, {"reason": None}]
)
def test_no_reason_is_400_and_nothing_is_logged(reveal, customer, manager, body) -> None:
    response = reveal(manager, customer.pk, body)
    assert response.status_code == 400
    assert "reason" in response.json()["fields"]
    assert not FULL_MOBILE.search(response.content.decode())
    assert not AccessLog.objects.exists()


def test_the_front_desk_may_see_the_customer_but_not_reveal(reveal, customer, frontdesk) -> None:
    response = reveal(frontdesk, customer.pk, {"reason": "想看看"})
    assert response.status_code == 403 and not FULL_MOBILE.search(response.content.decode())
    assert not AccessLog.objects.exists()


def test_a_consultant_may_not_reveal_a_pool_customer(reveal, project, consultant) -> None:
    in_pool = pooled(project, phone="+8618612349999")
    response = reveal(consultant, in_pool.pk, {"reason": "想认领前先打个电话"})
    assert response.status_code == 403 and "18612349999" not in response.content.decode()
    assert not AccessLog.objects.exists()


def test_another_consultants_customer_is_404(reveal, customer, other_consultant) -> None:
    response = reveal(other_consultant, customer.pk, {"reason": "x"})
    assert response.status_code == 404
    assert not AccessLog.objects.exists()


def test_a_manager_of_another_project_gets_404(reveal, other_project, manager) -> None:
    elsewhere = make_customer(other_project, phone="+8613912345678")
    assert reveal(manager, elsewhere.pk, {"reason": "x"}).status_code == 404
    assert not AccessLog.objects.exists()


@pytest.mark.parametrize("role", ["agent", "service", "attendant"])
def test_roles_without_customer_access_get_403(reveal, customer, role, request) -> None:
    response = reveal(request.getfixturevalue(role), customer.pk, {"reason": "x"})
    assert response.status_code == 403
    assert not AccessLog.objects.exists()


def test_access_log_write_records_who_what_why_and_where(rf, customer, manager) -> None:
    request = rf.post("/", REMOTE_ADDR="192.0.2.7")
    row = access_log_write(
        user=manager, action=AccessAction.EXPORT, obj=customer, reason="  月报  ", request=request
    )
    assert (row.ip, row.reason, row.project_id) == ("192.0.2.7", "月报", customer.project_id)
    bare = access_log_write(
        user=manager, action=AccessAction.EXPORT, obj=None, project_id=7, data={"rows": 120}
    )
    assert (bare.object_type, bare.object_id, bare.project_id, bare.data) == ("", None, 7, {"rows": 120})


def test_the_admin_lists_the_log_read_only(client, admin_user, customer, manager) -> None:
    access_log_write(user=manager, action=AccessAction.REVEAL_PHONE, obj=customer, reason="核对号码")
    row = AccessLog.objects.get()
    client.force_login(admin_user, backend="django.contrib.auth.backends.ModelBackend")
    listing = client.get(reverse("admin:core_accesslog_changelist"))
    assert listing.status_code == 200 and "核对号码" in listing.content.decode()
    assert client.get(reverse("admin:core_accesslog_add")).status_code == 403
    assert (
        client.post(reverse("admin:core_accesslog_delete", args=[row.pk]), {"post": "yes"}).status_code == 403
    )
    assert AccessLog.objects.count() == 1


def test_staff_who_are_not_admins_cannot_open_the_log(client, manager) -> None:
    manager.is_staff = True
    manager.save(update_fields=["is_staff"])
    client.force_login(manager, backend="django.contrib.auth.backends.ModelBackend")
    assert client.get(reverse("admin:core_accesslog_changelist")).status_code == 403
