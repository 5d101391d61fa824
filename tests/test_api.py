"""The JSON API: answers match the OpenAPI document, rules hold, errors are stable JSON."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any
from urllib.parse import quote

import jsonschema
import pytest
from flask import Flask
from flask.testing import FlaskClient

from server.web.api import LIMITER_EXTENSION
from server.web.ratelimit import RateLimiter
from tests.web_world import NOW, SECRETS, demo, world

__all__ = ["demo", "world"]

HSDS_FIXTURES = Path(__file__).parent / "fixtures" / "hsds"
HSDS = HSDS_FIXTURES / "schema" / "compiled" / "service_with_definitions.json"
HSDS_PAGE = HSDS_FIXTURES / "schema" / "openapi.json"
needs_hsds = pytest.mark.skipif(not HSDS.is_file(), reason="HSDS 3.0 schemas not present")

#: Every documented GET, with arguments that exercise its parameters.
CALLS = (
    ("/locales", "/api/v1/locales"),
    ("/regions", "/api/v1/regions?locale=ar"),
    ("/resources", "/api/v1/resources?region=testland&per_page=2&page=1"),
    ("/resources", "/api/v1/resources?category=shelter"),
    ("/resources", "/api/v1/resources?q=clinic&locale=ar"),
    ("/resources/{id}", "/api/v1/resources/safe-house"),
    ("/resources/{id}", "/api/v1/resources/fresh-clinic"),
    ("/bulletins", "/api/v1/bulletins?region=east"),
    ("/checklists", "/api/v1/checklists"),
    ("/checklists/{slug}", "/api/v1/checklists/phone"),
    ("/hsds/services", "/api/v1/hsds/services?per_page=10"),
)
ERRORS = (
    ("/resources", "/api/v1/resources?page=0", 400),
    ("/resources", "/api/v1/resources?per_page=1000", 400),
    ("/resources", "/api/v1/resources?category=weapons", 400),
    ("/resources", "/api/v1/resources?modified_after=yesterday", 400),
    ("/resources", "/api/v1/resources?modified_after=2026-01-01T00:00:00", 400),
    ("/resources", "/api/v1/resources?region=atlantis", 404),
    ("/resources", "/api/v1/resources?locale=zz-Nope", 400),
    ("/resources/{id}", "/api/v1/resources/retired-kitchen", 404),
    ("/checklists/{slug}", "/api/v1/checklists/nothing", 404),
    ("/bulletins", "/api/v1/bulletins?region=atlantis", 404),
    ("/resources", "/api/v1/resources?region=a%00b", 400),
    ("/resources/{id}", "/api/v1/resources/a%00b", 400),
    ("/checklists/{slug}", "/api/v1/checklists/a%00b", 400),
)


def validate(document: dict[str, Any], path: str, status: int, body: Any) -> None:
    """Check a body against the schema the OpenAPI document gives for this path and status."""
    response = document["paths"][path]["get"]["responses"][str(status)]
    schema = dict(response["content"]["application/json"]["schema"])
    schema["components"] = document["components"]
    validator = jsonschema.Draft202012Validator(
        schema, format_checker=jsonschema.Draft202012Validator.FORMAT_CHECKER
    )
    validator.validate(body)


@pytest.fixture
def document(world: FlaskClient) -> dict[str, Any]:
    response = world.get("/api/v1/openapi.json")
    assert response.status_code == 200
    body: dict[str, Any] = response.get_json()
    jsonschema.Draft202012Validator.check_schema(body["components"]["schemas"]["Resource"])
    return body


def test_the_openapi_document_is_3_1_and_lists_every_endpoint(document: dict[str, Any]) -> None:
    assert document["openapi"].startswith("3.1")
    assert set(document["paths"]) == {path for path, _url in CALLS}


@pytest.mark.parametrize(("path", "url"), CALLS)
def test_each_answer_matches_the_openapi_document(
    world: FlaskClient, document: dict[str, Any], path: str, url: str
) -> None:
    response = world.get(url)
    assert response.status_code == 200, response.get_json()
    validate(document, path, 200, response.get_json())


@pytest.mark.parametrize(("path", "url", "status"), ERRORS)
def test_errors_are_documented_json_with_a_stable_code(
    world: FlaskClient, document: dict[str, Any], path: str, url: str, status: int
) -> None:
    response = world.get(url)
    assert response.status_code == status
    assert response.mimetype == "application/json"
    validate(document, path, status, response.get_json())
    assert "Traceback" not in response.get_data(as_text=True)


def test_a_write_is_refused_as_json(world: FlaskClient) -> None:
    response = world.post("/api/v1/resources", json={"name": "x"})
    assert response.status_code == 405
    assert response.get_json()["error"]["code"] == "method_not_allowed"


def test_the_api_never_gives_a_confidential_place_away(world: FlaskClient) -> None:
    for url in (
        "/api/v1/resources?per_page=100",
        "/api/v1/resources/safe-house",
        "/api/v1/hsds/services?per_page=100",
    ):
        text = world.get(url).get_data(as_text=True)
        for secret in SECRETS:
            assert secret not in text, (url, secret)
    house = world.get("/api/v1/resources/safe-house").get_json()
    assert house["locations"] == [{"confidential": True, "call_first_phone": "+44 7700 900003"}]


def test_stale_retired_and_hidden_resources_follow_the_rules(world: FlaskClient) -> None:
    items = world.get("/api/v1/resources?per_page=100").get_json()["items"]
    shown = {item["id"]: item for item in items}
    assert set(shown) == {"fresh-clinic", "stale-helpline", "safe-house"}
    assert shown["stale-helpline"]["stale"] is True
    assert shown["fresh-clinic"]["stale"] is False


def test_only_bulletins_in_force_are_listed(world: FlaskClient) -> None:
    items = world.get("/api/v1/bulletins").get_json()["items"]
    assert {item["id"] for item in items} == {"current-alert", "rumour-note"}
    note = next(item for item in items if item["id"] == "rumour-note")
    assert note["kind"] == "context"
    assert note["expires_at"] is None


def test_paging_counts_every_match(world: FlaskClient) -> None:
    first = world.get("/api/v1/resources?per_page=2").get_json()
    second = world.get("/api/v1/resources?per_page=2&page=2").get_json()
    assert first["total"] == second["total"] == 3
    assert len(first["items"]) == 2
    assert len(second["items"]) == 1
    assert not {i["id"] for i in first["items"]} & {i["id"] for i in second["items"]}


def test_modified_after_returns_only_what_changed_since(world: FlaskClient) -> None:
    earlier = quote((NOW.replace(microsecond=0)).isoformat())
    assert world.get(f"/api/v1/resources?modified_after={earlier}").get_json()["total"] == 0
    long_ago = "2020-01-01T00:00:00Z"
    assert world.get(f"/api/v1/resources?modified_after={long_ago}").get_json()["total"] == 3


def test_language_comes_from_the_query_then_accept_language(world: FlaskClient) -> None:
    def clinic(url: str, **headers: str) -> dict[str, Any]:
        body = world.get(url, headers=headers).get_json()
        return next(item for item in body["items"] if item["id"] == "fresh-clinic")

    assert clinic("/api/v1/resources", **{"Accept-Language": "ar"})["name"] == "عيادة جديدة"
    assert clinic("/api/v1/resources?locale=ar")["locale"] == "ar"
    english = clinic("/api/v1/resources?locale=en", **{"Accept-Language": "ar"})
    assert english["name"] == "Fresh Clinic"
    vary = world.get("/api/v1/resources").headers["Vary"]
    assert "Accept-Language" in vary


def test_cors_allows_reading_from_any_origin_and_nothing_else(world: FlaskClient) -> None:
    response = world.get("/api/v1/regions", headers={"Origin": "https://partner.example"})
    assert response.headers["Access-Control-Allow-Origin"] == "*"
    assert "POST" not in response.headers["Access-Control-Allow-Methods"]
    preflight = world.options(
        "/api/v1/regions",
        headers={"Origin": "https://partner.example", "Access-Control-Request-Method": "GET"},
    )
    assert preflight.status_code == 200
    assert preflight.headers["Access-Control-Allow-Methods"] == "GET, HEAD, OPTIONS"
    assert "Set-Cookie" not in response.headers


def test_a_repeat_read_with_the_etag_costs_a_304(world: FlaskClient) -> None:
    first = world.get("/api/v1/resources")
    assert first.headers["Cache-Control"] == "public, no-cache"
    again = world.get("/api/v1/resources", headers={"If-None-Match": first.headers["ETag"]})
    assert again.status_code == 304
    other = world.get(
        "/api/v1/resources?locale=ar", headers={"If-None-Match": first.headers["ETag"]}
    )
    assert other.status_code == 200


def test_a_client_over_its_limit_waits_and_its_address_is_not_kept(
    app: Flask, world: FlaskClient
) -> None:
    limiter = RateLimiter(limit=3, clock=lambda: 1_000.0)  # no window ends mid-test
    app.extensions[LIMITER_EXTENSION] = limiter
    address = {"REMOTE_ADDR": "203.0.113.77"}
    statuses = [world.get("/api/v1/locales", environ_base=address).status_code for _ in range(4)]
    assert statuses == [200, 200, 200, 429]
    refused = world.get("/api/v1/locales", environ_base=address)
    assert refused.get_json()["error"]["code"] == "rate_limited"
    assert 0 < int(refused.headers["Retry-After"]) <= 60
    other = world.get("/api/v1/locales", environ_base={"REMOTE_ADDR": "203.0.113.78"})
    assert other.status_code == 200
    assert limiter.clients() == 2
    kept = repr(vars(limiter)).encode() + b"".join(vars(limiter)["_counts"])
    assert b"203.0.113" not in kept


def test_the_limit_forgets_clients_when_its_window_turns() -> None:
    now = [0.0]
    limiter = RateLimiter(limit=1, window=60, clock=lambda: now[0])
    assert limiter.hit("198.51.100.1") is None
    assert limiter.hit("198.51.100.1") == pytest.approx(60)
    now[0] = 61.0
    assert limiter.hit("198.51.100.1") is None
    assert limiter.clients() == 1


@needs_hsds
def test_hsds_services_validate_against_the_hsds_schemas(world: FlaskClient) -> None:
    body = world.get("/api/v1/hsds/services?per_page=100").get_json()
    page_schema = json.loads(HSDS_PAGE.read_text())["components"]["schemas"]["Page"]
    jsonschema.Draft202012Validator(page_schema).validate(body)
    service = jsonschema.Draft202012Validator(
        json.loads(HSDS.read_text()),
        format_checker=jsonschema.Draft202012Validator.FORMAT_CHECKER,
    )
    assert body["total_items"] == len(body["contents"]) == 3
    for record in body["contents"]:
        service.validate(record)
    names = {record["name"] for record in body["contents"]}
    assert "Retired Kitchen" not in names
    assert "Hidden Stale Line" not in names


@needs_hsds
def test_hsds_services_of_the_demo_content_validate(demo: FlaskClient) -> None:
    service = jsonschema.Draft202012Validator(
        json.loads(HSDS.read_text()),
        format_checker=jsonschema.Draft202012Validator.FORMAT_CHECKER,
    )
    body = demo.get("/api/v1/hsds/services?per_page=100").get_json()
    assert body["total_items"] > 20
    for record in body["contents"]:
        service.validate(record)


def test_every_api_answer_carries_the_security_headers(world: FlaskClient) -> None:
    for _path, url in CALLS:
        headers = world.get(url).headers
        assert "default-src 'none'" in headers["Content-Security-Policy"], url
        assert headers["X-Content-Type-Options"] == "nosniff"
        assert headers["Referrer-Policy"] == "no-referrer"
        assert headers["X-Frame-Options"] == "DENY"
        assert "Set-Cookie" not in headers
