"""GET /healthz answers for the database, and recovers without a restart."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from flask.testing import FlaskClient
from sqlalchemy import make_url

from server.app import create_app
from server.config import Settings, load_config
from tests.conftest import PG_URL, refuge_env
from tests.relay import TcpRelay


def test_healthz_is_ok_when_the_database_answers(client: FlaskClient) -> None:
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.get_json() == {"status": "ok"}


def test_healthz_is_503_while_sqlite_is_unreachable_and_recovers(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    data_dir.mkdir()
    settings = load_config(
        refuge_env(tmp_path, REFUGE_DATABASE_URL=f"sqlite:///{data_dir / 'refuge.sqlite3'}")
    )
    shutil.rmtree(data_dir)  # the volume holding the database is gone when the app starts
    client = create_app(settings).test_client()
    down = client.get("/healthz")
    assert down.status_code == 503
    assert down.get_json() == {"status": "unavailable", "reason": "database unreachable"}

    data_dir.mkdir()  # and back, with no restart of the app
    assert client.get("/healthz").status_code == 200


@pytest.fixture
def pg_proxy(pg_database: str) -> Iterator[tuple[TcpRelay, str]]:
    url = make_url(pg_database)
    proxy = TcpRelay((url.host or "127.0.0.1", url.port or 5432))
    yield proxy, url.set(host="127.0.0.1", port=proxy.port).render_as_string(hide_password=False)
    proxy.close()


@pytest.mark.skipif(not PG_URL, reason="needs REFUGE_TEST_DATABASE_URL (PostgreSQL)")
def test_healthz_follows_a_postgresql_outage_without_a_restart(
    tmp_path: Path, pg_proxy: tuple[TcpRelay, str]
) -> None:
    proxy, url = pg_proxy
    settings: Settings = load_config(refuge_env(tmp_path, REFUGE_DATABASE_URL=url))
    client = create_app(settings).test_client()
    assert client.get("/healthz").status_code == 200

    proxy.cut()
    down = client.get("/healthz")
    assert down.status_code == 503
    assert down.get_json()["status"] == "unavailable"

    proxy.restore()
    assert client.get("/healthz").status_code == 200


def test_health_needs_no_session_or_cookie(client: FlaskClient) -> None:
    response = client.get("/healthz")
    assert "Set-Cookie" not in response.headers
