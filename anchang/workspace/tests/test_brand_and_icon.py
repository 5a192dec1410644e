"""What a newcomer saw before signing in: the product's name once per language, and an icon."""

import re

import pytest
from django.contrib.staticfiles import finders
from django.templatetags.static import static
from django.urls import reverse

pytestmark = pytest.mark.django_db


def test_the_login_page_names_the_product_once_in_english(client) -> None:
    html = client.get(reverse("login"), HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert 'lang="en"' in html
    heading = re.search(r"<h1[^>]*>(.*?)</h1>", html, re.S)
    assert heading is not None
    # What the reader sees: the tags gone, whitespace as the browser collapses it.
    text = " ".join(re.sub(r"<[^>]+>", " ", heading.group(1)).split())
    assert text == "Anchang"


def test_the_login_page_shows_the_chinese_name_with_the_latin_one(client) -> None:
    html = client.get(reverse("login")).content.decode()
    assert "案场" in html and "Anchang</span>" in html


def test_favicon_ico_leads_to_the_apps_icon(client) -> None:
    response = client.get("/favicon.ico")
    assert response.status_code == 302
    assert response["Location"] == static("anchang/favicon.svg")
    assert finders.find("anchang/favicon.svg") is not None
    assert static("anchang/favicon.svg") in client.get(reverse("login")).content.decode()
