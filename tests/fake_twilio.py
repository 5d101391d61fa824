"""A fake Twilio REST server for tests and benchmarks: the Messages API on loopback, driven by
the real `twilio` SDK.

Pointing the real SDK at it
---------------------------
The SDK builds every URL as ``https://api.twilio.com/2010-04-01/...`` (``ApiBase`` domain), lets
``ClientBase.get_hostname`` turn it into ``https://api.{edge}.{region}.twilio.com/...`` when an
edge/region is configured (``edge=``/``region=`` or ``TWILIO_EDGE``/``TWILIO_REGION`` in the
environment), and finally hands the absolute URL to ``client.http_client.request(...)``.

The mechanism used here is the last hop: `BaseUrlHttpClient`, a `TwilioHttpClient` subclass
passed as ``Client(..., http_client=...)`` (a public constructor argument) whose ``request()``
swaps the scheme and host of every Twilio REST API URL for a configured base URL and otherwise
behaves exactly like the SDK's own client (same requests session, timeout, logging, errors). It
is not ``client.api.base_url = ...``: that pokes a lazily built attribute of generated code, and
``get_hostname`` then mangles the loopback host as soon as an edge or region is set
(``http://127.0.0.1:8080`` becomes ``http://127.ie1.0.1:8080``).

The product's `server.delivery.twilio.RebasedHttpClient` (here also `BaseUrlHttpClient`) is that
client; `TwilioChannel` builds its SDK client with it from REFUGE_TWILIO_API_BASE.

With the default base (https://api.twilio.com) nothing is rewritten, so production keeps its
edge/region hosts. `sdk_client(fake)` does exactly this against a running `FakeTwilio`.

The fake
--------
``with FakeTwilio() as fake:`` serves on ``fake.base_url`` (http://127.0.0.1:<free port>),
checks HTTP Basic auth (account sid + auth token, or an API key given in ``api_keys``), and
answers what `MessageList`/`MessageContext` send:

* create  POST   /2010-04-01/Accounts/{AC}/Messages.json       -> 201 message JSON
* fetch   GET    /2010-04-01/Accounts/{AC}/Messages/{SM}.json  -> 200, or 404 (code 20404)
* update  POST   /2010-04-01/Accounts/{AC}/Messages/{SM}.json  -> 200 (Body redaction, Status)
* delete  DELETE /2010-04-01/Accounts/{AC}/Messages/{SM}.json  -> 204, or 404
* list    GET    /2010-04-01/Accounts/{AC}/Messages.json       -> 200 page (To, From, DateSent,
  DateSent<, DateSent>, Page, PageSize; newest first; next_page_uri when more)

Errors are Twilio-shaped JSON ``{"code", "message", "more_info", "status"}``, so the SDK raises
`TwilioRestException` with ``.status`` and ``.code``. A send with ``From`` starts ``queued``; a
send through ``MessagingServiceSid`` starts ``accepted`` with ``from`` null and ``num_segments``
"0" (as Twilio does) until `set_status` moves it on, when it gets ``service_sender``.

``fake.requests`` (every request, in order) and ``fake.messages`` (by sid, deleted ones kept with
``deleted=True``, each with its ``status_history``) are snapshots taken under a lock;
``created_after(seq)`` copies only the messages newer than one a long run has already read.

Faults (`fail_next(kind, times=1, match=...)` for the next N matching requests, by default
message creates; `fail_when(kind, predicate)` for every matching request):

* "500", "429": HTTP 500 (code 20500) / 429 (code 20429); nothing is created.
* "21211", "21610", "21614", "63016": HTTP 400 permanent errors; nothing is created. (In real
  life 63016 usually arrives later, as status "failed" with ErrorCode 63016: simulate that with
  ``set_status(sid, "failed", 63016)`` and `status_callback`.)
* "timeout": the request is carried out (the message IS created), then the answer is held for
  ``delay`` (default ``slow_seconds``) seconds: longer than the client's timeout, so the client
  raises ``requests.exceptions.ReadTimeout``.
* "reset": the connection is reset (TCP RST) before anything is done; nothing is created; the
  client raises ``requests.exceptions.ConnectionError``.
* "accept_then_crash": the request is carried out, then the connection is closed unanswered;
  the client raises ``requests.exceptions.ConnectionError``.

`set_status(sid, status, error_code=None)` moves a message along; `status_callback(sid, status)`
builds the signed form Twilio would POST to the message's StatusCallback: ``(url, data,
headers)`` for ``flask_client.post(url, data=data, headers=headers)``.

Bounded: only 127.0.0.1; idle connections time out; held answers wake up on close; ``close()``
stops the server, resets open connections and joins its threads within a few seconds.
"""

from __future__ import annotations

import base64
import contextlib
import copy
import hmac
import json
import re
import secrets
import socket
import socketserver
import struct
import threading
import time
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.utils import format_datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any, Final, Literal, get_args
from urllib.parse import parse_qs, urlencode, urlsplit

from twilio.request_validator import RequestValidator
from twilio.rest import Client

from server.delivery.twilio import RebasedHttpClient

# --- Pointing the SDK at another base URL: the product's own client ------------------------

#: The product builds its client this way (server.delivery.twilio); the fake uses the same code.
BaseUrlHttpClient = RebasedHttpClient


# --- The fake -------------------------------------------------------------------------------

API_VERSION: Final = "2010-04-01"

FaultKind = Literal[
    "500", "429", "timeout", "reset", "accept_then_crash", "21211", "21610", "21614", "63016"
]
FAULT_KINDS: Final[tuple[str, ...]] = get_args(FaultKind)

Action = Literal["create", "fetch", "update", "delete", "list"]

#: Every status the SDK knows (MessageInstance.Status).
MESSAGE_STATUSES: Final = frozenset(
    {
        "queued",
        "sending",
        "sent",
        "failed",
        "delivered",
        "undelivered",
        "receiving",
        "received",
        "accepted",
        "scheduled",
        "read",
        "partially_delivered",
        "canceled",
    }
)

#: HTTP status, Twilio code and message of each error the fake answers with.
ERRORS: Final[dict[str, tuple[int, int, str]]] = {
    "500": (500, 20500, "An internal server error has occurred"),
    "429": (429, 20429, "Too Many Requests"),
    "21211": (400, 21211, "Invalid 'To' Phone Number: {to}"),
    "21610": (400, 21610, "Attempt to send to unsubscribed recipient"),
    "21614": (400, 21614, "'To' number is not a valid mobile number"),
    "63016": (
        400,
        63016,
        "Failed to send freeform message because you are outside the allowed window. "
        "If you are using WhatsApp, please use a Message Template.",
    ),
}

#: error_message of a message that failed with a code (others read "Error <code>").
ERROR_MESSAGES: Final[dict[int, str]] = {
    30003: "Unreachable destination handset",
    30005: "Unknown destination handset",
    30006: "Landline or unreachable carrier",
    30007: "Message filtered",
    30008: "Unknown error",
    21610: "Attempt to send to unsubscribed recipient",
    63016: "Failed to send freeform message because you are outside the allowed window.",
}

_ROUTE = re.compile(r"/2010-04-01/Accounts/([^/]+)/Messages(?:/([^/]+))?\.json")
_SENT = frozenset({"sent", "delivered", "undelivered", "read", "partially_delivered"})
_UNASSIGNED = frozenset({"accepted", "scheduled", "canceled"})
_MAX_BODY = 1 << 20
_IDLE_SECONDS = 60.0
_MAX_DELAY = 120.0

_GSM7_BASIC = frozenset(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
_GSM7_EXTENSION = frozenset("^{}\\[~]|€\f")


def segment_count(body: str) -> int:
    """SMS segments of `body`: GSM-7 (160, or 153 per part) when it allows, else UCS-2 (70, or
    67 UTF-16 units per part); escapes and surrogate pairs never straddle parts."""
    if all(c in _GSM7_BASIC or c in _GSM7_EXTENSION for c in body):
        costs = [2 if c in _GSM7_EXTENSION else 1 for c in body]
        single, multi = 160, 153
    else:
        costs = [2 if ord(c) > 0xFFFF else 1 for c in body]
        single, multi = 70, 67
    if sum(costs) <= single:
        return 1
    segments, used = 1, 0
    for cost in costs:
        if used + cost > multi:
            segments, used = segments + 1, 0
        used += cost
    return segments


def _rfc2822(moment: datetime | None) -> str | None:
    return None if moment is None else format_datetime(moment.astimezone(UTC))


def _error(status: int, code: int, message: str) -> dict[str, Any]:
    return {
        "code": code,
        "message": message,
        "more_info": f"https://www.twilio.com/docs/errors/{code}",
        "status": status,
    }


def _not_found(path: str) -> tuple[int, dict[str, Any]]:
    return 404, _error(404, 20404, f"The requested resource {path} was not found")


@dataclass
class StatusChange:
    status: str
    error_code: int | None
    at: datetime


@dataclass
class FakeMessage:
    """A message as the fake holds it; `resource()` is the JSON Twilio returns for it."""

    sid: str
    account_sid: str
    to: str
    from_: str | None
    body: str
    messaging_service_sid: str | None
    status: str
    date_created: datetime
    date_updated: datetime
    date_sent: datetime | None = None
    error_code: int | None = None
    error_message: str | None = None
    num_segments: str = "1"
    media_urls: list[str] = field(default_factory=list)
    status_callback: str | None = None
    validity_period: str | None = None
    content_sid: str | None = None
    content_variables: str | None = None
    form: dict[str, str] = field(default_factory=dict)
    deleted: bool = False
    status_history: list[StatusChange] = field(default_factory=list)
    seq: int = 0

    @property
    def uri(self) -> str:
        return f"/{API_VERSION}/Accounts/{self.account_sid}/Messages/{self.sid}.json"

    def resource(self) -> dict[str, Any]:
        base = self.uri.removesuffix(".json")
        return {
            "account_sid": self.account_sid,
            "api_version": API_VERSION,
            "body": self.body,
            "date_created": _rfc2822(self.date_created),
            "date_sent": _rfc2822(self.date_sent),
            "date_updated": _rfc2822(self.date_updated),
            "direction": "outbound-api",
            "error_code": self.error_code,
            "error_message": self.error_message,
            "from": self.from_,
            "messaging_service_sid": self.messaging_service_sid,
            "num_media": str(len(self.media_urls)),
            "num_segments": self.num_segments,
            "price": None,
            "price_unit": "USD",
            "sid": self.sid,
            "status": self.status,
            "subresource_uris": {
                "media": f"{base}/Media.json",
                "feedback": f"{base}/Feedback.json",
            },
            "to": self.to,
            "uri": self.uri,
        }


@dataclass
class RecordedRequest:
    """One request the fake received. `status` is the HTTP status answered (None when the
    connection was dropped instead); `fault` the fault kind applied, if any."""

    method: str
    path: str
    query: dict[str, str]
    form: dict[str, str]
    form_lists: dict[str, list[str]]
    headers: dict[str, str]
    time: float
    auth_user: str | None
    action: Action | None
    account_sid: str | None
    sid: str | None
    status: int | None = None
    fault: str | None = None


Predicate = Callable[[RecordedRequest], bool]


def is_create(request: RecordedRequest) -> bool:
    """The default fault target: a message create."""
    return request.action == "create"


@dataclass
class FaultRule:
    kind: str
    match: Predicate
    remaining: int | None
    delay: float


def _first(values: Mapping[str, list[str]]) -> dict[str, str]:
    return {key: items[0] for key, items in values.items() if items}


class FakeTwilio:
    """A loopback Twilio Messages API. Use as a context manager (or start()/close())."""

    def __init__(
        self,
        account_sid: str | None = None,
        auth_token: str | None = None,
        *,
        api_keys: Mapping[str, str] | None = None,
        slow_seconds: float = 3.0,
        service_sender: str = "+15005550006",
        clock: Callable[[], datetime] | None = None,
    ) -> None:
        self.account_sid = account_sid or "AC" + secrets.token_hex(16)
        self.auth_token = auth_token or secrets.token_hex(16)
        self.api_keys = dict(api_keys or {})
        if not 0 < slow_seconds <= _MAX_DELAY:
            raise ValueError(f"slow_seconds must be in (0, {_MAX_DELAY}]")
        self.slow_seconds = slow_seconds
        self.service_sender = service_sender
        self._clock = clock or (lambda: datetime.now(UTC))
        self._lock = threading.RLock()
        self._changed = threading.Condition(self._lock)
        self._closing = threading.Event()
        self._requests: list[RecordedRequest] = []
        self._messages: dict[str, FakeMessage] = {}
        self._rules: list[FaultRule] = []
        self._errors: list[BaseException] = []
        self._seq = 0
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None

    # -- lifecycle --

    def start(self) -> FakeTwilio:
        if self._server is not None:
            raise RuntimeError("already started")
        self._closing.clear()
        self._server = _Server(self)
        self._thread = threading.Thread(
            target=self._server.serve_forever,
            kwargs={"poll_interval": 0.05},
            name=f"fake-twilio-{self.port}",
            daemon=True,
        )
        self._thread.start()
        return self

    def close(self, timeout: float = 5.0) -> None:
        """Stop serving, wake held answers, reset open connections; returns within ~`timeout`."""
        server, self._server = self._server, None
        if server is None:
            return
        deadline = time.monotonic() + timeout
        self._closing.set()
        server.shutdown()
        server.server_close()
        server.abort_connections()
        if self._thread is not None:
            self._thread.join(max(0.0, deadline - time.monotonic()))
        for thread in server.handler_threads():
            thread.join(max(0.0, deadline - time.monotonic()))

    def __enter__(self) -> FakeTwilio:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    @property
    def port(self) -> int:
        if self._server is None:
            raise RuntimeError("FakeTwilio is not running")
        return int(self._server.server_address[1])

    @property
    def base_url(self) -> str:
        """What REFUGE_TWILIO_API_BASE should be set to."""
        return f"http://127.0.0.1:{self.port}"

    # -- what happened --

    @property
    def requests(self) -> list[RecordedRequest]:
        with self._lock:
            return copy.deepcopy(self._requests)

    @property
    def messages(self) -> dict[str, FakeMessage]:
        with self._lock:
            return copy.deepcopy(self._messages)

    @property
    def errors(self) -> list[BaseException]:
        """Unexpected exceptions inside the fake (answered as HTTP 500); empty when all is well."""
        with self._lock:
            return list(self._errors)

    def message(self, sid: str) -> FakeMessage:
        with self._lock:
            return copy.deepcopy(self._messages[sid])

    def sent(self, to: str | None = None) -> list[FakeMessage]:
        """Messages not deleted, oldest first, optionally only those to `to`."""
        with self._lock:
            found = [m for m in self._messages.values() if not m.deleted]
            if to is not None:
                found = [m for m in found if m.to == to]
            return copy.deepcopy(sorted(found, key=lambda m: m.seq))

    def created_after(self, seq: int) -> list[FakeMessage]:
        """Messages created after the one numbered `seq` (deleted ones too), oldest first: a
        long run reads what is new without copying everything it has seen before."""
        with self._lock:
            found: list[FakeMessage] = []
            for message in reversed(self._messages.values()):
                if message.seq <= seq:
                    break
                found.append(message)
            return copy.deepcopy(found[::-1])

    def wait_for_messages(self, count: int, timeout: float = 5.0) -> list[FakeMessage]:
        """Block until at least `count` messages were created (TimeoutError after `timeout`)."""
        with self._changed:
            if not self._changed.wait_for(lambda: len(self._messages) >= count, timeout):
                raise TimeoutError(f"{len(self._messages)} of {count} messages after {timeout}s")
            return copy.deepcopy(sorted(self._messages.values(), key=lambda m: m.seq))

    def reset(self) -> None:
        """Forget requests, messages, faults and errors."""
        with self._lock:
            self._requests.clear()
            self._messages.clear()
            self._rules.clear()
            self._errors.clear()

    # -- faults --

    def fail_next(
        self,
        kind: FaultKind,
        times: int = 1,
        *,
        match: Predicate | None = None,
        delay: float | None = None,
    ) -> FaultRule:
        """Apply fault `kind` to the next `times` requests matching `match` (default: creates)."""
        if times < 1:
            raise ValueError("times must be >= 1")
        return self._add_rule(kind, match or is_create, times, delay)

    def fail_when(
        self,
        kind: FaultKind,
        predicate: Predicate,
        *,
        times: int | None = None,
        delay: float | None = None,
    ) -> FaultRule:
        """Apply fault `kind` to every request `predicate` accepts (or the next `times` ones)."""
        return self._add_rule(kind, predicate, times, delay)

    def clear_faults(self) -> None:
        with self._lock:
            self._rules.clear()

    def _add_rule(
        self, kind: str, match: Predicate, times: int | None, delay: float | None
    ) -> FaultRule:
        if kind not in FAULT_KINDS:
            raise ValueError(f"unknown fault {kind!r}; one of {', '.join(FAULT_KINDS)}")
        delay = self.slow_seconds if delay is None else delay
        if not 0 < delay <= _MAX_DELAY:
            raise ValueError(f"delay must be in (0, {_MAX_DELAY}]")
        rule = FaultRule(kind, match, times, delay)
        with self._lock:
            self._rules.append(rule)
        return rule

    def _take_fault(self, request: RecordedRequest) -> FaultRule | None:
        with self._lock:
            for rule in self._rules:
                if rule.match(request):
                    if rule.remaining is not None:
                        rule.remaining -= 1
                        if rule.remaining <= 0:
                            self._rules.remove(rule)
                    request.fault = rule.kind
                    return rule
        return None

    # -- moving messages along --

    def set_status(self, sid: str, status: str, error_code: int | None = None) -> FakeMessage:
        """Move message `sid` to `status` (with `error_code`, e.g. 30003, when it failed)."""
        with self._lock:
            self._set_status(self._messages[sid], status, error_code)
            return copy.deepcopy(self._messages[sid])

    def _set_status(self, message: FakeMessage, status: str, error_code: int | None) -> None:
        if status not in MESSAGE_STATUSES:
            raise ValueError(f"unknown status {status!r}")
        now = self._clock()
        message.status = status
        message.error_code = error_code
        message.error_message = (
            None if error_code is None else ERROR_MESSAGES.get(error_code, f"Error {error_code}")
        )
        message.date_updated = now
        if status in _SENT and message.date_sent is None:
            message.date_sent = now
        if message.from_ is None and status not in _UNASSIGNED:
            message.from_ = self.service_sender
            message.num_segments = self._segments(message.to, message.body)
        message.status_history.append(StatusChange(status, error_code, now))

    def status_callback(
        self,
        sid: str,
        status: str | None = None,
        error_code: int | None = None,
        *,
        sign_with_token: str | Literal[False] | None = None,
        url: str | None = None,
    ) -> tuple[str, dict[str, str], dict[str, str]]:
        """The POST Twilio makes to the StatusCallback of message `sid`: (url, form, headers).

        With `status`, the message first moves there (as `set_status`) unless it already is.
        `url` defaults to the StatusCallback the message was created with. The form is signed
        with `sign_with_token` (default: this fake's auth token; False: no signature header)
        through RequestValidator.compute_signature, as Twilio signs it.
        """
        with self._lock:
            message = self._messages[sid]
            if status is not None and (status, error_code) != (
                message.status,
                message.error_code,
            ):
                self._set_status(message, status, error_code)
            target = url or message.status_callback
            if not target:
                raise ValueError(f"message {sid} has no StatusCallback; pass url=")
            data = {
                "AccountSid": message.account_sid,
                "ApiVersion": API_VERSION,
                "MessageSid": message.sid,
                "MessageStatus": message.status,
                "SmsSid": message.sid,
                "SmsStatus": message.status,
                "To": message.to,
            }
            if message.from_ is not None:
                data["From"] = message.from_
            if message.messaging_service_sid is not None:
                data["MessagingServiceSid"] = message.messaging_service_sid
            if message.error_code is not None:
                data["ErrorCode"] = str(message.error_code)
        headers = {
            "Content-Type": "application/x-www-form-urlencoded",
            "User-Agent": "TwilioProxy/1.1",
            "I-Twilio-Idempotency-Token": str(uuid.uuid4()),
        }
        token = self.auth_token if sign_with_token is None else sign_with_token
        if token is not False:
            validator = RequestValidator(token)
            headers["X-Twilio-Signature"] = str(validator.compute_signature(target, data))
        return target, data, headers

    # -- the API --

    def _record(self, request: RecordedRequest) -> None:
        with self._lock:
            self._requests.append(request)

    def _record_error(self, error: BaseException) -> None:
        with self._lock:
            self._errors.append(error)

    def _authorised(self, user: str | None, password: str | None, account: str | None) -> bool:
        if user is None or password is None:
            return False
        secret = self.auth_token if user == self.account_sid else self.api_keys.get(user)
        if secret is None or not hmac.compare_digest(secret.encode(), password.encode()):
            return False
        return account is None or account == self.account_sid

    @staticmethod
    def _segments(to: str, body: str) -> str:
        return "1" if to.startswith("whatsapp:") else str(segment_count(body))

    def _dispatch(self, request: RecordedRequest) -> tuple[int, dict[str, Any] | None]:
        with self._lock:
            if request.action == "create":
                return self._create(request)
            if request.action == "list":
                return self._list(request)
            message = self._messages.get(request.sid or "")
            if message is None or message.deleted:
                return _not_found(request.path)
            if request.action == "fetch":
                return 200, message.resource()
            if request.action == "delete":
                message.deleted = True
                return 204, None
            return self._update(message, request)

    def _create(self, request: RecordedRequest) -> tuple[int, dict[str, Any]]:
        form = request.form
        to = form.get("To", "")
        sender = form.get("From") or None
        service = form.get("MessagingServiceSid") or None
        body = form.get("Body", "")
        media = request.form_lists.get("MediaUrl", [])
        if not to:
            return 400, _error(400, 21604, "A 'To' phone number is required.")
        if sender is None and service is None:
            return 400, _error(400, 21603, "A 'From' phone number is required.")
        if not body and not media and not form.get("ContentSid"):
            return 400, _error(400, 21602, "Message body is required.")
        if len(body) > 1600:
            return 400, _error(
                400, 21617, "The concatenated message body exceeds the 1600 character limit."
            )
        now = self._clock().replace(microsecond=0)
        self._seq += 1
        status = "queued" if sender is not None else "accepted"
        message = FakeMessage(
            sid="SM" + secrets.token_hex(16),
            account_sid=request.account_sid or self.account_sid,
            to=to,
            from_=sender,
            body=body,
            messaging_service_sid=service,
            status=status,
            date_created=now,
            date_updated=now,
            num_segments=self._segments(to, body) if sender is not None else "0",
            media_urls=list(media),
            status_callback=form.get("StatusCallback"),
            validity_period=form.get("ValidityPeriod"),
            content_sid=form.get("ContentSid"),
            content_variables=form.get("ContentVariables"),
            form=dict(form),
            status_history=[StatusChange(status, None, now)],
            seq=self._seq,
        )
        self._messages[message.sid] = message
        self._changed.notify_all()
        return 201, message.resource()

    def _update(self, message: FakeMessage, request: RecordedRequest) -> tuple[int, dict[str, Any]]:
        if "Body" in request.form:
            if request.form["Body"]:
                return 400, _error(400, 21220, "Invalid Body: a message can only be redacted")
            message.body = ""
        if request.form.get("Status") == "canceled":
            if message.status not in {"scheduled", "accepted", "queued"}:
                return 400, _error(400, 30409, "Message cannot be canceled")
            self._set_status(message, "canceled", None)
        message.date_updated = self._clock().replace(microsecond=0)
        return 200, message.resource()

    def _list(self, request: RecordedRequest) -> tuple[int, dict[str, Any]]:
        query = request.query
        found = [
            m
            for m in self._messages.values()
            if not m.deleted
            and m.account_sid == request.account_sid
            and query.get("To", m.to) == m.to
            and query.get("From", m.from_) == m.from_
        ]

        def day(message: FakeMessage) -> str:  # date_sent, or date_created while unsent
            return (message.date_sent or message.date_created).astimezone(UTC).strftime("%Y-%m-%d")

        for key, keep in (
            ("DateSent", str.__eq__),
            ("DateSent<", str.__le__),
            ("DateSent>", str.__ge__),
        ):
            if key in query:
                bound = query[key][:10]
                found = [m for m in found if keep(day(m), bound)]
        found.sort(key=lambda m: (m.date_created, m.seq), reverse=True)
        try:
            size = min(max(int(query.get("PageSize", "50")), 1), 1000)
            page = max(int(query.get("Page", "0")), 0)
        except ValueError:
            return 400, _error(400, 20001, "Invalid paging parameter")
        start = page * size
        chunk = found[start : start + size]
        filters: dict[str, str] = {
            k: query[k] for k in ("To", "From", "DateSent", "DateSent<", "DateSent>") if k in query
        }
        path = f"/{API_VERSION}/Accounts/{request.account_sid}/Messages.json"

        def uri(number: int, token: str | None = None) -> str:
            params = {**filters, "PageSize": str(size), "Page": str(number)}
            if token is not None:
                params["PageToken"] = token
            return f"{path}?{urlencode(params)}"

        more = start + size < len(found)
        return 200, {
            "end": start + max(len(chunk) - 1, 0),
            "first_page_uri": uri(0),
            "messages": [m.resource() for m in chunk],
            "next_page_uri": uri(page + 1, "PA" + chunk[-1].sid) if more and chunk else None,
            "page": page,
            "page_size": size,
            "previous_page_uri": uri(page - 1, "PB" + chunk[0].sid) if page and chunk else None,
            "start": start,
            "uri": uri(page),
        }


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False
    allow_reuse_address = False
    request_queue_size = 128  # socketserver's 5 drops SYNs under a burst of concurrent sends

    def __init__(self, fake: FakeTwilio) -> None:
        self.fake = fake
        self._live: dict[socket.socket, threading.Thread] = {}
        self._live_lock = threading.Lock()
        super().__init__(("127.0.0.1", 0), _Handler)

    def server_bind(self) -> None:
        # HTTPServer.server_bind would look up the host's FQDN; not needed on loopback.
        socketserver.TCPServer.server_bind(self)
        self.server_name = "127.0.0.1"
        self.server_port = int(self.server_address[1])

    def process_request_thread(self, request: Any, client_address: Any) -> None:
        with self._live_lock:
            self._live[request] = threading.current_thread()
        try:
            super().process_request_thread(request, client_address)
        finally:
            with self._live_lock:
                self._live.pop(request, None)

    def handle_error(self, request: Any, client_address: Any) -> None:
        pass  # connection errors; anything else is recorded by the handler

    def handler_threads(self) -> list[threading.Thread]:
        with self._live_lock:
            return list(self._live.values())

    def abort_connections(self) -> None:
        with self._live_lock:
            sockets = list(self._live)
        for sock in sockets:
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)


class _Handler(BaseHTTPRequestHandler):
    server: _Server
    protocol_version = "HTTP/1.1"
    server_version = "FakeTwilio/1.0"
    timeout = _IDLE_SECONDS

    def setup(self) -> None:
        super().setup()
        # Headers and body go out in separate writes: without this, Nagle's algorithm and the
        # client's delayed ACK add ~40 ms to every answer.
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def do_GET(self) -> None:
        self._handle()

    def do_POST(self) -> None:
        self._handle()

    def do_DELETE(self) -> None:
        self._handle()

    def do_PUT(self) -> None:
        self._handle()

    def do_PATCH(self) -> None:
        self._handle()

    def _credentials(self) -> tuple[str | None, str | None]:
        header = self.headers.get("Authorization", "")
        scheme, _, encoded = header.partition(" ")
        if scheme.lower() != "basic":
            return None, None
        try:
            user, sep, password = base64.b64decode(encoded).decode().partition(":")
        except ValueError:
            return None, None
        return (user, password) if sep else (None, None)

    def _handle(self) -> None:
        fake = self.server.fake
        try:
            length = int(self.headers.get("Content-Length") or 0)
        except ValueError:
            length = -1
        if not 0 <= length <= _MAX_BODY:
            self._send(413, _error(413, 20001, "Request body too large"))
            self.close_connection = True
            return
        raw = self.rfile.read(length).decode("utf-8", "replace") if length else ""
        split = urlsplit(self.path)
        form_type = self.headers.get_content_type() == "application/x-www-form-urlencoded"
        form_lists = parse_qs(raw, keep_blank_values=True) if form_type else {}
        route = _ROUTE.fullmatch(split.path)
        action: Action | None = None
        if route is not None:
            collection = route.group(2) is None
            actions: dict[tuple[str, bool], Action] = {
                ("POST", True): "create",
                ("GET", True): "list",
                ("GET", False): "fetch",
                ("POST", False): "update",
                ("DELETE", False): "delete",
            }
            action = actions.get((self.command, collection))
        user, password = self._credentials()
        request = RecordedRequest(
            method=self.command,
            path=split.path,
            query=_first(parse_qs(split.query, keep_blank_values=True)),
            form=_first(form_lists),
            form_lists=form_lists,
            headers=dict(self.headers.items()),
            time=time.time(),
            auth_user=user,
            action=action,
            account_sid=route.group(1) if route else None,
            sid=route.group(2) if route else None,
        )
        fake._record(request)
        try:
            self._answer(fake, request, password)
        except Exception as error:  # a bug in the fake or a predicate: say so, don't hang
            fake._record_error(error)
            request.status = 500
            self._send(500, _error(500, 20500, f"FakeTwilio error: {error!r}"))

    def _answer(self, fake: FakeTwilio, request: RecordedRequest, password: str | None) -> None:
        if not fake._authorised(request.auth_user, password, request.account_sid):
            error = _error(401, 20003, "Authenticate")
            error["detail"] = "Your AccountSid or AuthToken was incorrect."
            request.status = 401
            self._send(401, error, {"WWW-Authenticate": 'Basic realm="Twilio API"'})
            return
        if request.action is None:
            if request.account_sid is not None:
                request.status = 405
                self._send(405, _error(405, 20004, "Method not allowed"))
            else:
                request.status, missing = _not_found(request.path)
                self._send(request.status, missing)
            return
        rule = fake._take_fault(request)
        kind = rule.kind if rule else None
        if kind == "reset":
            self._drop(reset=True)
            return
        if kind in ERRORS:
            status, code, text = ERRORS[kind]
            request.status = status
            self._send(status, _error(status, code, text.format(to=request.form.get("To", ""))))
            return
        status, payload = fake._dispatch(request)
        if kind == "accept_then_crash":
            self._drop(reset=False)
            return
        if kind == "timeout" and rule is not None:
            fake._closing.wait(rule.delay)
        request.status = status
        self._send(status, payload)

    def _send(
        self, status: int, payload: dict[str, Any] | None, headers: Mapping[str, str] | None = None
    ) -> None:
        body = b"" if payload is None else json.dumps(payload).encode()
        try:
            self.send_response(status)
            if status != 204:
                self.send_header("Content-Type", "application/json; charset=utf-8")
                self.send_header("Content-Length", str(len(body)))
            self.send_header("Twilio-Request-Id", "RQ" + secrets.token_hex(16))
            for name, value in (headers or {}).items():
                self.send_header(name, value)
            self.end_headers()
            if body:
                self.wfile.write(body)
        except OSError:  # the client gave up (e.g. after its timeout)
            self.close_connection = True

    def _drop(self, *, reset: bool) -> None:
        """Close the connection without an answer: RST when `reset`, else FIN."""
        self.close_connection = True
        sock = self.connection
        try:
            if reset:
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            else:
                sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        self.rfile.close()  # drop the makefile reference so close() really closes
        sock.close()


def sdk_client(
    fake: FakeTwilio,
    account_sid: str | None = None,
    auth_token: str | None = None,
    *,
    timeout: float = 5.0,
    username: str | None = None,
    region: str | None = None,
    edge: str | None = None,
) -> Client:
    """A real twilio.rest.Client talking to `fake`, built as the product should build its own:
    ``Client(..., http_client=BaseUrlHttpClient(base, timeout=...))``. `username` is for API key
    auth (key sid as username, the secret as `auth_token`, `account_sid` in the URLs)."""
    sid = account_sid or fake.account_sid
    return Client(
        username or sid,
        auth_token or fake.auth_token,
        account_sid=sid,
        region=region,
        edge=edge,
        http_client=BaseUrlHttpClient(fake.base_url, timeout=timeout),
    )
