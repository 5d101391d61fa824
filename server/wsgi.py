"""The WSGI entry point for gunicorn: `gunicorn -c python:server.gunicorn_conf server.wsgi:app`."""

from __future__ import annotations

import sys

from server.app import MAX_REQUEST_BYTES, create_app
from server.config import ConfigError
from server.web.bodies import BodyDeadline

try:
    app = create_app()
except ConfigError as exc:
    print(f"refuge: {exc}", file=sys.stderr)
    raise SystemExit(2) from None
# A body is read whole within seconds, so a slow or truncated one cannot hold a worker.
app.wsgi_app = BodyDeadline(app.wsgi_app, MAX_REQUEST_BYTES)  # type: ignore[method-assign]
