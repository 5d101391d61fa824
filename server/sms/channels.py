"""Outbound channels: one message out through a provider, or into memory in development.

`Channel` is what the delivery worker calls; `ConsoleChannel` keeps what it would have sent
in a bounded in-memory queue for the `/dev/sms` simulator and logs only a masked number and
a segment count, never the text. (`TwilioChannel` implements the same protocol.)
"""

from __future__ import annotations

import logging
import secrets
import threading
from collections import deque
from dataclasses import dataclass, field
from typing import Protocol

from server.sms import segments

log = logging.getLogger(__name__)

#: Where the app keeps its outbound channel (`app.extensions[CHANNEL_EXTENSION]`).
CHANNEL_EXTENSION = "refuge.sms_channel"
#: How many messages a ConsoleChannel remembers; older ones are forgotten.
CONSOLE_CAPACITY = 100
#: Digits left visible at the end of a masked number.
VISIBLE_DIGITS = 2
MASK_CHARACTER = "*"


@dataclass(frozen=True)
class SentMessage:
    """What the provider said: its id for the message and the status it reported."""

    provider_id: str
    status: str


class Channel(Protocol):
    """Sends one outbound message and says what the provider made of it."""

    def send(self, to: str, body: str, *, status_callback: str | None = None) -> SentMessage:
        """Send `body` to `to` (E.164, or `whatsapp:` and E.164)."""
        ...


@dataclass(frozen=True, repr=False)
class ConsoleMessage:
    """One message the console channel would have sent (kept in memory only)."""

    to: str
    body: str
    status_callback: str | None
    sent: SentMessage
    measure: segments.Measure = field(init=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "measure", segments.measure(self.body))

    def __repr__(self) -> str:
        return f"ConsoleMessage(to={mask_number(self.to)}, {self.measure.segments} segments)"


def mask_number(address: str) -> str:
    """The address with every digit but the last two masked ("whatsapp:+**********23")."""
    digits = sum(character.isdigit() for character in address)
    hidden = max(digits - VISIBLE_DIGITS, 0)
    masked: list[str] = []
    for character in address:
        if character.isdigit() and hidden:
            masked.append(MASK_CHARACTER)
            hidden -= 1
        elif not character.isspace():
            masked.append(character)
    return "".join(masked)


class ConsoleChannel:
    """Development channel: remembers the last messages in memory and sends nothing."""

    STATUS = "sent"

    def __init__(self, capacity: int = CONSOLE_CAPACITY) -> None:
        self._messages: deque[ConsoleMessage] = deque(maxlen=capacity)
        self._lock = threading.Lock()

    def send(self, to: str, body: str, *, status_callback: str | None = None) -> SentMessage:
        """Record the message and log its masked number and segment count."""
        sent = SentMessage(provider_id="SM" + secrets.token_hex(16), status=self.STATUS)
        message = ConsoleMessage(to, body, status_callback, sent)
        with self._lock:
            self._messages.append(message)
        log.info("console SMS to %s: %d segments", mask_number(to), message.measure.segments)
        return sent

    def messages(self) -> tuple[ConsoleMessage, ...]:
        """The remembered messages, oldest first."""
        with self._lock:
            return tuple(self._messages)

    def clear(self) -> None:
        """Forget every remembered message."""
        with self._lock:
            self._messages.clear()
