"""SMS keywords are understood in every shipped locale, English always, digits in any script."""

from __future__ import annotations

import pytest
from babel.messages.pofile import read_po

from server.config import DEFAULT_LOCALES
from server.content.text import fold
from server.conversation.vocabulary import (
    CONTEXT,
    ENGLISH_SYNONYMS,
    GLOBAL,
    Command,
    keywords,
    number,
    recognise,
)
from server.i18n.locales import LOCALES_DIR, catalogue
from server.web import text

TRANSLATED = [locale for locale in DEFAULT_LOCALES if locale != "en"]


def _translated_keywords(locale: str) -> dict[str, list[str]]:
    with (LOCALES_DIR / locale / "LC_MESSAGES" / "messages.po").open("rb") as handle:
        catalog = read_po(handle, locale=locale)
    return {
        str(message.id): str(message.string).split("|")
        for message in catalog
        if message.context == CONTEXT and message.string
    }


@pytest.mark.parametrize("locale", TRANSLATED)
def test_every_keyword_of_a_locale_is_recognised(locale: str) -> None:
    translated = _translated_keywords(locale)
    assert set(translated) == {command.name for command in Command}
    for english, spellings in translated.items():
        for spelling in spellings:
            assert recognise(spelling, locale) is Command[english], (locale, spelling)
            assert recognise(f"  {spelling.lower()}  please", locale) is Command[english]


@pytest.mark.parametrize("locale", DEFAULT_LOCALES)
def test_english_keywords_work_in_every_locale(locale: str) -> None:
    assert recognise("STOP", locale) is Command.STOP
    assert recognise("help", locale) is Command.HELP
    assert recognise("Stop.", locale) is Command.STOP
    assert recognise("unsubscribe", locale) is Command.STOP


@pytest.mark.parametrize("locale", DEFAULT_LOCALES)
def test_no_spelling_means_two_commands(locale: str) -> None:
    translated = _translated_keywords(locale) if locale != "en" else {}
    seen: dict[str, str] = {}
    for english, spellings in translated.items():
        for spelling in spellings:
            assert seen.setdefault(spelling.casefold(), english) == english, spelling
    assert len(keywords(locale)) >= len(Command)


def test_no_spelling_means_two_commands_in_any_two_languages() -> None:
    # Global keywords are understood in every language, so a word that is STOP in one and
    # NO in another would make a "no" stop everything: each spelling has one meaning only.
    meanings: dict[str, set[str]] = {}
    english = {
        command.name: [command.name, *ENGLISH_SYNONYMS.get(command, ())] for command in Command
    }
    for locale in DEFAULT_LOCALES:
        translated = _translated_keywords(locale) if locale != "en" else {}
        for spelt in (english, translated):
            for command, words in spelt.items():
                for word in words:
                    meanings.setdefault(fold(word), set()).add(command)
    assert {word: sorted(found) for word, found in meanings.items() if len(found) > 1} == {}


@pytest.mark.parametrize("locale", TRANSLATED)
def test_a_global_keyword_belongs_to_one_language_besides_english(locale: str) -> None:
    # The reply comes in the keyword's language, so that language must be known for sure.
    others = [tag for tag in TRANSLATED if tag != locale]
    for command in GLOBAL:
        for spelling in _translated_keywords(locale)[command.name]:
            folded = fold(spelling)
            if folded in {
                fold(word) for word in (command.name, *ENGLISH_SYNONYMS.get(command, ()))
            }:
                continue  # English: understood everywhere, answered in the person's language
            shared = [
                tag
                for tag in others
                if folded in {fold(word) for word in _translated_keywords(tag)[command.name]}
            ]
            assert shared == [], (locale, spelling)


@pytest.mark.parametrize(
    ("typed", "expected"),
    [("1", 1), ("٢", 2), ("၃", 3), ("\u09ea", 4), (" 5 ", 5), ("12", 12), ("x", None), ("", None)],
)
def test_menu_numbers_work_in_any_digit_script(typed: str, expected: int | None) -> None:
    assert number(typed) == expected


def test_text_that_is_no_keyword_is_not_one() -> None:
    assert recognise("where can I find water", "en") is None
    assert recognise("", "ar") is None
    assert recognise("\u200f\u200b", "ar") is None


@pytest.mark.parametrize(
    ("locale", "counts"),
    [
        ("ar", [0, 1, 2, 3, 11, 100]),  # zero, one, two, few, many, other
        ("uk", [1, 2, 5]),  # one, few, many
        ("fr", [1, 1_000_000, 2]),  # one, many, other
    ],
)
def test_counts_take_every_plural_form_of_the_language(locale: str, counts: list[int]) -> None:
    with (LOCALES_DIR / locale / "LC_MESSAGES" / "messages.po").open("rb") as handle:
        catalog = read_po(handle, locale=locale)
    message = catalog.get(("%(num)d resource found", "%(num)d resources found"))
    assert message is not None
    assert len(message.string) == catalog.num_plurals == len(counts)
    assert all(message.string)
    # Each count picks its own form, and the text shown is that form.
    translations = catalogue(locale)
    assert [catalog.plural_expr and translations.plural(n) for n in counts] == list(
        range(len(counts))
    )  # type: ignore[attr-defined]
    for n in counts:
        shown = translations.ngettext("%(num)d resource found", "%(num)d resources found", n)
        assert shown == message.string[translations.plural(n)]  # type: ignore[attr-defined]


def test_the_web_helpers_use_plural_forms(app: object) -> None:
    with app.test_request_context("/", headers={"Accept-Language": "ar"}):  # type: ignore[attr-defined]
        app.preprocess_request()  # type: ignore[attr-defined]
        assert text.resources_found(3) != text.resources_found(11)
