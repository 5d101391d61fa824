"""A new number from a country of several peoples is first asked its language, in one SMS.

The tests' numbers are fiction (+44 7700 900xxx, +1 202 555 01xx), so Britain stands in for
Bangladesh here: it is offered Bangladesh's default languages.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

import pytest
from flask import Flask

from server import segments
from server.config import ConfigError, Localization, Settings, load_config
from server.conversation.engine import Inbound, handle
from server.conversation.state import State
from server.i18n.locales import catalogue
from tests.conftest import refuge_env
from tests.sms_helpers import Handset, handset_number, subscriber_facts, us_handset_number
from tests.test_engine import FakeContent, situation

BANGLADESH = dict(Localization().first_contact)["BD"]


@pytest.fixture
def settings(make_settings: Callable[..., Settings]) -> Settings:
    """Britain's new numbers are offered what Bangladesh's are by default."""
    return make_settings(REFUGE_FIRST_CONTACT_LANGUAGES="GB=" + ",".join(BANGLADESH))


def asked(locale: str) -> str:
    return str(catalogue(locale).gettext("Choose your language:"))


def test_bangladesh_offers_rohingya_first_then_bengali(tmp_path: Path) -> None:
    localization = load_config(refuge_env(tmp_path)).localization
    assert localization.offered("BD")[:2] == ("rhg", "bn")
    assert localization.offered("GB") == ()


@pytest.mark.parametrize("first", ["hi", "Salam", "1", ""])
def test_a_new_number_is_asked_its_language_in_rohingya_and_bengali_in_one_sms(
    app: Flask, first: str
) -> None:
    handset = Handset(app, handset_number(450))
    greeting = handset.ask(first)
    assert greeting.splitlines() == [
        "Refuge",
        asked("rhg"),
        asked("bn"),
        "1 Rohingya",
        "2 বাংলা",
        "3 English",
    ]
    assert segments.measure(greeting).segments == 1


@pytest.mark.parametrize(("answer", "locale"), [("1", "rhg"), ("২", "bn"), ("3", "en")])
def test_the_answer_sets_the_language_and_shows_its_menu(
    app: Flask, answer: str, locale: str
) -> None:
    handset = Handset(app, handset_number(451 + int(answer.translate(str.maketrans("২", "2")))))
    handset.ask("hello")
    menu = handset.ask(answer)
    assert menu.startswith(
        segments.prepare(
            catalogue(locale).gettext("Language saved."), segments.AccentPolicy.TRANSLITERATE
        )
    )
    facts = subscriber_facts(app, handset.number)
    assert facts is not None
    assert facts["locale"] == locale
    assert "Refuge" in handset.ask("hi")  # asked once: afterwards, the menu


def test_a_new_number_in_rohingya_until_it_answers(app: Flask) -> None:
    handset = Handset(app, handset_number(455))
    assert handset.ask("HELP").startswith("Refuge")  # a command is answered, not the question
    facts = subscriber_facts(app, handset.number)
    assert facts is not None
    assert facts["locale"] == "rhg"
    assert facts["state"].flow is None


def test_the_language_list_keeps_the_offered_order(app: Flask) -> None:
    handset = Handset(app, handset_number(456))
    handset.ask("hi")
    handset.ask("1")
    listed = handset.ask("ZUBAN").splitlines()
    assert listed[1:4] == ["1 Rohingya", "2 বাংলা", "3 English"]
    assert len(listed) == 1 + len(Localization().locales)


def test_a_country_of_one_language_gets_the_menu_straight(app: Flask) -> None:
    reply = Handset(app, us_handset_number(40)).ask("hi")
    assert reply.startswith("Refuge. Reply a number:")


@pytest.mark.parametrize(
    ("value", "problem"),
    [
        ("Bangladesh=rhg,bn", "not an ISO 3166 country code"),
        ("BD=rhg,xx", "is not a language tag CLDR knows"),
        ("BD=rhg,fa", "fa is not one of REFUGE_LOCALES"),
        ("BD=rhg,rhg", "twice"),
        ("BD", "must look like locale=value"),
    ],
)
def test_a_bad_first_contact_setting_is_refused(tmp_path: Path, value: str, problem: str) -> None:
    env = refuge_env(tmp_path, REFUGE_FIRST_CONTACT_LANGUAGES=value)
    with pytest.raises(ConfigError, match="REFUGE_FIRST_CONTACT_LANGUAGES") as refused:
        load_config(env)
    assert problem in str(refused.value)


class ManyLanguages(FakeContent):
    """Languages with long own names: two questions and the list do not fit one UCS-2 SMS."""

    def language_names(self) -> list[tuple[str, str]]:
        return [("uk", "українська мова"), ("ar", "اللغة العربية الفصحى"), ("en", "English")]


def test_a_question_that_does_not_fit_in_two_languages_is_asked_in_the_first() -> None:
    where = replace(
        situation("uk"), content=ManyLanguages(), offered=("uk", "ar", "en"), first_contact=True
    )
    greeting = handle(State(), Inbound("hi"), where).replies[0]
    assert asked("uk") in greeting.splitlines()[:2]
    assert asked("ar") not in greeting
    assert segments.measure(greeting).segments == 1


def test_a_number_already_known_is_not_asked() -> None:
    where = replace(situation("bn"), offered=("rhg", "bn", "en"))
    assert (
        handle(State(), Inbound("hi"), where)
        .replies[0]
        .startswith(catalogue("bn").gettext("Refuge. Reply a number:")[:6])
    )


def test_a_first_message_that_cries_for_help_gets_the_line_to_call_not_a_question(
    app: Flask,
) -> None:
    """Someone whose first text asks for help is not made to pick a language first."""
    handset = Handset(app, handset_number(457))
    reply = handset.ask("please help soldiers are at the door of our shelter")
    assert asked("bn") not in reply
    automated = segments.prepare(
        catalogue("rhg").gettext("Refuge is automated: nobody reads these messages."),
        segments.AccentPolicy.TRANSLITERATE,
    )
    assert reply.startswith(automated), reply
