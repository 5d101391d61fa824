"""A truncated request body cannot hold a gunicorn worker: measured with raw sockets against
the real served app (`gunicorn -c python:server.gunicorn_conf server.wsgi:app`), one sync
worker, on loopback."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from server.web.bodies import BODY_SECONDS
from tests.conftest import refuge_env

#: gunicorn's own worker timeout, which held the worker before (its default, 30 s).
WORKER_TIMEOUT = 30


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


@pytest.fixture
def served(tmp_path: Path) -> Iterator[int]:
    """The production entry point under gunicorn with one sync worker; its port."""
    port = _free_port()
    env = {
        **os.environ,
        **refuge_env(tmp_path, REFUGE_DATABASE_URL=f"sqlite:///{tmp_path / 'served.sqlite3'}"),
    }
    command = [
        sys.executable, "-m", "gunicorn", "-c", "python:server.gunicorn_conf",
        "--bind", f"127.0.0.1:{port}", "--workers", "1", "--worker-class", "sync",
        "--timeout", str(WORKER_TIMEOUT), "server.wsgi:app",
    ]  # fmt: skip
    server = subprocess.Popen(
        command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    try:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                _ask(port, b"GET /healthz HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n", 2)
                break
            except OSError:
                time.sleep(0.2)
        else:
            pytest.fail("gunicorn did not start")
        yield port
    finally:
        server.terminate()
        server.wait(timeout=30)


def _ask(port: int, request: bytes, timeout: float) -> bytes:
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as conn:
        conn.sendall(request)
        answer = b""
        while chunk := conn.recv(4096):
            answer += chunk
        return answer


def test_a_truncated_body_frees_the_worker_within_seconds(served: int) -> None:
    stalled = socket.create_connection(("127.0.0.1", served), timeout=WORKER_TIMEOUT)
    try:
        stalled.sendall(
            b"POST /en/checkin HTTP/1.1\r\nHost: t\r\nContent-Type: application/x-www-form-"
            b"urlencoded\r\nContent-Length: 1000\r\nConnection: close\r\n\r\nnumber=%2B44"
        )  # ...and never the other 988 bytes
        time.sleep(0.5)  # the one worker is now reading that body
        started = time.monotonic()
        answer = _ask(served, b"GET /healthz HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n", 20)
        waited = time.monotonic() - started
        assert answer.startswith(b"HTTP/1.1 200"), answer[:80]
        assert waited < BODY_SECONDS + 3 < WORKER_TIMEOUT
        assert stalled.recv(4096).startswith(b"HTTP/1.1 408")
    finally:
        stalled.close()


def test_a_whole_body_still_reaches_the_application(served: int) -> None:
    body = b"number=x&pin=1"
    answer = _ask(
        served,
        b"POST /en/checkin HTTP/1.1\r\nHost: t\r\nContent-Type: application/x-www-form-urlencoded"
        b"\r\nContent-Length: %d\r\nConnection: close\r\n\r\n%s" % (len(body), body),
        20,
    )
    # The form was read: the CSRF check answers, not a timeout and not an empty body.
    assert answer.split(b"\r\n", 1)[0] in {b"HTTP/1.1 400 BAD REQUEST", b"HTTP/1.1 200 OK"}
