"""Outbound channels: one message out through a provider, or into memory in development.

`Channel` is what the delivery worker calls. `TwilioChannel` drives the real `twilio` SDK
(pointed at REFUGE_TWILIO_API_BASE, with an explicit timeout) and turns every failure into one
of three kinds: temporary (try again later), permanent (stop), uncertain (the provider may have
the message: look it up before sending again). `ConsoleChannel` keeps what it would have sent
in a bounded in-memory queue for the `/dev/sms` simulator and logs only a masked number and
a segment count, never the text.
"""

from __future__ import annotations

import logging
import re
import secrets
import socket
import threading
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from http import HTTPStatus
from typing import Any, Protocol, TypeVar
from urllib.parse import urlsplit, urlunsplit

import requests
from twilio.base.exceptions import TwilioException, TwilioRestException
from twilio.http.http_client import TwilioHttpClient
from twilio.rest import Client

from server import segments
from server.config import TWILIO_API_BASE, Settings, SmsBackend

log = logging.getLogger(__name__)

#: Where the app keeps its outbound channel (`app.extensions[CHANNEL_EXTENSION]`).
CHANNEL_EXTENSION = "refuge.sms_channel"
#: How many messages a ConsoleChannel remembers; older ones are forgotten.
CONSOLE_CAPACITY = 100
#: Digits left visible at the end of a masked number.
VISIBLE_DIGITS = 2
MASK_CHARACTER = "*"
T = TypeVar("T")


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


# --- Twilio ----------------------------------------------------------------------------------

# api.twilio.com, or api.{region}.twilio.com / api.{edge}.{region}.twilio.com
_TWILIO_API_HOST = re.compile(r"api(?:\.[a-z0-9-]+){0,2}\.twilio\.com", re.IGNORECASE)
#: The SDK logs request parameters (numbers among them) at INFO; it gets a logger of its own
#: that lets warnings through only.
_sdk_log = logging.getLogger("refuge.twilio_sdk")
_sdk_log.setLevel(logging.WARNING)
#: HTTP statuses after which trying again may succeed.
RETRY_HTTP_STATUSES = frozenset({408, 409, 429, 500, 502, 503, 504})
#: Twilio's "not found" error code.
TWILIO_NOT_FOUND = 20404


def rebase_twilio_url(url: str, base: str) -> str:
    """`url` with the scheme and host of a Twilio REST API URL replaced by `base`.

    With the default base nothing changes, so the SDK's edge and region hosts keep working.
    """
    base = base.rstrip("/")
    if base == TWILIO_API_BASE:
        return url
    parts = urlsplit(url)
    if parts.scheme != "https" or not _TWILIO_API_HOST.fullmatch(parts.netloc):
        return url
    target = urlsplit(base)
    return urlunsplit(
        (target.scheme, target.netloc, target.path + parts.path, parts.query, parts.fragment)
    )


class RebasedHttpClient(TwilioHttpClient):  # type: ignore[misc]  # twilio ships no types
    """The SDK's own HTTP client, sending REST calls to REFUGE_TWILIO_API_BASE."""

    def __init__(self, base_url: str, **kwargs: Any) -> None:
        super().__init__(logger=_sdk_log, **kwargs)
        self.base_url = base_url.rstrip("/")
        if self.session is not None and urlsplit(self.base_url).scheme == "http":
            # The SDK mounts its connection pool for https:// only.
            self.session.mount("http://", self.session.get_adapter("https://"))

    def request(self, method: str, url: str, *args: Any, **kwargs: Any) -> Any:
        return super().request(method, rebase_twilio_url(url, self.base_url), *args, **kwargs)


class TwilioChannel:
    """SMS and WhatsApp through Twilio's Messages API, with the SDK's own client."""

    def __init__(self, account_sid: str, auth_token: str, *, api_base: str, timeout: float) -> None:
        self.client = Client(
            account_sid,
            auth_token,
            http_client=RebasedHttpClient(api_base, timeout=timeout),
        )

    def send(self, message: Outbound) -> SentMessage:
        """Create the message at Twilio; errors are classified, never echoed."""
        arguments: dict[str, Any] = {"to": message.to}
        if message.messaging_service_sid:
            arguments["messaging_service_sid"] = message.messaging_service_sid
        if message.sender:
            arguments["from_"] = message.sender
        if message.template_sid:
            arguments["content_sid"] = message.template_sid
        else:
            arguments["body"] = message.body
        if message.status_callback:
            arguments["status_callback"] = message.status_callback
        if message.validity_seconds is not None:
            arguments["validity_period"] = message.validity_seconds
        created = self._call(lambda: self.client.messages.create(**arguments), creating=True)
        return SentMessage(provider_id=str(created.sid), status=str(created.status))

    def recent(self, to: str, since: datetime) -> list[ProviderMessage]:
        """Twilio's messages to `to` created since `since`, newest first (pages read until an
        older one shows up, at most RECENT_LIMIT messages)."""

        def read() -> list[ProviderMessage]:
            found = []
            for item in self.client.messages.stream(to=to, page_size=RECENT_PAGE):
                message = self._provider_message(item)
                if message.created_at is not None and message.created_at < since:
                    break
                found.append(message)
                if len(found) >= RECENT_LIMIT:
                    break
            return found

        return self._call(read)

    def fetch(self, provider_id: str) -> ProviderMessage:
        """The message as Twilio has it now."""
        return self._provider_message(self._call(lambda: self.client.messages(provider_id).fetch()))

    def delete(self, provider_id: str) -> None:
        """Delete Twilio's record of the message (body, numbers, everything)."""
        self._call(lambda: self.client.messages(provider_id).delete())

    @staticmethod
    def _call(action: Callable[[], T], *, creating: bool = False) -> T:
        try:
            return action()
        except TwilioRestException as error:
            code = int(error.code) if error.code is not None else None
            if error.status == HTTPStatus.NOT_FOUND and not creating:
                raise NotFound("the provider has no such message", code, error.status) from None
            if error.status in RETRY_HTTP_STATUSES:
                raise TemporaryFailure(
                    "the provider is busy or failing", code, error.status
                ) from None
            raise PermanentFailure("the provider refused the message", code, error.status) from None
        except requests.exceptions.ConnectTimeout:
            raise TemporaryFailure("the provider could not be reached") from None
        except requests.exceptions.Timeout:
            if creating:
                raise UncertainOutcome("the provider did not answer in time") from None
            raise TemporaryFailure("the provider did not answer in time") from None
        except requests.exceptions.ConnectionError as error:
            if creating and not _refused(error):
                raise UncertainOutcome("the connection to the provider broke") from None
            raise TemporaryFailure("the provider could not be reached") from None
        except TwilioException:
            raise TemporaryFailure("the provider's answer could not be read") from None

    @staticmethod
    def _provider_message(item: Any) -> ProviderMessage:
        code = getattr(item, "error_code", None)
        return ProviderMessage(
            provider_id=str(item.sid),
            status=str(item.status),
            to=str(item.to or ""),
            body=item.body,
            created_at=item.date_created,
            error_code=int(code) if code else None,
        )


#: At most how many of a number's latest messages are read when reconciling one attempt,
#: and how many per page.
RECENT_LIMIT = 1_000
RECENT_PAGE = 100


def _refused(error: requests.exceptions.ConnectionError) -> bool:
    """True when the connection was never made (so the request cannot have arrived)."""
    reason: BaseException | None = error
    while reason is not None:
        if isinstance(reason, ConnectionRefusedError | socket.gaierror):
            return True
        reason = reason.__cause__ or reason.__context__ or _inner(reason)
    return False


def _inner(error: BaseException) -> BaseException | None:
    inner = error.args[0] if error.args else None
    reason = getattr(inner, "reason", inner)
    return reason if isinstance(reason, BaseException) and reason is not error else None


def make_channel(settings: Settings) -> Channel:
    """The channel the settings choose: Twilio, or the console in development."""
    if settings.sms_backend is SmsBackend.TWILIO:
        return TwilioChannel(
            settings.twilio_account_sid or "",  # both checked by load_config
            settings.twilio_auth_token or "",
            api_base=settings.twilio_api_base,
            timeout=settings.delivery.timeout_seconds,
        )
    return ConsoleChannel()
