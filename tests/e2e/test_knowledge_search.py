"""A consultant on a phone types the search box's own example and gets the article (issue 11 §7)."""

import os
from typing import cast

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from anchang.accounts.models import Role
from anchang.accounts.testing import user_in
from anchang.demo.context import HIGH_RISE, DemoContext
from anchang.demo.knowledge_content import load_knowledge
from anchang.inventory.models import Project
from anchang.inventory.testing import ProjectFactory

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

# Set E2E_SHOTS=/some/dir to keep a screenshot of the results for a look.
SHOTS = os.environ.get("E2E_SHOTS")


def test_typing_a_shortened_word_finds_the_article_on_a_phone(page_for, live_server) -> None:
    project = cast(Project, ProjectFactory(code=HIGH_RISE, name="锦澜·滨江府"))
    load_knowledge(DemoContext(now=timezone.now(), projects={HIGH_RISE: project}))
    user_in(project, role=Role.CONSULTANT, username="e2e_gw")

    page = page_for("e2e_gw", width=390, height=844)
    page.goto(f"{live_server.url}/projects/{project.pk}/knowledge/")
    for query, title in (("物业费", "物业服务费"), ("公摊", "得房率与公摊面积")):
        page.fill("#knowledge-q", query)
        page.locator("#knowledge-q").press("Enter")
        expect(page.locator("#knowledge-results")).to_contain_text(f"“{query}”")
        expect(page.locator("#knowledge-results summary strong").first).to_have_text(title)
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    if SHOTS:
        page.screenshot(path=f"{SHOTS}/knowledge-390.png", full_page=False)
