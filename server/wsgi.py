"""The WSGI entry point for gunicorn: `gunicorn -c python:server.gunicorn_conf server.wsgi:app`."""

from __future__ import annotations

import sys

from server.app import create_app
from server.config import ConfigError

try:
    app = create_app()
except ConfigError as exc:
    print(f"refuge: {exc}", file=sys.stderr)
    raise SystemExit(2) from None
