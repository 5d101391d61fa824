"""The last content fields become translatable (issue 19): rumour wordings, public places'
names and addresses, opening-hours notes and a checklist's platform version.

They go through the same mechanism as every other field (content files, .po export and import,
the source digest that makes a translation stale) and are used where the field is: a Ukrainian
rumour wording matches a rumour forwarded in Ukrainian, on SMS and through the matcher; pages
and SMS replies show places, hours and versions in the reader's language. A confidential
place's name and address never reach a translator's file.
"""

from __future__ import annotations

import shutil
from datetime import UTC, datetime
from pathlib import Path

import pytest
import yaml
from flask import Flask
from sqlalchemy import select

from server import db, segments
from server.content import loader
from server.content.context import match_context_notes
from server.content.labels import CATEGORY_NAMES
from server.content.translation_files import export_po, import_po, po_bytes
from server.i18n.locales import catalogue
from server.models.bulletins import Bulletin
from server.models.content import Category
from server.models.translations import Translation
from tests.checkin_helpers import Clock, Phone, register
from tests.sms_helpers import digits, keyword

FIXTURES = Path(__file__).parent / "fixtures" / "content"
NOW = datetime(2026, 11, 28, 12, 0, tzinfo=UTC)
RUMOUR_UK = "вода від гуманітарної допомоги отруєна"
FORWARDED_UK = "Терміново! Кажуть, що вода від гуманітарної допомоги отруєна, не пийте її"
PHRASE = "context_phrase:test-water-rumour/1:phrase"
PLACE_AR = {"name": "المربع 4", "address": "قرب نقطة المياه"}
HOURS_AR = "مغلق في أيام العطل الرسمية"
VERSION_AR = "أندرويد 15، آي أو إس 18"
PERSON = "+44 7700 900693"


def _import(app: Flask, locale: str, texts: dict[str, str]) -> None:
    with db.get_database(app).session() as session:
        catalog = export_po(session, locale, now=NOW)
        by_context = {message.context: message for message in catalog if message.id}
        for context, text in texts.items():
            by_context[context].string = text
        report = import_po(session, po_bytes(catalog), now=NOW)
    assert not report.refused, report.refused
    assert report.applied == len(texts)


def _matches(app: Flask, text: str) -> list[str]:
    with db.get_database(app).session() as session:
        return [match.bulletin.id for match in match_context_notes(session, text, NOW)]


@pytest.fixture
def loaded(app: Flask) -> Flask:
    with db.get_database(app).session() as session:
        loader.load(session, FIXTURES, now=NOW)
    return app


def test_a_ukrainian_rumour_wording_matches_the_ukrainian_message(loaded: Flask) -> None:
    assert _matches(loaded, FORWARDED_UK) == []
    _import(loaded, "uk", {PHRASE: RUMOUR_UK})
    assert _matches(loaded, FORWARDED_UK) == ["test-water-rumour"]
    with db.get_database(loaded).session() as session:  # the English wording changes
        note = session.get_one(Bulletin, "test-water-rumour")
        note.match_phrases[0].phrase = "the water from the aid trucks is poisoned"
    # A wording translated from another sentence answers nothing: a wrong verdict does harm.
    assert _matches(loaded, FORWARDED_UK) == []


def test_a_ukrainian_rumour_forwarded_by_sms_gets_the_note(loaded: Flask) -> None:
    register(loaded, PERSON, "uk", "river-camp")
    phone = Phone(loaded, PERSON, Clock(NOW))
    check = keyword("uk", "CHECK")
    title = "What we know about the water supply (sample)"
    assert title not in phone.ask(f"{check} {FORWARDED_UK}")
    _import(loaded, "uk", {PHRASE: RUMOUR_UK})
    assert title in phone.ask(f"{check} {FORWARDED_UK}")


def test_only_wordings_in_the_notes_language_are_offered_for_translation(loaded: Flask) -> None:
    with db.get_database(loaded).session() as session:
        contexts = {m.context for m in export_po(session, "uk", now=NOW) if m.id}
    assert PHRASE in contexts
    assert "context_phrase:test-water-rumour/2:phrase" not in contexts  # written in Arabic


def _river_clinic_with_notes(root: Path) -> Path:
    """The fixtures, the river clinic's hours with a note and Arabic for its place and hours,
    the checklist with an Arabic platform version: as a partner's files would give them."""
    shutil.copytree(FIXTURES, root)
    clinic_file = root / "resources" / "test-river-clinic.yaml"
    clinic = yaml.safe_load(clinic_file.read_text())
    clinic["schedules"][0]["description"] = "Closed on public holidays"
    clinic["translations"]["ar"]["locations"] = {"test-river-clinic-site": PLACE_AR}
    clinic["translations"]["ar"]["schedules"] = {1: {"description": HOURS_AR}}
    clinic_file.write_text(yaml.safe_dump(clinic, allow_unicode=True))
    guide_file = root / "checklists" / "test-phone.yaml"
    guide = yaml.safe_load(guide_file.read_text())
    guide["translations"]["ar"]["platform_version"] = VERSION_AR
    guide_file.write_text(yaml.safe_dump(guide, allow_unicode=True))
    return root


@pytest.fixture
def noted(app: Flask, tmp_path: Path) -> Flask:
    with db.get_database(app).session() as session:
        loader.load(session, _river_clinic_with_notes(tmp_path / "content"), now=NOW)
    return app


def test_places_hours_and_versions_show_in_the_readers_language(noted: Flask) -> None:
    client = noted.test_client()
    clinic = client.get("/ar/resources/test-river-clinic").get_data(as_text=True)
    for text in (*PLACE_AR.values(), HOURS_AR):
        assert text in clinic
    assert "Near the water point" not in clinic
    english = client.get("/en/resources/test-river-clinic").get_data(as_text=True)
    assert "Near the water point" in english
    assert "Closed on public holidays" in english
    guide = client.get("/ar/secure/test-phone").get_data(as_text=True)
    assert VERSION_AR in guide
    assert "Android 15, iOS 18" not in guide


def test_an_sms_reply_gives_the_hours_note_in_the_persons_language(noted: Flask) -> None:
    register(noted, PERSON, "ar", "river-camp")
    phone = Phone(noted, PERSON, Clock(NOW))
    phone.ask(keyword("ar", "FIND"))
    listed = phone.ask(digits(list(CATEGORY_NAMES).index(Category.MEDICAL) + 1, "ar"))
    more = str(catalogue("ar").gettext("Reply MORE for more"))
    while more in listed.rsplit("\n", 1)[-1]:
        listed += "\n" + phone.ask(keyword("ar", "MORE"))
    assert segments.prepare(HOURS_AR, segments.AccentPolicy.TRANSLITERATE) in listed


def test_place_and_hours_translations_survive_an_export_and_a_load(
    noted: Flask, tmp_path: Path
) -> None:
    out = tmp_path / "exported"
    with db.get_database(noted).session() as session:
        loader.export(session, out)
    written = yaml.safe_load((out / "resources" / "test-river-clinic.yaml").read_text())
    assert written["translations"]["ar"]["locations"] == {"test-river-clinic-site": PLACE_AR}
    assert written["translations"]["ar"]["schedules"] == {"1": {"description": HOURS_AR}}
    with db.get_database(noted).session() as session:
        report = loader.load(session, out, now=NOW)
        rows = session.scalars(
            select(Translation.text).where(Translation.entity.in_(["location", "opening_hours"]))
        ).all()
    assert sorted(rows) == sorted([*PLACE_AR.values(), HOURS_AR])
    assert report is not None


def test_a_confidential_place_never_reaches_a_translators_file(loaded: Flask) -> None:
    with db.get_database(loaded).session() as session:
        catalog = export_po(session, "ar", now=NOW)
        contexts = {message.context for message in catalog if message.id}
        assert "location:test-river-clinic/test-river-clinic-site:address" in contexts
        assert not any(context.startswith("location:test-safe-house") for context in contexts)
        catalog.add(
            "House 14", "بيت 14", context="location:test-safe-house/test-safe-house-site:name"
        )
        report = import_po(session, po_bytes(catalog), now=NOW)
    assert [refusal.context for refusal in report.refused] == [
        "location:test-safe-house/test-safe-house-site:name"
    ]
