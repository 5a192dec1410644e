"""Needs profile and intent level: validation, the timeline summary, history, who may, the form."""

from decimal import Decimal

import pytest
from django.urls import reverse

from anchang.core.errors import InvalidInput, NotFound
from anchang.customers.models import CustomerEvent, EventKind, Needs
from anchang.customers.needs import intent_set, needs_intent_update, needs_update
from anchang.reception.models import Visit
from anchang.reception.needs.forms import NeedsForm
from anchang.reception.needs.services import visit_needs_update
from anchang.reception.needs.views import needs_context, recommendations_context
from anchang.reception.services import check_in

pytestmark = pytest.mark.django_db

HTMX = {"HX-Request": "true"}


@pytest.fixture
def visit(project, frontdesk, on_duty) -> Visit:
    """A first visit received by 顾问1 (on_duty[0]), who thereby owns the customer."""
    return check_in(project=project, phone="13812345678", name="王小明", by=frontdesk, consent=True).visit


def needs_events(customer) -> list[str]:
    return list(
        CustomerEvent.objects.filter(customer=customer, kind=EventKind.NEEDS)
        .order_by("pk")
        .values_list("text", flat=True)
    )


def test_needs_update_stores_yuan_and_summarises_the_change_on_the_timeline(visit, on_duty) -> None:
    needs = visit_needs_update(
        visit=visit,
        by=on_duty[0],
        needs={"budget_min": "3000000", "budget_max": Decimal("3500000"), "bedrooms": 3, "orientation": "NS"},
    ).needs
    assert needs is not None
    needs.refresh_from_db()
    assert (needs.budget_min, needs.budget_max, needs.bedrooms, needs.orientation) == (
        Decimal("3000000.00"),
        Decimal("3500000.00"),
        3,
        "NS",
    )
    assert needs_events(visit.customer) == ["预算 300–350万 · 3室 · 南北通透"]
    event = CustomerEvent.objects.get(customer=visit.customer, kind=EventKind.NEEDS)
    assert event.by == on_duty[0]
    assert event.data["visit_id"] == visit.pk
    assert event.data["changes"]["budget_min"] == {"from": None, "to": "3000000.00"}


def test_only_what_changed_is_summarised_and_no_change_leaves_no_event(visit, on_duty) -> None:
    customer, consultant = visit.customer, on_duty[0]
    needs_update(customer=customer, by=consultant, budget_min=3000000, budget_max=3500000, bedrooms=3)
    needs_update(customer=customer, by=consultant, budget_min=3000000, bedrooms=3)
    needs_update(
        customer=customer, by=consultant, budget_max=None, area_min="89.5", floor_min=10, floor_max=20
    )
    needs_update(customer=customer, by=consultant, buildings=["1栋", "2栋", "1栋"], concerns="担心学区")
    needs_update(customer=customer, by=consultant, orientation="", bedrooms=None, buildings=[])
    assert needs_events(customer) == [
        "预算 300–350万 · 3室",
        "预算 300万以上 · 面积 89.5㎡以上 · 楼层 10–20层",
        "意向楼栋 1栋、2栋 · 抗性 担心学区",
        "居室 不限 · 意向楼栋 不限",
    ]
    assert Needs.objects.get(customer=customer).buildings == []


def test_history_keeps_every_version_with_the_summary_as_reason(visit, on_duty) -> None:
    needs_update(customer=visit.customer, by=on_duty[0], bedrooms=3)
    needs_update(customer=visit.customer, by=on_duty[0], bedrooms=4)
    needs = Needs.objects.get(customer=visit.customer)
    history = list(needs.history.order_by("history_date", "history_id"))
    assert [h.bedrooms for h in history] == [3, 4]
    assert [h.history_change_reason for h in history] == ["3室", "4室"]


def test_intent_set_records_the_level_and_its_change(visit, on_duty) -> None:
    customer = visit.customer
    intent_set(customer=customer, level="B", by=on_duty[0])
    visit_needs_update(visit=visit, by=on_duty[0], intent_level="a")
    visit_needs_update(visit=visit, by=on_duty[0], intent_level="A")
    customer.refresh_from_db()
    assert customer.intent_level == "A"
    assert needs_events(customer) == ["意向等级 B", "意向等级 B → A"]
    assert customer.history.first().history_change_reason == "意向等级 B → A"


def test_needs_and_intent_together_make_one_event(visit, on_duty) -> None:
    visit_needs_update(visit=visit, by=on_duty[0], needs={"bedrooms": 3}, intent_level="C")
    assert needs_events(visit.customer) == ["3室 · 意向等级 C"]


@pytest.mark.parametrize(
    ("fields", "field", "message"),
    [
        ({"budget_min": "-1"}, "budget_min", "金额不能为负数。"),
        ({"down_payment": "abc"}, "down_payment", "请输入数字。"),
        ({"budget_max": "NaN"}, "budget_max", "请输入数字。"),
        ({"budget_min": 10**13}, "budget_min", "金额过大，请检查是否多输了位数。"),
        ({"budget_min": 3500000, "budget_max": 3000000}, "budget_max", "预算上限不能低于下限。"),
        ({"area_min": 120, "area_max": 90}, "area_max", "面积上限不能小于下限。"),
        ({"area_min": -5}, "area_min", "面积不能为负数。"),
        ({"floor_min": 20, "floor_max": 10}, "floor_max", "最高楼层不能低于最低楼层。"),
        ({"floor_min": 200}, "floor_min", "楼层应为 -5 到 120 之间的整数。"),
        ({"bedrooms": 0}, "bedrooms", "居室应为 1–9 之间的整数。"),
        ({"bedrooms": 10}, "bedrooms", "居室应为 1–9 之间的整数。"),
        ({"bedrooms": "2.5"}, "bedrooms", "居室应为 1–9 之间的整数。"),
        ({"bedrooms": True}, "bedrooms", "请输入数字。"),
        (
            {"orientation": "X"},
            "orientation",
            "请选择有效的朝向：S（朝南）、NS（南北通透）、SE（东南）、SW（西南）、E（朝东）、W（朝西）、N（朝北）、EW（东西）。",
        ),
        ({"purpose": "flip"}, "purpose", "请选择有效的置业目的：自住、改善、投资、养老、教育。"),
        (
            {"buildings": ["1栋", "9栋", "A座"]},
            "buildings",
            "本项目没有这些楼栋：9栋、A座。请从项目的楼栋中选择。",
        ),
        ({"buildings": "1栋"}, "buildings", '意向楼栋应为楼栋名称的列表，如 ["1栋", "2栋"]。'),
        ({"concerns": "贵" * 301}, "concerns", "抗性最多 300 个字。"),
        ({"residence": "西湖\x00区"}, "residence", "内容含有无法保存的字符。"),
        ({"shoe_size": 42}, "shoe_size", "不是可以填写的需求项。"),
    ],
    ids=lambda value: "-".join(value) if isinstance(value, dict) else "",
)
def test_bad_input_names_the_field_in_chinese_and_changes_nothing(
    visit, on_duty, fields, field, message
) -> None:
    customer = visit.customer
    needs_update(customer=customer, by=on_duty[0], budget_min=2000000, bedrooms=2)
    before = Needs.objects.get(customer=customer).history.count()
    with pytest.raises(InvalidInput) as raised:
        # A valid change rides along: it must not be saved either.
        visit_needs_update(visit=visit, by=on_duty[0], needs={"orientation": "S", **fields})
    assert raised.value.fields == {field: message}
    needs = Needs.objects.get(customer=customer)
    assert (needs.budget_min, needs.bedrooms, needs.orientation) == (Decimal("2000000.00"), 2, "")
    assert needs.history.count() == before
    assert len(needs_events(customer)) == 1


def test_a_lower_bound_above_the_stored_upper_bound_is_blamed_on_the_lower_bound(visit, on_duty) -> None:
    needs_update(customer=visit.customer, by=on_duty[0], budget_max=3500000)
    with pytest.raises(InvalidInput) as raised:
        needs_update(customer=visit.customer, by=on_duty[0], budget_min=4000000)
    assert raised.value.fields == {"budget_min": "预算下限不能高于上限。"}


def test_all_errors_come_together_and_a_bad_intent_blocks_good_needs(visit, on_duty) -> None:
    with pytest.raises(InvalidInput) as raised:
        needs_intent_update(
            customer=visit.customer,
            by=on_duty[0],
            needs={"bedrooms": 3, "budget_min": "-5", "orientation": "Q"},
            intent_level="E",
        )
    assert set(raised.value.fields) == {"budget_min", "orientation", "intent_level"}
    assert raised.value.fields["intent_level"] == "意向等级只能是 A、B、C、D 之一。"
    assert not Needs.objects.filter(customer=visit.customer).exists()
    visit.customer.refresh_from_db()
    assert visit.customer.intent_level == ""
    assert needs_events(visit.customer) == []


def test_desk_manager_owner_and_the_receiving_consultant_may_edit(visit, on_duty, frontdesk, manager) -> None:
    customer = visit.customer
    needs_update(customer=customer, by=frontdesk, bedrooms=2)
    needs_update(customer=customer, by=manager, bedrooms=3)
    needs_update(customer=customer, by=on_duty[0], bedrooms=4)  # the owner, without a visit
    # 代接待: someone else receives this visit on the owner's behalf.
    Visit.objects.filter(pk=visit.pk).update(consultant=on_duty[1], covering_for=on_duty[0])
    visit.refresh_from_db()
    visit_needs_update(visit=visit, by=on_duty[1], needs={"bedrooms": 5})
    assert Needs.objects.get(customer=customer).bedrooms == 5
    with pytest.raises(NotFound):  # … but only through that visit
        needs_update(customer=customer, by=on_duty[1], bedrooms=1)


def test_other_consultants_and_agents_get_not_found_and_change_nothing(visit, on_duty, agent) -> None:
    for outsider in (on_duty[1], agent):
        with pytest.raises(NotFound):
            visit_needs_update(visit=visit, by=outsider, needs={"bedrooms": 3})
        with pytest.raises(NotFound):
            visit_needs_update(visit=visit, by=outsider, intent_level="A")
    assert not Needs.objects.filter(customer=visit.customer).exists()


def test_receiving_another_customer_grants_nothing_on_this_one(visit, project, frontdesk, on_duty) -> None:
    other = check_in(project=project, phone="13900001111", by=frontdesk, consent=True).visit
    assert other.consultant == on_duty[1]
    with pytest.raises(NotFound):
        visit_needs_update(visit=visit, by=on_duty[1], needs={"bedrooms": 3})
    visit_needs_update(visit=other, by=on_duty[1], needs={"bedrooms": 3})
    assert not Needs.objects.filter(customer=visit.customer).exists()


def test_a_member_of_another_project_gets_not_found(visit, other_project) -> None:
    from anchang.accounts.models import Role
    from anchang.accounts.testing import user_in

    stranger = user_in(other_project, role=Role.MANAGER, username="elsewhere")
    with pytest.raises(NotFound):
        needs_update(customer=visit.customer, by=stranger, bedrooms=3)


# --- the form and its partials -----------------------------------------------------------------


def test_the_partial_shows_money_in_wan_with_a_numeric_keypad(client_for, visit, on_duty) -> None:
    needs_update(customer=visit.customer, by=on_duty[0], budget_min=3000000, budget_max=3125000, bedrooms=3)
    intent_set(customer=visit.customer, level="B", by=on_duty[0])
    response = client_for(on_duty[0]).get(reverse("needs:form", args=[visit.pk]), headers=HTMX)
    html = response.content.decode()
    assert response.status_code == 200
    assert "<html" not in html
    assert 'name="budget_min" value="300"' in html
    assert 'name="budget_max" value="312.5"' in html
    assert html.count('inputmode="numeric"') >= 3
    assert 'value="B" autocomplete="off" checked' in html
    assert f'hx-post="{reverse("needs:form", args=[visit.pk])}"' in html
    assert "1栋" in html and "2栋" in html


def test_without_htmx_the_form_comes_in_a_page_with_the_recommendations(client_for, visit, on_duty) -> None:
    html = client_for(on_duty[0]).get(reverse("needs:form", args=[visit.pk])).content.decode()
    assert "<html" in html and "客户需求与意向" in html and "推荐房源" in html
    assert "请先填写预算或居室，再查看推荐房源。" in html


def test_posting_the_form_converts_wan_to_yuan_and_asks_for_fresh_recommendations(
    client_for, visit, on_duty
) -> None:
    response = client_for(on_duty[0]).post(
        reverse("needs:form", args=[visit.pk]),
        {
            "budget_min": "300",
            "budget_max": "312.5",
            "bedrooms": "3",
            "orientation": "NS",
            "buildings": ["1栋"],
            "intent_level": "A",
            "concerns": "  担心学区 ",
        },
        headers=HTMX,
    )
    assert response.status_code == 200
    assert response["HX-Trigger"] == "needs-updated"
    assert "已保存" in response.content.decode()
    needs = Needs.objects.get(customer=visit.customer)
    assert (needs.budget_min, needs.budget_max, needs.buildings, needs.concerns) == (
        Decimal("3000000.00"),
        Decimal("3125000.00"),
        ["1栋"],
        "担心学区",
    )
    visit.customer.refresh_from_db()
    assert visit.customer.intent_level == "A"
    assert needs_events(visit.customer) == [
        "预算 300–312.5万 · 3室 · 南北通透 · 意向楼栋 1栋 · 抗性 担心学区 · 意向等级 A"
    ]


def test_a_bad_form_comes_back_with_inline_errors_and_saves_nothing(client_for, visit, on_duty) -> None:
    client = client_for(on_duty[0])
    url = reverse("needs:form", args=[visit.pk])
    response = client.post(url, {"budget_min": "350", "budget_max": "300", "bedrooms": "3"}, headers=HTMX)
    html = response.content.decode()
    assert response.status_code == 200 and "HX-Trigger" not in response
    assert "预算上限不能低于下限。" in html and "is-invalid" in html and 'aria-invalid="true"' in html
    assert 'name="budget_min" value="350"' in html  # what was typed stays
    response = client.post(url, {"budget_min": "三百"}, headers=HTMX)
    assert "请输入数字（单位：万），如 300。" in response.content.decode()
    assert client.post(url, {"budget_min": "-1"}).status_code == 400
    assert not Needs.objects.filter(customer=visit.customer).exists()


def test_without_htmx_a_good_post_redirects_back_to_the_page(client_for, visit, on_duty) -> None:
    url = reverse("needs:form", args=[visit.pk])
    response = client_for(on_duty[0]).post(url, {"bedrooms": "3"})
    assert response.status_code == 302 and response["Location"] == url


@pytest.mark.parametrize("who", ["other_consultant", "agent"])
def test_outsiders_get_404_from_the_views(client_for, visit, on_duty, agent, who) -> None:
    user = on_duty[1] if who == "other_consultant" else agent
    client = client_for(user)
    assert client.get(reverse("needs:form", args=[visit.pk])).status_code == 404
    assert client.post(reverse("needs:form", args=[visit.pk]), {"bedrooms": "3"}).status_code == 404
    assert client.get(reverse("needs:recommendations", args=[visit.pk])).status_code == 404
    assert not Needs.objects.filter(customer=visit.customer).exists()


def test_context_helpers_for_the_visit_page(visit, on_duty, manager) -> None:
    needs_update(customer=visit.customer, by=manager, bedrooms=3)
    context = needs_context(visit=visit, viewer=on_duty[0])
    form = context["needs_form"]
    assert isinstance(form, NeedsForm) and form.initial["bedrooms"] == 3
    assert context["visit"] == visit and context["project"] == visit.project
    recommendations = recommendations_context(visit=visit, viewer=manager)
    assert recommendations["recommendations_missing"] == ""
    listed = recommendations["recommendations"]
    assert isinstance(listed, list) and {r.unit.bedrooms for r in listed} == {3}
    with pytest.raises(NotFound):
        needs_context(visit=visit, viewer=on_duty[1])
    with pytest.raises(NotFound):
        recommendations_context(visit=visit, viewer=on_duty[1])
