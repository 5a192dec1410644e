"""`PATCH /visits/{id}` and `GET /customers/{id}/recommendations` over HTTP with bearer tokens."""

from decimal import Decimal

import pytest

from anchang.customers.models import CustomerEvent, EventKind, Needs
from anchang.customers.needs import needs_update
from anchang.reception.models import Visit
from anchang.reception.needs.services import visit_intent_level_out, visit_needs_out
from anchang.reception.services import check_in

pytestmark = pytest.mark.django_db

EMPTY_NEEDS: dict[str, object] = {
    "purpose": None,
    "budget_min": None,
    "budget_max": None,
    "down_payment": None,
    "bedrooms": None,
    "area_min": None,
    "area_max": None,
    "floor_min": None,
    "floor_max": None,
    "orientation": None,
    "buildings": [],
    "decision_makers": None,
    "concerns": None,
    "residence": None,
    "workplace_area": None,
}


@pytest.fixture
def visit(project, frontdesk, on_duty) -> Visit:
    return check_in(project=project, phone="13812345678", by=frontdesk, consent=True).visit


def patch(client, visit_id, body, headers):
    return client.patch(f"/api/v1/visits/{visit_id}", body, content_type="application/json", headers=headers)


def test_patch_records_needs_and_intent_and_answers_the_pinned_shape(
    client, visit, on_duty, api_token_for
) -> None:
    body = {
        "needs": {
            "purpose": "upgrade",
            "budget_min": "3000000",
            "budget_max": 3500000.5,
            "bedrooms": 3,
            "area_min": "90",
            "area_max": 120,
            "floor_min": 10,
            "floor_max": 20,
            "orientation": "NS",
            "buildings": ["1栋"],
        },
        "intent_level": "A",
    }
    response = patch(client, visit.pk, body, api_token_for(on_duty[0]))
    assert response.status_code == 200, response.content
    assert response.json() == {
        "id": visit.pk,
        "needs": {
            **EMPTY_NEEDS,
            "purpose": "upgrade",
            "budget_min": "3000000.00",
            "budget_max": "3500000.50",
            "bedrooms": 3,
            "area_min": "90.00",
            "area_max": "120.00",
            "floor_min": 10,
            "floor_max": 20,
            "orientation": "NS",
            "buildings": ["1栋"],
        },
        "intent_level": "A",
    }
    event = CustomerEvent.objects.get(customer=visit.customer, kind=EventKind.NEEDS)
    assert event.text == (
        "置业目的 改善 · 预算 300–350万 · 3室 · 面积 90–120㎡ · 楼层 10–20层 · 南北通透 · 意向楼栋 1栋"
        " · 意向等级 A"
    )


def test_patch_takes_any_subset_and_leaves_the_rest(client, visit, on_duty, api_token_for) -> None:
    needs_update(customer=visit.customer, by=on_duty[0], bedrooms=3, budget_max=Decimal(3000000))
    headers = api_token_for(on_duty[0])
    response = patch(client, visit.pk, {"intent_level": "B"}, headers)
    assert response.status_code == 200
    assert response.json()["needs"]["bedrooms"] == 3 and response.json()["intent_level"] == "B"
    response = patch(client, visit.pk, {"needs": {"budget_max": None}}, headers)
    assert response.json()["needs"] == {**EMPTY_NEEDS, "bedrooms": 3}
    assert response.json()["intent_level"] == "B"
    assert patch(client, visit.pk, {}, headers).status_code == 200


@pytest.mark.parametrize(
    ("body", "fields"),
    [
        ({"needs": {"budget_min": "-1"}}, {"needs.budget_min": "金额不能为负数。"}),
        ({"needs": {"budget_min": "abc"}}, {"needs.budget_min": "请输入数字。"}),
        ({"needs": {"budget_min": "NaN"}}, {"needs.budget_min": "请输入数字。"}),
        (
            {"needs": {"budget_min": 3500000, "budget_max": 3000000}},
            {"needs.budget_max": "预算上限不能低于下限。"},
        ),
        ({"needs": {"bedrooms": 12}}, {"needs.bedrooms": "居室应为 1–9 之间的整数。"}),
        ({"needs": {"bedrooms": 2.5}}, {"needs.bedrooms": "居室应为 1–9 之间的整数。"}),
        ({"needs": {"bedrooms": [3]}}, {"needs.bedrooms": "格式不正确。"}),
        (
            {"needs": {"buildings": ["9栋"]}},
            {"needs.buildings": "本项目没有这些楼栋：9栋。请从项目的楼栋中选择。"},
        ),
        ({"needs": {"concerns": "x\x00"}}, {"needs.concerns": "内容含有无法保存的字符。"}),
        ({"intent_level": "E"}, {"intent_level": "意向等级只能是 A、B、C、D 之一。"}),
        (
            {"needs": {"floor_min": 30, "floor_max": 3}, "intent_level": "Z"},
            {
                "needs.floor_max": "最高楼层不能低于最低楼层。",
                "intent_level": "意向等级只能是 A、B、C、D 之一。",
            },
        ),
    ],
)
def test_bad_values_are_400_naming_the_field_and_change_nothing(
    client, visit, on_duty, api_token_for, body, fields
) -> None:
    body = {**body, "needs": {"bedrooms": 3, **body.get("needs", {})}}
    response = patch(client, visit.pk, body, api_token_for(on_duty[0]))
    assert response.status_code == 400, response.content
    assert response.json()["code"] == "invalid"
    assert response.json()["fields"] == fields
    assert not Needs.objects.filter(customer=visit.customer).exists()
    visit.customer.refresh_from_db()
    assert visit.customer.intent_level == ""


def test_patch_is_404_for_visits_the_caller_may_not_see(client, visit, on_duty, agent, api_token_for) -> None:
    for outsider in (on_duty[1], agent):
        response = patch(client, visit.pk, {"intent_level": "A"}, api_token_for(outsider))
        assert response.status_code == 404
        assert response.json()["code"] == "not_found"
    assert patch(client, 999_999, {"intent_level": "A"}, api_token_for(on_duty[0])).status_code == 404
    visit.customer.refresh_from_db()
    assert visit.customer.intent_level == ""


def test_get_visit_still_answers_beside_patch(client, visit, on_duty, api_token_for) -> None:
    # Both methods share one path: the PATCH joins the reception router's `/visits/{visit_id}`.
    response = client.get(f"/api/v1/visits/{visit.pk}", headers=api_token_for(on_duty[0]))
    assert response.status_code == 200
    schema = client.get("/api/v1/openapi.json").json()
    assert {"get", "patch"} <= set(schema["paths"]["/api/v1/visits/{visit_id}"])


def test_selectors_for_get_visit(visit, on_duty) -> None:
    assert visit_needs_out(visit=visit) is None
    assert visit_intent_level_out(visit=visit) is None
    needs_update(customer=visit.customer, by=on_duty[0], budget_min=Decimal("3120000"), bedrooms=3)
    fresh = Visit.objects.select_related("customer").get(pk=visit.pk)
    assert visit_needs_out(visit=fresh) == {**EMPTY_NEEDS, "budget_min": "3120000.00", "bedrooms": 3}


# --- recommendations ---------------------------------------------------------------------------


def recommendations(client, customer_id, headers, query=""):
    return client.get(f"/api/v1/customers/{customer_id}/recommendations{query}", headers=headers)


def test_recommendations_answer_the_pinned_shape(client, visit, on_duty, manager, api_token_for) -> None:
    needs_update(
        customer=visit.customer, by=on_duty[0], bedrooms=3, budget_max=Decimal("2320000"), floor_min=2
    )
    response = recommendations(client, visit.customer_id, api_token_for(on_duty[0]))
    assert response.status_code == 200, response.content
    body = response.json()
    assert [set(item) for item in body] == [{"unit_id", "score", "reasons"}] * 4
    assert [item["score"] for item in body] == [20, 20, 0, 0]
    assert body[0]["reasons"] == ["总价 232万 在预算内", "3室", "2层"]
    assert recommendations(client, visit.customer_id, api_token_for(manager), "?limit=1").json() == body[:1]


def test_recommendations_without_budget_or_bedrooms_are_400_needs_missing(
    client, visit, on_duty, api_token_for
) -> None:
    needs_update(customer=visit.customer, by=on_duty[0], orientation="S")
    response = recommendations(client, visit.customer_id, api_token_for(on_duty[0]))
    assert response.status_code == 400
    assert response.json() == {
        "code": "needs_missing",
        "message": "请先填写预算或居室，再查看推荐房源。",
        "fields": {},
    }


def test_recommendations_are_404_for_customers_the_caller_may_not_see(
    client, visit, on_duty, agent, api_token_for
) -> None:
    needs_update(customer=visit.customer, by=on_duty[0], bedrooms=3)
    for outsider in (on_duty[1], agent):
        assert recommendations(client, visit.customer_id, api_token_for(outsider)).status_code == 404
    assert recommendations(client, 999_999, api_token_for(on_duty[0])).status_code == 404
