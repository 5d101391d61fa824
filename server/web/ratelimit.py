"""A per-client request limit that never stores an IP address.

A client is known only by a keyed digest of its address, under a key derived for this purpose
and replaced with every window, so nothing kept links a digest to an address for longer than
one window (a minute), and nothing is ever written down or logged.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import threading
import time
from collections.abc import Callable

#: Requests one client may make to the API per window, per server process.
API_REQUESTS_PER_WINDOW = 300
WINDOW_SECONDS = 60
DIGEST_BYTES = 16


class RateLimiter:
    """Counts requests per client digest in fixed windows; forgets everything each window."""

    def __init__(
        self,
        limit: int = API_REQUESTS_PER_WINDOW,
        window: float = WINDOW_SECONDS,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.limit = limit
        self.window = window
        self._clock = clock
        self._lock = threading.Lock()
        self._window_index = -1
        self._key = b""
        self._counts: dict[bytes, int] = {}

    def _digest(self, client: str) -> bytes:
        return hmac.new(self._key, client.encode("utf-8"), hashlib.sha256).digest()[:DIGEST_BYTES]

    def hit(self, client: str) -> float | None:
        """Count one request; None when allowed, else the seconds until the next window."""
        now = self._clock()
        index = int(now // self.window)
        with self._lock:
            if index != self._window_index:
                # A new window: new key, no counts. Yesterday's digests cannot be recomputed.
                self._window_index, self._key, self._counts = index, secrets.token_bytes(32), {}
            digest = self._digest(client)
            count = self._counts.get(digest, 0) + 1
            self._counts[digest] = count
        if count > self.limit:
            return (index + 1) * self.window - now
        return None

    def clients(self) -> int:
        """How many clients the current window holds (for tests and health, never addresses)."""
        with self._lock:
            return len(self._counts)
