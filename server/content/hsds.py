"""HSDS 3.0 (Open Referral) import: nested JSON records or a tabular datapackage, into Refuge.

A service becomes a Resource of the given region, its organization an Organization, each of its
service_at_locations a Location, and its phones, schedules, languages and taxonomy attributes
the resource's own. Ids are kept (phones and locations get ids derived from their service), so
importing the same data again updates in place. What Refuge cannot hold (fax numbers, monthly
or ended schedules, unrecognised languages, unmatched terms) is skipped and reported; broken
input raises HsdsError naming the file, the record and, for CSV, the line. Nothing is committed
here: the caller's transaction takes all of it or none.

This module holds the public names, HSDS's vocabulary and the helpers that read one value of a
record; the `_` helpers are shared with hsds_read (files into nested records, records into
values) and hsds_import (values into models), which build on it.
"""

from __future__ import annotations

import json
import math
import re
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time
from functools import cache
from pathlib import Path
from typing import Any

from babel import Locale
from babel.core import get_global
from sqlalchemy.orm import Session

from server.content.text import fold
from server.models.content import ID_LENGTH, Category, Region

Record = dict[str, Any]
Item = tuple[str, Record, str]  # (HSDS object kind, record, where it came from)
ORIGIN = "hsds"
#: Namespace of the UUIDs derived for HSDS ids (a service's phones and locations, exports).
NAMESPACE = uuid.UUID("aa3efd1b-a758-4f8f-bee8-b570da5b6e5c")
CATEGORY_TAXONOMY = "refuge-categories"

_FIELD_NAMES = {
    "organization": "id name alternate_name description email website tax_status tax_id "
    "year_incorporated legal_status logo uri parent_organization_id funding contacts phones "
    "locations programs organization_identifiers attributes metadata services",
    "service": "id organization_id program_id name alternate_name description url email status "
    "interpretation_services application_process fees_description wait_time fees accreditations "
    "eligibility_description minimum_age maximum_age assured_date assurer_email licenses alert "
    "last_modified phones schedules service_areas service_at_locations languages organization "
    "funding cost_options program required_documents contacts attributes metadata",
    "service_area": "id service_id name description extent extent_type uri attributes metadata",
    "service_at_location": "id service_id location_id description contacts phones schedules "
    "location service attributes metadata",
    "location": "id location_type url organization_id name alternate_name description "
    "transportation latitude longitude external_identifier external_identifier_type languages "
    "addresses contacts accessibility phones schedules attributes metadata",
    "address": "id location_id attention address_1 address_2 city region state_province "
    "postal_code country address_type attributes metadata",
    "phone": "id location_id service_id organization_id contact_id service_at_location_id number "
    "extension type description languages attributes metadata",
    "schedule": "id service_id location_id service_at_location_id valid_from valid_to dtstart "
    "timezone until count wkst freq interval byday byweekno bymonthday byyearday description "
    "opens_at closes_at schedule_link attending_type notes attributes metadata",
    "language": "id service_id location_id phone_id name code note attributes metadata",
    "attribute": "id link_id taxonomy_term_id link_type link_entity value taxonomy_term metadata",
    "taxonomy_term": "id code name description parent_id taxonomy taxonomy_detail language "
    "taxonomy_id term_uri metadata",
    "taxonomy": "id name description uri version metadata",
}
#: Each HSDS 3.0 object's fields, in the order of the specification's CSV columns.
FIELDS = {kind: tuple(names.split()) for kind, names in _FIELD_NAMES.items()}
_NESTED_NAMES = (
    "funding contacts phones locations programs organization_identifiers attributes metadata "
    "services schedules service_areas service_at_locations languages organization cost_options "
    "program required_documents location service addresses accessibility taxonomy_term "
    "taxonomy_detail"
)
#: Fields that hold nested objects: JSON only, never a CSV column.
NESTED = frozenset(_NESTED_NAMES.split())
#: The datapackage file of each object Refuge reads and writes.
CSV_FILES = {
    "organization": "organizations.csv",
    "service": "services.csv",
    "location": "locations.csv",
    "service_at_location": "service_at_location.csv",
    "service_area": "service_areas.csv",
    "address": "addresses.csv",
    "phone": "phones.csv",
    "schedule": "schedules.csv",
    "language": "languages.csv",
    "taxonomy": "taxonomies.csv",
    "taxonomy_term": "taxonomy_terms.csv",
    "attribute": "attributes.csv",
}
#: Phrases that clearly name a category, most specific first; a match is used up.
_CATEGORY_WORDS = (
    (Category.PSYCHOSOCIAL, "mental health|psychosocial|mhpss|counsell?ing|psychological|trauma"),
    (
        Category.FAMILY_TRACING,
        "family tracing|restoring family links|family reunification|missing persons?",
    ),
    (Category.PROTECTION, "protection|gbv|gender based violence|domestic violence|trafficking"),
    (Category.LEGAL_AID, "legal|lawyers?|legal aid|legal advice"),
    (Category.DOCUMENTATION, "documentation|civil registration|birth registration|id cards?"),
    (Category.MEDICAL, "medical|health|healthcare|clinics?|hospitals?|first aid|medicines?"),
    (Category.SHELTER, "shelters?|housing|accommodation|homeless(?:ness)?"),
    (Category.FOOD_WATER, "food|water|nutrition|meals?|wash"),
    (Category.EVACUATION, "evacuation|evacuate"),
    (Category.HELPLINE, "helplines?|hotlines?|crisis lines?"),
)
_TIME = re.compile(r"(\d{1,2}):(\d{2})(?::(\d{2})(?:\.\d+)?)?(?:Z|[+-]\d{2}:?\d{2})?")
_WEEK = ("MONDAY", "TUESDAY", "WEDNESDAY", "THURSDAY", "FRIDAY", "SATURDAY", "SUNDAY")
_SUBTAG = re.compile(r"[A-Za-z0-9]{1,8}")


class HsdsError(Exception):
    """HSDS data Refuge cannot use: the message names the file, the record and the CSV line."""


@dataclass
class HsdsImportReport:
    """What an import did: counts per kind and outcome, warnings, and fields HSDS lacks."""

    counts: dict[str, dict[str, int]] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)
    #: "object.field" -> how many records carried a field HSDS 3.0 does not define.
    unknown_fields: dict[str, int] = field(default_factory=dict)
    records: int = 0

    def count(self, kind: str, outcome: str) -> None:
        """Add one `kind` record (service, phone...) to `outcome` (created, skipped...)."""
        by_outcome = self.counts.setdefault(kind, {})
        by_outcome[outcome] = by_outcome.get(outcome, 0) + 1

    def get(self, kind: str, outcome: str) -> int:
        """How many `kind` records had `outcome`."""
        return self.counts.get(kind, {}).get(outcome, 0)


def columns(kind: str) -> list[str]:
    """The CSV columns of an HSDS object, as the specification's datapackage names them."""
    return [name for name in FIELDS[kind] if name not in NESTED]


def derived_id(kind: str, *parts: str) -> str:
    """A stable UUID for a record made from others, e.g. one service's copy of a phone."""
    return str(uuid.uuid5(NAMESPACE, ":".join((kind, *parts))))


@cache
def _language_tables() -> tuple[frozenset[str], dict[str, str], dict[str, str]]:
    english = Locale("en").languages
    by_name = {name.casefold(): code for code, name in english.items() if "_" not in code}
    return frozenset(english), by_name, dict(get_global("language_aliases"))


def language_tag(text: str) -> str | None:
    """The BCP 47 tag for a code ("ur", "urd", "en_GB") or English name ("Urdu"), else None."""
    known, by_name, aliases = _language_tables()
    parts = text.strip().replace("_", "-").split("-")
    if all(_SUBTAG.fullmatch(part) for part in parts) and len(parts[0]) in (2, 3):
        primary = aliases.get(parts[0].lower(), parts[0].lower())
        if primary in known and "_" not in primary:
            rest = [
                p.upper() if len(p) == 2 else p.title() if len(p) == 4 else p for p in parts[1:]
            ]
            tag = "-".join([primary, *rest])
            return tag if len(tag) <= 16 else None
    return by_name.get(text.strip().casefold())


def categories_for(term: Record) -> set[Category]:
    """The Refuge categories a taxonomy term clearly names by its code or name."""
    code = str(term.get("code") or "").strip().lower().replace("-", "_")
    if code in {category.value for category in Category}:
        return {Category(code)}
    name = str(term.get("name") or "")
    text = f" {fold(f'{code} {name}'.replace('_', ' '))} "
    found: set[Category] = set()
    for category, words in _CATEGORY_WORDS:
        pattern = re.compile(rf"(?<= )(?:{words})(?= )")
        if pattern.search(text):
            found.add(category)
            text = pattern.sub(" ", text)
    return found


def import_hsds(
    session: Session,
    path: Path,
    *,
    region: Region | None = None,
    region_map: dict[str, str] | None = None,
    on_progress: Callable[[int], None] | None = None,
    now: datetime | None = None,
) -> HsdsImportReport:
    """Import an HSDS JSON file or tabular datapackage, in the caller's session.

    Each service goes to the region its places match (`hsds_regions`: the `region_map` of
    `read_region_map`, then region names), else to `region`; with neither, HsdsError.
    """
    # Both build on this module: import late.
    from server.content.hsds_import import HsdsImporter
    from server.content.hsds_regions import RegionChooser

    session.flush()
    chooser = RegionChooser(session, region, region_map or {})
    importer = HsdsImporter(session, chooser, now or datetime.now(UTC), on_progress)
    importer.run(importer.read(path))
    return importer.report


def load_json(path: Path) -> Any:
    """A JSON document, or HsdsError naming the file, line and column of what is wrong."""
    try:
        with path.open(encoding="utf-8-sig") as handle:
            return json.load(handle)
    except json.JSONDecodeError as error:
        message = f"line {error.lineno}, column {error.colno}: invalid JSON: {error.msg}"
        raise HsdsError(f"{path}: {message}") from None
    except UnicodeDecodeError:
        raise HsdsError(f"{path}: is not UTF-8 text") from None
    except RecursionError:
        raise HsdsError(f"{path}: is nested too deeply to read") from None
    except OSError as error:
        raise HsdsError(f"{path}: cannot be read: {error.strerror}") from None


def _text(record: Record, name: str, where: str) -> str | None:
    value = record.get(name)
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if value is not None and (isinstance(value, bool) or not isinstance(value, str | int | float)):
        raise HsdsError(f"{where}: {name} must be text, not {type(value).__name__}")
    return None if value is None else str(value).strip() or None


def _required(record: Record, name: str, where: str, limit: int | None = None) -> str:
    text = _text(record, name, where)
    if text is None:
        raise HsdsError(f"{where}: the required field {name} is missing")
    if limit is not None and len(text) > limit:
        raise HsdsError(f"{where}: {name} is longer than {limit} characters")
    return text


def _identifier(record: Record, where: str) -> str:
    return _required(record, "id", where, ID_LENGTH)


def _objects(record: Record, name: str, where: str) -> list[Record] | None:
    value = record.get(name)
    if value is not None and not (
        isinstance(value, list) and all(isinstance(item, dict) for item in value)
    ):
        raise HsdsError(f"{where}: {name} must be a list of objects")
    return value


def _object(record: Record, name: str, where: str) -> Record | None:
    value = record.get(name)
    if value is not None and not isinstance(value, dict):
        raise HsdsError(f"{where}: {name} must be an object")
    return value


def _date(record: Record, name: str, where: str) -> date | None:
    text = _text(record, name, where)
    try:
        if text is None or len(text) == 10:
            return date.fromisoformat(text) if text else None
        return datetime.fromisoformat(text).date()
    except ValueError:
        raise HsdsError(f"{where}: {name} {text!r} is not an ISO 8601 date") from None


def _time(record: Record, name: str, where: str) -> time | None:
    text = _text(record, name, where)
    if text is None:
        return None
    match = _TIME.fullmatch(text)
    hour, minute, second = (int(part or 0) for part in match.groups()) if match else (99, 0, 0)
    if (hour, minute, second) == (24, 0, 0):
        return time(23, 59, 59)  # "24:00", closing at midnight
    if hour > 23 or minute > 59 or second > 59:
        raise HsdsError(f"{where}: {name} {text!r} is not a time like 09:00 or 09:00:00")
    return time(hour, minute, second)


def _number(record: Record, name: str, where: str) -> float | None:
    value = record.get(name)
    if value is None or value == "":
        return None
    try:
        number = float(value) if not isinstance(value, bool) else math.nan
    except (TypeError, ValueError):
        number = math.nan
    if not math.isfinite(number):
        raise HsdsError(f"{where}: {name} must be a number, not {value!r}")
    return number


def _weekdays(text: str | None) -> str | None:
    """RFC 5545 BYDAY codes ("MO,TU") from codes or English day names; None if not weekly."""
    days: set[str] = set()
    for token in re.split(r"[,\s]+", (text or "").strip().upper()):
        day = next((d for d in _WEEK if len(token) >= 2 and d.startswith(token)), None)
        if token and day is None:
            return None
        days.add(day or "")
    return ",".join(day[:2] for day in _WEEK if day in days) or None
