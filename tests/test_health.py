"""GET /healthz answers for the database, and recovers without a restart."""

from __future__ import annotations

import shutil
import socket
import threading
from collections.abc import Iterator
from contextlib import suppress
from pathlib import Path

import pytest
from flask.testing import FlaskClient
from sqlalchemy import make_url

from server import create_app
from server.config import Settings, load_config
from tests.conftest import PG_URL, refuge_env


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


class _Proxy:
    """A TCP relay to PostgreSQL that can be cut and restored, like a flaky network."""

    def __init__(self, target: tuple[str, int]) -> None:
        self.target = target
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        self.open = True
        self.sockets: list[socket.socket] = []
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while True:
            try:
                client, _ = self.listener.accept()
            except OSError:
                return
            if not self.open:
                client.close()
                continue
            upstream = socket.create_connection(self.target)
            self.sockets += [client, upstream]
            for a, b in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pipe, args=(a, b), daemon=True).start()

    @staticmethod
    def _pipe(source: socket.socket, sink: socket.socket) -> None:
        with suppress(OSError):
            while data := source.recv(65536):
                sink.sendall(data)
        with suppress(OSError):
            sink.shutdown(socket.SHUT_WR)

    def cut(self) -> None:
        self.open = False
        for sock in self.sockets:
            with suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)
            sock.close()
        self.sockets.clear()

    def restore(self) -> None:
        self.open = True

    def close(self) -> None:
        self.cut()
        self.listener.close()


@pytest.fixture
def pg_proxy(pg_database: str) -> Iterator[tuple[_Proxy, str]]:
    url = make_url(pg_database)
    proxy = _Proxy((url.host or "127.0.0.1", url.port or 5432))
    yield proxy, url.set(host="127.0.0.1", port=proxy.port).render_as_string(hide_password=False)
    proxy.close()


@pytest.mark.skipif(not PG_URL, reason="needs REFUGE_TEST_DATABASE_URL (PostgreSQL)")
def test_healthz_follows_a_postgresql_outage_without_a_restart(
    tmp_path: Path, pg_proxy: tuple[_Proxy, str]
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
