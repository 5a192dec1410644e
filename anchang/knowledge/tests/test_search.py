"""Knowledge base search: Chinese text, 拼音 and initials of titles and topics, title hits first."""

import pytest

from anchang.core.errors import InvalidInput
from anchang.knowledge.grams import IN_BODY, IN_TITLE, IN_TOPIC, grams_needed, text_grams
from anchang.knowledge.models import Article, ArticleGram, ArticleKind
from anchang.knowledge.selectors import article_search, scripts_for_station
from anchang.knowledge.services import article_create, article_search_pinyin, article_update, text_pinyin
from anchang.reception.models import Station

pytestmark = pytest.mark.django_db


def must_know(project, title: str, body: str = "内容", topic: str = "", **extra) -> Article:
    return article_create(
        project=project, kind=ArticleKind.MUST_KNOW, title=title, body=body, topic=topic, **extra
    )


def titles(articles) -> list[str]:
    return [a.title for a in articles]


@pytest.fixture
def sheet(project) -> dict[str, Article]:
    return {
        "fee": must_know(project, "物业服务费", "住宅 4.2 元/平方米·月", topic="收费标准"),
        "parking_fee": must_know(
            project, "停车收费", "车位管理费 150 元/月，包含物业服务费以外的费用", topic="收费标准"
        ),
        "school": must_know(project, "学校", "配建 12 班幼儿园", topic="教育配套"),
        "transport": must_know(project, "交通出行", "地铁站约 800 米", topic="交通"),
        "phones": must_know(project, "常用联系电话", "紧急电话 110、119、120", topic="常用电话"),
    }


def test_pinyin_of_a_title() -> None:
    assert text_pinyin("物业费") == ("wuyefei", "wyf")
    assert text_pinyin("IC卡办理") == ("ickabanli", "ickbl")
    assert article_search_pinyin(title="学校", topic="教育配套") == "xuexiao xx|jiaoyupeitao jypt"


def test_create_fills_the_search_pinyin(project) -> None:
    article = must_know(project, "物业服务费", topic="收费标准")

    assert article.search_pinyin == article_search_pinyin(title="物业服务费", topic="收费标准")
    assert "wyfwf" in article.search_pinyin


def test_update_refreshes_the_search_pinyin(project) -> None:
    article = must_know(project, "物业服务费")

    article_update(article=article, kind=ArticleKind.MUST_KNOW, title="车位", body="800 个", topic="")

    article.refresh_from_db()
    assert article.search_pinyin == "chewei cw|"


def test_search_by_chinese_in_title_topic_or_body(project, sheet) -> None:
    assert titles(article_search(project=project, q="学校")) == ["学校"]
    assert titles(article_search(project=project, q="教育")) == ["学校"]
    assert titles(article_search(project=project, q="幼儿园")) == ["学校"]


def test_title_hits_come_before_body_hits(project, sheet) -> None:
    found = titles(article_search(project=project, q="物业服务费"))

    assert found == ["物业服务费", "停车收费"]


def test_topic_hits_come_before_body_hits(project, sheet) -> None:
    must_know(project, "会所", "会所不另收物业服务费以外的收费标准", topic="休闲配套")

    found = titles(article_search(project=project, q="收费标准"))

    # Both have the topic; 停车收费 also shares 收费 in its title, so it comes first.
    assert found[:2] == ["停车收费", "物业服务费"]
    assert found[-1] == "会所"


def test_search_by_pinyin_initials_and_full_pinyin(project, sheet) -> None:
    assert titles(article_search(project=project, q="wyf")) == ["物业服务费"]
    assert titles(article_search(project=project, q="WYFWF")) == ["物业服务费"]
    assert titles(article_search(project=project, q="xuexiao")) == ["学校"]
    assert titles(article_search(project=project, q="jiao tong")) == ["交通出行"]


def test_pinyin_of_a_topic_finds_the_article_after_title_hits(project, sheet) -> None:
    must_know(project, "收费须知", "按月收取")

    found = titles(article_search(project=project, q="sfbz"))

    assert found == ["物业服务费", "停车收费"]
    # Title hits (停车收费 tcsf, 收费须知 sfxz) before the topic hit (物业服务费, topic 收费标准 sfbz).
    assert titles(article_search(project=project, q="sf")) == ["停车收费", "收费须知", "物业服务费"]


def test_search_by_digits_finds_the_body(project, sheet) -> None:
    assert titles(article_search(project=project, q="120")) == ["常用联系电话"]


def test_kind_filter_and_unpublished(project, sheet) -> None:
    article_create(project=project, kind=ArticleKind.SCRIPT, title="物业介绍说辞", body="……")
    must_know(project, "物业费调整（草稿）", is_published=False)

    assert titles(article_search(project=project, q="物业", kind=ArticleKind.SCRIPT)) == ["物业介绍说辞"]
    assert "物业费调整（草稿）" not in titles(article_search(project=project, q="物业"))
    assert "物业费调整（草稿）" in titles(article_search(project=project, q="物业", include_unpublished=True))


def test_search_stays_inside_the_project(project, other_project, sheet) -> None:
    must_know(other_project, "学校", "别处的学校")

    assert [a.project_id for a in article_search(project=project, q="学校")] == [project.pk]


def test_empty_query_lists_everything_in_order(project, sheet) -> None:
    assert len(article_search(project=project, q="  ")) == len(sheet)


def test_search_is_one_query_whatever_the_size(project, sheet, django_assert_num_queries) -> None:
    for n in range(10):
        must_know(project, f"物业条目{n}", topic="收费标准")

    with django_assert_num_queries(1):
        found = article_search(project=project, q="wy")
        assert all(a.station is None for a in found)
    with django_assert_num_queries(1):
        article_search(project=project, q="物业")


def test_scripts_for_a_station(project) -> None:
    station = Station.objects.create(project=project, code="hall", name="大厅")
    article_create(
        project=project, kind=ArticleKind.SCRIPT, title="第二段", body="…", station=station, sort_order=2
    )
    article_create(
        project=project, kind=ArticleKind.SCRIPT, title="第一段", body="…", station=station, sort_order=1
    )
    must_know(project, "不是说辞", station=station)

    assert titles(scripts_for_station(station=station)) == ["第一段", "第二段"]


def test_create_refuses_bad_input(project, other_project) -> None:
    elsewhere = Station.objects.create(project=other_project, code="hall", name="大厅")

    with pytest.raises(InvalidInput) as caught:
        article_create(project=project, kind="poem", title=" ", body="", station=elsewhere)

    assert set(caught.value.fields) == {"kind", "title", "body", "station"}
    assert not Article.objects.exists()


# --- Chinese words inside longer phrases ------------------------------------------------------------------


def test_pairs_of_chinese_text() -> None:
    assert text_grams("物业服务费") == ["物业", "业服", "服务", "务费"]
    assert text_grams("IC卡 办理、IC卡补办") == ["办理", "卡补", "补办"]
    assert text_grams("房") == []
    assert [grams_needed(n) for n in (1, 2, 3, 4, 6)] == [1, 1, 1, 2, 3]


def test_create_and_update_index_the_pairs_with_where_they_occur(project) -> None:
    article = must_know(project, "物业服务费", "物业不加价", topic="收费标准")

    weights = dict(article.grams.values_list("gram", "weight"))
    assert weights["物业"] == IN_TITLE | IN_BODY
    assert weights["收费"] == IN_TOPIC
    assert weights["加价"] == IN_BODY

    article_update(article=article, kind=ArticleKind.MUST_KNOW, title="车位", body="800 个", topic="")

    assert list(article.grams.values_list("gram", flat=True)) == ["车位"]


def test_a_shortened_word_finds_the_longer_title(project, sheet) -> None:
    # 物业费 is nowhere as it stands; 物业服务费 shares 物业 in its title, 停车收费 only in its body.
    assert titles(article_search(project=project, q="物业费")) == ["物业服务费", "停车收费"]


def test_a_word_inside_a_sentence_of_the_body(project, sheet) -> None:
    must_know(project, "面积说明", "公摊包括电梯厅和楼梯间，得房率约 78%")

    assert titles(article_search(project=project, q="公摊")) == ["面积说明"]
    assert titles(article_search(project=project, q="得房率")) == ["面积说明"]


def test_part_of_the_query_in_a_title_ranks_before_the_whole_query_in_a_body(project) -> None:
    must_know(project, "购房须知", "办理物业费缴纳时带上身份证")
    must_know(project, "物业服务", "锦澜物业")

    assert titles(article_search(project=project, q="物业费")) == ["物业服务", "购房须知"]


def test_a_question_needs_half_of_its_pairs(project) -> None:
    must_know(project, "得房率与公摊面积", "公摊面积约 31.5 平方米")
    must_know(project, "开盘时间", "具体开盘日期是多少请以通知为准")

    # 公摊面积是多少: 公摊 摊面 面积 积是 是多 多少; the second article shares only 是多, 多少.
    assert titles(article_search(project=project, q="公摊面积是多少")) == ["得房率与公摊面积"]


def test_articles_written_before_the_index_are_indexed_by_the_migration(project) -> None:
    from importlib import import_module

    from django.apps import apps

    migration = import_module("anchang.knowledge.migrations.0002_article_character_pairs_for_search")
    Article.objects.create(project=project, kind=ArticleKind.MUST_KNOW, title="得房率", body="约 78%")

    migration.index_existing_articles(apps, None)

    assert list(ArticleGram.objects.values_list("gram", "weight")) == [("得房", IN_TITLE), ("房率", IN_TITLE)]
    assert titles(article_search(project=project, q="得房")) == ["得房率"]


def test_an_article_saved_in_the_admin_is_found_by_its_words(client_for, admin_user, project) -> None:
    response = client_for(admin_user).post(
        "/admin/knowledge/article/add/",
        {
            "project": project.pk,
            "kind": ArticleKind.MUST_KNOW,
            "title": "面积说明",
            "topic": "",
            "body": "公摊包括电梯厅和楼梯间",
            "sort_order": 0,
            "is_published": "on",
        },
    )

    assert response.status_code == 302, response.content.decode()[:500]
    # Not the whole query anywhere: found only through the pair 公摊 the admin indexed.
    assert titles(article_search(project=project, q="公摊费用")) == ["面积说明"]
