"""Twilio: the real channel, and everything Refuge knows about Twilio's ways.

`TwilioChannel` drives the `twilio` SDK (pointed at REFUGE_TWILIO_API_BASE through
`RebasedHttpClient`, with an explicit timeout) and turns every failure into one of the kinds
`server.delivery.channels` names. Twilio's addresses (`whatsapp:` and a number), senders, error
codes and status-callback URL are here and nowhere else; the console channel takes messages in
the same form, so the `/dev/sms` simulator shows what Twilio would have been asked to send.
"""

from __future__ import annotations

import logging
import re
import socket
import uuid
from collections.abc import Callable
from dataclasses import replace
from datetime import datetime, timedelta
from http import HTTPStatus
from typing import Any, TypeVar
from urllib.parse import urlsplit, urlunsplit

import requests
from twilio.base.exceptions import TwilioException, TwilioRestException
from twilio.http.http_client import TwilioHttpClient
from twilio.rest import Client

from server.config import TWILIO_API_BASE, Settings
from server.delivery.channels import (
    NotFound,
    Outbound,
    PermanentFailure,
    ProviderMessage,
    SentMessage,
    TemporaryFailure,
    UncertainOutcome,
    Unsubscribed,
)

T = TypeVar("T")

#: Twilio's error code for a number that texted STOP: it gets no more messages.
UNSUBSCRIBED = 21610
#: How Twilio writes a WhatsApp address.
WHATSAPP_PREFIX = "whatsapp:"
#: Twilio keeps trying a queued message for at most this long (its ValidityPeriod maximum).
MAX_VALIDITY_SECONDS = 14_400
#: Where status callbacks arrive (`server.conversation.webhook`), and the query parameter that names
#: the outbox row (covered by Twilio's signature, so a callback that beats the worker's own
#: record still finds its row).
STATUS_CALLBACK_PATH = "/sms/twilio/status"
STATUS_ROW_PARAMETER = "o"


def unsubscribed(error_code: int | None) -> bool:
    """Whether a Twilio error code means that the number asked for no more messages."""
    return error_code == UNSUBSCRIBED


def outbound(
    settings: Settings,
    number: str,
    body: str,
    *,
    whatsapp: bool,
    template_sid: str | None = None,
    report_as: uuid.UUID | None = None,
    valid_for: timedelta | None = None,
) -> Outbound:
    """A message to `number` as Twilio takes it, from the sender the settings name.

    SMS leave through the Messaging Service, else REFUGE_TWILIO_FROM; WhatsApp messages from
    the WhatsApp sender (default: `whatsapp:` and REFUGE_TWILIO_FROM), else the Messaging
    Service. `report_as` names the outbox row in the status-callback URL; `valid_for` is how
    long the message stays useful (at most Twilio's maximum).
    """
    service = settings.twilio_messaging_service_sid
    if whatsapp:
        origin = settings.delivery.whatsapp_from or (
            f"{WHATSAPP_PREFIX}{settings.twilio_from}" if settings.twilio_from else None
        )
        message = Outbound(
            to=f"{WHATSAPP_PREFIX}{number}",
            body=body,
            sender=origin,
            messaging_service_sid=None if origin else service,
            template_sid=template_sid,
        )
    else:
        message = Outbound(
            to=number,
            body=body,
            sender=None if service else settings.twilio_from,
            messaging_service_sid=service,
        )
    if report_as is not None:
        message = replace(message, status_callback=status_callback_url(settings, report_as))
    if valid_for is not None:
        seconds = int(valid_for.total_seconds())
        message = replace(message, validity_seconds=max(1, min(seconds, MAX_VALIDITY_SECONDS)))
    return message


def status_callback_url(settings: Settings, row_id: uuid.UUID) -> str:
    """Where Twilio reports on a message; the row id lets an early report find it."""
    return f"{settings.public_url}{STATUS_CALLBACK_PATH}?{STATUS_ROW_PARAMETER}={row_id.hex}"


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
            if unsubscribed(code):
                raise Unsubscribed(
                    "the number asked for no more messages", code, error.status
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
            unsubscribed=unsubscribed(int(code) if code else None),
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
