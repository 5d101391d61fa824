"""The demo shows what a translated deployment looks like: it speaks each place's languages.

Someone trying Refuge in Bengali, Burmese or Rohingya for Cox's Bazar, in Arabic for Gedaref or
in Ukrainian for Kharkiv reads the news, the rumour checks and the help of that place in their
language, not an English fallback notice on every item. Every such translation is a machine
draft waiting for a native reader, and Refuge says so (`refuge i18n status` counts drafts).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import cache

import pytest
from flask import Flask
from sqlalchemy import select

from server import db
from server.cli.content import CONTENT_DIR
from server.config import DEFAULT_LOCALES
from server.content import loader
from server.content.context import MIN_SCORE, similarity
from server.content.kinds import KINDS
from server.content.records import Parsed
from server.models.translations import Translation, TranslationStatus
from server.segments import measure
from tests.checkin_helpers import Clock, Phone, register
from tests.sms_helpers import keyword, load_demo_content

#: Languages read in a country's demo places besides its regions' default locales: the camps
#: of Cox's Bazar read Rohingya (in Latin letters) and Burmese as well as Bengali.
ALSO_READ = {"BD": {"my", "rhg"}}
SHIPPED = [locale for locale in DEFAULT_LOCALES if locale != "en"]
#: A day the demo's rumour checks are in force.
NOW = datetime(2026, 11, 28, 12, 0, tzinfo=UTC)


@cache
def _demo() -> dict[str, list[Parsed]]:
    return loader.read_all(CONTENT_DIR)


def _regions() -> dict[str, Parsed]:
    return {item.id: item for item in _demo()["region"]}


def _locales_of(slug: str) -> set[str]:
    """What the people of a place read: its default locale and those of the places above it."""
    regions = _regions()
    locales: set[str] = set()
    region: Parsed | None = regions[slug]
    while region is not None:
        locales.add(region.data["default_locale"])
        locales |= ALSO_READ.get(region.data["country_code"], set())
        parent = region.data["parent"]
        region = regions[parent] if parent else None
    return locales


#: The fields the demo translates: every translatable text of a record in the content format
#: (docs/content-format.md), besides the parts below.
FIELDS = {
    "region": ("name",),
    "organization": ("name", "description"),
    "resource": ("name", "description", "status_note"),
    "bulletin": ("title", "body"),
    "checklist": ("title", "summary", "platform_version"),
}
#: Each kind's translatable parts, as the content format defines them (`kinds.Parts`): a
#: checklist's steps, a resource's public places and opening-hours notes, a context note's
#: rumour wordings in its own language. A confidential place is none of them.
PARTS = {kind.name: kind.parts for kind in KINDS}


@dataclass(frozen=True)
class Text:
    """One translatable text of a record: its field, the part it belongs to (None for the
    record's own fields), its source and its translations by locale."""

    name: str
    part: str | None
    source: str
    have: dict[str, str]


def _fields(kind_name: str, item: Parsed) -> Iterator[Text]:
    """Each translatable text of a record, with the translations its file gives."""
    translations = item.data["translations"]
    for name in FIELDS[kind_name]:
        if item.data.get(name):
            yield Text(
                name,
                None,
                item.data[name],
                {locale: fields[name] for locale, fields in translations.items() if name in fields},
            )
    for parts in PARTS[kind_name]:
        for part_id, part in parts.named(item.data):
            for name in parts.translatable:
                if not part.get(name):
                    continue
                yield Text(
                    name,
                    f"{parts.field} {part_id}",
                    part[name],
                    {
                        locale: fields[parts.field][part_id][name]
                        for locale, fields in translations.items()
                        if name in fields.get(parts.field, {}).get(part_id, {})
                    },
                )


def _missing(kind_name: str, item: Parsed, locales: set[str]) -> list[str]:
    return [
        f"{kind_name} {item.id}: {text.name}{f' of {text.part}' if text.part else ''} in {locale}"
        for text in _fields(kind_name, item)
        for locale in sorted(locales - {item.data["locale"]})
        if not text.have.get(locale)
    ]


def _organization_locales() -> dict[str, set[str]]:
    """An organisation speaks to the places its resources and bulletins serve."""
    found: dict[str, set[str]] = {}
    for item in _demo()["resource"]:
        found.setdefault(item.data["organization"], set()).update(_locales_of(item.data["region"]))
    for item in _demo()["bulletin"]:
        if item.data["organization"]:
            for slug in item.data["regions"]:
                found.setdefault(item.data["organization"], set()).update(_locales_of(slug))
    return found


def test_the_camps_read_rohingya_burmese_and_bengali() -> None:
    # The expectation itself, so a region file's change cannot quietly empty the tests below.
    assert _locales_of("camp-12") == {"bn", "my", "rhg"}
    assert _locales_of("gedaref-town-gathering-site") == {"ar"}
    assert _locales_of("kharkiv") == {"uk"}


def test_every_bulletin_and_context_note_is_in_its_places_languages() -> None:
    missing = [
        line
        for item in _demo()["bulletin"]
        for line in _missing(
            "bulletin", item, set().union(*(_locales_of(s) for s in item.data["regions"]))
        )
    ]
    assert not missing, "\n".join(missing)


def test_every_resource_is_in_its_places_languages() -> None:
    missing = [
        line
        for item in _demo()["resource"]
        for line in _missing("resource", item, _locales_of(item.data["region"]))
    ]
    assert not missing, "\n".join(missing)


def test_every_organisation_is_in_the_languages_of_the_places_it_serves() -> None:
    wanted = _organization_locales()
    missing = [
        line
        for item in _demo()["organization"]
        for line in _missing("organization", item, wanted.get(item.id, set()))
    ]
    assert not missing, "\n".join(missing)


def test_every_region_is_named_in_every_shipped_language() -> None:
    missing = [
        line for item in _demo()["region"] for line in _missing("region", item, set(SHIPPED))
    ]
    assert not missing, "\n".join(missing)


def test_every_record_is_translated_into_every_shipped_language() -> None:
    # Beyond each place's own languages: a French or Burmese reader browsing any place, or
    # any security checklist, sees the demo in their language too.
    missing = [
        line
        for kind in KINDS
        for item in _demo()[kind.name]
        for line in _missing(kind.name, item, set(SHIPPED))
    ]
    assert not missing, "\n".join(missing[:20])


def test_every_translated_checklist_sms_fits_one_message() -> None:
    # A step goes out as one SMS in every language (the .po import refuses more, the file
    # loader does not look inside translations): at most 160 GSM-7 or 70 UCS-2 characters.
    too_long = [
        (item.id, text.part, locale, measure(translated).units)
        for item in _demo()["checklist"]
        for text in _fields("checklist", item)
        if text.name == "sms"
        for locale, translated in text.have.items()
        if measure(translated).segments > 1
    ]
    assert not too_long
    assert any(
        text.have
        for item in _demo()["checklist"]
        for text in _fields("checklist", item)
        if text.name == "sms"
    )


#: What a translation must keep exactly as its source has it: link targets, phone numbers,
#: and the Markdown skeleton (list items, numbered steps, paragraphs).
LINK = re.compile(r"(?:https://|tel:|mailto:)[^\s)\]]*[^\s)\].,;:]")
LIST_ITEM = re.compile(r"^(?:- |\d+\. )", re.MULTILINE)


def _skeleton(text: str) -> tuple[list[str], int, int]:
    return (sorted(LINK.findall(text)), len(LIST_ITEM.findall(text)), text.count("\n\n"))


def test_every_translation_keeps_the_links_numbers_and_markdown_of_its_source() -> None:
    changed = []
    for kind in KINDS:
        for item in _demo()[kind.name]:
            for text in _fields(kind.name, item):
                if text.name == "sms":  # a line of plain text, condensed to fit one message
                    continue
                for locale, translated in text.have.items():
                    if _skeleton(translated) != _skeleton(text.source):
                        changed.append((item.id, text.part, text.name, locale))
    assert not changed, changed


@pytest.fixture
def database(app: Flask) -> db.Database:
    return db.get_database(app)


def test_the_demo_loads_with_every_translation_marked_as_a_draft(database: db.Database) -> None:
    in_files = sum(
        1
        for kind in KINDS
        for item in _demo()[kind.name]
        for text in _fields(kind.name, item)
        for _locale in text.have
    )
    with database.session() as session:
        report = loader.load(session, CONTENT_DIR)
    assert report.total("created") > 0
    with database.session() as session:
        rows = session.scalars(select(Translation)).all()
    # Machine-drafted, every one: nobody who reads these languages natively has checked them.
    assert len(rows) == in_files
    assert {row.status for row in rows} == {TranslationStatus.DRAFT}


def test_places_hours_wordings_and_versions_are_among_the_translated_texts() -> None:
    # The fields made translatable after the demo was first translated: if the demo stopped
    # carrying them, the tests above would pass over them without a word.
    translated = {
        (kind.name, text.name, text.part.split()[0] if text.part else None)
        for kind in KINDS
        for item in _demo()[kind.name]
        for text in _fields(kind.name, item)
        if set(SHIPPED) <= set(text.have)
    }
    assert {
        ("resource", "name", "locations"),
        ("resource", "address", "locations"),
        ("resource", "description", "schedules"),
        ("bulletin", "phrase", "match_phrases"),
        ("checklist", "platform_version", None),
    } <= translated


def test_no_confidential_place_is_translated_in_the_demo() -> None:
    # A confidential place's name and address are shown to nobody, so never to a translator.
    confidential = [
        (item.id, place["id"])
        for item in _demo()["resource"]
        for place in item.data["locations"]
        if place["confidential"]
    ]
    assert confidential
    translated = [
        (item.id, locale, place_id)
        for item in _demo()["resource"]
        for locale, fields in item.data["translations"].items()
        for place_id in fields.get("locations", {})
        if (item.id, place_id) in confidential
    ]
    assert not translated, translated


#: Someone in Kharkiv forwards a rumour in Ukrainian, someone at the Gedaref gathering site in
#: Arabic, each in their own words (the note's translated wording), not the wording the note
#: was written with.
FORWARDED = [
    ("uk", "kharkiv", "sample-kharkiv-displaced-aid-rumour", "+44 7700 900611"),
    ("ar", "gedaref-town-gathering-site", "sample-gedaref-registration-rumour", "+44 7700 900612"),
]


@pytest.mark.parametrize(("locale", "place", "note_id", "number"), FORWARDED, ids=["uk", "ar"])
def test_a_rumour_forwarded_in_the_demo_places_language_gets_its_note(
    app: Flask, locale: str, place: str, note_id: str, number: str
) -> None:
    note = next(item for item in _demo()["bulletin"] if item.id == note_id)
    translated = note.data["translations"][locale]
    wording = translated["match_phrases"]["1"]["phrase"]
    # Only the translation can answer it: none of the note's own wordings is close enough.
    assert all(
        similarity(wording, phrase["phrase"]) < MIN_SCORE for phrase in note.data["match_phrases"]
    )
    load_demo_content(app)
    register(app, number, locale, place)
    phone = Phone(app, number, Clock(NOW))
    reply = phone.ask(f"{keyword(locale, 'CHECK')} {wording}")
    assert translated["title"] in reply, reply
