"""POST /sms/twilio end to end: signatures, receipts, opt-out, every command, limits, seizure.

Requests are signed with the real Twilio SDK against the configured public URL, exactly as
Twilio signs them; the demo content is in the database before every test that needs it.
"""

from __future__ import annotations

import logging
import re
import threading
from collections.abc import Callable, Iterator
from typing import Any
from urllib.parse import quote

import pytest
import requests
from flask import Flask
from sqlalchemy import select
from werkzeug.test import EnvironBuilder
from werkzeug.wrappers import Request

import server.conversation.turn
import server.conversation.webhook
from server import db, people, segments
from server.app import create_app
from server.config import DEFAULT_LOCALES, Settings
from server.conversation.state import Flow, State
from server.i18n.locales import catalogue
from server.models.messaging import InboundReceipt, Tally
from server.models.people import Subscriber
from server.phones import normalize_phone
from tests.browser import live_server
from tests.seizure import seize
from tests.sms_helpers import (
    EVERYTHING,
    FICTION_PHONE,
    MEDICAL,
    SIGNATURE_HEADER,
    STATUS,
    WEBHOOK,
    Handset,
    Reply,
    auth_token,
    count_rows,
    database_of,
    digits,
    handset_number,
    keyword,
    load_demo_content,
    new_sid,
    number_forms,
    over_budget,
    post,
    public_url,
    sign,
    subscriber_facts,
    subscriber_of,
    twiml_messages,
    us_handset_number,
)

MENU_EN = (
    "Refuge. Reply a number:\n1 Find help\n2 News\n3 Secure your phone\n4 Check-in\n"
    "5 Language\nOr CHECK and a message to check a rumour"
)
STOPPED_EN = "You will get no more messages from Refuge. Reply START to come back."
HELP_EN = (
    "Refuge gives verified help and news for your safety. Reply MENU for choices, "
    "STOP to end all messages, DELETE to erase what we keep about you."
)
CHECKIN_EN = (
    "Check-in set-up. Choose a PIN of 6 to 8 digits that only you know: shorter "
    "ones are easy to guess. Reply 0 at any step to cancel."
)
STEP = re.compile(r"\((\d+)/(\d+)\)")
WRITTEN = (Subscriber, InboundReceipt, Tally)
FORM = "application/x-www-form-urlencoded"


@pytest.fixture
def loaded(app: Flask) -> Flask:
    """The app with the shipped demo content in its database."""
    load_demo_content(app)
    return app


def rows(app: Flask) -> dict[str, int]:
    """How many people, receipts and tallies the database holds."""
    return {model.__tablename__: count_rows(app, model) for model in WRITTEN}


def tally(app: Flask, kind: str, subject: str | None = None) -> int:
    """The total of a kind of tally (optionally for one subject), over every day and region."""
    with database_of(app).session() as session:
        query = select(Tally).where(Tally.kind == kind)
        if subject is not None:
            query = query.where(Tally.subject == subject)
        return sum(found.count for found in session.scalars(query))


def expected(locale: str, *english: str) -> str:
    """What a reply made of these English messages says in a locale, prepared for SMS."""
    translated = "\n".join(str(catalogue(locale).gettext(message)) for message in english)
    return segments.prepare(translated, segments.AccentPolicy.TRANSLITERATE)


def _state(app: Flask, number: str) -> State:
    """The conversation state of a number's subscriber."""
    facts = subscriber_facts(app, number)
    assert facts is not None
    state: State = facts["state"]
    return state


def numbered(reply: str) -> list[int]:
    """The numbers that start the lines of a numbered menu (after its question)."""
    return [int(line.split(" ", 1)[0]) for line in reply.split("\n")[1:] if line[:1].isdigit()]


# --- Signatures -------------------------------------------------------------------------------


def test_a_signed_hi_gets_the_menu_as_twiml(loaded: Flask) -> None:
    reply = Handset(loaded, handset_number(0)).send("hi")
    assert reply.status == 200
    assert reply.content_type.startswith("application/xml")
    assert reply.messages == [MENU_EN]


def _refusals(app: Flask) -> dict[str, Callable[[], Reply]]:
    client = app.test_client()
    token = auth_token(app)
    url = public_url(app)
    params = Handset(app, handset_number(1)).params("hi")
    without_body = {k: v for k, v in params.items() if k != "Body"}

    def send(form: dict[str, str], signature: str | None) -> Reply:
        return post(client, app, form, signature=signature, signed=signature is not None)

    return {
        "forged": lambda: send(params, "bm90IGEgcmVhbCBzaWduYXR1cmU="),
        "signed with another token": lambda: send(params, sign("not-the-token", url, params)),
        "missing": lambda: send(params, None),
        "empty": lambda: send(params, ""),
        "for another URL": lambda: send(
            params, sign(token, "https://evil.example/sms/twilio", params)
        ),
        "for another path": lambda: send(params, sign(token, public_url(app, STATUS), params)),
        "without a posted param": lambda: send(params, sign(token, url, without_body)),
        "with a param added after signing": lambda: send(
            {**params, "OptOutType": "STOP"}, sign(token, url, params)
        ),
        "with a changed body": lambda: send({**params, "Body": "STOP"}, sign(token, url, params)),
    }


def test_requests_without_a_valid_signature_get_403_and_change_nothing(loaded: Flask) -> None:
    before = rows(loaded)
    for case, attempt in _refusals(loaded).items():
        reply = attempt()
        assert (reply.status, reply.body) == (403, ""), case
        assert rows(loaded) == before, case
    assert before == {"subscribers": 0, "inbound_receipts": 0, "tallies": 0}


def test_status_callbacks_need_a_signature_too(app: Flask) -> None:
    client = app.test_client()
    form = {"MessageSid": new_sid(), "MessageStatus": "delivered"}
    assert post(client, app, form, path=STATUS).status == 204
    refused = post(client, app, form, path=STATUS, signature="forged")
    assert (refused.status, refused.body) == (403, "")


@pytest.mark.parametrize("missing", ["MessageSid", "From"])
def test_a_signed_request_without_message_sid_or_from_is_a_400(app: Flask, missing: str) -> None:
    params = Handset(app, handset_number(2)).params("hi")
    del params[missing]
    reply = post(app.test_client(), app, params)
    assert reply.status == 400
    assert reply.content_type.startswith("text/plain")
    assert reply.body == "MessageSid and From are required"
    assert rows(app) == {"subscribers": 0, "inbound_receipts": 0, "tallies": 0}


# --- Receipts and replays ---------------------------------------------------------------------


def test_a_replayed_message_gets_the_same_twiml_and_acts_once(loaded: Flask) -> None:
    phone = Handset(loaded, handset_number(3))
    assert phone.ask("hi") == MENU_EN
    sid = new_sid()
    first = phone.send("1", sid=sid)
    again = phone.send("1", sid=sid)
    assert first.status == again.status == 200
    assert again.body == first.body
    assert first.text.startswith("Where are you?")
    # Had the replay advanced the flow, this "1" would answer the level below Bangladesh's.
    below = phone.ask("1")
    assert below.split("\n")[1] == "1 Cox's Bazar"

    rumour = new_sid()
    checked = phone.send("CHECK the aid water is poisoned", sid=rumour)
    assert phone.send("CHECK the aid water is poisoned", sid=rumour).body == checked.body
    assert tally(loaded, "context_check", "sample-cxb-water-poison-rumour") == 1
    assert count_rows(loaded, InboundReceipt) == 4


def test_a_concurrent_replay_is_answered_identically_and_recorded_once(loaded: Flask) -> None:
    phone = Handset(loaded, handset_number(4))
    params = phone.params("hi")
    headers = {SIGNATURE_HEADER: sign(auth_token(loaded), public_url(loaded), params)}
    senders = 6
    barrier = threading.Barrier(senders)
    answers: list[tuple[int, str]] = []
    failures: list[BaseException] = []

    with live_server(loaded) as base:

        def deliver() -> None:
            try:
                barrier.wait(timeout=10)
                response = requests.post(base + WEBHOOK, data=params, headers=headers, timeout=30)
                answers.append((response.status_code, response.text))
            except BaseException as exc:  # reported below, with the other threads' answers
                failures.append(exc)

        threads = [threading.Thread(target=deliver) for _ in range(senders)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=60)

    assert failures == []
    assert len(answers) == senders
    assert {status for status, _ in answers} == {200}
    assert len({body for _, body in answers}) == 1, answers
    assert twiml_messages(answers[0][1]) == [MENU_EN]
    assert count_rows(loaded, InboundReceipt) == 1
    assert count_rows(loaded, Subscriber) == 1


def test_simultaneous_first_messages_from_one_number_register_one_person(loaded: Flask) -> None:
    phone = Handset(loaded, handset_number(5))
    forms = [phone.params(text) for text in ("hi", "HELP", "MENU", "0")]
    token, url = auth_token(loaded), public_url(loaded)
    barrier = threading.Barrier(len(forms))
    answers: list[tuple[int, str]] = []
    failures: list[BaseException] = []

    with live_server(loaded) as base:

        def deliver(form: dict[str, str]) -> None:
            try:
                headers = {SIGNATURE_HEADER: sign(token, url, form)}
                barrier.wait(timeout=10)
                response = requests.post(base + WEBHOOK, data=form, headers=headers, timeout=30)
                answers.append((response.status_code, response.text))
            except BaseException as exc:  # reported below
                failures.append(exc)

        threads = [threading.Thread(target=deliver, args=(form,)) for form in forms]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=60)

    assert failures == []
    assert sorted(status for status, _ in answers) == [200] * len(forms)
    replies = sorted(message for _, body in answers for message in twiml_messages(body))
    assert replies == sorted([MENU_EN, MENU_EN, MENU_EN, HELP_EN])
    assert count_rows(loaded, Subscriber) == 1
    assert count_rows(loaded, InboundReceipt) == len(forms)


# --- Opting out -------------------------------------------------------------------------------


def _switch(phone: Handset, locale: str) -> None:
    """Get a handset talking in a locale: LANG <code> answers in it, with its menu."""
    if locale == "en":
        assert phone.ask("hi") == MENU_EN
    else:
        assert phone.ask(f"LANG {locale}") == expected(locale, "Language saved.", MENU_EN)
    facts = subscriber_facts(phone.app, phone.number)
    assert facts is not None
    assert facts["locale"] == locale


def _assert_opted_out_then_silent(phone: Handset, locale: str, stop_word: str) -> None:
    confirmation = phone.send(stop_word)
    assert confirmation.messages == [expected(locale, STOPPED_EN)], (locale, stop_word)
    facts = subscriber_facts(phone.app, phone.number)
    assert facts is not None
    assert facts["opted_out"] is True, (locale, stop_word)
    for text in ("1", "hi", keyword(locale, "NEXT"), keyword(locale, "MENU"), "STOP", stop_word):
        assert phone.silent(text), (locale, text)


def test_stop_wins_mid_checklist_and_mid_region_choice_in_every_locale(loaded: Flask) -> None:
    for index, locale in enumerate(DEFAULT_LOCALES):
        spellings = str(catalogue(locale).pgettext("sms keyword", "STOP")).split("|")

        checklist = Handset(loaded, handset_number(10 + index))
        _switch(checklist, locale)
        checklist.ask(digits(3, locale))
        checklist.ask(digits(1, locale))
        assert _state(loaded, checklist.number).flow is Flow.STEP, locale
        _assert_opted_out_then_silent(checklist, locale, spellings[0])
        assert checklist.ask(keyword(locale, "HELP")) == expected(locale, HELP_EN), locale
        welcome = checklist.ask(keyword(locale, "START"))
        assert welcome == expected(locale, "Welcome back.", MENU_EN), locale
        facts = subscriber_facts(loaded, checklist.number)
        assert facts is not None
        assert facts["opted_out"] is False
        assert facts["locale"] == locale

        region = Handset(loaded, handset_number(20 + index))
        _switch(region, locale)
        assert region.ask(digits(1, locale)).count("\n") >= 3, locale
        _assert_opted_out_then_silent(region, locale, spellings[-1])


def test_twilios_opt_out_type_alone_opts_out_and_back_in(loaded: Flask) -> None:
    phone = Handset(loaded, handset_number(30))
    phone.ask("hi")
    stopped = phone.send("ok bye", OptOutType="STOP")
    assert len(stopped.messages) == 1
    assert subscriber_facts(loaded, phone.number) == {
        "locale": "en",
        "region": None,
        "opted_out": True,
        "state": State(),
    }
    assert phone.silent("hi")
    back = phone.send("hello", OptOutType="START")
    assert back.text == "Welcome back.\n" + MENU_EN
    facts = subscriber_facts(loaded, phone.number)
    assert facts is not None
    assert facts["opted_out"] is False


# --- Every command, in three languages --------------------------------------------------------

PATHS: dict[str, dict[str, Any]] = {
    "en": {
        "regions": [1, 1, 2],  # Bangladesh > Cox's Bazar > Camp 12
        "leaf": "camp-12",
        "category": MEDICAL,
        "place_name": "Bangladesh",
        "rumour": "they put poison in the water",
        "note": "sample-cxb-water-poison-rumour",
        "unknown": "the moon is made of green cheese",
        "other_locale": "fr",
    },
    "ar": {
        "regions": [3, 1, 1],  # Sudan > Gedaref > the gathering site
        "leaf": "gedaref-town-gathering-site",
        "category": EVERYTHING,
        "place_name": "السودان",
        "rumour": "ناس حيهجموا السوق يوم الخميس",
        "note": "sample-gedaref-market-attack-rumour",
        "unknown": "القمر مصنوع من الجبن الأخضر",
        "other_locale": "en",
    },
    "my": {
        "regions": [1, 1, 1],  # Bangladesh > Cox's Bazar > Kutupalong
        "leaf": "kutupalong",
        "category": EVERYTHING,
        "place_name": "ဘင်္ဂလားဒေ့ရှ်",
        "rumour": "ကတ်အသစ် မှတ်ပုံတင်ရင် မြန်မာပြည်ကို ပြန်ပို့လိမ့်မယ်",
        "note": "sample-cxb-registration-rumour",
        "unknown": "လသည် ဒိန်ခဲဖြင့် ပြုလုပ်ထားသည်",
        "other_locale": "en",
    },
}


def _find(phone: Handset, locale: str, path: dict[str, Any]) -> None:
    """FIND by menu numbers: drill down to a leaf region, pick a category, see results."""
    say = phone.ask
    countries = say(digits(1, locale))
    assert numbered(countries) == [1, 2, 3]
    assert path["place_name"] in countries
    for choice in path["regions"][:-1]:
        below = say(digits(choice, locale))
        assert numbered(below)[0] == 1, below
        assert len(numbered(below)) >= 2, below  # the places below, and "All of" the place
    categories = say(digits(path["regions"][-1], locale))
    # A long menu (Burmese names) comes in pages: MORE shows the rest, still in the menu.
    while _state(phone.app, phone.number).more:
        categories += "\n" + say(keyword(locale, "MORE"))
    assert numbered(categories) == list(range(1, EVERYTHING + 1))
    facts = subscriber_facts(phone.app, phone.number)
    assert facts is not None
    assert facts["region"] == path["leaf"]
    results = say(digits(path["category"], locale))
    assert FICTION_PHONE.search(results), results
    # Who checked the resource comes with when: the line starts as the template does.
    checked = [
        expected(locale, template).split("%(")[0].strip()
        for template in (
            "Checked %(date)s by %(who)s",
            "Checked %(date)s by %(who)s, may be out of date",
        )
    ]
    assert any(line.startswith(before) for line in results.split("\n") for before in checked), (
        results
    )


def _news_and_more(phone: Handset, locale: str) -> None:
    """NEWS for the saved region; a long answer pages through MORE, then says there is no more."""
    phone.ask(digits(0, locale))
    first = phone.ask(digits(2, locale))
    pages = list(_state(phone.app, phone.number).more)
    assert pages, f"the demo news for the region should need MORE: {first!r}"
    assert first.endswith("\n" + expected(locale, "Reply MORE for more"))
    for page in pages:
        assert phone.ask(keyword(locale, "MORE")) == page
    assert numbered(phone.ask(keyword(locale, "MORE")))[:5] == [1, 2, 3, 4, 5]


def _position(reply: str) -> int:
    """The step a checklist reply shows, from its "(n/m)" line."""
    found = STEP.search(reply)
    assert found, f"a step should come as one message with its (n/m) position: {reply!r}"
    return int(found[1])


def _secure(phone: Handset, locale: str) -> None:
    """SECURE: open a guide, NEXT, BACK, go to the menu, and come back to the saved step."""
    guides = phone.ask(keyword(locale, "SECURE"))
    assert len(numbered(guides)) >= 2
    moves = [digits(1, locale), keyword(locale, "NEXT"), keyword(locale, "BACK")]
    positions = [_position(phone.ask(move)) for move in [*moves, keyword(locale, "NEXT")]]
    assert positions == [1, 2, 1, 2]
    assert numbered(phone.ask(keyword(locale, "MENU")))[:5] == [1, 2, 3, 4, 5]
    phone.ask(digits(3, locale))
    assert _position(phone.ask(digits(1, locale))) == 2


def _lang(phone: Handset, locale: str, other: str) -> None:
    """LANG lists every language in its own name; a number switches, LANG <code> switches back."""
    listing = phone.ask(keyword(locale, "LANG"))
    for name in ("English", "العربية", "français", "українська", "မြန်မာ", "বাংলা"):
        assert name in listing
    assert numbered(listing) == list(range(1, len(DEFAULT_LOCALES) + 1))
    phone.ask(digits(DEFAULT_LOCALES.index(other) + 1, locale))
    assert (subscriber_facts(phone.app, phone.number) or {})["locale"] == other
    phone.ask(f"{keyword(other, 'LANG')} {locale}")
    assert (subscriber_facts(phone.app, phone.number) or {})["locale"] == locale


def _check(phone: Handset, locale: str, path: dict[str, Any]) -> None:
    """CHECK answers a known rumour with its note, an unknown one with a warning; both counted."""
    check = keyword(locale, "CHECK")
    known = phone.ask(f"{check} {path['rumour']}")
    assert known.startswith(expected(locale, "What we know:") + " "), known
    unknown = phone.ask(f"{check} {path['unknown']}")
    assert unknown == expected(
        locale,
        "We could not confirm this. Please do not share it until a trusted source does. "
        "It has been noted, thank you.",
    )
    assert tally(phone.app, "context_check", path["note"]) == 1
    assert tally(phone.app, "context_check", "unverified") == 1
    assert phone.ask(check) == expected(locale, "Send CHECK and the message you want checked.")
    assert phone.ask(path["rumour"]) == known
    assert tally(phone.app, "context_check", path["note"]) == 2


def _receipts(app: Flask) -> list[tuple[Any, str, bytes | None]]:
    with database_of(app).session() as session:
        return [
            (receipt.subscriber_id, receipt.outcome, receipt.reply_ct)
            for receipt in session.scalars(select(InboundReceipt))
        ]


def _delete(phone: Handset, locale: str) -> None:
    """DELETE asks first; DELETE YES erases the person and a replay answers the same."""
    delete, yes = keyword(locale, "DELETE"), keyword(locale, "YES")
    assert phone.ask(delete) == expected(
        locale,
        "This erases everything Refuge keeps about you, check-ins and trusted contacts too. "
        "Reply DELETE YES to confirm, or MENU to keep it.",
    )
    with subscriber_of(phone.app, phone.number) as person:
        assert person is not None
        theirs = sum(1 for receipt in _receipts(phone.app) if receipt[0] == person.id)
    before = _receipts(phone.app)
    people_before = count_rows(phone.app, Subscriber)
    sid = new_sid()
    erased = phone.send(f"{delete} {yes}", sid=sid)
    assert erased.text == expected(locale, "Done. Nothing is kept.")
    assert subscriber_facts(phone.app, phone.number) is None
    assert count_rows(phone.app, Subscriber) == people_before - 1
    # Their receipts stay as bare digests (a replay stays refused); the erasure's names no one
    # and keeps no reply either.
    after = _receipts(phone.app)
    assert len(after) == len(before) + 1
    forgotten = (None, "forgotten", None)
    assert after.count(forgotten) == before.count(forgotten) + theirs
    assert after.count((None, "erased", None)) == before.count((None, "erased", None)) + 1
    replayed = phone.send(f"{delete} {yes}", sid=sid)
    assert replayed.body == erased.body
    assert count_rows(phone.app, Subscriber) == people_before - 1


@pytest.mark.parametrize("locale", ["en", "ar", "my"])
def test_every_command_works_end_to_end(loaded: Flask, locale: str) -> None:
    # Three handsets: one person gets 30 replies an hour, fewer than this walk needs.
    path = PATHS[locale]
    finder = Handset(loaded, handset_number(40))
    _switch(finder, locale)
    _find(finder, locale, path)
    _news_and_more(finder, locale)
    other = Handset(loaded, handset_number(41))
    _switch(other, locale)
    _lang(other, locale, path["other_locale"])
    _check(other, locale, path)
    assert other.ask(keyword(locale, "HELP")) == expected(locale, HELP_EN)
    assert other.ask(digits(4, locale)) == expected(locale, CHECKIN_EN)
    _delete(other, locale)
    guide = Handset(loaded, handset_number(42))
    _switch(guide, locale)
    _secure(guide, locale)


# --- Senders and limits -----------------------------------------------------------------------


def test_short_codes_and_alphanumeric_senders_get_no_reply(app: Flask) -> None:
    senders = ["12345", "REFUGE", "whatsapp:REFUGE", "+", " ", "447700900580"]
    for sender in senders:
        reply = Handset(app, sender).send("hi")
        assert (reply.status, reply.messages) == (200, []), sender
    assert tally(app, "refused_sender") == len(senders)
    assert count_rows(app, Subscriber) == 0
    assert count_rows(app, InboundReceipt) == len(senders)


@pytest.fixture
def limited(make_settings: Callable[..., Settings]) -> Iterator[Flask]:
    """An app allowing three replies an hour per person."""
    application = create_app(make_settings(REFUGE_SMS_REPLIES_PER_HOUR="3"))
    database = db.get_database(application)
    db.Base.metadata.create_all(database.engine)
    load_demo_content(application)
    yield application
    database.dispose()


def test_the_fourth_reply_in_an_hour_is_not_sent_but_stop_still_opts_out(limited: Flask) -> None:
    phone = Handset(limited, handset_number(50))
    answered = [phone.send(text).messages for text in ("hi", "1", "1", "1", "1")]
    assert [len(messages) for messages in answered] == [1, 1, 1, 1, 0]
    assert answered[3][0].startswith("Too many messages. Refuge answers again from ")
    assert tally(limited, "refused_rate") == 2
    phone.send("STOP")
    facts = subscriber_facts(limited, phone.number)
    assert facts is not None
    assert facts["opted_out"] is True

    provider = Handset(limited, handset_number(51))
    for text in ("hi", "1", "1", "1"):
        provider.send(text)
    confirmed = provider.send("STOP", OptOutType="STOP")
    assert len(confirmed.messages) == 1  # Twilio's own STOP is always confirmed
    assert (subscriber_facts(limited, provider.number) or {})["opted_out"] is True

    typed = Handset(limited, handset_number(52))
    for text in ("hi", "1", "1", "1"):
        typed.send(text)
    assert len(typed.send("STOP").messages) == 1  # a typed STOP is confirmed past the limit too


def test_a_message_over_the_limit_does_not_move_the_conversation_on(limited: Flask) -> None:
    phone = Handset(limited, handset_number(53))
    for text in ("hi", "1", "1"):
        phone.send(text)
    assert phone.send("1").text.startswith("Too many messages.")  # over the limit: dropped
    with db.get_database(limited).session() as session:
        person = people.find_subscriber(session, normalize_phone(phone.number))
        assert person is not None
        assert (
            State.from_stored(people.load_state(person)).flow is Flow.REGION
        )  # still where it was answered


# --- Hostile input ----------------------------------------------------------------------------


HOSTILE = {
    "10 KB": "A" * 10_240,
    "10 KB check": "CHECK " + "the aid water is poisoned " * 400,
    "NUL bytes": "hi\x00\x00there\x00",
    "right-to-left marks": "\u200f\u202b\u0661\u202c\u200e",
    "zero-width characters": "\u200b\u200c\u200d\ufeffHI\u2060",
    "control characters": "\x07\x1b[31m1\x7f",
    "emoji and astral": "\U0001f198\U0001f1f8\U0001f1e9 help",
}


def test_hostile_bodies_get_a_reply_within_budget(loaded: Flask) -> None:
    phone = Handset(loaded, handset_number(60))
    apology = "Sorry, something went wrong. Please try again soon."
    for case, body in HOSTILE.items():
        reply = phone.send(body)
        assert reply.status == 200, case
        assert len(reply.messages) == 1, case
        assert reply.text != apology, case
        assert not over_budget(reply.text), (case, reply.text)


def test_a_lone_surrogate_in_the_form_body_gets_a_reply(loaded: Flask) -> None:
    # A lone surrogate cannot be UTF-8: the wire carries its CESU-8 bytes percent-encoded, and
    # the signature covers the form as the server's parser decodes it, as Twilio's would.
    phone = Handset(loaded, handset_number(61))
    client = loaded.test_client()
    for body in ("\ud800", "1\udfff", "\ud83d hi \ud800\udc00"):
        params: dict[str, str | bytes] = {
            **phone.params(""),
            "Body": body.encode("utf-8", "surrogatepass"),
        }
        raw = "&".join(f"{quote(key)}={quote(value)}" for key, value in params.items())
        parsed = Request(EnvironBuilder(method="POST", data=raw, content_type=FORM).get_environ())
        signature = sign(auth_token(loaded), public_url(loaded), parsed.form.to_dict())
        response = client.post(
            WEBHOOK, data=raw, content_type=FORM, headers={SIGNATURE_HEADER: signature}
        )
        assert response.status_code == 200, body
        messages = twiml_messages(response.get_data(as_text=True))
        assert len(messages) == 1, body
        assert not over_budget(messages[0])


# --- Failure ----------------------------------------------------------------------------------


def test_an_internal_error_answers_an_apology_and_logs_no_phone_number(
    loaded: Flask,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
    capsys: pytest.CaptureFixture[str],
) -> None:
    phone = Handset(loaded, handset_number(70))
    phone.ask("LANG ar")

    def broken(*args: Any, **kwargs: Any) -> Any:
        raise RuntimeError(f"cannot handle {phone.number} (+447700900570, 07700 900570)")

    # The webhook calls `receive` by the name it imported; patch both to be sure.
    monkeypatch.setattr(server.conversation.turn, "receive", broken)
    monkeypatch.setattr(server.conversation.webhook, "receive", broken)
    caplog.set_level(logging.DEBUG)
    reply = phone.send("hi")
    assert reply.status == 200
    assert reply.messages == [
        str(catalogue("ar").gettext("Sorry, something went wrong. Please try again soon."))
    ]
    logged = "\n".join(
        [record.getMessage() for record in caplog.records]
        + [caplog.text]
        + [str(record.exc_info) for record in caplog.records if record.exc_info]
        + list(capsys.readouterr())
    )
    assert "inbound message failed: RuntimeError" in logged
    for form in number_forms(phone.number):
        assert form not in logged, form


# --- Seizure ----------------------------------------------------------------------------------

CANARY = "canary-okapi-4471 saw soldiers at the north gate"
CONTACT = "07700 900888"


def _forms(value: str) -> list[bytes]:
    encoded = [value.encode("utf-8"), value.encode("utf-16-le")]
    return encoded + [blob.hex().encode("ascii") for blob in encoded]


def test_a_seized_database_holds_no_phone_number_or_message_text(loaded: Flask) -> None:
    person = Handset(loaded, us_handset_number(27))
    friend = Handset(loaded, "whatsapp:" + handset_number(77))
    conversation = [
        "hi", "1", "1", "1", "2", str(MEDICAL), "0", "2", "MORE", "0", "3", "1",
        "NEXT", "BACK", "0", "3", "2", "LANG", "2", "LANG en", "HELP",
        f"CHECK {CANARY}, call {CONTACT}", "CHECK the aid water is poisoned, call +447700900888",
        "CHECK", f"{CANARY} again", "FIND shelter", "4", "DELETE", "MENU", "0",
    ]  # fmt: skip
    for text in conversation:
        assert person.send(text).status == 200
        assert friend.send(text).status == 200
    assert len(conversation) == 30  # the most replies one person gets in an hour
    assert count_rows(loaded, Subscriber) == 2
    assert count_rows(loaded, InboundReceipt) == 2 * len(conversation)

    dump = seize(database_of(loaded))
    assert len(dump) > 0
    texts = [CANARY, "canary-okapi", "north gate", "saw soldiers", "call +447700900888"]
    numbers = [*number_forms(person.number), *number_forms(handset_number(77))]
    numbers += number_forms("+447700900888")
    leaked = [value for value in texts + numbers for blob in _forms(value) if blob in dump]
    assert leaked == []
