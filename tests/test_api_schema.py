"""Schemathesis against the API in process: generated requests never break it, and every answer
(status, headers, body) is one the OpenAPI document allows."""

from __future__ import annotations

from pathlib import Path

import pytest
import schemathesis
from flask import Flask
from hypothesis import HealthCheck, given, settings

from server import db
from server.web.api import LIMITER_EXTENSION
from server.web.ratelimit import RateLimiter
from tests.web_world import build

#: Generated requests per operation: enough to try odd values of every parameter.
EXAMPLES = 30


@pytest.fixture
def database_url(tmp_path: Path) -> str:
    """Generated requests read the same data on either backend: SQLite keeps them quick."""
    return f"sqlite:///{tmp_path / 'refuge.sqlite3'}"


def test_generated_requests_get_documented_answers(app: Flask) -> None:
    with db.get_database(app).session() as session:
        build(session)
    # Hundreds of generated requests come from one client: let the limiter count, not refuse.
    app.extensions[LIMITER_EXTENSION] = RateLimiter(limit=10**9)
    schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", app)
    tried = []
    for result in schema.get_all_operations():
        operation = result.ok()
        tried.append(operation.label)

        @given(case=operation.as_strategy())
        @settings(
            max_examples=EXAMPLES,
            deadline=None,
            database=None,
            suppress_health_check=list(HealthCheck),
        )
        def call(case: schemathesis.Case) -> None:
            case.call_and_validate()

        call()
    assert len(tried) == 8
