"""A request body read whole, within a deadline, before the application sees the request.

gunicorn's sync worker reads a body only when the application asks for it, from a blocking
socket: a client that announces 1,000 bytes and sends ten holds the worker until gunicorn's
own timeout kills it (30 s), and a handful of such clients stop the server. Under gunicorn
(which hands the application its socket as `gunicorn.socket`) the body is read here, with
the socket's timeout set to what is left of BODY_SECONDS before every read; a body not
complete by then is answered 408 and the worker is free again. Elsewhere (`refuge demo`,
tests) nothing changes.
"""

from __future__ import annotations

import contextlib
import io
import time
from collections.abc import Callable, Iterable
from typing import Any

#: How long a client has to send its whole body once its headers are in. Refuge's forms and
#: webhooks are a few kilobytes: seconds over 2G.
BODY_SECONDS = 5.0
CHUNK_BYTES = 64 * 1024

StartResponse = Callable[..., Any]
WsgiApp = Callable[[dict[str, Any], StartResponse], Iterable[bytes]]


class BodyTooSlow(Exception):
    """The client did not send its whole body in time (or closed before its end)."""


class BodyDeadline:
    """WSGI middleware: read a body of at most `limit` bytes within `seconds`, or answer 408."""

    def __init__(self, app: WsgiApp, limit: int, seconds: float = BODY_SECONDS) -> None:
        self.app, self.limit, self.seconds = app, limit, seconds

    def __call__(self, environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        sock = environ.get("gunicorn.socket")
        length = environ.get("CONTENT_LENGTH") or ""
        chunked = "chunked" in environ.get("HTTP_TRANSFER_ENCODING", "").lower()
        if sock is None or not (length or chunked):
            return self.app(environ, start_response)
        if length and not (length.isascii() and length.isdigit() and int(length) <= self.limit):
            return self.app(environ, start_response)  # refused (400, 413) before any read
        try:
            body = self._read(sock, environ["wsgi.input"], int(length) if length else None)
        except BodyTooSlow:
            start_response(
                "408 Request Timeout",
                [("Content-Type", "text/plain"), ("Connection", "close"), ("Content-Length", "0")],
            )
            return [b""]
        environ["wsgi.input"] = io.BytesIO(body)
        environ["CONTENT_LENGTH"] = str(len(body))
        environ.pop("HTTP_TRANSFER_ENCODING", None)
        return self.app(environ, start_response)

    def _read(self, sock: Any, stream: Any, length: int | None) -> bytes:
        deadline = time.monotonic() + self.seconds
        wanted = length if length is not None else self.limit + 1
        chunks: list[bytes] = []
        received = 0
        previous = sock.gettimeout()
        try:
            while received < wanted:
                left = deadline - time.monotonic()
                if left <= 0:
                    raise BodyTooSlow
                sock.settimeout(left)
                chunk = stream.read(min(CHUNK_BYTES, wanted - received))
                if not chunk:
                    break
                chunks.append(chunk)
                received += len(chunk)
        except OSError:  # the socket's timeout, or a reset
            raise BodyTooSlow from None
        finally:
            with contextlib.suppress(OSError):  # the client may be gone already
                sock.settimeout(previous)
        if length is not None and received < length:
            raise BodyTooSlow  # closed before the end it announced
        return b"".join(chunks)
