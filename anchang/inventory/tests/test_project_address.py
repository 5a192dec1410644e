"""A project's address as one line: city, district and street, each once."""

import pytest

from anchang.inventory.models import Project


@pytest.mark.parametrize(
    ("city", "district", "address", "expected"),
    [
        ("杭州", "滨江区", "闻涛路 1 号", "杭州滨江区闻涛路 1 号"),
        # Typed with the district (or city and district) in front: not repeated.
        ("杭州", "滨江区", "滨江区闻涛路 1 号", "杭州滨江区闻涛路 1 号"),
        ("杭州", "滨江区", "杭州滨江区闻涛路 1 号", "杭州滨江区闻涛路 1 号"),
        ("杭州", "滨江区", "杭州市滨江区闻涛路 1 号", "杭州市滨江区闻涛路 1 号"),
        ("杭州", "", "文一西路 88 号", "杭州文一西路 88 号"),
        ("杭州", "余杭区", "", "杭州余杭区"),
    ],
)
def test_full_address_names_each_part_once(city: str, district: str, address: str, expected: str) -> None:
    assert Project(city=city, district=district, address=address).full_address == expected
