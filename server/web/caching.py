"""Public content is the same for everyone: render it once, validate it, answer repeats with 304.

Last-Modified is the latest moment anything public could have changed (an edit, midnight for
staleness, a bulletin coming into force or expiring, or this process starting with new
templates and catalogues), looked up at most once a second per process by the app's clock
(which tests set; pages are rendered for its time too). A rendered page or
API answer is kept in memory under its URL, language and that moment, so it is rebuilt as
soon as anything it shows may have changed. Pages are rendered with a placeholder where
the CSP nonce goes; each response gets its own nonce. The ETag is the digest of that
nonce-free body.

HTML pages stay `no-store` all the same: on a phone someone else may pick up, nothing a person
looked at is kept. The API, read by partners' servers and apps, may be stored by any cache and
is revalidated on every use (`no-cache`); it never carries anything personal.
"""

from __future__ import annotations

import functools
import hashlib
import secrets
import threading
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import ParamSpec

from flask import Flask, Response, current_app, g, json, render_template, request

from server.content.changes import content_changed_at
from server.db import request_session
from server.web.hardening import csp_nonce

#: When this process started: new templates or catalogues are a change of every page.
STARTED_AT = datetime.now(UTC).replace(microsecond=0)
API_CACHE_CONTROL = "public, no-cache"
#: How long one look-up of the content's last change serves.
STAMP_LIFETIME = timedelta(seconds=1)
MAX_ENTRIES = 512
MAX_KEY = 512
EXTENSION = "refuge.rendered"
#: Stands in for the CSP nonce in kept bodies; random, so no content can contain it.
_PLACEHOLDER = "n" + secrets.token_hex(16)

P = ParamSpec("P")


def utcnow() -> datetime:
    """The current time, timezone-aware."""
    return datetime.now(UTC)


@dataclass(frozen=True)
class Rendered:
    """A response body as kept: with the nonce placeholder, its ETag and its headers."""

    body: str
    mimetype: str
    etag: str
    headers: tuple[tuple[str, str], ...]


class Shelfcache:
    """Rendered public responses and the content's last-change moment, for one process."""

    def __init__(self, clock: Callable[[], datetime] = utcnow) -> None:
        self.clock = clock
        self._lock = threading.Lock()
        self._entries: OrderedDict[tuple[str, str, datetime], Rendered] = OrderedDict()
        self._stamp: tuple[datetime, datetime] | None = None

    def stamp(self) -> datetime:
        """The content's last change, looked up again once STAMP_LIFETIME has passed."""
        now = self.clock()
        with self._lock:
            # A clock set back (by NTP, say) looks the moment up again rather than keep it.
            if self._stamp is not None and timedelta(0) <= now - self._stamp[0] < STAMP_LIFETIME:
                return self._stamp[1]
        moment = content_changed_at(request_session(), now)
        value = max(moment.replace(microsecond=0), STARTED_AT)
        with self._lock:
            self._stamp = (now, value)
        return value

    def get(self, key: tuple[str, str, datetime]) -> Rendered | None:
        """A kept response, marked as recently used."""
        with self._lock:
            found = self._entries.get(key)
            if found is not None:
                self._entries.move_to_end(key)
            return found

    def put(self, key: tuple[str, str, datetime], rendered: Rendered) -> None:
        """Keep a response, forgetting the least recently used beyond MAX_ENTRIES."""
        with self._lock:
            self._entries[key] = rendered
            while len(self._entries) > MAX_ENTRIES:
                self._entries.popitem(last=False)


def init_app(app: Flask, clock: Callable[[], datetime] = utcnow) -> None:
    """Give the app its cache of rendered public responses, on `clock`'s time."""
    app.extensions[EXTENSION] = Shelfcache(clock)


def _cache() -> Shelfcache:
    cache: Shelfcache = current_app.extensions[EXTENSION]
    return cache


def now() -> datetime:
    """The time public content is shown for: the app's clock."""
    return _cache().clock()


def last_modified() -> datetime:
    """The latest moment any public content could have changed, to the second."""
    return _cache().stamp()


def public(view: Callable[P, Response]) -> Callable[P, Response]:
    """Serve a view's answer from the cache when nothing it may show has changed since."""

    @functools.wraps(view)
    def serve(*args: P.args, **kwargs: P.kwargs) -> Response:
        cache = _cache()
        stamp = cache.stamp()
        locale = str(g.get("api_locale") or g.get("locale") or "")
        key = (request.full_path[:MAX_KEY], locale, stamp)
        rendered = cache.get(key)
        if rendered is None:
            rendered = _keep(view(*args, **kwargs))
            if len(request.full_path) <= MAX_KEY:
                cache.put(key, rendered)
        response = Response(
            rendered.body.replace(_PLACEHOLDER, csp_nonce()), mimetype=rendered.mimetype
        )
        response.headers.extend(rendered.headers)
        response.set_etag(rendered.etag, weak=True)
        response.last_modified = stamp
        response.make_conditional(request)  # turns itself into a 304 when the client is current
        return response

    return serve


def _keep(response: Response) -> Rendered:
    body = response.get_data(as_text=True)
    return Rendered(
        body=body,
        mimetype=response.mimetype or "text/html",
        etag=hashlib.sha256(body.encode("utf-8")).hexdigest()[:32],
        headers=tuple(
            (name, value)
            for name, value in response.headers.items()
            if name in {"Cache-Control", "Vary"}
        ),
    )


def page(template: str, **context: object) -> Response:
    """A public page rendered with the nonce placeholder (see `public`)."""
    real = g.pop("csp_nonce", None)
    g.csp_nonce = _PLACEHOLDER
    try:
        html = render_template(template, **context)
    finally:
        g.pop("csp_nonce")
        if real is not None:
            g.csp_nonce = real
    return Response(html, mimetype="text/html")


def api_json(payload: object) -> Response:
    """A JSON API answer, cacheable by shared caches with revalidation."""
    body = json.dumps(payload, ensure_ascii=False, separators=(",", ":"))
    response = Response(body, mimetype="application/json")
    response.headers["Cache-Control"] = API_CACHE_CONTROL
    response.headers["Vary"] = "Accept-Language"
    return response
