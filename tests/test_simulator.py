"""The /dev/sms simulator: a phone that texts the real webhook, in development only."""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from html.parser import HTMLParser
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient
from playwright.sync_api import sync_playwright
from sqlalchemy import func, select

from server import db
from server.app import create_app
from server.config import Settings
from server.delivery.channels import CHANNEL_EXTENSION, ConsoleChannel, Outbound, mask_number
from server.i18n import web as i18n_web
from server.i18n.tools import pseudo_text
from server.models.messaging import InboundReceipt
from server.models.people import Subscriber
from server.web import simulator
from tests.browser import CHROMIUM_FLAGS, live_server, require_chromium
from tests.pseudo import untranslated

ARTIFACTS = Path(__file__).resolve().parent.parent / "test-artifacts"
MENU_LINE = "Reply a number"
PRODUCTION = {
    "REFUGE_ENV": "production",
    "REFUGE_ALLOW_SQLITE": "true",
    "REFUGE_SMS_BACKEND": "twilio",
    "REFUGE_TWILIO_ACCOUNT_SID": "AC" + "1" * 32,
    "REFUGE_TWILIO_FROM": "+15550100",
    "REFUGE_PUBLIC_URL": "https://refuge.example.org",
}


@pytest.fixture
def phone_app(app: Flask) -> Flask:
    """The test app with the simulator, registered here unless the factory already does."""
    if "simulator" not in app.blueprints:
        simulator.init_app(app)
    return app


@pytest.fixture
def phone(phone_app: Flask) -> FlaskClient:
    """A client of the app with the simulator."""
    return phone_app.test_client()


@dataclass
class Page:
    """What a person sees and what the form carries, read from the simulator's HTML."""

    html: str
    direction: str = ""
    bubbles: list[tuple[str, str]] = field(default_factory=list)
    sizes: list[str] = field(default_factory=list)
    carried: list[str] = field(default_factory=list)
    error: str = ""
    csrf: str = ""


class _Reader(HTMLParser):
    def __init__(self, page: Page) -> None:
        super().__init__()
        self.page = page
        self.who = ""
        self.into = ""

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = {name: value or "" for name, value in attrs}
        classes = found.get("class", "").split()
        if tag == "html":
            self.page.direction = found.get("dir", "")
        elif "bubble" in classes:
            self.who = classes[1]
        elif tag == "input" and found.get("type") == "hidden":
            if found["name"] == "transcript":
                self.page.carried.append(found["value"])
            elif found["name"] == "csrf_token":
                self.page.csrf = found["value"]
        elif tag == "p" and classes and classes[0] in {"text", "size", "error"}:
            self.into = classes[0]

    def handle_data(self, data: str) -> None:
        if self.into == "text":
            self.page.bubbles.append((self.who, data))
        elif self.into == "size":
            self.page.sizes.append(data)
        elif self.into == "error":
            self.page.error = data
        self.into = ""


def read(html: str) -> Page:
    """The page's parts a test checks."""
    page = Page(html)
    _Reader(page).feed(html)
    return page


def open_phone(client: FlaskClient) -> Page:
    """GET the simulator."""
    response = client.get("/dev/sms")
    assert response.status_code == 200
    return read(response.get_data(as_text=True))


def send(
    client: FlaskClient, body: str, *, carried: list[str] | None = None, **fields: str
) -> tuple[int, Page]:
    """Open the phone, then submit a message as the form would."""
    token = open_phone(client).csrf
    data: dict[str, str | list[str]] = {
        "csrf_token": token,
        "sender": simulator.DEFAULT_SENDER,
        "body": body,
        "transcript": carried or [],
        **fields,
    }
    response = client.post("/dev/sms", data=data)
    return response.status_code, read(response.get_data(as_text=True))


def stored(app: Flask) -> tuple[int, int]:
    """How many subscribers and inbound receipts the database holds."""
    with db.get_database(app).session() as session:
        people = session.scalar(select(func.count()).select_from(Subscriber))
        receipts = session.scalar(select(func.count()).select_from(InboundReceipt))
    return int(people or 0), int(receipts or 0)


@pytest.mark.parametrize(("locale", "direction"), [("en", "ltr"), ("ar", "rtl"), ("my", "ltr")])
def test_the_phone_renders_in_each_language_with_its_direction(
    phone: FlaskClient, locale: str, direction: str
) -> None:
    phone.set_cookie(i18n_web.LANGUAGE_COOKIE, locale)
    page = open_phone(phone)
    assert f'<html lang="{locale}" dir="{direction}">' in page.html
    assert page.csrf
    assert f'<option value="{simulator.DEFAULT_SENDER}" selected>' in page.html
    assert '<bdi dir="ltr">+15550100</bdi>' in page.html
    assert "<script" not in page.html


def test_the_page_says_it_is_a_development_simulator(phone: FlaskClient) -> None:
    html = open_phone(phone).html
    assert "Development only" in html
    assert "It does not exist in production." in html


def test_hi_is_answered_with_the_menu_and_its_labelled_size(
    phone_app: Flask, phone: FlaskClient
) -> None:
    status, page = send(phone, "hi")
    assert status == 200
    assert page.bubbles[0] == ("person", "hi")
    who, reply = page.bubbles[1]
    assert who == "refuge"
    assert MENU_LINE in reply
    assert page.sizes == ["Reply size: 1 SMS, GSM-7"]
    assert '<bdi dir="ltr">+447700900123</bdi>' in page.html
    assert stored(phone_app) == (1, 1)  # the webhook's own writes, through its real code


def test_an_arabic_page_stays_right_to_left_after_the_webhook_answers(phone: FlaskClient) -> None:
    phone.set_cookie(i18n_web.LANGUAGE_COOKIE, "ar")
    status, page = send(phone, "hi")
    assert status == 200
    assert page.direction == "rtl"
    assert MENU_LINE in page.bubbles[1][1]


def test_a_whatsapp_sender_is_answered_too(phone: FlaskClient) -> None:
    status, page = send(phone, "hi", sender="whatsapp:" + simulator.WHATSAPP_NUMBER)
    assert status == 200
    assert MENU_LINE in page.bubbles[1][1]
    assert '<bdi dir="ltr">whatsapp:+447700900789</bdi>' in page.html


@pytest.mark.parametrize(
    "number",
    ["12345", "447700900123", "+1", "not a number", "whatsapp:447700900123", "+" + "9" * 70],
)
def test_a_bad_number_is_explained_and_nothing_is_written(
    phone_app: Flask, phone: FlaskClient, number: str
) -> None:
    status, page = send(phone, "hi", other_sender=number)
    assert status == 422
    assert "start with + and the country code" in page.error
    assert 'id="other_sender" name="other_sender"' in page.html
    assert 'aria-invalid="true"' in page.html
    assert page.bubbles == []
    assert stored(phone_app) == (0, 0)


def test_a_tampered_sender_choice_is_checked_like_a_typed_one(
    phone_app: Flask, phone: FlaskClient
) -> None:
    status, page = send(phone, "hi", sender="Refuge")
    assert status == 422
    assert page.error
    assert stored(phone_app) == (0, 0)


@pytest.mark.parametrize(
    ("body", "problem"),
    [("", "Type a message"), ("  \r\n ", "Type a message"), ("x" * 1601, "at most 1600")],
)
def test_an_empty_or_overlong_message_is_explained_and_nothing_is_written(
    phone_app: Flask, phone: FlaskClient, body: str, problem: str
) -> None:
    status, page = send(phone, body)
    assert status == 422
    assert problem in page.error
    assert stored(phone_app) == (0, 0)


def test_a_message_of_exactly_1600_characters_is_sent(phone: FlaskClient) -> None:
    status, page = send(phone, "a" * 1600)
    assert status == 200
    assert page.bubbles[0] == ("person", "a" * 1600)


def test_the_conversation_round_trips_through_hidden_fields(phone: FlaskClient) -> None:
    tricky = "<b>\"quoted\" & 'single'</b> \u0645\u0631\u062d\u0628\u0627"
    _, first = send(phone, "hi")
    _, second = send(phone, tricky, carried=first.carried)
    assert [who for who, _ in second.bubbles][:3] == ["person", "refuge", "person"]
    assert second.bubbles[:2] == first.bubbles
    assert second.bubbles[2] == ("person", tricky)
    assert "<b>" not in second.html  # carried and shown escaped, never as markup
    assert json.loads(second.carried[2])["text"] == tricky
    _, third = send(phone, "1", carried=second.carried)
    assert third.bubbles[: len(second.bubbles)] == second.bubbles


def test_the_conversation_keeps_only_the_last_twenty_bubbles(phone: FlaskClient) -> None:
    old = [simulator.Bubble("person", f"message {n}", "+447700900123").carried() for n in range(30)]
    status, page = send(phone, "hi", carried=old)
    assert status == 200
    assert len(page.bubbles) == len(page.carried) == simulator.MAX_BUBBLES
    assert page.bubbles[-2] == ("person", "hi")
    assert ("person", "message 10") not in page.bubbles


def test_malformed_carried_bubbles_are_dropped_not_fatal(phone: FlaskClient) -> None:
    carried = ["not json", "[1, 2]", '{"who": "admin", "text": "x"}', '{"who": "refuge"}']
    status, page = send(phone, "hi", carried=carried)
    assert status == 200
    assert [who for who, _ in page.bubbles] == ["person", "refuge"]


def test_a_post_without_the_csrf_token_is_refused(phone_app: Flask, phone: FlaskClient) -> None:
    open_phone(phone)
    response = phone.post("/dev/sms", data={"sender": simulator.DEFAULT_SENDER, "body": "hi"})
    assert response.status_code == 400
    assert stored(phone_app) == (0, 0)


def test_the_webhook_checks_the_simulators_signature_like_any_other(
    phone_app: Flask, phone: FlaskClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(simulator, "SIGNATURE_HEADER", "X-Not-The-Signature")
    status, page = send(phone, "hi")
    assert status == 502
    assert "HTTP status 403" in page.error
    assert stored(phone_app) == (0, 0)


def _assert_absent(app: Flask) -> None:
    simulator.init_app(app)
    assert "simulator" not in app.blueprints
    client = app.test_client()
    assert client.get("/dev/sms").status_code == 404
    assert client.post("/dev/sms", data={"body": "hi"}).status_code == 404


def test_the_simulator_does_not_exist_in_production(make_settings: Callable[..., Settings]) -> None:
    _assert_absent(create_app(make_settings(**PRODUCTION)))


def test_the_simulator_does_not_exist_with_the_twilio_backend_in_development(
    make_settings: Callable[..., Settings],
) -> None:
    settings = make_settings(
        REFUGE_SMS_BACKEND="twilio",
        REFUGE_TWILIO_ACCOUNT_SID="AC" + "1" * 32,
        REFUGE_TWILIO_FROM="+15550100",
    )
    assert not settings.production
    _assert_absent(create_app(settings))


def test_a_blueprint_registered_by_mistake_still_answers_404(
    make_settings: Callable[..., Settings],
) -> None:
    app = create_app(make_settings(**PRODUCTION))
    app.register_blueprint(simulator.blueprint)
    assert app.test_client().get("/dev/sms").status_code == 404


def test_every_visible_string_goes_through_gettext(
    phone_app: Flask, phone: FlaskClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    phone_app.jinja_env.install_gettext_callables(  # type: ignore[attr-defined]
        gettext=pseudo_text,
        ngettext=lambda singular, plural, n: pseudo_text(singular if n == 1 else plural),
        newstyle=True,
    )
    monkeypatch.setattr(simulator, "_", lambda text, **values: pseudo_text(text) % values)
    phone_app.extensions[CHANNEL_EXTENSION] = ConsoleChannel()
    phone_app.extensions[CHANNEL_EXTENSION].send(Outbound("+447700900456", "Your check-in is due"))
    _, answered = send(phone, "hi")
    _, refused = send(phone, "hi", other_sender="12")
    dynamic = {text for _, text in answered.bubbles} | {"Your check-in is due"}
    for page in (open_phone(phone), answered, refused):
        left = [text for text in untranslated(page.html) if text not in dynamic]
        assert [text for text in left if not re.fullmatch(r"(whatsapp:)?\+[\d ]+", text)] == []


def test_the_console_channels_messages_are_shown(phone_app: Flask, phone: FlaskClient) -> None:
    channel = ConsoleChannel()
    phone_app.extensions[CHANNEL_EXTENSION] = channel
    channel.send(Outbound("+447700900456", "Alice has not checked in"))
    html = open_phone(phone).html
    assert "Alice has not checked in" in html
    assert '<bdi dir="ltr">+447700900456</bdi>' in html
    assert "Size: 1 SMS, GSM-7" in html


def test_console_channel_records_sends_and_logs_neither_number_nor_body(
    caplog: pytest.LogCaptureFixture,
) -> None:
    channel = ConsoleChannel()
    with caplog.at_level(logging.DEBUG, logger="server.delivery.channels"):
        first = channel.send(
            Outbound("+447700900123", "Meet at the clinic", status_callback="https://x/s")
        )
        second = channel.send(
            Outbound("whatsapp:+447700900456", "\u0645\u0631\u062d\u0628\u0627" * 40)
        )
    assert re.fullmatch("SM[0-9a-f]{32}", first.provider_id)
    assert first.provider_id != second.provider_id
    assert first.status == second.status == "sent"
    sent = channel.messages()
    assert [(m.to, m.status_callback) for m in sent] == [
        ("+447700900123", "https://x/s"),
        ("whatsapp:+447700900456", None),
    ]
    assert sent[0].body == "Meet at the clinic"
    assert (sent[1].measure.encoding, sent[1].measure.segments) == ("UCS-2", 3)
    log = caplog.text
    assert "console SMS to +**********23: 1 segments" in log
    assert "console SMS to whatsapp:+**********56: 3 segments" in log
    for secret in ("7700900123", "7700900456", "clinic", "\u0645\u0631"):
        assert secret not in log
    assert "7700900123" not in repr(sent[0])
    assert "clinic" not in repr(sent[0])


def test_console_channel_forgets_the_oldest_beyond_its_capacity() -> None:
    channel = ConsoleChannel(capacity=3)
    for n in range(5):
        channel.send(Outbound("+447700900123", f"message {n}"))
    assert [m.body for m in channel.messages()] == ["message 2", "message 3", "message 4"]
    channel.clear()
    assert channel.messages() == ()


@pytest.mark.parametrize(
    ("address", "masked"),
    [
        ("+447700900123", "+**********23"),
        ("+44 7700 900123", "+**********23"),
        ("whatsapp:+15550100", "whatsapp:+******00"),
        ("12", "12"),
    ],
)
def test_a_masked_number_shows_only_its_last_two_digits(address: str, masked: str) -> None:
    assert mask_number(address) == masked


@pytest.fixture
def browser_base(phone_app: Flask) -> Iterator[str]:
    """The app with the simulator, served on a loopback port."""
    with live_server(phone_app) as base:
        yield base


@pytest.mark.browser
@pytest.mark.parametrize(("locale", "shot"), [("en", "simulator.png"), ("ar", "simulator-ar.png")])
def test_a_newcomer_texts_hi_and_sees_the_reply_in_chromium(
    browser_base: str, locale: str, shot: str
) -> None:
    executable = require_chromium()
    ARTIFACTS.mkdir(exist_ok=True)
    console: list[str] = []
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=executable, args=CHROMIUM_FLAGS)
        context = browser.new_context(
            viewport={"width": 360, "height": 740}, extra_http_headers={"Accept-Language": locale}
        )
        page = context.new_page()
        page.on("console", lambda message: console.append(message.text))
        page.goto(f"{browser_base}/dev/sms")
        assert page.locator("html").get_attribute("dir") == ("rtl" if locale == "ar" else "ltr")
        page.fill("#body", "hi")
        page.click("button[type=submit]")
        reply = page.locator(".bubble.refuge .text")
        reply.wait_for()
        assert MENU_LINE in (reply.text_content() or "")
        assert page.locator(".bubble.refuge .size").text_content() == "Reply size: 1 SMS, GSM-7"
        mine = page.locator(".bubble.person").bounding_box()
        theirs = page.locator(".bubble.refuge").bounding_box()
        assert mine is not None
        assert theirs is not None
        # The person's bubble sits at the inline end: right in English, left in Arabic.
        if locale == "ar":
            assert mine["x"] < theirs["x"]
        else:
            assert mine["x"] + mine["width"] > theirs["x"] + theirs["width"]
        page.locator("#latest").scroll_into_view_if_needed()
        page.screenshot(path=str(ARTIFACTS / shot))
        browser.close()
    assert not [line for line in console if "Content Security Policy" in line]
