"""`redirect_back` follows `next` only within this site."""

import pytest
from django.test import RequestFactory

from anchang.core.http import redirect_back


@pytest.mark.parametrize(
    ("next_url", "expected"),
    [
        ("/projects/1/pool/?page=2", "/projects/1/pool/?page=2"),
        ("https://evil.example/steal", "/home/"),
        ("//evil.example/steal", "/home/"),
        ("", "/home/"),
    ],
)
def test_next_is_followed_only_on_this_site(next_url: str, expected: str) -> None:
    request = RequestFactory().post("/x/", {"next": next_url})
    assert redirect_back(request, "/home/").url == expected
