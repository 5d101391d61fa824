"""Refuge as `server.wsgi` builds it, for the web benchmark: the API's per-client limit is lifted.

A load generator is one client asking thousands of times a second; the limiter still counts
every request (its cost is measured), it just never refuses one.
"""

from __future__ import annotations

from server.web.api import LIMITER_EXTENSION
from server.web.ratelimit import RateLimiter
from server.wsgi import app

app.extensions[LIMITER_EXTENSION] = RateLimiter(limit=10**12)

__all__ = ["app"]
