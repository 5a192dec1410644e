"""The demo step `load_knowledge`: stations, scripts, must-know and phrases; a rerun creates nothing."""

from collections import Counter
from datetime import timedelta
from typing import cast

import pytest
from django.db.models import F
from django.utils import timezone

from anchang.core.testing.mobiles import mobile_for
from anchang.demo.knowledge_content import HIGH_RISE, TOWNHOUSE, demo_articles, load_knowledge
from anchang.demo.loader import HIGH_RISE as LOADER_HIGH_RISE
from anchang.demo.loader import TOWNHOUSE as LOADER_TOWNHOUSE
from anchang.demo.loader import DemoContext
from anchang.inventory.models import Project
from anchang.inventory.testing import ProjectFactory
from anchang.knowledge.models import Article, ArticleKind
from anchang.knowledge.selectors import article_search
from anchang.reception.models import Station, Visit, VisitStation
from anchang.reception.services import check_in, visit_end

pytestmark = pytest.mark.django_db


@pytest.fixture
def ctx() -> DemoContext:
    context = DemoContext(now=timezone.now())
    context.projects = {
        HIGH_RISE: cast(Project, ProjectFactory(code=HIGH_RISE, name="锦澜·滨江府")),
        TOWNHOUSE: cast(Project, ProjectFactory(code=TOWNHOUSE, name="锦澜·云溪里")),
    }
    return context


def test_project_codes_match_the_loader() -> None:
    assert (HIGH_RISE, TOWNHOUSE) == (LOADER_HIGH_RISE, LOADER_TOWNHOUSE)


def test_running_twice_gives_the_same_counts(ctx) -> None:
    load_knowledge(ctx)
    first = (Station.objects.count(), Article.objects.count())
    assert ctx.created[str(Article._meta.verbose_name_plural)] == first[1]

    again = DemoContext(now=timezone.now(), projects=ctx.projects)
    load_knowledge(again)

    assert (Station.objects.count(), Article.objects.count()) == first
    assert set(again.created.values()) == {0}


def test_existing_articles_are_left_as_edited(ctx) -> None:
    load_knowledge(ctx)
    project = ctx.projects[HIGH_RISE]
    Article.objects.filter(project=project, title="物业服务费").update(body="已由经理修改")

    load_knowledge(DemoContext(now=timezone.now(), projects=ctx.projects))

    assert Article.objects.get(project=project, title="物业服务费").body == "已由经理修改"


@pytest.mark.parametrize("code", [HIGH_RISE, TOWNHOUSE])
def test_each_project_gets_scripts_for_every_station_must_know_and_phrases(ctx, code) -> None:
    load_knowledge(ctx)
    project = ctx.projects[code]

    stations = list(Station.objects.filter(project=project))
    scripts = Counter(
        Article.objects.filter(project=project, kind=ArticleKind.SCRIPT).values_list(
            "station__code", flat=True
        )
    )
    assert len(stations) == 9
    assert all(2 <= scripts[s.code] <= 3 for s in stations), scripts
    assert Article.objects.filter(project=project, kind=ArticleKind.MUST_KNOW).count() >= 12
    phrase_topics = set(
        Article.objects.filter(project=project, kind=ArticleKind.PHRASE).values_list("topic", flat=True)
    )
    assert {"停车引导岗", "门岗迎宾"} <= phrase_topics


@pytest.mark.parametrize("code", [HIGH_RISE, TOWNHOUSE])
def test_titles_are_unique_within_a_project(code) -> None:
    titles = [spec.title for spec in demo_articles(code, "演示项目")]

    assert len(titles) == len(set(titles))


def test_the_must_know_sheet_answers_the_usual_questions(ctx) -> None:
    load_knowledge(ctx)
    project = ctx.projects[HIGH_RISE]

    assert "1,986" in article_search(project=project, q="总户数")[0].body
    assert "2.8" in article_search(project=project, q="rjl")[0].body
    assert article_search(project=project, q="wyf")[0].title == "物业服务费"
    assert article_search(project=project, q="学校")[0].topic == "教育配套"
    assert article_search(project=project, q="常用电话")[0].kind == ArticleKind.MUST_KNOW


@pytest.mark.parametrize("code", [HIGH_RISE, TOWNHOUSE])
@pytest.mark.parametrize(
    ("q", "title"),
    [
        # The search box's own example: the article is called 物业服务费.
        ("物业费", "物业服务费"),
        ("wyf", "物业服务费"),
        ("得房率", "得房率与公摊面积"),
        ("公摊", "得房率与公摊面积"),
        ("公摊面积是多少", "得房率与公摊面积"),
        ("容积率", "占地面积、建筑面积与容积率"),
    ],
)
def test_words_people_type_find_the_demo_article_first(ctx, code, q, title) -> None:
    load_knowledge(ctx)

    assert article_search(project=ctx.projects[code], q=q)[0].title == title


def test_earlier_first_visits_get_plausible_ticks_once(project, frontdesk, on_duty) -> None:
    Project.objects.filter(pk=project.pk).update(code=HIGH_RISE)
    project.refresh_from_db()
    earlier = []
    for seed in range(1, 9):
        visit = check_in(project=project, phone=mobile_for(seed), by=frontdesk, consent=True).visit
        visit_end(visit_id=visit.pk, by=frontdesk, outcome="no_interest")
        earlier.append(visit.pk)
    today = check_in(project=project, phone=mobile_for(50), by=frontdesk, consent=True).visit
    visit_end(visit_id=today.pk, by=frontdesk, outcome="no_interest")
    Visit.objects.filter(pk__in=earlier).update(
        checked_in_at=F("checked_in_at") - timedelta(days=1),
        checked_out_at=F("checked_out_at") - timedelta(days=1),
    )

    load_knowledge(DemoContext(now=timezone.now(), projects={HIGH_RISE: project}))

    ticks = list(VisitStation.objects.filter(visit_id__in=earlier).select_related("visit", "station"))
    assert {t.visit_id for t in ticks} == set(earlier)
    for tick in ticks:
        assert tick.visit.checked_out_at is not None
        assert tick.visit.checked_in_at <= tick.done_at <= tick.visit.checked_out_at
    assert all(t.by_id == t.visit.consultant_id for t in ticks)
    assert all((t.customer_confirmed is None) != t.station.is_risk_disclosure for t in ticks)
    assert not VisitStation.objects.filter(visit=today).exists()

    count = VisitStation.objects.count()
    load_knowledge(DemoContext(now=timezone.now(), projects={HIGH_RISE: project}))
    assert VisitStation.objects.count() == count
