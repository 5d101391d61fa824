"""Contacts by SMS: nothing is accepted that cannot be honoured, an answer is never taken for
something else, and consent is per person and per request the contact saw (issue 15)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta

import pytest
from flask import Flask

from server import db, people, segments, upkeep
from server.app import create_app
from server.checkins import texts
from server.config import Settings, app_settings
from server.conversation.checkin_setup import country_names
from server.delivery import worker
from server.i18n.locales import catalogue
from server.phones import normalize_phone
from tests.checkin_helpers import (
    Clock,
    Phone,
    add_partner,
    deliver,
    plan_facts,
    register,
    run_sweep,
    sent,
    set_up,
)
from tests.delivery import twilio_env
from tests.fake_twilio import FakeTwilio
from tests.sms_helpers import ALL_LOCALES, digits, keyword, load_demo_content, over_budget

START = datetime(2026, 12, 1, 8, 0, tzinfo=UTC)
PERSON = "+447700900801"
COUSIN = "+447700900802"  # in Britain: abroad for a deployment serving BD, SD and UA
AUNT = "+8801700000002"  # in Bangladesh, served
PERSON_SERVED = "+8801700000003"  # the person, when the test serves only BD, SD and UA
SARA = "+447700900803"
PIN = 482193


@pytest.fixture
def fake() -> Iterator[FakeTwilio]:
    with FakeTwilio() as server:
        yield server


@pytest.fixture
def make_app(make_settings: Callable[..., Settings]) -> Iterator[Callable[..., Flask]]:
    """An app with the demo content (it serves BD, SD and UA), on the given settings."""
    built: list[db.Database] = []

    def build(**overrides: str) -> Flask:
        app = create_app(make_settings(**overrides))
        database = db.get_database(app)
        db.Base.metadata.create_all(database.engine)
        built.append(database)
        load_demo_content(app)
        return app

    yield build
    for database in built:
        database.dispose()


@pytest.fixture
def loaded(make_app: Callable[..., Flask]) -> Flask:
    return make_app()


def _to_contacts(phone: Phone, locale: str) -> list[str]:
    """The set-up by SMS up to the contacts question; the replies."""
    answers = [keyword(locale, "CHECKIN"), digits(PIN, locale), keyword(locale, "NO"), "12"]
    return [phone.ask(text) for text in [*answers, digits(30, locale), "Amina"]]


def _worker(app: Flask, moment: datetime) -> None:
    """One pass of the real worker (Twilio channel, sweeps, purges) with `moment` as real time."""
    database = db.get_database(app)
    settings = app_settings(app)
    upkeep.worker(database, settings, worker.make_channel(settings)).run_once(moment)


# --- Case 4: contacts abroad ----------------------------------------------------------------


@pytest.mark.parametrize("locale", ALL_LOCALES)
def test_a_contact_abroad_is_refused_at_add_and_told_which_countries_can_be_added(
    make_app: Callable[..., Flask], fake: FakeTwilio, locale: str
) -> None:
    # The default allow-list: the countries of the regions served (the demo's BD, SD, UA).
    app = make_app(**twilio_env(fake, REFUGE_SMS_COUNTRIES=""))
    clock = Clock(START)
    # The person is in a served country too: Refuge answers no one outside the list.
    register(app, PERSON_SERVED, locale, "kharkiv")
    person = Phone(app, PERSON_SERVED, clock)
    _to_contacts(person, locale)

    refused = person.ask(f"{keyword(locale, 'ADD')} {COUSIN} Cousin")
    t = catalogue(locale)
    added = t.gettext("%(name)s added and asked. Add another, or reply DONE.")
    assert refused != added % {"name": "Cousin"}
    assert country_names(frozenset({"BD", "SD", "UA"}), locale) in refused
    assert not over_budget(refused)
    if locale != "en":
        assert "We cannot text" not in refused  # translated
    assert [m for m in sent(app) if m.kind == "opt_in"] == []

    person.ask(f"{keyword(locale, 'ADD')} {AUNT} Rina")
    _worker(app, START)
    assert len(fake.sent(AUNT)) == 1  # the one who can be texted is asked
    assert fake.sent(COUSIN) == []


def test_a_landline_is_refused_at_add(loaded: Flask) -> None:
    person = Phone(loaded, PERSON, Clock(START))
    register(loaded, PERSON, "en", "kharkiv")
    _to_contacts(person, "en")
    answer = person.ask("ADD +44 20 7946 0123 Office")
    assert answer == "That number cannot get texts. Add a mobile number, or reply DONE."
    assert sent(loaded) == []


def test_with_no_country_served_an_add_is_refused_and_the_ngo_named(
    make_settings: Callable[..., Settings],
) -> None:
    app = create_app(make_settings(REFUGE_SMS_COUNTRIES=""))
    database = db.get_database(app)
    db.Base.metadata.create_all(database.engine)
    register(app, PERSON, "en")
    person = Phone(app, PERSON, Clock(START))
    _to_contacts(person, "en")
    answer = person.ask(f"ADD {COUSIN} Cousin")
    assert answer == "We cannot text numbers in that country. Ask your NGO, or reply DONE."
    database.dispose()


# --- Case 5: an answer is never taken for the contacts' message ------------------------------


@pytest.mark.parametrize("locale", ALL_LOCALES)
def test_no_at_the_message_question_asks_again_and_contacts_never_get_no(
    loaded: Flask, locale: str
) -> None:
    clock = Clock(START)
    register(loaded, PERSON, locale, "kharkiv")
    register(loaded, SARA, locale)
    person = Phone(loaded, PERSON, clock)
    replies = set_up(person, locale, contacts=((SARA, "Sara"),), message=keyword(locale, "NO"))
    again = segments.prepare(
        catalogue(locale).gettext("That looks like an answer, not a message for your contacts."),
        segments.AccentPolicy.TRANSLITERATE,
    )
    assert replies[-1].startswith(again)
    assert not over_budget(replies[-1])
    for answer in ("no thanks", "\u043d\u0456", "Nope", "5", "Yes please", keyword(locale, "DONE")):
        assert person.ask(answer).startswith(again)
    assert plan_facts(loaded, PERSON)[0].message is None
    person.ask(keyword(locale, "YES"))  # keeps the default
    deliver(loaded, clock.now)  # Sara's opt-in leaves
    Phone(loaded, SARA, clock).ask(keyword(locale, "YES"))

    run_sweep(loaded, START + timedelta(hours=12, minutes=31))  # missed: 12 hours, 30 grace
    [alert] = [m for m in sent(loaded) if m.kind == "alert"]
    assert alert.body == texts.alert(locale, "Amina", None)


def test_a_message_of_ones_own_is_kept_even_when_it_starts_with_no(loaded: Flask) -> None:
    register(loaded, PERSON, "en", "kharkiv")
    person = Phone(loaded, PERSON, Clock(START))
    own = "No news from Amina since this morning. Please call her sister."
    set_up(person, "en", contacts=((SARA, "Sara"),), message=own)
    assert plan_facts(loaded, PERSON)[0].message == own


@pytest.mark.parametrize("answer", ["NO", "YES", "5", "DONE"])
def test_a_keyword_or_a_number_is_not_taken_for_the_persons_name(
    loaded: Flask, answer: str
) -> None:
    register(loaded, PERSON, "en", "kharkiv")
    person = Phone(loaded, PERSON, Clock(START))
    for text in ("CHECKIN", str(PIN), "NO", "12", "30"):
        person.ask(text)
    again = person.ask(answer)
    assert again.startswith("That is not a name. What name do your contacts know you by?")
    assert person.ask("Amina").startswith("Add up to 5 trusted contacts")
    assert plan_facts(loaded, PERSON)[0].name == "Amina"


# --- Case 11: the NGO offered; consent per request ------------------------------------------


def test_an_ngo_without_an_alert_line_is_not_offered(loaded: Flask) -> None:
    add_partner(loaded, "kharkiv", "Kharkiv Aid", None, None)
    register(loaded, PERSON, "en", "kharkiv")
    person = Phone(loaded, PERSON, Clock(START))
    replies = set_up(person, "en", contacts=((SARA, "Sara"),))
    assert replies[-1].startswith("Check-ins are on.")
    assert not any("Kharkiv Aid" in reply for reply in replies)


def test_an_ngo_whose_line_cannot_be_texted_is_not_offered(
    make_app: Callable[..., Flask],
) -> None:
    app = make_app(REFUGE_SMS_COUNTRIES="GB")
    add_partner(app, "kharkiv", "Kharkiv Aid", "+12025550142", None)
    register(app, PERSON, "en", "kharkiv")
    replies = set_up(Phone(app, PERSON, Clock(START)), "en", contacts=((SARA, "Sara"),))
    assert replies[-1].startswith("Check-ins are on.")


def test_an_ngo_with_a_line_is_offered(loaded: Flask) -> None:
    add_partner(loaded, "kharkiv", "Kharkiv Aid", "+447700900899", None)
    register(loaded, PERSON, "en", "kharkiv")
    replies = set_up(Phone(loaded, PERSON, Clock(START)), "en", contacts=((SARA, "Sara"),))
    assert "Kharkiv Aid" in replies[-1]


def test_a_yes_to_one_persons_request_is_not_taken_for_a_second_request_never_received(
    make_app: Callable[..., Flask], fake: FakeTwilio
) -> None:
    app = make_app(**twilio_env(fake))  # British numbers allowed
    clock = Clock(START)
    amina, bilal = "+447700900804", "+447700900805"
    for number in (amina, bilal):
        register(app, number, "en", "kharkiv")
    set_up(Phone(app, amina, clock), "en", contacts=((SARA, "Sara"),))
    _worker(app, clock.now)  # Amina's request reaches Sara
    assert ["Amina" in m.body for m in fake.sent(SARA)] == [True]
    sara = Phone(app, SARA, clock)
    assert sara.ask("YES") == "Thank you, your answer is noted."

    set_up(Phone(app, bilal, clock), "en", name="Bilal", contacts=((SARA, "Sara"),))
    clock.now += timedelta(minutes=1)
    # Bilal's request is queued, not yet sent: a YES from Sara now does not answer it.
    assert sara.ask("YES") != "Thank you, your answer is noted."
    assert _consent_of(app, bilal) == "pending"
    _worker(app, clock.now)  # now it reaches her, and is answered on its own
    assert ["Bilal" in m.body for m in fake.sent(SARA)][-1]
    assert sara.ask("NO") == "Thank you, your answer is noted."
    assert (_consent_of(app, amina), _consent_of(app, bilal)) == ("confirmed", "declined")


def _consent_of(app: Flask, number: str) -> str:
    with db.get_database(app).session() as session:
        person = people.find_subscriber(session, normalize_phone(number))
        assert person is not None
        [contact] = person.contacts
        return contact.consent.value
