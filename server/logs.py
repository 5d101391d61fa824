"""One logging configuration, and a filter that keeps people's data out of every log line.

Refuge code never logs a phone number, message body, IP address or token on purpose; this
filter is the second line: whatever slips into a message, its arguments, a traceback or a
stack, shaped like one of those, is masked before any handler writes it.
"""

from __future__ import annotations

import logging
import re
import sys
import traceback
from collections.abc import Mapping
from typing import Any

MASK = "[redacted]"
#: The logger gunicorn writes one line per request to, with its atoms as a mapping.
ACCESS_LOGGER = "gunicorn.access"
#: gunicorn's access-log atoms that are numbers by design: status, sizes and durations. They
#: are kept as they are when they are plain numbers; every other atom is masked on its own.
NUMERIC_ATOMS = frozenset({"s", "b", "B", "D", "T", "M", "L"})
_PLAIN_NUMBER = re.compile(r"-|[0-9]+(?:\.[0-9]+)?")

_HEX = r"[0-9a-f]{1,4}"
_PATTERNS = (
    # IPv6 (full and "::"-compressed) and IPv4 addresses, before digit runs are touched.
    re.compile(rf"(?i)(?<![\w:])(?:{_HEX}:){{3,7}}{_HEX}(?!\w)"),
    re.compile(rf"(?i)(?<![\w:])(?:{_HEX}(?::{_HEX})*)?::(?:{_HEX}(?::{_HEX})*)?(?!\w)"),
    re.compile(r"\b(?:\d{1,3}\.){3}\d{1,3}\b"),
    # Twilio-style identifiers (AC..., SM..., MG...) and other long hex/base64 tokens.
    re.compile(r"\b[A-Z]{2}[0-9a-fA-F]{32}\b"),
    re.compile(r"(?i)\b(?:bearer|basic)\s+\S+"),
    re.compile(r"(?i)\b(?:token|key|secret|password|pin)s?\s*[=:]\s*\S+"),
    re.compile(r"(?=[\w\-+/]*\d)(?=[\w\-+/]*[A-Za-z])[\w\-+/]{24,}={0,2}"),
    # Phone-number shaped: optional +, then at least 7 digits (any script) with separators.
    re.compile(r"(?<![\w.])\+?\(?\d(?:[\s().\-/]{0,2}\d){6,}"),
)


def redact(text: str) -> str:
    """Mask every phone-number, token or address shaped run of text."""
    for pattern in _PATTERNS:
        text = pattern.sub(MASK, text)
    return text


class _MaskedAtoms(dict[str, Any]):
    """An access line's atoms, each masked when the line's format reads it.

    The whole line cannot be masked at once: its status, size and duration side by side look
    like a phone number ("200 5123 12ms"). So the path, headers and the like are masked one by
    one, and the numeric atoms are kept when they are plain numbers.
    """

    def __init__(self, atoms: Mapping[str, Any]) -> None:
        super().__init__()
        self.atoms = atoms

    def __getitem__(self, key: str) -> Any:
        value = self.atoms[key]
        if key in NUMERIC_ATOMS and _PLAIN_NUMBER.fullmatch(str(value)):
            return value
        return redact(str(value))


class RedactingFilter(logging.Filter):
    """Rewrites each record so that no handler ever sees the unmasked text."""

    def filter(self, record: logging.LogRecord) -> bool:
        args = record.args
        try:
            if record.name == ACCESS_LOGGER and isinstance(args, Mapping):
                message = str(record.msg) % _MaskedAtoms(args)
            else:
                message = redact(record.getMessage())
        except Exception:  # a malformed format string must not leak its arguments either
            message = redact(f"{record.msg!s} (unformattable arguments)")
        record.msg = message
        record.args = None
        if record.exc_info and not record.exc_text:
            record.exc_text = "".join(traceback.format_exception(*record.exc_info)).rstrip()
        if record.exc_text:
            record.exc_text = redact(record.exc_text)
        if record.stack_info:
            record.stack_info = redact(record.stack_info)
        return True


class _RefugeHandler(logging.StreamHandler):  # type: ignore[type-arg]
    """Refuge's own handler: installed once, writing to whatever sys.stderr is at the time."""

    @property
    def stream(self) -> object:
        return sys.stderr

    @stream.setter
    def stream(self, _value: object) -> None:
        pass


def configure_logging(level: str = "INFO") -> None:
    """Send every log record to stderr, once, through the redacting filter."""
    root = logging.getLogger()
    redacting = RedactingFilter()
    if not any(isinstance(h, _RefugeHandler) for h in root.handlers):
        handler = _RefugeHandler()
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
        root.addHandler(handler)
    root.setLevel(level)
    # Alembic narrates its plugin set-up at INFO on every start; its migrations still show.
    logging.getLogger("alembic.runtime.plugins").setLevel(logging.WARNING)
    # Handlers that other libraries installed (gunicorn's, werkzeug's) get the filter too.
    for name in ("", "gunicorn.error", "gunicorn.access", "werkzeug"):
        for existing in logging.getLogger(name).handlers:
            if not any(isinstance(f, RedactingFilter) for f in existing.filters):
                existing.addFilter(redacting)
