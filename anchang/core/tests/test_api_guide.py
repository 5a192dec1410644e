"""docs/api.md, the project's API guide, names every endpoint the API has and stands on its own."""

import re
from pathlib import Path

from django.conf import settings

from anchang.api import api

GUIDE = Path(settings.PROJECT_ROOT) / "docs" / "api.md"


def test_every_endpoint_is_in_the_guide() -> None:
    text = GUIDE.read_text(encoding="utf-8")
    listed = set(re.findall(r"`(?:GET|POST|PUT|PATCH|DELETE) (/[^`?\s]*)", text))
    paths = {path.removeprefix("/api/v1") for path in api.get_openapi_schema()["paths"]}

    missing = sorted(path for path in paths if _guide_form(path) not in listed)

    assert missing == [], f"add these to the tables of docs/api.md: {missing}"


def _guide_form(path: str) -> str:
    # The guide writes ids as `{id}` wherever the path has one id of the thing it names.
    return re.sub(r"\{(?!pid\}|uid\}|code\}|consultant_id\})\w+\}", "{id}", path)


def test_the_guide_stands_on_its_own() -> None:
    assert "../shared" not in GUIDE.read_text(encoding="utf-8")
    readme = (Path(settings.PROJECT_ROOT) / "README.md").read_text(encoding="utf-8")
    api_section = readme.split("\n## API\n", 1)[1].split("\n## ", 1)[0]
    assert "docs/api.md" in api_section and "../shared" not in api_section
