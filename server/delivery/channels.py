"""Outbound channels: one message out through a provider, or into memory in development.

`Channel` is what the delivery worker calls; every failure is one of three kinds: temporary
(try again later), permanent (stop; `Unsubscribed` when the number asked for no more
messages), uncertain (the provider may have the message: look it up before sending again).
`server.delivery.twilio` is the real channel. `ConsoleChannel` keeps what it would have sent
in a bounded in-memory queue for the `/dev/sms` simulator and logs only a masked number and
a segment count, never the text.
"""

from __future__ import annotations

import logging
import secrets
import threading
from collections import deque
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Protocol

from server import segments

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


@dataclass(frozen=True, repr=False)
class Outbound:
    """One message to hand to the provider.

    `sender` is the From address (a number, or `whatsapp:` and a number) or None to send
    through the Messaging Service; `template_sid` sends an approved WhatsApp template instead
    of free text (the body is then not sent); `validity_seconds` is how long the provider may
    keep trying before it gives up.
    """

    to: str
    body: str
    sender: str | None = None
    messaging_service_sid: str | None = None
    status_callback: str | None = None
    validity_seconds: int | None = None
    template_sid: str | None = None

    def __repr__(self) -> str:
        return f"Outbound(to={mask_number(self.to)}, template={self.template_sid is not None})"


@dataclass(frozen=True, repr=False)
class ProviderMessage:
    """A message as the provider keeps it (for reconciling an attempt whose answer was lost)."""

    provider_id: str
    status: str
    to: str
    body: str | None
    created_at: datetime | None
    error_code: int | None = None
    #: The provider's word that the number asked for no more messages (STOP).
    unsubscribed: bool = False

    def __repr__(self) -> str:
        return f"ProviderMessage({self.provider_id}, {self.status})"


class ChannelError(Exception):
    """The provider did not take the message; `code` is its error code when it gave one.

    The text of these errors never carries the number or the body (providers echo both).
    """

    def __init__(self, reason: str, code: int | None = None, http_status: int | None = None):
        super().__init__(reason)
        self.code = code
        self.http_status = http_status


class TemporaryFailure(ChannelError):
    """Not taken, and trying again later may work (429, 5xx, a refused connection)."""


class PermanentFailure(ChannelError):
    """Not taken, and never will be (an invalid number, an unsubscribed recipient...)."""


class Unsubscribed(PermanentFailure):
    """Not taken because the number asked the provider for no more messages (STOP)."""


class UncertainOutcome(ChannelError):
    """The request may have reached the provider but no answer came (a timeout, a dropped
    connection): the message must be looked up before it is sent again."""


class NotFound(ChannelError):
    """The provider has no such message (already deleted, or never created)."""


class Channel(Protocol):
    """Sends messages and answers for them at the provider."""

    def send(self, message: Outbound) -> SentMessage:
        """Hand one message to the provider, or raise a ChannelError subclass."""
        ...

    def recent(self, to: str, since: datetime) -> list[ProviderMessage]:
        """The provider's messages to `to` created since `since`, newest first."""
        ...

    def fetch(self, provider_id: str) -> ProviderMessage:
        """One message as the provider has it now (NotFound when it has none)."""
        ...

    def delete(self, provider_id: str) -> None:
        """Delete the provider's record of a message (NotFound when already gone)."""
        ...


@dataclass(frozen=True, repr=False)
class ConsoleMessage:
    """One message the console channel would have sent (kept in memory only)."""

    to: str
    body: str
    status_callback: str | None
    sent: SentMessage
    created_at: datetime
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

    def send(self, message: Outbound) -> SentMessage:
        """Record the message and log its masked number and segment count."""
        sent = SentMessage(provider_id="SM" + secrets.token_hex(16), status=self.STATUS)
        body = message.body if message.template_sid is None else f"[{message.template_sid}]"
        kept = ConsoleMessage(message.to, body, message.status_callback, sent, datetime.now(UTC))
        with self._lock:
            self._messages.append(kept)
        log.info("console SMS to %s: %d segments", mask_number(message.to), kept.measure.segments)
        return sent

    def recent(self, to: str, since: datetime) -> list[ProviderMessage]:
        """The remembered messages to `to` since `since`, newest first."""
        with self._lock:
            kept = [m for m in self._messages if m.to == to and m.created_at >= since]
        return [self._provider_message(m) for m in reversed(kept)]

    def fetch(self, provider_id: str) -> ProviderMessage:
        """A remembered message (NotFound when forgotten or deleted)."""
        with self._lock:
            for kept in self._messages:
                if kept.sent.provider_id == provider_id:
                    return self._provider_message(kept)
        raise NotFound("no such message")

    def delete(self, provider_id: str) -> None:
        """Forget a message (NotFound when it is not remembered)."""
        with self._lock:
            for kept in self._messages:
                if kept.sent.provider_id == provider_id:
                    self._messages.remove(kept)
                    return
        raise NotFound("no such message")

    def messages(self) -> tuple[ConsoleMessage, ...]:
        """The remembered messages, oldest first."""
        with self._lock:
            return tuple(self._messages)

    def clear(self) -> None:
        """Forget every remembered message."""
        with self._lock:
            self._messages.clear()

    @staticmethod
    def _provider_message(kept: ConsoleMessage) -> ProviderMessage:
        return ProviderMessage(
            kept.sent.provider_id, "delivered", kept.to, kept.body, kept.created_at
        )
