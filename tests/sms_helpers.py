"""Helpers for the SMS tests: signed Twilio requests, TwiML, demo content and a conversation corpus.

Everything here talks to the app the way Twilio does: form-encoded POSTs to /sms/twilio signed
with the real SDK's `RequestValidator`, answered with TwiML whose <Message> texts are what a
person's phone shows. Phone numbers come only from the fiction ranges (+44 7700 900xxx,
+1 202 555 01xx); the shipped demo content uses +44 7700 9001xx and +1 202 555 0100-0121, so
the handsets here use +44 7700 9005xx-9009xx and +1 202 555 0150-0199.

`corpus_replies(app)` runs a corpus of conversations covering every command and flow through
the webhook, per locale, and returns the replies; tests check their segment budgets and a
benchmark can reuse it.
"""

from __future__ import annotations

import functools
import re
import tempfile
import uuid
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

from defusedxml.ElementTree import fromstring
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import Integer, func, make_url, select, text, update
from sqlalchemy.orm import Session
from twilio.request_validator import RequestValidator

import server.models  # noqa: F401 (registers every table in the metadata)
from server import db, people, segments
from server.config import DEFAULT_LOCALES, Settings
from server.content import loader
from server.content.labels import CATEGORY_NAMES
from server.conversation.engine import MAX_PAGES
from server.conversation.state import State
from server.conversation.vocabulary import CONTEXT
from server.i18n.locales import catalogue
from server.models.checklists import Checklist
from server.models.content import Category, Region
from server.models.people import Subscriber
from server.models.versions import ContentVersion, new_token
from server.phones import normalize_phone
from server.resources import shipped

CONTENT = shipped("demo")
WEBHOOK = "/sms/twilio"
STATUS = "/sms/twilio/status"
SIGNATURE_HEADER = "X-Twilio-Signature"

#: Locales the corpus runs in by default: English and two scripts that force UCS-2.
CORPUS_LOCALES = ("en", "ar", "my")
ALL_LOCALES = DEFAULT_LOCALES

#: Segments a reply may take in each encoding when no budget is configured.
BUDGETS = {"GSM-7": 2, "UCS-2": 3}

NATIVE_DIGITS = {"ar": "٠١٢٣٤٥٦٧٨٩", "my": "၀၁၂၃၄၅၆၇၈၉", "bn": "০১২৩৪৫৬৭৮৯"}
#: Menu numbers of the demo content (countries in menu order; categories in label order).
EVERYTHING = len(CATEGORY_NAMES) + 1
MEDICAL = list(CATEGORY_NAMES).index(Category.MEDICAL) + 1
SHELTER = list(CATEGORY_NAMES).index(Category.SHELTER) + 1
#: A phone number of the fiction ranges, as a reply would show it.
FICTION_PHONE = re.compile(r"\+(?:44 7700 900\d{3}|1 202 555 01\d{2})")


# --- Numbers ----------------------------------------------------------------------------------


def handset_number(index: int) -> str:
    """The index-th test handset: +44 7700 900500 to +44 7700 900999 (0 <= index < 500)."""
    if not 0 <= index < 500:
        raise ValueError("only 500 handset numbers are kept clear of the demo content")
    return f"+44 7700 900{500 + index:03d}"


def us_handset_number(index: int) -> str:
    """A US fiction number, +1 202 555 0150 to +1 202 555 0199 (0 <= index < 50)."""
    if not 0 <= index < 50:
        raise ValueError("only 50 US handset numbers are kept clear of the demo content")
    return f"+1 202 555 01{50 + index:02d}"


def number_forms(raw: str) -> list[str]:
    """Every way a number might be written down: E.164, without +, national, digits only."""
    e164 = normalize_phone(raw).e164
    forms = {e164, e164.lstrip("+")}
    if e164.startswith("+44"):
        rest = e164[3:]
        forms |= {"0" + rest, rest, f"0{rest[:4]} {rest[4:]}"}
    if e164.startswith("+1"):
        rest = e164[2:]
        forms |= {
            rest,
            f"({rest[:3]}) {rest[3:6]}-{rest[6:]}",
            f"{rest[:3]}-{rest[3:6]}-{rest[6:]}",
        }
    return sorted(forms)


# --- Requests ---------------------------------------------------------------------------------


def settings_of(app: Flask) -> Settings:
    """The app's settings."""
    found: Settings = app.extensions["refuge.settings"]
    return found


def auth_token(app: Flask) -> str:
    """The token Twilio signs webhooks with, as the app is configured."""
    token = settings_of(app).twilio_auth_token
    assert token, "the test settings always carry REFUGE_TWILIO_AUTH_TOKEN"
    return token


def public_url(app: Flask, path: str = WEBHOOK) -> str:
    """The URL Twilio would sign for a path of this app."""
    return settings_of(app).public_url + path


def sign(token: str, url: str, params: Mapping[str, str]) -> str:
    """Twilio's signature of a form POST to `url`, computed by the real SDK."""
    return str(RequestValidator(token).compute_signature(url, dict(params)))


def new_sid() -> str:
    """A fresh Twilio-shaped message id."""
    return "SM" + uuid.uuid4().hex


def twiml_messages(document: str) -> list[str]:
    """The texts of the <Message> elements of a TwiML document, unescaped."""
    root = fromstring(document)
    assert root.tag == "Response", document
    return ["".join(message.itertext()) for message in root.iter("Message")]


@dataclass(frozen=True)
class Reply:
    """What the webhook answered."""

    status: int
    body: str
    content_type: str

    @property
    def messages(self) -> list[str]:
        """The message texts (none for an empty <Response/> or a refusal)."""
        return twiml_messages(self.body) if self.status == 200 else []

    @property
    def text(self) -> str:
        """The one message sent, or fails when there is not exactly one."""
        found = self.messages
        assert len(found) == 1, f"expected one message, got {found!r}"
        return found[0]


def post(
    client: FlaskClient,
    app: Flask,
    params: Mapping[str, str],
    *,
    path: str = WEBHOOK,
    signature: str | None = None,
    signed: bool = True,
) -> Reply:
    """POST form params to a webhook, signed for this app unless told otherwise."""
    headers = {}
    if signed:
        headers[SIGNATURE_HEADER] = (
            signature
            if signature is not None
            else sign(auth_token(app), public_url(app, path), params)
        )
    response = client.post(path, data=dict(params), headers=headers)
    return Reply(response.status_code, response.get_data(as_text=True), response.content_type or "")


class Handset:
    """One phone texting Refuge through the webhook, as Twilio delivers its messages."""

    def __init__(self, app: Flask, number: str, client: FlaskClient | None = None) -> None:
        self.app = app
        self.number = number
        self.client = client or app.test_client()

    def params(self, body: str, sid: str | None = None, **extra: str) -> dict[str, str]:
        """The form Twilio posts for one inbound message."""
        return {
            "MessageSid": sid or new_sid(),
            "AccountSid": "AC" + "0" * 32,
            "From": self.number,
            "To": "+447700900999",
            "Body": body,
            "NumMedia": "0",
            **extra,
        }

    def send(self, body: str, *, sid: str | None = None, **extra: str) -> Reply:
        """Text `body`; returns what Refuge answered."""
        return post(self.client, self.app, self.params(body, sid, **extra))

    def ask(self, body: str, **extra: str) -> str:
        """Text `body` and return the one reply."""
        reply = self.send(body, **extra)
        assert reply.status == 200, reply
        return reply.text

    def silent(self, body: str, **extra: str) -> bool:
        """True when Refuge answers `body` with an empty TwiML response."""
        reply = self.send(body, **extra)
        assert reply.status == 200, reply
        return reply.messages == []


# --- Words people text ------------------------------------------------------------------------


def keyword(locale: str, command: str) -> str:
    """The first spelling of a command's keyword in a locale, from the compiled catalogue."""
    return str(catalogue(locale).pgettext(CONTEXT, command)).split("|")[0]


def digits(value: int, locale: str) -> str:
    """A number written in the digits people of this locale text with."""
    native = NATIVE_DIGITS.get(locale)
    written = str(value)
    return written.translate(str.maketrans("0123456789", native)) if native else written


def localise(message: str, locale: str) -> str:
    """A corpus message for a locale: <KEYWORD> becomes its keyword, <3> native digits."""

    def substitute(match: re.Match[str]) -> str:
        token = match[1]
        return digits(int(token), locale) if token.isdigit() else keyword(locale, token)

    return re.sub(r"<([A-Z]+|\d+)>", substitute, message)


# --- Database ---------------------------------------------------------------------------------


def database_of(app: Flask) -> db.Database:
    """The app's database."""
    return db.get_database(app)


def count_rows(app: Flask, model: type[db.Base]) -> int:
    """How many rows a table holds."""
    with database_of(app).session() as session:
        return int(session.scalar(select(func.count()).select_from(model)) or 0)


@contextmanager
def subscriber_of(app: Flask, number: str) -> Iterator[Subscriber | None]:
    """The subscriber with this number (None when there is none), in a committed session."""
    with database_of(app).session() as session:
        yield people.find_subscriber(session, normalize_phone(number))


def subscriber_facts(app: Flask, number: str) -> dict[str, Any] | None:
    """What the database says about a number's subscriber: locale, region, opt-out, state."""
    with subscriber_of(app, number) as found:
        if found is None:
            return None
        return {
            "locale": found.locale,
            "region": found.region_slug,
            "opted_out": found.opted_out,
            "state": State.from_stored(people.load_state(found)),
        }


@functools.cache
def _demo_rows() -> dict[str, list[dict[str, Any]]]:
    """Every row the real loader writes for the shipped demo content (loaded once a process)."""
    with tempfile.TemporaryDirectory() as folder:
        database = db.Database(make_url(f"sqlite:///{Path(folder) / 'demo.sqlite3'}"))
        try:
            db.Base.metadata.create_all(database.engine)
            with database.session() as session:
                loader.load(session, CONTENT)
            with database.engine.connect() as connection:
                return {
                    table.name: [dict(row._mapping) for row in connection.execute(select(table))]
                    for table in db.Base.metadata.sorted_tables
                }
        finally:
            database.dispose()


def _has_demo_content(session: Session) -> bool:
    return bool(session.scalar(select(func.count()).select_from(Region)))


def load_demo_content(app: Flask) -> None:
    """Put the shipped demo content in the app's (empty) database, unless it is there already.

    The rows are those `server.content.loader.load` wrote for content/ into a scratch SQLite
    database once per process; copying them is much faster than loading again for every test.
    """
    database = database_of(app)
    with database.session() as session:
        if _has_demo_content(session):
            return
    rows = _demo_rows()
    with database.engine.begin() as connection:
        for table in db.Base.metadata.sorted_tables:
            if rows.get(table.name) and table.name != ContentVersion.__tablename__:
                connection.execute(table.insert(), rows[table.name])
        # Written around the ORM, so the content version is replaced here (caches must see it).
        connection.execute(update(ContentVersion).values(token=new_token()))
        if connection.dialect.name == "postgresql":
            # Explicit ids leave the sequences behind; move them past the copied rows.
            for table in db.Base.metadata.sorted_tables:
                keys = list(table.primary_key.columns)
                if rows.get(table.name) and len(keys) == 1 and isinstance(keys[0].type, Integer):
                    connection.execute(
                        text(
                            f"SELECT setval(pg_get_serial_sequence('{table.name}', "
                            f"'{keys[0].name}'), (SELECT max({keys[0].name}) FROM {table.name}))"
                        )
                    )


# --- The corpus -------------------------------------------------------------------------------

MORE = "<MORE>"
#: MORE again and again while the last answer has pages left (none when it had none).
EVERY_PAGE = "<MORE>..."
#: The number of the conversation's own language in the LANG list.
OWN_LANGUAGE = "<OWN>"

#: Conversations in a locale-neutral form: <KEYWORD> is the locale's keyword, <n> its digits,
#: anything else is sent as written. Each one starts on a fresh handset already in the locale;
#: together they cover every command and flow.
CONVERSATIONS: dict[str, list[str]] = {
    "greeting_and_help": ["hi", "<HELP>", "<MENU>", "0", "where is the food?", MORE, "<OK>"],
    "stray_answers": ["<NO>", "<YES>", "<NEXT>", "<BACK>", "99", "<0>", ""],
    "checkin": ["<4>", "<CHECKIN>", "0"],
    "checkin_set_up_and_use": [
        "<CHECKIN>", "<4821>", "<482193>", "<NO>", "<12>", "<30>", "Amina",
        "<ADD> +12025550190 Sara", "<DONE>", "<YES>", "<CHECKIN> <STATUS>",
        "<CHECKIN> <STATUS> <482193>", "<CHECKIN>", "<OK> <482193>", "<OK> <1111>", "<PAUSE>",
        "<PAUSE> <482193>", "<RESUME>", "<RESUME> <482193>", "<NOTE>",
        "<NOTE> the soldiers took my papers",
        "<REMOVE> Sara", "<REMOVE> Nobody <482193>", "<REMOVE> sara <482193>",
        "<WEB>", "<WEB> <1111>", "<WEB> <482193>", "<WEB> <NO>", "<DELETE> <YES>",
        "<DELETE> <1111>", "<MENU>", "<STOP> <CHECKIN> <482193>", "<STATUS>",
    ],
    "find_kutupalong_everything": ["<FIND>", "<1>", "<1>", "<1>", f"<{EVERYTHING}>", EVERY_PAGE],
    "find_camp_12_by_category": [
        "<1>", "<1>", "<1>", "<2>", f"<{MEDICAL}>", "0", "<1>", f"<{SHELTER}>", "<FIND>", "<0>",
    ],
    "find_all_of_bangladesh": ["<1>", "<1>", "<2>", f"<{EVERYTHING}>", EVERY_PAGE],
    "find_kharkiv": ["<1>", "<2>", "<1>", "<1>", f"<{EVERYTHING}>", EVERY_PAGE],
    "find_all_of_ukraine": ["<1>", "<2>", "<2>", f"<{EVERYTHING}>", EVERY_PAGE],
    "find_gedaref_site": ["<1>", "<3>", "<1>", "<1>", f"<{EVERYTHING}>", EVERY_PAGE],
    "find_all_of_sudan": ["<1>", "<3>", "<2>", f"<{EVERYTHING}>", EVERY_PAGE],
    "news_cox_s_bazar": ["<NEWS>", "<1>", "<1>", "<3>", EVERY_PAGE],
    "news_kharkiv": ["<2>", "<2>", "<1>", "<1>", EVERY_PAGE],
    "news_gedaref": ["<2>", "<3>", "<1>", "<1>", EVERY_PAGE],
    "news_bangladesh_twice": ["<2>", "<1>", "<2>", "<NEWS>", MORE],
    "secure_back_and_resume": [
        "<SECURE>", "<1>", "<NEXT>", "<NEXT>", "<BACK>", "0", "<3>", "<1>", "<NEXT>", "<3>", "<9>",
    ],
    "check_rumours": [
        "<CHECK>",
        "they put poison in the water",
        "<CHECK> the aid water is poisoned",
        "<CHECK> if you register for the new card they will send you back to Myanmar",
        "<CHECK> the registration lists are given to the armed groups",
        "<CHECK> ناس حيهجموا السوق يوم الخميس",
        "<CHECK> переселенцям дають усе, а місцевим нічого",  # noqa: RUF001
        "<CHECK> the evacuation buses are a trap",
        "<CHECK> ကတ်အသစ် မှတ်ပုံတင်ရင် မြန်မာပြည်ကို ပြန်ပို့လိမ့်မယ်",
        "<CHECK> the moon is made of green cheese",
        EVERY_PAGE,
    ],
    "check_in_a_region": ["<1>", "<1>", "<1>", "<1>", "0", "<CHECK> they put poison in the water"],
    "language": ["<LANG>", OWN_LANGUAGE, "<LANG>"],
    "stop_and_start": ["<1>", "<STOP>", "<1>", "<STOP>", "<HELP>", "<START>", "<2>"],
    "delete_cancelled_then_confirmed": ["<DELETE>", "<MENU>", "<DELETE>", "<YES>"],
    "delete_in_one_message": ["<1>", "<DELETE> <YES>"],
}  # fmt: skip


def _checklist_walks(app: Flask, locale: str) -> dict[str, list[str]]:
    """Open checklists and walk every step to the end: all of them in English, the first elsewhere.

    The content rules already hold every step's SMS text (and each translation) to one
    segment; walking one guide per language checks it with the step counter and moves added.
    """
    with database_of(app).session() as session:
        guides = session.scalars(
            select(Checklist)
            .where(Checklist.retired.is_(False))
            .order_by(Checklist.position, Checklist.id)
        ).all()
        steps = [len(guide.steps) for guide in guides]
    walked = steps if locale == "en" else steps[:1]
    return {
        f"secure_checklist_{n}": ["<3>", f"<{n}>"] + ["<NEXT>"] * count
        for n, count in enumerate(walked, start=1)
    }


def corpus(app: Flask, locale: str = "en") -> dict[str, list[str]]:
    """Every conversation of the corpus in a locale, checklist walks included."""
    return {**CONVERSATIONS, **_checklist_walks(app, locale)}


@dataclass(frozen=True)
class Exchange:
    """One message of the corpus and what Refuge answered."""

    locale: str
    conversation: str
    sent: str
    replies: tuple[str, ...]


def _language_position(app: Flask, locale: str) -> int:
    return list(settings_of(app).localization.locales).index(locale) + 1


def _register(app: Flask, numbers: Sequence[str], locale: str) -> None:
    with database_of(app).session() as session:
        for number in numbers:
            phone = normalize_phone(number)
            if people.find_subscriber(session, phone) is None:
                people.register_subscriber(session, phone, locale=locale, today=date.today())


def _erase(app: Flask, numbers: Sequence[str]) -> None:
    with database_of(app).session() as session:
        for number in numbers:
            found = people.find_subscriber(session, normalize_phone(number))
            if found is not None:
                people.delete_subscriber(session, found)


def _pages_left(app: Flask, number: str) -> bool:
    facts = subscriber_facts(app, number)
    return bool(facts and not facts["opted_out"] and facts["state"].more)


def run_corpus(app: Flask, locales: Sequence[str] = CORPUS_LOCALES) -> list[Exchange]:
    """Run every corpus conversation in every locale through the webhook; the exchanges in order.

    Each conversation gets a fresh fiction handset, registered in the locale beforehand, and
    the handsets are erased afterwards, so the corpus can run again on the same database.
    Loads the demo content when it is missing.
    """
    load_demo_content(app)
    client = app.test_client()
    exchanges: list[Exchange] = []
    for locale_index, locale in enumerate(locales):
        conversations = corpus(app, locale)
        assert len(conversations) <= 60, "each locale has 60 handset numbers"
        numbers = [handset_number(locale_index * 60 + n) for n in range(len(conversations))]
        _register(app, numbers, locale)
        try:
            for number, (name, messages) in zip(numbers, conversations.items(), strict=True):
                handset = Handset(app, number, client)
                for message in messages:
                    if message == EVERY_PAGE:
                        more = keyword(locale, "MORE")
                        for _ in range(MAX_PAGES):
                            if not _pages_left(app, number):
                                break
                            exchanges.append(_exchange(handset, locale, name, more))
                        continue
                    if message == OWN_LANGUAGE:
                        message = f"<{_language_position(app, locale)}>"
                    exchanges.append(_exchange(handset, locale, name, localise(message, locale)))
        finally:
            _erase(app, numbers)
    return exchanges


def _exchange(handset: Handset, locale: str, conversation: str, sent: str) -> Exchange:
    reply = handset.send(sent)
    assert reply.status == 200, (locale, conversation, sent, reply)
    return Exchange(locale, conversation, sent, tuple(reply.messages))


def corpus_replies(app: Flask, locales: Sequence[str] = CORPUS_LOCALES) -> dict[str, list[str]]:
    """Every reply the corpus gets in each locale, in order (for budget checks and benchmarks)."""
    replies: dict[str, list[str]] = {locale: [] for locale in locales}
    for exchange in run_corpus(app, locales):
        replies[exchange.locale].extend(exchange.replies)
    return replies


def over_budget(reply: str) -> bool:
    """True when a reply costs more segments than its encoding's default budget."""
    measured = segments.measure(reply)
    return measured.segments > BUDGETS[measured.encoding]
