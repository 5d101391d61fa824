"""Real Chromium for browser tests: Debian's binary driven by Playwright, never a download."""

from __future__ import annotations

import os
import shutil
import threading
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from flask import Flask
from werkzeug.serving import make_server

CHROMIUM_FLAGS = [
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def chromium_path() -> str | None:
    """The Chromium binary to use, or None when this machine has none."""
    configured = os.environ.get("REFUGE_CHROMIUM")
    if configured:
        return configured
    return shutil.which("chromium") or shutil.which("chromium-browser")


def require_chromium() -> str:
    """Chromium's path; skips the test without it, unless REFUGE_REQUIRE_BROWSER=1 fails it."""
    path = chromium_path()
    if path is None:
        message = "Chromium not found (apt-get install chromium, or set REFUGE_CHROMIUM)"
        if os.environ.get("REFUGE_REQUIRE_BROWSER") == "1":
            pytest.fail(message + "; REFUGE_REQUIRE_BROWSER=1 makes this a failure")
        pytest.skip(message)
    return path


@contextmanager
def live_server(app: Flask) -> Iterator[str]:
    """Serve the app on a free loopback port in a thread; yields its base URL."""
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        thread.join(timeout=5)
