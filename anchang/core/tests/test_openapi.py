"""The OpenAPI document and the interactive docs (api.md "Conventions")."""

import json
import re

import pytest
from django.contrib.staticfiles import finders
from django.test import Client
from django.urls import URLPattern

from anchang.api import api

CORE_OPERATIONS = {
    ("/api/v1/auth/token", "post"),
    ("/api/v1/projects", "get"),
    ("/api/v1/projects/{pid}/staff", "get"),
    ("/api/v1/projects/{pid}/units", "get"),
}
NOT_ENDPOINTS = {"openapi-json", "openapi-view", "api-root"}


@pytest.fixture
def document(client: Client, db: None) -> dict:
    response = client.get("/api/v1/openapi.json")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/json")
    return json.loads(response.content)


def test_document_is_openapi_3(document: dict) -> None:
    assert document["openapi"].startswith("3.")
    assert document["info"]["title"]
    assert document["info"]["version"] == "1"


def test_document_lists_the_core_endpoints(document: dict) -> None:
    listed = {(path, method) for path, operations in document["paths"].items() for method in operations}

    assert listed >= CORE_OPERATIONS


def test_every_routed_endpoint_is_in_the_document(document: dict) -> None:
    patterns, _app, _namespace = api.urls
    routed = {
        "/api/v1/" + re.sub(r"<(?:\w+:)?(\w+)>", r"{\1}", str(p.pattern))
        for p in patterns
        if isinstance(p, URLPattern) and p.name and p.name not in NOT_ENDPOINTS
    }

    assert routed, "the API routes nothing?"
    assert routed <= set(document["paths"])


def test_every_operation_but_login_requires_the_bearer_token(document: dict) -> None:
    assert document["components"]["securitySchemes"] == {
        "BearerTokenAuth": {"type": "http", "scheme": "bearer"}
    }
    for path, operations in document["paths"].items():
        for method, operation in operations.items():
            if (path, method) == ("/api/v1/auth/token", "post"):
                assert not operation.get("security")
            else:
                assert operation["security"] == [{"BearerTokenAuth": []}], (path, method)
                assert "401" in operation["responses"], (path, method)


def test_errors_are_documented_in_the_api_format_and_never_as_422(document: dict) -> None:
    error_schema = document["components"]["schemas"]["ErrorOut"]
    assert set(error_schema["properties"]) == {"code", "message", "fields"}
    for path, operations in document["paths"].items():
        for method, operation in operations.items():
            assert "422" not in operation["responses"], (path, method)
            for status, answer in operation["responses"].items():
                if status.startswith(("4", "5")):
                    schema = answer["content"]["application/json"]["schema"]
                    assert schema == {"$ref": "#/components/schemas/ErrorOut"}, (path, method, status)


def test_money_and_area_are_documented_as_decimal_strings(document: dict) -> None:
    unit = document["components"]["schemas"]["UnitOut"]["properties"]

    for field in ("area", "total_price"):
        assert unit[field]["type"] == "string"
        assert re.fullmatch(unit[field]["pattern"], "3120000.00")


def test_unit_filters_and_pagination_are_documented(document: dict) -> None:
    parameters = document["paths"]["/api/v1/projects/{pid}/units"]["get"]["parameters"]

    assert {p["name"] for p in parameters} == {
        "pid",
        "status",
        "building",
        "bedrooms",
        "min_total",
        "max_total",
        "limit",
        "offset",
    }


def test_docs_page_renders_from_local_static_files(client: Client, db: None) -> None:
    response = client.get("/api/v1/docs")

    assert response.status_code == 200
    html = response.content.decode()
    assert "/api/v1/openapi.json" in html
    assert "/static/ninja/" in html
    assert not re.search(r"https?://(?!127\.0\.0\.1|localhost)", html.replace("http://www.w3.org", "")), (
        "no CDN can be reached from the sites"
    )
    for asset in re.findall(r"/static/(ninja/[^\"']+)", html):
        assert finders.find(asset), asset
