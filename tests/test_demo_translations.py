"""The demo shows what a translated deployment looks like: it speaks each place's languages.

Someone trying Refuge in Bengali, Burmese or Rohingya for Cox's Bazar, in Arabic for Gedaref or
in Ukrainian for Kharkiv reads the news, the rumour checks and the help of that place in their
language, not an English fallback notice on every item. Every such translation is a machine
draft waiting for a native reader, and Refuge says so (`refuge i18n status` counts drafts).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from functools import cache

import pytest
from flask import Flask
from sqlalchemy import select

from server import db
from server.cli.content import CONTENT_DIR
from server.config import DEFAULT_LOCALES
from server.content import loader
from server.content.kinds import KINDS
from server.content.records import Parsed
from server.models.translations import Translation, TranslationStatus
from server.segments import measure

#: Languages read in a country's demo places besides its regions' default locales: the camps
#: of Cox's Bazar read Rohingya (in Latin letters) and Burmese as well as Bengali.
ALSO_READ = {"BD": {"my", "rhg"}}
SHIPPED = [locale for locale in DEFAULT_LOCALES if locale != "en"]


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


#: The fields the demo translates: every translatable text of the content format when the demo
#: was translated (docs/content-format.md). Fields made translatable later (places and their
#: addresses, opening-hours notes, checklist platform versions, rumour wordings) join this list
#: when the demo's files translate them.
FIELDS = {
    "region": ("name",),
    "organization": ("name", "description"),
    "resource": ("name", "description", "status_note"),
    "bulletin": ("title", "body"),
    "checklist": ("title", "summary"),
}
#: A checklist's steps, each translated under its id (`translations: {ar: {steps: {id: ...}}}`).
STEP_FIELDS = ("title", "web", "sms")


def _fields(kind_name: str, item: Parsed) -> Iterator[tuple[str, str | None, dict[str, str]]]:
    """Each translatable text of a record: (field, step id, {locale: translation})."""
    translations = item.data["translations"]
    for name in FIELDS[kind_name]:
        if item.data.get(name):
            yield (
                name,
                None,
                {locale: fields[name] for locale, fields in translations.items() if name in fields},
            )
    for step in item.data.get("steps", []):
        for name in STEP_FIELDS:
            yield (
                name,
                step["id"],
                {
                    locale: fields["steps"][step["id"]][name]
                    for locale, fields in translations.items()
                    if name in fields.get("steps", {}).get(step["id"], {})
                },
            )


def _missing(kind_name: str, item: Parsed, locales: set[str]) -> list[str]:
    return [
        f"{kind_name} {item.id}: {name}{f' of step {part}' if part else ''} in {locale}"
        for name, part, have in _fields(kind_name, item)
        for locale in sorted(locales - {item.data["locale"]})
        if not have.get(locale)
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
        (item.id, part, locale, measure(text).units)
        for item in _demo()["checklist"]
        for name, part, have in _fields("checklist", item)
        if name == "sms"
        for locale, text in have.items()
        if measure(text).segments > 1
    ]
    assert not too_long
    assert any(
        have
        for item in _demo()["checklist"]
        for name, _, have in _fields("checklist", item)
        if name == "sms"
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
            parts = {part["id"]: part for part in item.data.get("steps", [])}
            for name, part, have in _fields(kind.name, item):
                source = parts[part][name] if part else item.data[name]
                if name == "sms":  # a line of plain text, condensed to fit one message
                    continue
                for locale, text in have.items():
                    if _skeleton(text) != _skeleton(source):
                        changed.append((item.id, part, name, locale))
    assert not changed, changed


@pytest.fixture
def database(app: Flask) -> db.Database:
    return db.get_database(app)


def test_the_demo_loads_with_every_translation_marked_as_a_draft(database: db.Database) -> None:
    in_files = sum(
        1
        for kind in KINDS
        for item in _demo()[kind.name]
        for _name, _part, have in _fields(kind.name, item)
        for _locale in have
    )
    with database.session() as session:
        report = loader.load(session, CONTENT_DIR)
    assert report.total("created") > 0
    with database.session() as session:
        rows = session.scalars(select(Translation)).all()
    # Machine-drafted, every one: nobody who reads these languages natively has checked them.
    assert len(rows) == in_files
    assert {row.status for row in rows} == {TranslationStatus.DRAFT}
