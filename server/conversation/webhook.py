"""POST /sms/twilio and /sms/twilio/status: signed requests in, TwiML out, never a 500.

The signature is checked first, against REFUGE_PUBLIC_URL and the path (so it holds behind a
proxy), in every mode; without a valid one the answer is 403 and nothing else is read.
"""

from __future__ import annotations

import logging
import re
import time
from collections.abc import Callable
from datetime import UTC, datetime
from functools import wraps
from typing import Any

from flask import Blueprint, Response, request
from sqlalchemy.exc import IntegrityError, OperationalError
from twilio.request_validator import RequestValidator
from twilio.twiml.messaging_response import MessagingResponse

from server import people
from server.config import app_settings
from server.conversation.turn import IncomingMessage, SenderRefused, Turn, receive, sender_of
from server.db import get_database
from server.delivery import admission, records, twilio
from server.i18n.locales import catalogue
from server.i18n.web import without_locale

log = logging.getLogger(__name__)
blueprint = Blueprint("sms", __name__)

#: A duplicate delivered at the same moment loses a race on the receipt and is retried once
#: the first is committed; it then replays the first answer.
ATTEMPTS = 4
RETRY_PAUSE_SECONDS = 0.05
SIGNATURE_HEADER = "X-Twilio-Signature"
#: The outbox row id a status callback's URL carries: 32 ASCII hex digits.
_ROW_ID = re.compile(r"[0-9a-f]{32}")
#: Twilio's error codes: ASCII digits (`str.isdigit` would let `①` through to `int`).
_ERROR_CODE = re.compile(r"[0-9]{1,9}")


def signed_url() -> str:
    """The URL Twilio signed: the public address, the path and the query string."""
    query = request.query_string.decode("latin-1")
    return app_settings().public_url + request.path + (f"?{query}" if query else "")


def signature_required(view: Callable[..., Response]) -> Callable[..., Response]:
    """Refuse with 403, and read nothing else, unless the request carries Twilio's signature."""

    @wraps(view)
    def checked(*args: Any, **kwargs: Any) -> Response:
        token = app_settings().twilio_auth_token
        signature = request.headers.get(SIGNATURE_HEADER, "")
        if not token or not signature:
            return Response(status=403)
        if not RequestValidator(token).validate(signed_url(), request.form, signature):
            return Response(status=403)
        return view(*args, **kwargs)

    return checked


def twiml(replies: list[str]) -> Response:
    """The replies as TwiML messages (none: an empty response, Twilio sends nothing)."""
    response = MessagingResponse()
    for text in replies:
        response.message(text)
    return Response(str(response), mimetype="application/xml")


@blueprint.post("/sms/twilio")
@without_locale
@signature_required
def inbound() -> Response:
    """One inbound SMS or WhatsApp message."""
    message_id = request.form.get("MessageSid") or request.form.get("SmsMessageSid")
    sender = request.form.get("From")
    if not message_id or not sender:
        return Response("MessageSid and From are required", status=400, mimetype="text/plain")
    message = IncomingMessage(
        message_id=message_id,
        sender=sender,
        body=request.form.get("Body", ""),
        opt_out_type=request.form.get("OptOutType"),
    )
    try:
        turn = _with_retries(message)
    except Exception as exc:
        log.error("inbound message failed: %s", type(exc).__name__)
        return twiml(apology(sender))
    return twiml(turn.replies)


def apology(sender: str) -> list[str]:
    """A short apology in the sender's language when it can be known, else in English; none
    to a sender outside the country allow-list (as for every other reply)."""
    settings = app_settings()
    locale, allowed = "en", frozenset(settings.delivery.countries) or None
    try:
        phone = sender_of(sender)
    except SenderRefused:
        return []
    try:
        with get_database().session() as session:
            allowed = admission.allowed_countries(session, settings)
            person = people.find_subscriber(session, phone)
            locale = person.locale if person else "en"
    except Exception:  # noqa: S110 (the apology must go out whatever is broken)
        pass
    if not admission.destination_allowed(allowed, phone.e164):
        return []
    # Translators: sent when Refuge failed to handle a message; the person should simply retry.
    return [str(catalogue(locale).gettext("Sorry, something went wrong. Please try again soon."))]


def _with_retries(message: IncomingMessage) -> Turn:
    database = get_database()
    for attempt in range(ATTEMPTS):
        try:
            with database.session() as session:
                return receive(session, app_settings(), message, datetime.now(UTC))
        except (IntegrityError, OperationalError):
            if attempt == ATTEMPTS - 1:
                raise
            time.sleep(RETRY_PAUSE_SECONDS * (attempt + 1))
    raise AssertionError("unreachable")


@blueprint.post("/sms/twilio/status")
@without_locale
@signature_required
def status() -> Response:
    """A delivery status callback: applied once, never backwards, in any arrival order.

    204 when applied or ignorable (an unknown message, a repeat, a late lower status); 503
    when the database cannot take it now, so that the provider tries again.
    """
    message_id = request.form.get("MessageSid") or request.form.get("SmsSid")
    reported = (request.form.get("MessageStatus") or request.form.get("SmsStatus") or "").lower()
    if not message_id or not reported:
        return Response("MessageSid and MessageStatus are required", 400, mimetype="text/plain")
    row_hint = request.args.get(twilio.STATUS_ROW_PARAMETER)
    if row_hint is not None and not _ROW_ID.fullmatch(row_hint):
        return Response("o must be an outbox row id", 400, mimetype="text/plain")
    code_text = request.form.get("ErrorCode") or ""
    if code_text and not _ERROR_CODE.fullmatch(code_text):
        return Response("ErrorCode must be a whole number", 400, mimetype="text/plain")
    error_code = int(code_text) if code_text else None
    try:
        with get_database().session() as session:
            records.status_reported(
                session,
                row_hint,
                message_id,
                reported,
                error_code,
                datetime.now(UTC),
                unsubscribed=twilio.unsubscribed(error_code),
            )
    except OperationalError as exc:
        log.warning("status callback not recorded: %s", type(exc).__name__)
        return Response(status=503)
    except Exception as exc:
        log.error("status callback failed: %s", type(exc).__name__)
        return Response(status=204)
    return Response(status=204)
