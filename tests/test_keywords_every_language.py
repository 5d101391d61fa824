"""The words that always work (STOP, START, HELP, DELETE, MENU, ...) work in every shipped
language, whatever the person's own, and are answered in the language they were texted in.
"""

from __future__ import annotations

from dataclasses import replace

import pytest
from flask import Flask

from server import segments
from server.config import DEFAULT_LOCALES
from server.conversation.checkin_port import Status
from server.conversation.engine import OPT_OUT, SET_LOCALE, Effect, Inbound, Outcome, handle
from server.conversation.state import Flow, State
from server.conversation.vocabulary import CONTEXT, GLOBAL, Command
from server.i18n.locales import catalogue
from tests.fake_checkins import FakeCheckins
from tests.sms_helpers import Handset, _register, handset_number, subscriber_facts
from tests.test_engine import NOW, situation

GLOBAL_COMMANDS = sorted(GLOBAL, key=lambda command: command.name)
#: Where a person may be when they text: nowhere, in a question, in the check-in set-up.
STATES = {
    "fresh": State(),
    "question": State(flow=Flow.CATEGORY, region="river-camp"),
    "check-in set-up": State(flow=Flow.SCHEDULE),
}


def spellings(locale: str, command: Command) -> list[str]:
    """Every spelling of a command's keyword a locale's catalogue gives."""
    return str(catalogue(locale).pgettext(CONTEXT, command.name)).split("|")


def answer(text: str, locale: str, state: State, *, opted_out: bool = False) -> Outcome:
    """The engine's answer to a person whose language is `locale`, with a plan being set up."""
    plan = Status.SETUP if state.flow is not None and state.flow.setting_up else None
    where = replace(situation(locale, opted_out=opted_out), checkins=FakeCheckins(NOW, plan))
    return handle(state, Inbound(text), where)


#: Every language a person may have, with every other shipped language's keywords.
PAIRS = [
    (own, other)
    for own in DEFAULT_LOCALES
    for other in DEFAULT_LOCALES
    if other not in (own, "en")  # English keywords: answered in the person's own, below
]


@pytest.mark.parametrize(("own", "keyword_locale"), PAIRS)
@pytest.mark.parametrize("command", GLOBAL_COMMANDS, ids=lambda command: command.name)
def test_a_global_keyword_of_any_language_is_answered_in_that_language(
    own: str, keyword_locale: str, command: Command
) -> None:
    for name, state in STATES.items():
        if command is Command.LANG and state.flow is Flow.SCHEDULE:
            continue  # every word answers the set-up's question, in any language
        for opted_out in (False, True):
            for spelling in spellings(keyword_locale, command):
                heard = answer(spelling, own, state, opted_out=opted_out)
                native = answer(spelling, keyword_locale, state, opted_out=opted_out)
                where = (own, spelling, name, opted_out)
                # The same answer the keyword's own speakers get, in their language...
                assert heard.replies == native.replies, where
                assert heard.state == native.state, where
                # ...that language kept for the person, and the command obeyed (silence, to
                # an opted-out person, changes nothing).
                switched = [Effect(SET_LOCALE, keyword_locale)] if heard.replies else []
                assert heard.effects == switched + native.effects, where
                if not opted_out or command in (Command.START, Command.HELP):
                    assert native.replies, where


@pytest.mark.parametrize("own", DEFAULT_LOCALES)
def test_english_keywords_are_answered_in_the_persons_own_language(own: str) -> None:
    heard = answer("STOP", own, State())
    assert heard.replies == answer(spellings(own, Command.STOP)[0], own, State()).replies
    assert [effect.kind for effect in heard.effects] == [OPT_OUT]


@pytest.mark.parametrize(
    "text",
    [
        "Plus I need water",  # French MORE opening English free text
        "Fin de semaine",  # French STOP opening a sentence
        "Aro kisu ase",  # Rohingya MORE opening Rohingya-like free text
    ],
)
def test_free_text_starting_with_another_languages_keyword_is_not_that_keyword(
    text: str,
) -> None:
    heard = answer(text, "bn", State())
    assert [effect.kind for effect in heard.effects] == []
    assert heard.replies == answer("", "bn", State()).replies  # the Bengali menu


def test_another_languages_delete_yes_and_check_take_their_words() -> None:
    erased = answer("ВИДАЛИТИ ЗГОДЕН", "bn", State())
    assert [effect.kind for effect in erased.effects] == [SET_LOCALE, "delete_me"]
    assert erased.replies == [catalogue("uk").gettext("Done. Nothing is kept.")]
    checked = answer("ZASAI the water is poisoned", "bn", State())
    assert checked.effects[0] == Effect(SET_LOCALE, "rhg")
    assert checked.replies == answer("ZASAI the water is poisoned", "rhg", State()).replies


# --- Through the webhook, as the issue found it ------------------------------------------------


def _bengali_handset(app: Flask, index: int) -> Handset:
    number = handset_number(index)
    _register(app, [number], "bn")
    return Handset(app, number)


@pytest.mark.parametrize(
    ("stop", "locale"), [("BONDO", "rhg"), ("ရပ်", "my"), ("توقف", "ar"), ("СТОП", "uk")]
)
def test_a_bengali_number_stops_in_any_language_and_hears_it_in_that_language(
    app: Flask, stop: str, locale: str
) -> None:
    handset = _bengali_handset(app, 400 + DEFAULT_LOCALES.index(locale))
    confirmation = handset.ask(stop)
    expected = catalogue(locale).gettext(
        "You will get no more messages from Refuge. Reply START to come back."
    )
    assert confirmation == segments.prepare(expected, segments.AccentPolicy.TRANSLITERATE)
    facts = subscriber_facts(app, handset.number)
    assert facts is not None
    assert facts["opted_out"] is True
    assert facts["locale"] == locale


def test_curu_after_opting_out_is_answered_in_rohingya(app: Flask) -> None:
    handset = _bengali_handset(app, 410)
    handset.ask("STOP")
    welcome = handset.ask("CURU")
    assert welcome.startswith(catalogue("rhg").gettext("Welcome back."))
    facts = subscriber_facts(app, handset.number)
    assert facts is not None
    assert facts["opted_out"] is False
    assert facts["locale"] == "rhg"


def test_an_answer_in_the_check_in_set_up_is_not_another_languages_word() -> None:
    # BASHA is Rohingya for LANG; here it is the name a Bengali speaker's contacts will see.
    named = answer("Basha", "bn", State(flow=Flow.NAME))
    assert all(effect.kind != SET_LOCALE for effect in named.effects)
    assert named.replies == answer("Rina", "bn", State(flow=Flow.NAME)).replies
