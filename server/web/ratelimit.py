"""Per-client (and per-anything) limits that never store an IP address or a phone number.

A client, or a number, is known only by a keyed digest, under a random key replaced with every
window, so nothing kept links a digest to an address or a number for longer than one window,
and nothing is ever written down or logged. `SlowWork` bounds how much slow hashing runs at
once in a process, one slot at most per client.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager

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


class Crowded(Exception):
    """The client's earlier slow work was still running after as long as a request may wait."""


class Busy(Exception):
    """Every slot for slow work stayed taken for as long as a request may wait."""


class SlowWork:
    """At most `slots` slow checks at once in this process, and at most one per client, so no
    client can take the slots others need. Clients are held as digests only while running."""

    def __init__(self, slots: int, wait: float) -> None:
        self.wait = wait
        self._slots = threading.BoundedSemaphore(slots)
        self._key = secrets.token_bytes(32)
        self._lock = threading.Condition()
        self._running: set[bytes] = set()

    @contextmanager
    def slot(self, client: str) -> Iterator[None]:
        """Hold a slot while the block runs; `Crowded` or `Busy` when none is given.

        A client's second try (a double tap) waits for its first to end, never for a second
        slot."""
        digest = hmac.new(self._key, client.encode("utf-8"), hashlib.sha256).digest()
        with self._lock:
            if not self._lock.wait_for(lambda: digest not in self._running, self.wait):
                raise Crowded
            self._running.add(digest)
        try:
            if not self._slots.acquire(timeout=self.wait):
                raise Busy
            try:
                yield
            finally:
                self._slots.release()
        finally:
            with self._lock:
                self._running.discard(digest)
                self._lock.notify_all()

    def running(self) -> int:
        """How many clients hold or wait for a slot now (for tests, never who)."""
        with self._lock:
            return len(self._running)
