"""Rohingya readers get Latin letters: never Burmese script, whose glyphs most of them in the
camps do not read (and many phones cannot draw), nor CLDR's Hanifi dates.
"""

from __future__ import annotations

import re
from datetime import date
from pathlib import Path

import pytest
from flask import Flask

from server import segments
from server.cli.content import CONTENT_DIR
from server.config import ConfigError, load_config
from server.content import loader
from server.conversation.engine import dated
from tests.sms_helpers import Handset, _register, handset_number, load_demo_content
from tests.test_config import refuge_env
from tests.test_engine import situation

#: Myanmar, Myanmar Extended-A and Extended-B.
MYANMAR = re.compile("[\u1000-\u109f\uaa60-\uaa7f\ua9e0-\ua9ff]")
LATIN_DATE = re.compile(r"\b\d{1,2} [A-Z][a-z]{2} 20\d\d\b")

#: A Rohingya reader's evening: the menu, help in Cox's Bazar, the news, a guide, a rumour
#: checked, and a check-in being set up (in Rohingya keywords where there is one).
CONVERSATION = {
    "menu": ["TALIKA"],
    "resources": ["1", "1", "1", "3", "1", "TALIKA", "1", "2"],
    "news": ["TALIKA", "2", "ARO"],
    "checklist": ["TALIKA", "3", "1", "FORE"],
    "rumour": ["ZASAI the water is poisoned"],
    "check-in set-up": ["TALIKA", "4", "482193", "917364", "24", "60"],
}


def test_the_default_chain_takes_rohingya_to_english_not_burmese(tmp_path: Path) -> None:
    localization = load_config(refuge_env(tmp_path)).localization
    assert localization.chain("rhg") == ("rhg", "en")


@pytest.mark.parametrize(
    "chain", ["rhg=my", "rhg=my,en", "fr=ar", "uk=en,my", "rhg=bn"], ids=lambda chain: chain
)
def test_a_chain_into_another_script_is_refused_at_start_up(tmp_path: Path, chain: str) -> None:
    with pytest.raises(ConfigError, match=r"REFUGE_LOCALE_FALLBACKS: .* cannot fall back to"):
        load_config({**refuge_env(tmp_path), "REFUGE_LOCALE_FALLBACKS": chain})


def test_a_chain_within_one_script_is_accepted(tmp_path: Path) -> None:
    env = {
        **refuge_env(tmp_path),
        "REFUGE_LOCALES": "en,ar,fa,uk,ru,my",
        "REFUGE_LOCALE_FALLBACKS": "fa=ar;uk=ru,en",
    }
    localization = load_config(env).localization
    assert localization.chain("fa") == ("fa", "ar", "en")
    assert localization.chain("uk") == ("uk", "ru", "en")


def test_a_script_override_moves_the_check_with_it(tmp_path: Path) -> None:
    # Rohingya written in Hanifi would be refused a Latin fallback other than English.
    env = {
        **refuge_env(tmp_path),
        "REFUGE_LOCALE_SCRIPTS": "rhg=Rohg",
        "REFUGE_LOCALE_FALLBACKS": "rhg=fr",
    }
    with pytest.raises(ConfigError, match=r"rhg \(Rohg script\) cannot fall back to fr"):
        load_config(env)


@pytest.mark.parametrize(
    ("locale", "expected"), [("rhg", "3 Nov 2026"), ("en", "3 Nov 2026"), ("fr", "3 nov. 2026")]
)
def test_dates_are_written_in_the_script_the_reader_reads(locale: str, expected: str) -> None:
    assert dated(situation(locale), date(2026, 11, 3)) == expected


def test_a_rohingya_conversation_never_shows_burmese_script(app: Flask) -> None:
    load_demo_content(app)
    replies: dict[str, list[str]] = {}
    for index, (part, messages) in enumerate(CONVERSATION.items()):
        number = handset_number(430 + index)
        _register(app, [number], "rhg")
        handset = Handset(app, number)
        replies[part] = [text for message in messages for text in handset.send(message).messages]
    for part, texts in replies.items():
        assert texts, part
        for text in texts:
            assert not MYANMAR.search(text), (part, text)
            # Rohingya in Latin letters fits GSM-7: a third of UCS-2's cost per message.
            assert segments.measure(text).encoding == "GSM-7", (part, text)
    # Each resource says when it was checked, in Latin letters ("Zasai: 26 Nov 2026").
    assert any(LATIN_DATE.search(text) for text in replies["resources"]), replies["resources"]


def _rohingya_texts_of_the_demo() -> list[tuple[str, str]]:
    """Every Rohingya text in the demo content, with the record and field it translates."""
    found = []
    for kind, items in loader.read_all(CONTENT_DIR).items():
        for item in items:
            fields = item.data["translations"].get("rhg", {})
            for name, value in fields.items():
                if isinstance(value, dict):  # a checklist's steps, each with its own fields
                    found += [
                        (f"{kind} {item.id} {name} {part} {field}", text)
                        for part, texts in value.items()
                        for field, text in texts.items()
                    ]
                else:
                    found.append((f"{kind} {item.id} {name}", value))
    return found


def test_the_demo_content_in_rohingya_is_in_latin_letters_only() -> None:
    texts = _rohingya_texts_of_the_demo()
    # The demo's Rohingya covers Cox's Bazar: its bulletins, rumour checks, help and places.
    assert len(texts) >= 50
    burmese = [(where, text) for where, text in texts if MYANMAR.search(text)]
    assert not burmese, burmese
    # Latin letters a phone sends as GSM-7, so a Rohingya reader pays for no UCS-2 segments.
    wider = [(where, text) for where, text in texts if segments.measure(text).encoding != "GSM-7"]
    assert not wider, wider
