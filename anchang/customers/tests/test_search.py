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
