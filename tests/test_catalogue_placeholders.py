"""A translation whose placeholders differ from its source's never reaches a person as an error.

Issue 18: a `%(name)s` mistyped in the Ukrainian catalogue passed `compile`, and the SMS
check-in set-up then answered "Sorry, something went wrong". Compiling now refuses such a
catalogue; a catalogue that reaches the server anyway shows that one message in the source text.
"""

from __future__ import annotations

import logging
import shutil
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from flask import Flask

from server.app import create_app
from server.config import Settings
from server.db import Base, get_database
from server.i18n import locales, tools, web
from tests.checkin_helpers import Clock, Phone, register, set_up
from tests.sms_helpers import load_demo_content

SETUP_ADDED = "%(name)s added and asked. Add another, or reply DONE."
ABOUT_RUN_AT = "This Refuge service is run at %(operator)s."
PERSON, SARA = "+44 7700 900611", "+44 7700 900612"


def mistyped_copy(root: Path, source: str) -> Path:
    """A copy of the shipped catalogues whose Ukrainian translation of `source` names
    `%(nmae)s` where the source names `%(name)s` (or `%(operator)s`)."""
    target = root / "locales"
    shutil.copytree(locales.LOCALES_DIR, target, ignore=shutil.ignore_patterns("*.mo", "*.stamp"))
    po = target / "uk" / "LC_MESSAGES" / "messages.po"
    lines = po.read_text(encoding="utf-8").splitlines(keepends=True)
    at = lines.index(f'msgid "{source}"\n') + 1
    placeholder = source[source.index("%(") : source.index(")s") + 2]
    assert lines[at].startswith("msgstr")
    assert placeholder in lines[at]
    lines[at] = lines[at].replace(placeholder, "%(nmae)s")
    po.write_text("".join(lines), encoding="utf-8")
    return target


def cyrillic(text: str) -> bool:
    return any("\u0400" <= ch <= "\u04ff" for ch in text)


def compile_anyway(locales_dir: Path) -> None:
    """Write the .mo files whatever they hold: a catalogue that reached a server unchecked."""
    for po in tools.catalogues(locales_dir):
        with po.open("rb") as handle:
            catalog = read_po(handle, locale=po.parent.parent.name)
        with po.with_suffix(".mo").open("wb") as handle:
            write_mo(handle, catalog, use_fuzzy=False)


def test_compile_refuses_a_mistyped_placeholder_naming_file_line_and_message(
    tmp_path: Path,
) -> None:
    copy = mistyped_copy(tmp_path, SETUP_ADDED)
    with pytest.raises(tools.CatalogueRefused) as refused:
        tools.compile_all(copy)
    po = copy / "uk" / "LC_MESSAGES" / "messages.po"
    line = po.read_text(encoding="utf-8").splitlines().index(f'msgid "{SETUP_ADDED}"') + 1
    (problem,) = refused.value.problems
    assert problem.startswith(f"{po}:{line}: ")
    assert "%(nmae)s" in problem
    assert SETUP_ADDED in problem
    assert list(copy.glob("*/LC_MESSAGES/*.mo")) == []  # nothing compiled, not even the others


def test_the_shipped_catalogues_compile(tmp_path: Path) -> None:
    copy = tmp_path / "locales"
    shutil.copytree(locales.LOCALES_DIR, copy, ignore=shutil.ignore_patterns("*.mo"))
    assert tools.compile_all(copy) == len(tools.catalogues(copy))


@pytest.fixture
def forced_bad_sms_catalogue(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """The SMS side reads a Ukrainian catalogue with `%(nmae)s` for `%(name)s`."""
    copy = mistyped_copy(tmp_path, SETUP_ADDED)
    compile_anyway(copy)
    monkeypatch.setattr(locales, "LOCALES_DIR", copy)
    locales.compiled.cache_clear()
    yield
    locales.compiled.cache_clear()


def test_a_mistyped_sms_translation_answers_the_set_up_in_the_source_text(
    app: Flask, forced_bad_sms_catalogue: None, caplog: pytest.LogCaptureFixture
) -> None:
    load_demo_content(app)
    clock = Clock(datetime(2026, 12, 1, 8, 0, tzinfo=UTC))
    register(app, PERSON, "uk", "kharkiv")
    register(app, SARA, "uk")
    with caplog.at_level(logging.WARNING):
        replies = set_up(Phone(app, PERSON, clock), "uk", contacts=(("+447700900612", "Sara"),))
    added = replies[6]
    assert added.startswith("Sara added and asked."), replies
    assert not any("Sorry" in reply or "Вибачте" in reply for reply in replies), replies
    # Only that message falls back: the others are still Ukrainian.
    assert all(cyrillic(reply) for place, reply in enumerate(replies) if place != 6), replies
    logged = [r.getMessage() for r in caplog.records if "is not used" in r.getMessage()]
    assert len(logged) == 1
    assert SETUP_ADDED in logged[0]
    assert not any("Sara" in message or "7700" in message for message in caplog.messages)


def test_a_mistyped_page_translation_shows_that_message_in_the_source_text(
    tmp_path: Path,
    make_settings: Callable[..., Settings],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    copy = mistyped_copy(tmp_path, ABOUT_RUN_AT)
    compile_anyway(copy)
    monkeypatch.setattr(locales, "LOCALES_DIR", copy)  # pages read the same catalogues
    locales.compiled.cache_clear()
    monkeypatch.setattr(web, "LOCALES_DIR", copy)
    settings = make_settings(REFUGE_PUBLIC_URL="https://help.example.org")
    app = create_app(settings)
    Base.metadata.create_all(get_database(app).engine)
    response = app.test_client().get("/uk/about")
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "This Refuge service is run at" in page
    assert "help.example.org" in page
    assert 'lang="uk"' in page  # the rest of the page stays Ukrainian
    locales.compiled.cache_clear()
