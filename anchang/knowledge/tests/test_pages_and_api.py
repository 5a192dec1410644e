"""Knowledge base pages (search, detail, editing) and GET /knowledge."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from anchang.knowledge.models import Article, ArticleKind
from anchang.knowledge.services import article_create
from anchang.reception.models import Station

pytestmark = pytest.mark.django_db

READERS = ["manager", "frontdesk", "consultant", "attendant", "service"]
ITEM_FIELDS = {"id", "kind", "title", "topic", "station", "body"}


@pytest.fixture
def fee(project) -> Article:
    return article_create(
        project=project,
        kind=ArticleKind.MUST_KNOW,
        title="物业服务费",
        topic="收费标准",
        body="住宅 4.2 元/平方米·月\n商铺 6.5 元/平方米·月",
    )


@pytest.fixture
def hall_script(project) -> Article:
    hall = Station.objects.create(project=project, code="hall", name="销售大厅")
    return article_create(
        project=project, kind=ArticleKind.SCRIPT, title="迎宾开场", body="您好", station=hall
    )


# --- pages ----------------------------------------------------------------------------------------------


@pytest.mark.parametrize("who", READERS)
def test_site_staff_and_property_desk_search(request, client_for, project, fee, who) -> None:
    client = client_for(request.getfixturevalue(who))

    response = client.get(reverse("knowledge:list", args=[project.pk]), {"q": "wyf"})

    assert response.status_code == 200
    assert "物业服务费" in response.content.decode()


def test_agents_and_owners_get_404(client_for, project, agent, fee) -> None:
    client = client_for(agent)

    assert client.get(reverse("knowledge:list", args=[project.pk])).status_code == 404
    assert client.get(reverse("knowledge:detail", args=[fee.pk])).status_code == 404
    assert client.get(reverse("knowledge:home")).status_code == 404


def test_another_projects_knowledge_is_404(client_for, other_project, consultant) -> None:
    elsewhere = article_create(project=other_project, kind=ArticleKind.MUST_KNOW, title="别处", body="…")
    client = client_for(consultant)

    assert client.get(reverse("knowledge:list", args=[other_project.pk])).status_code == 404
    assert client.get(reverse("knowledge:detail", args=[elsewhere.pk])).status_code == 404


def test_live_search_answers_the_results_partial(client_for, project, consultant, fee) -> None:
    response = client_for(consultant).get(
        reverse("knowledge:list", args=[project.pk]),
        {"q": "物业", "compact": "1"},
        headers={"HX-Request": "true"},
    )

    assert response.status_code == 200
    assert response.templates[0].name == "knowledge/_results.html"
    assert "物业服务费" in response.content.decode()


def test_search_page_has_a_fixed_query_count(client_for, project, consultant, fee) -> None:
    client = client_for(consultant)
    url = reverse("knowledge:list", args=[project.pk])
    with CaptureQueriesContext(connection) as few:
        client.get(url, {"q": "费"}, headers={"HX-Request": "true"})
    for n in range(8):
        hall = Station.objects.create(project=project, code=f"s{n}", name=f"点{n}")
        article_create(project=project, kind=ArticleKind.SCRIPT, title=f"收费说辞{n}", body="…", station=hall)

    with CaptureQueriesContext(connection) as many:
        response = client.get(url, {"q": "费"}, headers={"HX-Request": "true"})

    assert response.content.decode().count("收费说辞") == 8
    assert len(many) == len(few)


def test_detail_renders_plain_text_with_line_breaks_escaped(client_for, project, consultant) -> None:
    article = article_create(
        project=project, kind=ArticleKind.MUST_KNOW, title="注意", body="第一行\n<script>alert(1)</script>"
    )

    page = client_for(consultant).get(reverse("knowledge:detail", args=[article.pk])).content.decode()

    assert "第一行<br>" in page
    assert "<script>alert(1)</script>" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page


def test_a_script_speaks_with_the_readers_own_name(client_for, project, consultant, manager) -> None:
    consultant.name, manager.name = "周顾问", "吴经理"
    consultant.save()
    manager.save()
    article = article_create(
        project=project, kind=ArticleKind.SCRIPT, title="自我介绍", body="您好，我是置业顾问{顾问}。"
    )

    for reader, name in ((consultant, "周顾问"), (manager, "吴经理")):
        page = client_for(reader).get(reverse("knowledge:detail", args=[article.pk])).content.decode()
        assert f"我是置业顾问{name}。" in page and "{顾问}" not in page


def test_unpublished_articles_are_for_editors_only(client_for, project, consultant, manager) -> None:
    draft = article_create(
        project=project, kind=ArticleKind.MUST_KNOW, title="草稿", body="…", is_published=False
    )

    assert client_for(consultant).get(reverse("knowledge:detail", args=[draft.pk])).status_code == 404
    assert client_for(manager).get(reverse("knowledge:detail", args=[draft.pk])).status_code == 200


def test_home_opens_the_current_projects_knowledge(client_for, project, service) -> None:
    response = client_for(service).get(reverse("knowledge:home"))

    assert response.status_code == 302
    assert response.url == reverse("knowledge:list", args=[project.pk])


def test_manager_creates_and_edits_an_article(client_for, project, manager, hall_script) -> None:
    client = client_for(manager)
    response = client.post(
        reverse("knowledge:create", args=[project.pk]),
        {
            "kind": "script",
            "title": "迎宾第二段",
            "topic": "迎宾",
            "station": hall_script.station_id,
            "body": "欢迎光临",
            "sort_order": "2",
            "is_published": "on",
        },
    )
    assert response.status_code == 302
    article = Article.objects.get(title="迎宾第二段")
    assert article.project == project and article.station_id == hall_script.station_id
    assert article.search_pinyin.startswith("yingbindierduan ybded|")

    response = client.post(
        reverse("knowledge:edit", args=[article.pk]),
        {
            "kind": "must_know",
            "title": "车位",
            "topic": "",
            "station": "",
            "body": "800 个",
            "sort_order": "0",
        },
    )
    assert response.status_code == 302
    article.refresh_from_db()
    assert (article.title, article.kind, article.station_id, article.is_published) == (
        "车位",
        "must_know",
        None,
        False,
    )
    assert article.search_pinyin == "chewei cw|"


def test_form_errors_are_shown_inline(client_for, project, manager) -> None:
    response = client_for(manager).post(
        reverse("knowledge:create", args=[project.pk]), {"kind": "must_know", "title": "", "body": ""}
    )

    assert response.status_code == 400
    assert not Article.objects.exists()


def test_a_station_of_another_project_is_not_offered(client_for, project, other_project, manager) -> None:
    elsewhere = Station.objects.create(project=other_project, code="hall", name="别处大厅")

    response = client_for(manager).post(
        reverse("knowledge:create", args=[project.pk]),
        {"kind": "script", "title": "x", "body": "y", "station": elsewhere.pk, "sort_order": "0"},
    )

    assert response.status_code == 400
    assert not Article.objects.exists()


@pytest.mark.parametrize("who", ["consultant", "frontdesk", "service", "agent"])
def test_only_managers_edit(request, client_for, project, fee, who) -> None:
    client = client_for(request.getfixturevalue(who))

    assert client.get(reverse("knowledge:create", args=[project.pk])).status_code == 404
    assert client.post(reverse("knowledge:edit", args=[fee.pk]), {"title": "改"}).status_code == 404
    fee.refresh_from_db()
    assert fee.title == "物业服务费"


# --- API ----------------------------------------------------------------------------------------------


def test_api_search_answers_items_and_count(
    client, api_token_for, project, consultant, fee, hall_script
) -> None:
    response = client.get(
        "/api/v1/knowledge", {"project": project.pk, "q": "yb"}, headers=api_token_for(consultant)
    )

    assert response.status_code == 200
    data = response.json()
    assert set(data) == {"items", "count"} and data["count"] == 1
    item = data["items"][0]
    assert set(item) == ITEM_FIELDS
    assert item == {
        "id": hall_script.pk,
        "kind": "script",
        "title": "迎宾开场",
        "topic": "",
        "station": "hall",
        "body": "您好",
    }


def test_api_kind_filter_and_pagination(client, api_token_for, project, service, fee, hall_script) -> None:
    headers = api_token_for(service)

    must_know = client.get(
        "/api/v1/knowledge", {"project": project.pk, "kind": "must_know"}, headers=headers
    ).json()
    page = client.get(
        "/api/v1/knowledge", {"project": project.pk, "limit": 1, "offset": 1}, headers=headers
    ).json()
    blank_kind = client.get("/api/v1/knowledge", {"project": project.pk, "kind": ""}, headers=headers).json()

    assert [i["title"] for i in must_know["items"]] == ["物业服务费"] and must_know["count"] == 1
    assert len(page["items"]) == 1 and page["count"] == 2
    assert blank_kind["count"] == 2


def test_api_query_count_is_fixed(
    client, api_token_for, project, consultant, fee, django_assert_max_num_queries
):
    headers = api_token_for(consultant)
    for n in range(6):
        article_create(project=project, kind=ArticleKind.MUST_KNOW, title=f"物业{n}", body="…")

    with django_assert_max_num_queries(4, info="token, project visibility, page, count"):
        response = client.get("/api/v1/knowledge", {"project": project.pk, "q": "wy"}, headers=headers)
    assert response.json()["count"] == 7


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"kind": "poem"}, "kind"),
        ({"project": "abc"}, "project"),
        ({"q": "长" * 41}, "q"),
        ({}, "project"),
    ],
)
def test_api_bad_input_is_400(client, api_token_for, project, consultant, params, field) -> None:
    query = {"project": project.pk, **params} if "project" not in params and params else params
    response = client.get("/api/v1/knowledge", query, headers=api_token_for(consultant))

    assert response.status_code == 400
    body = response.json()
    assert body["code"] == "invalid" and field in body["fields"]


def test_api_other_project_is_404_and_agent_is_403(
    client, api_token_for, project, other_project, consultant, agent
):
    response = client.get(
        "/api/v1/knowledge", {"project": other_project.pk}, headers=api_token_for(consultant)
    )
    assert response.status_code == 404 and response.json()["code"] == "not_found"

    response = client.get("/api/v1/knowledge", {"project": project.pk}, headers=api_token_for(agent))
    assert response.status_code == 403 and response.json()["code"] == "forbidden"


def test_api_needs_a_token(client, project) -> None:
    assert client.get("/api/v1/knowledge", {"project": project.pk}).status_code == 401


def test_page_and_api_find_a_shortened_word_with_a_fixed_query_count(
    client, client_for, api_token_for, project, consultant, fee
) -> None:
    page = client_for(consultant)
    url = reverse("knowledge:list", args=[project.pk])
    headers = api_token_for(consultant)
    with CaptureQueriesContext(connection) as few_page:
        page.get(url, {"q": "物业费"}, headers={"HX-Request": "true"})
    with CaptureQueriesContext(connection) as few_api:
        client.get("/api/v1/knowledge", {"project": project.pk, "q": "物业费"}, headers=headers)
    for n in range(8):
        article_create(project=project, kind=ArticleKind.MUST_KNOW, title=f"缴费须知{n}", body="物业费按月交")

    with CaptureQueriesContext(connection) as many_page:
        response = page.get(url, {"q": "物业费"}, headers={"HX-Request": "true"})
    with CaptureQueriesContext(connection) as many_api:
        answer = client.get("/api/v1/knowledge", {"project": project.pk, "q": "物业费"}, headers=headers)

    # The body says 物业费 word for word, yet the title 物业服务费 (a part of the query in it) comes first.
    assert response.content.decode().index("物业服务费") < response.content.decode().index("缴费须知0")
    data = answer.json()
    assert data["count"] == 9 and data["items"][0]["title"] == "物业服务费"
    assert (len(many_page), len(many_api)) == (len(few_page), len(few_api))
