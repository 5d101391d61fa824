"""GET/POST /dev/sms: a phone on a page that texts Refuge through its real, signed webhook.

Development only: `init_app` registers the blueprint only with REFUGE_ENV=development and the
console SMS backend, so elsewhere the address does not exist. The conversation lives in the
page (hidden fields, at most MAX_BUBBLES), never on the server: the webhook stores what it
always stores, and nothing more.
"""

from __future__ import annotations

import json
import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Literal
from xml.etree.ElementTree import Element, ParseError

from defusedxml.ElementTree import fromstring
from flask import Blueprint, Flask, abort, current_app, render_template, request
from flask_babel import gettext as _
from twilio.request_validator import RequestValidator

from server import segments
from server.config import Environment, Settings, SmsBackend, app_settings
from server.conversation.webhook import SIGNATURE_HEADER
from server.delivery import twilio
from server.delivery.channels import CHANNEL_EXTENSION, ConsoleChannel, ConsoleMessage
from server.phones import MAX_PHONE_INPUT, InvalidPhoneNumber, normalize_phone

blueprint = Blueprint("simulator", __name__, url_prefix="/dev")

WEBHOOK_PATH = "/sms/twilio"
#: Numbers reserved for drama (Ofcom's 07700 900xxx, the US 555-01xx): nobody's phone.
FICTION_NUMBERS = ("+44 7700 900123", "+44 7700 900456", "+1 202 555 0142")
WHATSAPP_NUMBER = "+44 7700 900789"
WHATSAPP = twilio.WHATSAPP_PREFIX
DEFAULT_SENDER = FICTION_NUMBERS[0]
#: The number people text when REFUGE_TWILIO_FROM is not set (a fictional one).
SIMULATED_TO = "+15550100"
ACCOUNT_SID = "AC" + "0" * 32
TWILIO_API_VERSION = "2010-04-01"
#: Twilio refuses longer message bodies.
MAX_BODY = 1600
MAX_BUBBLES = 20
TRANSCRIPT_FIELD = "transcript"
Who = Literal["person", "refuge"]


class BadInput(ValueError):
    """Input the simulator cannot send; the message says what to fix, `field` where."""

    def __init__(self, message: str, field: str = "") -> None:
        super().__init__(message)
        self.field = field


class WebhookFailed(RuntimeError):
    """The webhook did not answer with TwiML; the message says what it did instead."""


@dataclass(frozen=True)
class Bubble:
    """One message on the phone: from the person (with their address) or from Refuge."""

    who: Who
    text: str
    sender: str = ""

    @property
    def measure(self) -> segments.Measure:
        """The encoding and segments this text costs as an SMS."""
        return segments.measure(self.text)

    def carried(self) -> str:
        """The bubble as the value of its hidden field."""
        return json.dumps(
            {"who": self.who, "text": self.text, "sender": self.sender}, ensure_ascii=False
        )


@dataclass(frozen=True)
class Draft:
    """What the person chose and typed in the form."""

    sender: str = DEFAULT_SENDER
    other: str = ""
    body: str = ""

    @classmethod
    def read(cls, form: Mapping[str, str]) -> Draft:
        """The draft from a submitted form, each field cut to a sane length."""
        return cls(
            sender=form.get("sender", DEFAULT_SENDER)[: MAX_PHONE_INPUT + len(WHATSAPP)],
            other=form.get("other_sender", "")[: MAX_PHONE_INPUT + len(WHATSAPP)],
            body=form.get("body", "")[: MAX_BODY * 2],
        )


def enabled(settings: Settings) -> bool:
    """True where the simulator may exist: development with the console SMS backend."""
    return settings.env is Environment.DEVELOPMENT and settings.sms_backend is SmsBackend.CONSOLE


def init_app(app: Flask) -> None:
    """Register /dev/sms, only in development with the console SMS backend."""
    if enabled(app_settings(app)) and blueprint.name not in app.blueprints:
        app.register_blueprint(blueprint)


@blueprint.before_request
def _development_only() -> None:
    """A second lock: even a blueprint registered by mistake answers 404 outside development."""
    if not enabled(app_settings()):
        abort(404)


def sender_choices() -> list[tuple[str, str]]:
    """The (value, label) options of the sender list: fiction numbers, then one on WhatsApp."""
    choices = [(number, number) for number in FICTION_NUMBERS]
    choices.append((WHATSAPP + WHATSAPP_NUMBER, _("WhatsApp %(number)s", number=WHATSAPP_NUMBER)))
    return choices


def sender_address(draft: Draft) -> str:
    """The sender as Twilio writes it (E.164, or whatsapp: and E.164), or BadInput."""
    raw = (draft.other.strip() or draft.sender).strip()
    field = "other_sender" if draft.other.strip() else "sender"
    try:
        if not raw.lower().removeprefix(WHATSAPP).strip().startswith("+"):
            raise InvalidPhoneNumber("no country code")
        return normalize_phone(raw).address
    except InvalidPhoneNumber:
        raise BadInput(
            _("That is not a phone number Refuge can answer: start with + and the country code."),
            field,
        ) from None


def message_body(draft: Draft) -> str:
    """The message as a phone sends it (newlines as LF), or BadInput."""
    body = draft.body.replace("\r\n", "\n")
    if not body.strip():
        raise BadInput(_("Type a message before sending."), "body")
    if len(body) > MAX_BODY:
        raise BadInput(
            _(
                "A message can have at most %(max)d characters; this one has %(count)d.",
                max=MAX_BODY,
                count=len(body),
            ),
            "body",
        )
    return body


def twilio_form(sender: str, body: str, to: str) -> dict[str, str]:
    """The fields Twilio posts to the webhook for one inbound message."""
    sid = "SM" + secrets.token_hex(16)
    return {
        "MessageSid": sid,
        "SmsMessageSid": sid,
        "SmsSid": sid,
        "AccountSid": ACCOUNT_SID,
        "From": sender,
        "To": WHATSAPP + to if sender.startswith(WHATSAPP) else to,
        "Body": body,
        "NumMedia": "0",
        "NumSegments": str(max(segments.measure(body).segments, 1)),
        "SmsStatus": "received",
        "ApiVersion": TWILIO_API_VERSION,
    }


def deliver(params: dict[str, str]) -> list[str]:
    """Post the form, signed like Twilio signs it, to the real webhook; the replies it gives."""
    settings = app_settings()
    url = settings.public_url + WEBHOOK_PATH
    signature = RequestValidator(settings.twilio_auth_token or "").compute_signature(url, params)
    # A fresh application context gives the inner request its own `g` (locale, nonce, session),
    # so that the webhook's request leaves this page's language and policy untouched.
    with current_app.app_context():
        response = current_app.test_client().post(
            WEBHOOK_PATH, data=params, headers={SIGNATURE_HEADER: signature}
        )
    if response.status_code != 200:
        raise WebhookFailed(
            _(
                "The webhook answered with HTTP status %(status)d instead of TwiML. "
                "Check REFUGE_TWILIO_AUTH_TOKEN and REFUGE_PUBLIC_URL.",
                status=response.status_code,
            )
        )
    return twiml_replies(response.get_data())


def twiml_replies(document: bytes) -> list[str]:
    """The text of each <Message> of a TwiML response, or WebhookFailed."""
    try:
        root: Element = fromstring(document)
    except (ParseError, ValueError):
        root = Element("Unreadable")
    if root.tag != "Response":
        raise WebhookFailed(_("The webhook answered with something other than TwiML."))
    replies = []
    for message in root.iter("Message"):
        body = message.find("Body")
        replies.append("".join(body.itertext()) if body is not None else message.text or "")
    return replies


def read_transcript(values: list[str]) -> list[Bubble]:
    """The bubbles the page carried back (the last MAX_BUBBLES), skipping malformed ones."""
    bubbles = []
    for value in values[-MAX_BUBBLES:]:
        try:
            item = json.loads(value)
        except ValueError:
            continue
        if not isinstance(item, dict):
            continue
        who, text, sender = item.get("who"), item.get("text"), item.get("sender", "")
        if who in ("person", "refuge") and isinstance(text, str) and isinstance(sender, str):
            bubbles.append(Bubble(who, text[:MAX_BODY], sender[: MAX_PHONE_INPUT + len(WHATSAPP)]))
    return bubbles


def console_outbox() -> tuple[ConsoleMessage, ...]:
    """What the console channel sent lately, newest first (nothing when it is not wired)."""
    channel = current_app.extensions.get(CHANNEL_EXTENSION)
    if not isinstance(channel, ConsoleChannel):
        return ()
    return tuple(reversed(channel.messages()[-MAX_BUBBLES:]))


def _page(
    draft: Draft,
    bubbles: list[Bubble],
    *,
    problem: BadInput | WebhookFailed | None = None,
    notice: str | None = None,
    status: int = 200,
) -> tuple[str, int]:
    """Render the phone with its conversation, and the problem or notice if there is one."""
    shown = bubbles[-MAX_BUBBLES:]
    # After a send, the page opens at the person's last message, with the replies beneath it.
    people = [index for index, bubble in enumerate(shown) if bubble.who == "person"]
    html = render_template(
        "simulator.html",
        draft=draft,
        bubbles=shown,
        latest=people[-1] if people and problem is None else None,
        error=str(problem) if problem else None,
        invalid=problem.field if isinstance(problem, BadInput) else "",
        notice=notice,
        choices=sender_choices(),
        to=app_settings().twilio_from or SIMULATED_TO,
        max_body=MAX_BODY,
        outbox=console_outbox(),
    )
    return html, status


@blueprint.get("/sms")
def phone() -> tuple[str, int]:
    """The empty phone: choose a number, type a message."""
    return _page(Draft(), [])


@blueprint.post("/sms")
def send() -> tuple[str, int]:
    """Send the typed message through the signed webhook and show Refuge's replies."""
    draft = Draft.read(request.form)
    bubbles = read_transcript(request.form.getlist(TRANSCRIPT_FIELD))
    try:
        sender = sender_address(draft)
        body = message_body(draft)
    except BadInput as problem:
        return _page(draft, bubbles, problem=problem, status=422)
    try:
        replies = deliver(twilio_form(sender, body, app_settings().twilio_from or SIMULATED_TO))
    except WebhookFailed as failure:
        return _page(draft, bubbles, problem=failure, status=502)
    bubbles = [*bubbles, Bubble("person", body, sender), *(Bubble("refuge", r) for r in replies)]
    notice = None if replies else _("Refuge sent no reply to this message.")
    return _page(Draft(sender=draft.sender, other=draft.other), bubbles, notice=notice)
