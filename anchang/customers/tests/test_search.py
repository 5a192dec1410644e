import pytest

from anchang.customers.models import Customer
from anchang.customers.selectors import customer_search

pytestmark = pytest.mark.django_db


@pytest.fixture
def people(project):
    names = {
        "单丽华": "+8613812340001",
        "曾欣悦": "+8613912340002",
        "王小明": "+8613712345678",
        "张伟": "+8618612349999",
    }
    return {
        name: Customer.objects.create(project=project, phone=phone, name=name)
        for name, phone in names.items()
    }


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("5678", "王小明"),
        ("13712345678", "王小明"),
        ("王小", "王小明"),
        ("wxm", "王小明"),
        ("wangxiao", "王小明"),
        ("slh", "单丽华"),
        ("dlh", "单丽华"),
        ("shanlihua", "单丽华"),
        ("zxy", "曾欣悦"),
        ("cengxin", "曾欣悦"),
        ("ZW", "张伟"),
        ("9999", "张伟"),
    ],
)
def test_search_by_name_pinyin_initials_and_digits(people, project, query: str, expected: str) -> None:
    assert [c.name for c in customer_search(project=project, q=query)] == [expected]


def test_other_projects_customers_are_never_found(people, other_project) -> None:
    assert customer_search(project=other_project, q="wxm") == []


@pytest.mark.parametrize("query", ["", "  ", "12", "%", "'; DROP TABLE x"])
def test_junk_queries_find_nothing_and_never_fail(people, project, query: str) -> None:
    assert customer_search(project=project, q=query) == []


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("王", ["王小明"]),
        ("小明", ["王小明"]),
        ("丽华", ["单丽华"]),
        ("xy", []),
        ("zx", ["曾欣悦"]),
        ("sh", ["单丽华"]),
    ],
)
def test_short_queries_match_starts_and_ends_that_an_index_can_serve(
    people, project, query, expected
) -> None:
    # One character is a surname; two characters the start or the end of a name; one or two
    # letters the start of a reading — a middle pair ("xy" inside "zxy") is not searched.
    assert [c.name for c in customer_search(project=project, q=query)] == expected


@pytest.mark.parametrize(
    ("query", "selective"),
    [("5678", True), ("wxm", True), ("wx", False), ("王小", True), ("王", False), ("", False)],
)
def test_which_searches_count_as_selective(query: str, selective: bool) -> None:
    from anchang.customers.selectors import is_selective_search

    assert is_selective_search(query) is selective
