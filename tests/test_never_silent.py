"""Refuge is never silent and never leaves a question without a word (issue 17, item 5).

The reply limit is announced when it is reached and when it lifts; MORE inside a question and
a number that is not one of its choices ask the question again; a message that looks like a
cry for help gets the region's emergency number and the plain word that Refuge is automated;
words that are no command are searched for in the person's region.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta

import pytest
from flask import Flask

from server import db, segments
from server.app import create_app
from server.config import Settings
from server.conversation.distress import DISTRESS_WORDS
from server.conversation.state import Flow, State
from server.i18n.locales import catalogue
from server.people import load_state
from tests.checkin_helpers import Clock, Phone, register
from tests.sms_helpers import (
    ALL_LOCALES,
    FICTION_PHONE,
    digits,
    keyword,
    load_demo_content,
    subscriber_of,
)

NOW = datetime(2026, 11, 26, 10, 20, tzinfo=UTC)
PERSON = "+44 7700 900681"
AUTOMATED = "Refuge is automated: nobody reads these messages."
WHERE_ARE_YOU = "Where are you? Reply a number:"
#: Cox's Bazar has no emergency number of its own: Bangladesh's is the one to call there.
CXB_EMERGENCY = "In an emergency, call the emergency services: 999."
LIMITED = (
    "Too many messages. Refuge answers again from %(time)s. Check-ins still work: OK and your PIN."
)


def said(locale: str, english: str) -> str:
    return segments.prepare(
        str(catalogue(locale).gettext(english)), segments.AccentPolicy.TRANSLITERATE
    )


def flow_of(app: Flask, number: str) -> Flow | None:
    with subscriber_of(app, number) as person:
        assert person is not None
        return State.from_stored(load_state(person)).flow


@pytest.fixture
def loaded(app: Flask) -> Flask:
    load_demo_content(app)
    return app


@pytest.fixture
def three_an_hour(make_settings: Callable[..., Settings]) -> Iterator[Flask]:
    application = create_app(make_settings(REFUGE_SMS_REPLIES_PER_HOUR="3"))
    database = db.get_database(application)
    db.Base.metadata.create_all(database.engine)
    load_demo_content(application)
    yield application
    database.dispose()


# --- The reply limit ----------------------------------------------------------------------------


@pytest.mark.parametrize("locale", ["en", "ar", "rhg"])
def test_the_reply_limit_is_announced_once_when_reached_and_once_when_it_lifts(
    three_an_hour: Flask, locale: str
) -> None:
    register(three_an_hour, PERSON, locale, "kharkiv")
    clock = Clock(NOW)
    phone = Phone(three_an_hour, PERSON, clock)
    menu = keyword(locale, "MENU")
    for _ in range(3):
        assert phone.send(menu)
    assert phone.ask(menu).startswith(said(locale, LIMITED).split("%(")[0])
    assert phone.send(menu) == []  # told once
    clock.now = NOW + timedelta(hours=1)
    back = phone.send(menu)
    again = said(locale, "Refuge answers your messages again.")
    assert back[0].startswith(again), back
    for reply in back:
        assert segments.measure(reply).segments <= 3, reply
    assert not phone.send(menu)[0].startswith(again)  # said once


# --- Questions are asked again ------------------------------------------------------------------


def test_more_inside_a_question_asks_it_again_instead_of_dropping_it(loaded: Flask) -> None:
    register(loaded, PERSON, "en")
    phone = Phone(loaded, PERSON, Clock(NOW))
    question = phone.ask("FIND")
    assert question.startswith(WHERE_ARE_YOU)
    assert phone.ask("MORE") == question
    assert flow_of(loaded, PERSON) is Flow.REGION
    languages = phone.ask("LANG")
    assert phone.ask("MORE") == languages
    assert flow_of(loaded, PERSON) is Flow.LANG
    assert "nothing more" not in phone.ask("MORE")


def test_more_inside_the_check_in_set_up_asks_its_question_again(loaded: Flask) -> None:
    register(loaded, PERSON, "en", "kharkiv")
    phone = Phone(loaded, PERSON, Clock(NOW))
    question = phone.ask("CHECKIN")
    assert flow_of(loaded, PERSON) is Flow.PIN
    assert phone.ask("MORE") == question
    assert flow_of(loaded, PERSON) is Flow.PIN


@pytest.mark.parametrize("locale", ["en", "ar", "my"])
def test_a_number_out_of_range_asks_the_question_again(loaded: Flask, locale: str) -> None:
    register(loaded, PERSON, locale)
    phone = Phone(loaded, PERSON, Clock(NOW))
    question = phone.ask(keyword(locale, "FIND"))
    assert phone.ask(digits(9, locale)) == question  # three countries: 9 is none of them
    assert flow_of(loaded, PERSON) is Flow.REGION
    phone.ask(digits(1, locale))  # Bangladesh: its areas
    below = phone.ask(digits(1, locale))  # Cox's Bazar: its camps, or all of it
    assert phone.ask(digits(42, locale)) == below
    categories = phone.ask(digits(3, locale))  # "All of Cox's Bazar": what do you need?
    assert phone.ask(digits(99, locale)) == categories


# --- A cry for help -----------------------------------------------------------------------------


def test_a_long_message_describing_an_emergency_gets_the_line_to_call(loaded: Flask) -> None:
    register(loaded, PERSON, "en", "cox-s-bazar")
    phone = Phone(loaded, PERSON, Clock(NOW))
    answer = phone.ask("my husband took my phone and says he will come back tonight with others")
    assert answer.startswith(AUTOMATED)
    assert CXB_EMERGENCY in answer
    assert segments.measure(answer).segments <= 2


def test_help_with_words_after_it_is_a_cry_for_help_not_the_command_list(loaded: Flask) -> None:
    register(loaded, PERSON, "en", "cox-s-bazar")
    phone = Phone(loaded, PERSON, Clock(NOW))
    assert phone.ask("HELP").startswith("Refuge gives verified help")  # the carrier's HELP
    answer = phone.ask("help me please")
    assert answer.startswith(AUTOMATED)
    assert CXB_EMERGENCY in answer


@pytest.mark.parametrize("locale", ALL_LOCALES)
def test_a_word_asking_for_help_in_any_shipped_language_gets_the_emergency_line(
    loaded: Flask, locale: str
) -> None:
    assert DISTRESS_WORDS[locale], f"no words asking for help in {locale}"
    for index, word in enumerate(DISTRESS_WORDS[locale]):
        number = f"+44 7700 9007{index:02d}"
        register(loaded, number, "en", "cox-s-bazar")
        # After another word: a bare HELP is the carrier's keyword, answered with the commands.
        answer = Phone(loaded, number, Clock(NOW)).ask(f"please {word}")
        assert answer.startswith(AUTOMATED), (word, answer)
        assert CXB_EMERGENCY in answer


def test_without_a_region_the_cry_for_help_is_told_to_call_the_local_number(
    loaded: Flask,
) -> None:
    register(loaded, PERSON, "ar")
    answer = Phone(loaded, PERSON, Clock(NOW)).ask("عاجل")
    assert answer.startswith(said("ar", AUTOMATED))
    assert said("ar", "In an emergency, call your local emergency number.") in answer


def test_a_forwarded_rumour_without_check_gets_its_note_not_the_emergency_line(
    loaded: Flask,
) -> None:
    register(loaded, PERSON, "en", "cox-s-bazar")
    answer = Phone(loaded, PERSON, Clock(NOW)).ask(
        "Forward to everyone: they put poison in the water at the aid points"
    )
    assert answer.startswith("What we know:")


# --- Free-text search ---------------------------------------------------------------------------


def test_find_and_words_searches_the_persons_region(loaded: Flask) -> None:
    register(loaded, PERSON, "en", "kharkiv-oblast")
    phone = Phone(loaded, PERSON, Clock(NOW))
    found = phone.ask("FIND warming")
    assert "Warming" in found
    assert FICTION_PHONE.search(found), found
    assert "Gedaref" not in found


def test_a_bare_word_that_is_no_command_is_searched_for(loaded: Flask) -> None:
    register(loaded, PERSON, "en", "kharkiv-oblast")
    phone = Phone(loaded, PERSON, Clock(NOW))
    found = phone.ask("warming")
    assert "Warming" in found
    assert FICTION_PHONE.search(found), found
    assert phone.ask("hello").startswith("Refuge. Reply a number:")  # a greeting: the menu
