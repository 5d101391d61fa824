"""Fixtures: an app and a fresh database per test, on SQLite and (when configured) PostgreSQL."""

from __future__ import annotations

import os
import secrets
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import create_engine, make_url, text

from server import db, vault
from server.app import create_app
from server.config import Settings, load_config

#: A PostgreSQL server to test against, e.g. postgresql://postgres@127.0.0.1:5432/test.
PG_URL = os.environ.get("REFUGE_TEST_DATABASE_URL")
BACKENDS = ["sqlite", "postgresql"] if PG_URL else ["sqlite"]


@pytest.fixture(scope="session")
def pg_database(worker_id: str) -> Iterator[str]:
    """A database of this test session's own on the PostgreSQL server, dropped at the end."""
    if not PG_URL:
        pytest.fail("REFUGE_TEST_DATABASE_URL is not set")
    server = make_url(PG_URL).set(drivername="postgresql+psycopg")
    name = f"refuge_test_{worker_id}_{secrets.token_hex(4)}"
    admin = create_engine(server, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield server.set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def _reset_postgres(url: str) -> None:
    engine = create_engine(url, isolation_level="AUTOCOMMIT")
    with engine.connect() as connection:
        connection.execute(text("DROP SCHEMA IF EXISTS public CASCADE"))
        connection.execute(text("CREATE SCHEMA public"))
    engine.dispose()


@pytest.fixture(params=BACKENDS)
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """An empty database: a new SQLite file, or a freshly reset PostgreSQL schema."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'refuge.sqlite3'}"
    url: str = request.getfixturevalue("pg_database")
    _reset_postgres(url)
    return url


def refuge_env(tmp_path: Path, **overrides: str) -> dict[str, str]:
    """A complete REFUGE_* environment for a development instance in tmp_path."""
    env = {
        "REFUGE_INSTANCE_PATH": str(tmp_path / "instance"),
        **vault.new_key_settings(),
        "REFUGE_TWILIO_AUTH_TOKEN": "test-auth-token-" + secrets.token_hex(8),
        # The tests' fictional numbers are British and American (and a few Bangladeshi and
        # Ukrainian ones); Refuge texts, and lets people add, only numbers in these countries.
        "REFUGE_SMS_COUNTRIES": "GB,US,BD,UA",
    }
    env.update(overrides)
    return env


@pytest.fixture
def make_settings(tmp_path: Path, database_url: str) -> Callable[..., Settings]:
    """Build Settings for this test's database, with overrides as REFUGE_* keyword values."""

    def build(**overrides: str) -> Settings:
        return load_config(refuge_env(tmp_path, REFUGE_DATABASE_URL=database_url, **overrides))

    return build


@pytest.fixture
def settings(make_settings: Callable[..., Settings]) -> Settings:
    """Development settings on this test's database."""
    return make_settings()


@pytest.fixture
def app(settings: Settings) -> Iterator[Flask]:
    """An application with every table created on a fresh database."""
    application = create_app(settings)
    database = db.get_database(application)
    db.Base.metadata.create_all(database.engine)
    yield application
    database.dispose()


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    """A test client of the app."""
    return app.test_client()


def pytest_configure(config: Any) -> None:
    """Keep tests independent of the developer's shell; build the catalogues once."""
    if not hasattr(config, "workerinput"):  # the controller, before any worker starts
        from server.i18n import tools as i18n_tools

        i18n_tools.compile_all()
    for name in list(os.environ):
        if name.startswith("REFUGE_") and name not in {
            "REFUGE_TEST_DATABASE_URL",
            "REFUGE_REQUIRE_BROWSER",
            "REFUGE_CHROMIUM",
            "REFUGE_SIM_SEED",
            "REFUGE_SIM_PEOPLE",
            "REFUGE_SIM_WEEKS",
            "REFUGE_SIM_EXAMPLES",
        }:
            del os.environ[name]
