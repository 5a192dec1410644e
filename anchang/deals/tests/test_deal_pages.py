"""The deal pages end to end by hand: subscribe from the unit, approve, sign, cancel, change unit,
reservations, the approvals queue, the sales summary and the customer page's 成交 section."""

from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from anchang.accounts.models import Role
from anchang.accounts.testing import user_in
from anchang.deals.models import Reservation, ReservationStatus, Subscription, SubscriptionStatus
from anchang.deals.services import reservation_create, subscription_cancel
from anchang.deals.tests.helpers import contracted, count_queries, customer_of, pending, subscribe, units_of
from anchang.inventory.models import UnitStatus

pytestmark = pytest.mark.django_db

# What the subscribe form asks besides the price: how the buyer pays and why a price is below list.
TERMS = {"payment_method": "full", "discount_reason": "老带新"}

S = SubscriptionStatus
HTMX = {"HX-Request": "true"}


# --- subscribing from the unit page ---------------------------------------------------------------------


def test_the_form_prefills_the_list_price_and_offers_only_own_customers(
    client_for, project, consultant, other_consultant
) -> None:
    unit = units_of(project)[0]
    mine = customer_of(project, consultant, name="王小明")
    customer_of(project, other_consultant, name="李四")

    page = client_for(consultant).get(reverse("deals:subscribe", args=[unit.pk])).content.decode()

    assert f'value="{unit.list_price_total}"' in page
    assert "王小明" in page and "李四" not in page
    assert f'<option value="{mine.pk}"' in page
    assert "****" in page  # phones in the picker are masked


def test_the_manager_sees_every_customer_and_searches_with_htmx(
    client_for, project, consultant, manager
) -> None:
    unit = units_of(project)[0]
    customer_of(project, consultant, name="王小明")
    customer_of(project, None, name="赵敏")
    client = client_for(manager)

    options = client.get(reverse("deals:subscribe", args=[unit.pk]) + "?q=赵", headers=HTMX).content.decode()

    assert "<html" not in options
    assert "赵敏" in options and "王小明" not in options


def test_subscribing_from_the_page_goes_to_the_subscription(client_for, project, consultant) -> None:
    unit = units_of(project)[0]
    customer = customer_of(project, consultant)
    client = client_for(consultant)

    response = client.post(
        reverse("deals:subscribe", args=[unit.pk]),
        {"customer": customer.pk, "price": str(unit.list_price_total), "deposit": "50000", **TERMS},
        follow=True,
    )

    subscription = Subscription.objects.get()
    assert response.redirect_chain[-1][0] == reverse("deals:subscription", args=[subscription.pk])
    html = response.content.decode()
    assert "已认购" in html and "确认签约" in html and "确认退订" in html
    assert reverse("documents:subscription_letter", args=[subscription.pk]) in html
    unit.refresh_from_db()
    assert unit.status == UnitStatus.SUBSCRIBED


def test_the_page_uses_the_customers_reservation(client_for, project, consultant) -> None:
    unit = units_of(project)[0]
    customer = customer_of(project, consultant)
    reservation = reservation_create(project=project, customer=customer, amount=Decimal(20000), by=consultant)
    client_for(consultant).post(
        reverse("deals:subscribe", args=[unit.pk]),
        {
            "customer": customer.pk,
            "price": str(unit.list_price_total),
            "deposit": "50000",
            "use_reservation": "on",
            **TERMS,
        },
    )
    reservation.refresh_from_db()
    assert Subscription.objects.get().reservation == reservation
    assert reservation.status == ReservationStatus.CONVERTED


def test_another_consultants_customer_cannot_be_posted(
    client_for, project, consultant, other_consultant
) -> None:
    unit = units_of(project)[0]
    theirs = customer_of(project, other_consultant)
    response = client_for(consultant).post(
        reverse("deals:subscribe", args=[unit.pk]),
        {"customer": theirs.pk, "price": "2000000", "deposit": "50000", **TERMS},
    )
    assert response.status_code == 400
    assert "请选择客户" in response.content.decode()
    assert not Subscription.objects.exists()


def test_the_unit_panel_links_to_the_subscription_for_those_who_may_see_it(
    client_for, project, consultant, other_consultant
) -> None:
    unit = units_of(project)[0]
    subscription = subscribe(unit, customer_of(project, consultant, name="王小明"), consultant)
    url = reverse("deals:unit_panel", args=[unit.pk])

    own = client_for(consultant).get(url, headers=HTMX).content.decode()
    assert reverse("deals:subscription", args=[subscription.pk]) in own and "王小明" in own

    other = client_for(other_consultant).get(url, headers=HTMX).content.decode()
    assert "王小明" not in other and "其他顾问的客户" in other
    assert ">认购<" not in other  # a sold unit offers no subscribe button


def test_the_panel_without_htmx_is_a_page_of_its_own(client_for, project, manager) -> None:
    unit = units_of(project)[0]
    html = client_for(manager).get(reverse("deals:unit_panel", args=[unit.pk])).content.decode()
    assert "<html" in html and "确认销控" in html


def test_the_subscribe_form_is_404_for_roles_that_do_not_sell(client_for, project) -> None:
    unit = units_of(project)[0]
    attendant = user_in(project, role=Role.ATTENDANT)
    assert client_for(attendant).get(reverse("deals:subscribe", args=[unit.pk])).status_code == 404


def test_the_subscribe_form_of_another_projects_unit_is_404(client_for, other_project, consultant) -> None:
    unit = units_of(other_project)[0]
    assert client_for(consultant).get(reverse("deals:subscribe", args=[unit.pk])).status_code == 404


# --- the detail page and its actions ------------------------------------------------------------------------


def test_detail_shows_prices_discount_deadline_and_history(client_for, project, consultant) -> None:
    unit = units_of(project)[0]
    subscription = subscribe(unit, customer_of(project, consultant), consultant, discount=Decimal("0.01"))
    html = client_for(consultant).get(reverse("deals:subscription", args=[subscription.pk])).content.decode()
    assert f"¥{unit.list_price_total:,.2f}" in html
    assert f"¥{subscription.price:,.2f}" in html
    assert "1.00%" in html
    assert subscription.sign_deadline.isoformat() in html
    assert "变更记录" in html and "认购" in html


def test_a_manager_approves_from_the_detail_page(client_for, project, consultant, manager) -> None:
    subscription = pending(units_of(project)[0], customer_of(project, consultant), consultant)
    consultant_page = client_for(consultant).get(reverse("deals:subscription", args=[subscription.pk]))
    assert reverse("deals:approve", args=[subscription.pk]) not in consultant_page.content.decode()
    assert "确认签约" not in consultant_page.content.decode()

    client = client_for(manager)
    page = client.get(reverse("deals:subscription", args=[subscription.pk])).content.decode()
    assert "审批通过" in page and "驳回" in page
    response = client.post(reverse("deals:approve", args=[subscription.pk]), {"note": "老业主"})
    assert response.status_code == 302
    subscription.refresh_from_db()
    assert subscription.status == S.ACTIVE


def test_a_consultant_posting_an_approval_gets_403_and_nothing_changes(
    client_for, project, consultant
) -> None:
    subscription = pending(units_of(project)[0], customer_of(project, consultant), consultant)
    response = client_for(consultant).post(reverse("deals:approve", args=[subscription.pk]), {"note": ""})
    assert response.status_code == 403
    assert "只有案场经理" in response.content.decode()
    subscription.refresh_from_db()
    assert subscription.status == S.PENDING_APPROVAL


def test_sign_then_the_customer_page_shows_an_owner(client_for, project, consultant) -> None:
    customer = customer_of(project, consultant)
    subscription = subscribe(units_of(project)[0], customer, consultant)
    client = client_for(consultant)

    response = client.post(
        reverse("deals:contract", args=[subscription.pk]), {"contract_number": ""}, follow=True
    )

    assert "已签约" in response.content.decode()
    customer.refresh_from_db()
    assert customer.is_owner
    deals = client.get(reverse("deals:customer_deals", args=[customer.pk]), headers=HTMX).content.decode()
    assert subscription.unit.number in deals and "已签约" in deals


def test_cancelling_needs_a_reason_on_the_page(client_for, project, consultant) -> None:
    unit = units_of(project)[0]
    subscription = subscribe(unit, customer_of(project, consultant), consultant)
    client = client_for(consultant)

    refused = client.post(reverse("deals:cancel", args=[subscription.pk]), {"reason": "  "})
    assert refused.status_code == 400
    assert "请填写原因" in refused.content.decode()
    subscription.refresh_from_db()
    assert subscription.status == S.ACTIVE

    done = client.post(reverse("deals:cancel", args=[subscription.pk]), {"reason": "客户资金原因"})
    assert done.status_code == 302
    subscription.refresh_from_db()
    unit.refresh_from_db()
    assert (subscription.status, unit.status) == (S.CANCELLED, UnitStatus.AVAILABLE)


def test_signing_a_cancelled_one_from_the_page_is_409(client_for, project, consultant) -> None:
    subscription = subscribe(units_of(project)[0], customer_of(project, consultant), consultant)
    subscription_cancel(subscription_id=subscription.pk, by=consultant, reason="x")
    response = client_for(consultant).post(reverse("deals:contract", args=[subscription.pk]), {})
    assert response.status_code == 409
    assert "已退订" in response.content.decode()


def test_change_unit_from_the_page(client_for, project, consultant) -> None:
    units = units_of(project)
    old = subscribe(units[0], customer_of(project, consultant), consultant)
    client = client_for(consultant)
    form = client.get(reverse("deals:change_unit", args=[old.pk])).content.decode().split('id="id_unit"')[1]
    assert f'<option value="{units[1].pk}"' in form and f'<option value="{units[0].pk}"' not in form

    response = client.post(
        reverse("deals:change_unit", args=[old.pk]),
        {"unit": units[1].pk, "reason": "改选高楼层"},
        follow=True,
    )

    new = Subscription.objects.get(unit=units[1])
    assert response.redirect_chain[-1][0] == reverse("deals:subscription", args=[new.pk])
    old.refresh_from_db()
    assert old.replaced_by == new and old.cancel_reason == "改选高楼层"


def test_change_unit_to_a_sold_unit_is_refused_inline(client_for, project, consultant) -> None:
    units = units_of(project)
    old = subscribe(units[0], customer_of(project, consultant), consultant)
    subscribe(units[1], customer_of(project, consultant), consultant)
    response = client_for(consultant).post(
        reverse("deals:change_unit", args=[old.pk]), {"unit": units[1].pk, "reason": "x"}
    )
    assert response.status_code == 409
    assert "已被认购" in response.content.decode()
    old.refresh_from_db()
    assert old.status == S.ACTIVE


def test_another_consultants_subscription_page_is_404(
    client_for, project, consultant, other_consultant
) -> None:
    subscription = subscribe(units_of(project)[0], customer_of(project, consultant), consultant)
    client = client_for(other_consultant)
    assert client.get(reverse("deals:subscription", args=[subscription.pk])).status_code == 404
    assert client.post(reverse("deals:cancel", args=[subscription.pk]), {"reason": "x"}).status_code == 404
    subscription.refresh_from_db()
    assert subscription.status == S.ACTIVE


# --- lists -----------------------------------------------------------------------------------------------


def test_the_list_filters_by_status_and_date(client_for, project, consultant, manager) -> None:
    units = units_of(project)
    active = subscribe(units[0], customer_of(project, consultant), consultant)
    waiting = pending(units[1], customer_of(project, consultant), consultant)
    client = client_for(manager)
    url = reverse("deals:subscriptions", args=[project.pk])

    only_pending = client.get(url + "?status=pending_approval").content.decode()
    assert f'data-subscription="{waiting.pk}"' in only_pending
    assert f'data-subscription="{active.pk}"' not in only_pending

    today = timezone.localdate().isoformat()
    assert f'data-subscription="{active.pk}"' in client.get(url + f"?date_from={today}").content.decode()
    past = client.get(url + "?date_to=2020-01-01").content.decode()
    assert "data-subscription=" not in past


def test_a_consultant_lists_only_their_customers(client_for, project, consultant, other_consultant) -> None:
    units = units_of(project)
    mine = subscribe(units[0], customer_of(project, consultant), consultant)
    theirs = subscribe(units[1], customer_of(project, other_consultant), other_consultant)
    html = client_for(consultant).get(reverse("deals:subscriptions", args=[project.pk])).content.decode()
    assert f'data-subscription="{mine.pk}"' in html and f'data-subscription="{theirs.pk}"' not in html


@pytest.mark.parametrize("page", ["subscriptions", "approvals", "reservations", "sales_summary"])
def test_list_pages_cost_the_same_for_few_and_many(
    client_for, project, consultant, manager, page: str, django_assert_num_queries
) -> None:
    units = units_of(project)
    client = client_for(manager)
    url = reverse(f"deals:{page}", args=[project.pk])

    def add(unit) -> None:
        customer = customer_of(project, consultant)
        reservation_create(project=project, customer=customer, amount=Decimal(1000), by=manager)
        pending(unit, customer, consultant)

    add(units[0])
    client.get(url)
    few = count_queries(lambda: client.get(url))
    for unit in units[1:10]:
        add(unit)
    with django_assert_num_queries(few):
        response = client.get(url)
    assert response.status_code == 200


def test_the_customer_deals_section_costs_the_same_for_few_and_many(
    client_for, project, consultant, django_assert_num_queries
) -> None:
    units = units_of(project)
    customer = customer_of(project, consultant)
    client = client_for(consultant)
    url = reverse("deals:customer_deals", args=[customer.pk])
    subscribe(units[0], customer, consultant)
    few = count_queries(lambda: client.get(url, headers=HTMX))
    for unit in units[1:6]:
        subscribe(unit, customer, consultant)
    with django_assert_num_queries(few):
        client.get(url, headers=HTMX)


def test_the_customer_deals_without_htmx_are_a_page_of_their_own(client_for, project, consultant) -> None:
    customer = customer_of(project, consultant, name="李四")
    subscription = subscribe(units_of(project)[0], customer, consultant)
    response = client_for(consultant).get(reverse("deals:customer_deals", args=[customer.pk]))
    html = response.content.decode()
    assert response.status_code == 200
    assert reverse("customers:detail", args=[customer.pk]) in html and "李四" in html
    assert reverse("deals:subscription", args=[subscription.pk]) in html


def test_another_consultants_customer_deals_are_404(
    client_for, project, consultant, other_consultant
) -> None:
    customer = customer_of(project, consultant)
    assert (
        client_for(other_consultant).get(reverse("deals:customer_deals", args=[customer.pk])).status_code
        == 404
    )


def test_the_customer_page_loads_its_deals_section(client_for, project, consultant) -> None:
    customer = customer_of(project, consultant)
    html = client_for(consultant).get(reverse("customers:detail", args=[customer.pk])).content.decode()
    assert reverse("deals:customer_deals", args=[customer.pk]) in html and "成交" in html


# --- approvals, reservations, summary, navigation ---------------------------------------------------------


def test_the_approvals_queue_is_for_managers(client_for, project, consultant, manager) -> None:
    units = units_of(project)
    waiting = pending(units[0], customer_of(project, consultant), consultant)
    subscribe(units[1], customer_of(project, consultant), consultant)
    url = reverse("deals:approvals", args=[project.pk])

    assert client_for(consultant).get(url).status_code == 404
    html = client_for(manager).get(url).content.decode()
    assert html.count("data-subscription=") == 1 and f'data-subscription="{waiting.pk}"' in html
    assert "10.00%" in html

    rejected = client_for(manager).post(reverse("deals:reject", args=[waiting.pk]), {"note": "", "next": url})
    assert rejected["Location"] == url
    waiting.refresh_from_db()
    assert waiting.status == S.REJECTED


def test_reservations_page_registers_and_refunds(client_for, project, consultant, manager) -> None:
    customer = customer_of(project, consultant, name="王小明")
    url = reverse("deals:reservations", args=[project.pk])
    client = client_for(consultant)
    assert "王小明" in client.get(url).content.decode()

    response = client.post(url, {"customer": customer.pk, "amount": "20000"})
    assert response.status_code == 302
    reservation = Reservation.objects.get()
    assert (reservation.number, reservation.amount) == (1, Decimal(20000))

    twice = client.post(url, {"customer": customer.pk, "amount": "1"})
    assert twice.status_code == 409 and "已有有效认筹" in twice.content.decode()

    assert "退筹" not in client.get(url).content.decode().split("<tbody>")[1]
    client_for(manager).post(reverse("deals:refund", args=[reservation.pk]))
    reservation.refresh_from_db()
    assert reservation.status == ReservationStatus.REFUNDED


def test_reservations_refuse_a_negative_amount_inline(client_for, project, consultant) -> None:
    customer = customer_of(project, consultant)
    response = client_for(consultant).post(
        reverse("deals:reservations", args=[project.pk]), {"customer": customer.pk, "amount": "-5"}
    )
    assert response.status_code == 400
    assert "不能为负数" in response.content.decode()
    assert not Reservation.objects.exists()


def test_the_sales_summary_shows_days_and_totals_in_chinese_money(
    client_for, project, consultant, manager
) -> None:
    units = units_of(project)
    subscribe(units[0], customer_of(project, consultant), consultant)
    contracted(units[1], customer_of(project, consultant), consultant)
    url = reverse("deals:sales_summary", args=[project.pk])

    assert client_for(consultant).get(url).status_code == 404
    html = client_for(manager).get(url).content.decode()
    total = (units[0].list_price_total + units[1].list_price_total) / 10000
    assert f"{total:,.2f}万" in html
    assert timezone.localdate().isoformat() in html and "合计" in html

    reversed_range = client_for(manager).get(url + "?date_from=2026-05-02&date_to=2026-05-01")
    assert reversed_range.status_code == 400
    assert "结束日期不能早于开始日期" in reversed_range.content.decode()


@pytest.mark.parametrize(
    "query", ["date_from=9999-12-31", "date_to=0001-01-01", "date_from=9999-12-20&date_to=9999-12-31"]
)
def test_the_sales_summary_page_at_the_ends_of_the_calendar_is_400_not_500(
    client_for, project, manager, query: str
) -> None:
    response = client_for(manager).get(reverse("deals:sales_summary", args=[project.pk]) + f"?{query}")
    assert response.status_code == 400
    assert "日期超出范围" in response.content.decode()


def test_the_navigation_offers_deals_by_role(client_for, project, consultant, manager) -> None:
    home = reverse("deals:subscriptions", args=[project.pk])
    consultant_html = client_for(consultant).get(home).content.decode()
    assert reverse("deals:approvals", args=[project.pk]) not in consultant_html
    manager_html = client_for(manager).get(home).content.decode()
    assert reverse("deals:approvals", args=[project.pk]) in manager_html
    assert reverse("deals:sales_summary", args=[project.pk]) in manager_html


@pytest.mark.parametrize("page", ["subscriptions", "reservations", "holds"])
def test_pages_of_another_project_are_404(client_for, other_project, manager, page: str) -> None:
    assert client_for(manager).get(reverse(f"deals:{page}", args=[other_project.pk])).status_code == 404
