"""HSDS 3.0 (Open Referral) import: nested JSON records or a tabular datapackage, into Refuge.

A service becomes a Resource of the given region, its organization an Organization, each of its
service_at_locations a Location, and its phones, schedules, languages and taxonomy attributes
the resource's own. Ids are kept (phones and locations get ids derived from their service), so
importing the same data again updates in place. What Refuge cannot hold (fax numbers, monthly
or ended schedules, unrecognised languages, unmatched terms) is skipped and reported; broken
input raises HsdsError naming the file, the record and, for CSV, the line. Nothing is committed
here: the caller's transaction takes all of it or none.
"""

from __future__ import annotations

import csv
import json
import math
import re
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time
from functools import cache
from pathlib import Path
from typing import Any, TypeVar

from babel import Locale
from babel.core import get_global
from sqlalchemy import select
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from server.content import search
from server.content.text import fold
from server.models.content import (
    ID_LENGTH,
    NAME_LENGTH,
    PHONE_LENGTH,
    URL_LENGTH,
    Category,
    Location,
    Organization,
    Phone,
    PhoneKind,
    Region,
    Resource,
    ResourceCategory,
    ResourceLanguage,
    Schedule,
    ServiceStatus,
)

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
    "address": "addresses.csv",
    "phone": "phones.csv",
    "schedule": "schedules.csv",
    "language": "languages.csv",
    "taxonomy": "taxonomies.csv",
    "taxonomy_term": "taxonomy_terms.csv",
    "attribute": "attributes.csv",
}
_REQUIRED_COLUMNS = {
    "organization": ("id", "name"),
    "service": ("id", "organization_id", "name", "status"),
    "service_at_location": ("id", "service_id", "location_id"),
    "address": ("id", "location_id", "address_type"),
    "phone": ("id", "number"),
    "attribute": ("id", "link_id", "taxonomy_term_id"),
    "taxonomy_term": ("id", "name"),
    "taxonomy": ("id", "name"),
}
#: How to tell a lone JSON record's kind, tried in order: keys only that kind has.
_SIGNS = (
    ("location", {"location_type", "addresses", "transportation", "latitude", "longitude"}),
    ("service_at_location", {"service", "location", "service_id", "location_id"}),
    ("service", {"status", "organization", "organization_id", "service_at_locations", "url"}),
    ("organization", {"services", "website", "tax_status", "legal_status", "locations", "logo"}),
    ("taxonomy_term", {"code", "taxonomy", "taxonomy_detail", "taxonomy_id", "term_uri"}),
    ("metadata", {"openapi_url", "profile"}),
    ("taxonomy", {"version", "uri"}),
)
_NOT_IMPORTED = {
    "location": "is linked to no service; Refuge keeps places per service",
    "taxonomy_term": "is a taxonomy term; categories come from a service's attributes",
    "taxonomy": "is a taxonomy, not a service",
    "metadata": "is HSDS metadata, not a record",
}
_PHONE_KINDS = {
    "voice": PhoneKind.VOICE,
    "cell": PhoneKind.VOICE,
    "mobile": PhoneKind.VOICE,
    "textphone": PhoneKind.VOICE,
    "text": PhoneKind.TEXT,
    "sms": PhoneKind.TEXT,
    "fax": None,
    "pager": None,
    "video": None,
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
_WEB_ADDRESS = re.compile(r"https?://[^\s/?#]+[^\s]*", re.IGNORECASE)
_EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+")
_E164 = re.compile(r"\+[1-9]\d{1,14}")
_TIME = re.compile(r"(\d{1,2}):(\d{2})(?::(\d{2})(?:\.\d+)?)?(?:Z|[+-]\d{2}:?\d{2})?")
_WHATSAPP_NOTE = re.compile(r"^whatsapp(?::\s*|$)", re.IGNORECASE)
_WEEK = ("MONDAY", "TUESDAY", "WEDNESDAY", "THURSDAY", "FRIDAY", "SATURDAY", "SUNDAY")
_SUBTAG = re.compile(r"[A-Za-z0-9]{1,8}")
_Child = TypeVar("_Child", Phone, Location)


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
    region: Region,
    on_progress: Callable[[int], None] | None = None,
    now: datetime | None = None,
) -> HsdsImportReport:
    """Import an HSDS JSON file or tabular datapackage into `region`, in the caller's session."""
    if region.id is None:
        session.flush()
    importer = _Importer(session, region, now or datetime.now(UTC), on_progress)
    if path.is_dir() or path.name == "datapackage.json":
        tables = importer.read_package(path if path.is_dir() else path.parent)
        items = importer.assemble(tables, str(path))
    else:
        items = importer.json_items(load_json(path), path.name)
    importer.run(items)
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


def _assign(row: object, values: Record) -> bool:
    changed = False
    for name, value in values.items():
        if getattr(row, name) != value:
            setattr(row, name, value)
            changed = True
    return changed


class _Importer:
    """One import run: the records seen so far, the report, and where each record came from."""

    def __init__(
        self,
        session: Session,
        region: Region,
        now: datetime,
        on_progress: Callable[[int], None] | None,
    ) -> None:
        self.session, self.region, self.now, self.on_progress = session, region, now, on_progress
        self.report = HsdsImportReport()
        self.origins: dict[int, str] = {}  # id(record) -> "phones.csv line 3"
        self.organizations: dict[str, Organization] = {}
        self.changed_organizations: set[str] = set()
        self.changed_resources: set[str] = set()
        self.resources: dict[str, Resource | None] = {}

    # --- Reading ------------------------------------------------------------------------------

    def json_items(self, data: Any, name: str) -> list[Item]:
        if isinstance(data, dict) and isinstance(data.get("contents"), list):
            data = data["contents"]  # a page of a list
        if isinstance(data, dict) and data and all(str(key).endswith(".csv") for key in data):
            return self.assemble(self.json_tables(data, name), name)
        items: list[Item] = []
        for number, record in enumerate(data if isinstance(data, list) else [data], 1):
            kind = next(
                (k for k, signs in _SIGNS if isinstance(record, dict) and signs & record.keys()), ""
            )
            if not kind:
                what = "not an HSDS organization, service, service_at_location or location"
                raise HsdsError(f"{name}: record {number} is {what}")
            items.append((kind, record, f"{name}: {kind} {record.get('id') or f'#{number}'}"))
        return items

    def json_tables(self, data: Record, name: str) -> dict[str, list[Record]]:
        kinds = {file: kind for kind, file in CSV_FILES.items()}
        tables: dict[str, list[Record]] = {}
        for file, rows in data.items():
            if file not in kinds:
                continue  # an HSDS table Refuge does not use
            if not isinstance(rows, list) or not all(isinstance(row, dict) for row in rows):
                raise HsdsError(f"{name}: {file} must be a list of rows")
            tables[kinds[file]] = [
                self.keep(kinds[file], row, f"{name}: {file} row {n}")
                for n, row in enumerate(rows, 1)
            ]
        return tables

    def read_package(self, folder: Path) -> dict[str, list[Record]]:
        paths = {kind: folder / file for kind, file in CSV_FILES.items()}
        descriptor = folder / "datapackage.json"
        if descriptor.is_file():
            package = load_json(descriptor)
            resources = package.get("resources") if isinstance(package, dict) else None
            if not isinstance(resources, list):
                raise HsdsError(f"{descriptor}: has no list of resources")
            for resource in resources:
                if isinstance(resource, dict) and isinstance(resource.get("path"), str):
                    relative = Path(resource["path"])
                    if relative.is_absolute() or ".." in relative.parts:
                        raise HsdsError(f"{descriptor}: {relative} is outside the package")
                    if resource.get("name") in paths:
                        paths[resource["name"]] = folder / relative
        tables: dict[str, list[Record]] = {}
        for kind, path in paths.items():
            if path.is_file():
                tables[kind] = self.read_csv(path, kind)
        return tables

    def read_csv(self, path: Path, kind: str) -> list[Record]:
        rows: list[Record] = []
        line = 1
        try:
            with path.open(encoding="utf-8-sig", newline="") as handle:
                reader = csv.reader(handle, strict=True)
                header = [name.strip() for name in next(reader, [])]
                missing = [
                    name for name in _REQUIRED_COLUMNS.get(kind, ("id",)) if name not in header
                ]
                if missing:
                    raise HsdsError(f"{path}: line 1: missing required column {', '.join(missing)}")
                if len(set(header)) < len(header):
                    raise HsdsError(f"{path}: line 1: a column is named twice")
                line = reader.line_num + 1
                for values in reader:
                    if any(value.strip() for value in values):
                        if len(values) != len(header):
                            fields = f"{len(values)} fields where the header has {len(header)}"
                            raise HsdsError(f"{path}: line {line}: {fields}")
                        rows.append(
                            self.keep(
                                kind,
                                dict(zip(header, values, strict=True)),
                                f"{path.name} line {line}",
                            )
                        )
                    line = reader.line_num + 1
        except csv.Error as error:
            raise HsdsError(f"{path}: line {line}: broken CSV: {error}") from None
        except UnicodeDecodeError:
            raise HsdsError(f"{path}: is not UTF-8 text") from None
        except OSError as error:
            raise HsdsError(f"{path}: cannot be read: {error.strerror}") from None
        return rows

    def keep(self, kind: str, row: Record, origin: str) -> Record:
        """A table row with HSDS's fields only, filled ones; the others are counted as unknown."""
        kept: Record = {}
        for name, value in row.items():
            if name not in FIELDS[kind]:
                key = f"{kind}.{name}"
                filled = value not in ("", None)
                self.report.unknown_fields[key] = self.report.unknown_fields.get(key, 0) + filled
            elif value not in ("", None):
                kept[name] = value
        _identifier(kept, origin)
        self.origins[id(kept)] = origin
        return kept

    def assemble(self, tables: dict[str, list[Record]], source: str) -> list[Item]:
        """Nest the rows of a tabular package the way HSDS's JSON form nests them."""
        for kind in ("organization", "service"):
            if kind not in tables:
                raise HsdsError(f"{source}: has no {CSV_FILES[kind]}")
        index = {kind: {str(row["id"]): row for row in rows} for kind, rows in tables.items()}

        def grouped(kind: str, key: str) -> dict[str, list[Record]] | None:
            if kind not in tables:
                return None
            groups: dict[str, list[Record]] = {}
            for row in tables[kind]:
                if row.get(key) is not None:
                    groups.setdefault(str(row[key]), []).append(row)
            return groups

        def attach(row: Record, name: str, groups: dict[str, list[Record]] | None) -> None:
            if groups is not None:
                row[name] = [child for child in groups.get(str(row["id"]), []) if child is not row]

        def link(row: Record, name: str, kind: str, key: str) -> None:
            target = index.get(kind, {}).get(str(row.get(key)))
            if target is not None:
                row[name] = target

        for term in tables.get("taxonomy_term", []):
            link(term, "taxonomy_detail", "taxonomy", "taxonomy_id")
        for attribute in tables.get("attribute", []):
            link(attribute, "taxonomy_term", "taxonomy_term", "taxonomy_term_id")
        addresses = grouped("address", "location_id")
        for location in tables.get("location", []):
            attach(location, "addresses", addresses)
        at_location = {
            name: grouped(kind, "service_at_location_id")
            for name, kind in (("phones", "phone"), ("schedules", "schedule"))
        }
        for sal in tables.get("service_at_location", []):
            link(sal, "location", "location", "location_id")
            for name, groups in at_location.items():
                attach(sal, name, groups)
                if name in sal:  # a phone of the service itself is attached there
                    sal[name] = [child for child in sal[name] if not child.get("service_id")]
        children = {
            "phones": grouped("phone", "service_id"),
            "schedules": grouped("schedule", "service_id"),
            "languages": grouped("language", "service_id"),
            "service_at_locations": grouped("service_at_location", "service_id"),
            "attributes": grouped("attribute", "link_id"),
        }
        items: list[Item] = [
            ("organization", row, self.origins[id(row)]) for row in tables["organization"]
        ]
        for service in tables["service"]:
            link(service, "organization", "organization", "organization_id")
            for name, groups in children.items():
                attach(service, name, groups)
            items.append(("service", service, self.origins[id(service)]))
        linked = {str(sal.get("location_id")) for sal in tables.get("service_at_location", [])}
        items += [
            ("location", row, self.origins[id(row)])
            for row in tables.get("location", [])
            if str(row["id"]) not in linked
        ]
        return items

    # --- Writing ------------------------------------------------------------------------------

    def run(self, items: list[Item]) -> None:
        for kind, record, where in items:
            try:
                if kind == "organization":
                    self.organization(record, where)
                elif kind == "service":
                    self.service(record, where, None, merge=False)
                elif kind == "service_at_location":
                    self.service_at_location(record, where)
                else:
                    self.report.count(kind, "skipped")
                    self.warn(f"{where}: {_NOT_IMPORTED[kind]}")
                self.session.flush()
            except SQLAlchemyError as error:
                reason = str(getattr(error, "orig", error)).splitlines()[0]
                raise HsdsError(f"{where}: the database refused it: {reason}") from None
            self.report.records += 1
            if self.on_progress is not None:
                self.on_progress(self.report.records)
        # Search documents carry the organization's name, so its resources follow its changes.
        stale = select(Resource).where(
            Resource.id.in_(self.changed_resources)
            | Resource.organization_id.in_(self.changed_organizations)
        )
        search.reindex_all(self.session, self.session.scalars(stale))
        self.session.flush()

    def warn(self, message: str) -> None:
        self.report.warnings.append(message)

    def at(self, record: Record, fallback: str) -> str:
        return self.origins.get(id(record), fallback)

    def check(self, kind: str, record: Record) -> None:
        for name in record:
            if name not in FIELDS[kind]:
                key = f"{kind}.{name}"
                self.report.unknown_fields[key] = self.report.unknown_fields.get(key, 0) + 1

    def fit(self, text: str | None, limit: int, where: str, name: str) -> str | None:
        if text is None or len(text) <= limit:
            return text
        self.warn(f"{where}: {name} cut to {limit} characters")
        return text[: limit - 1] + "…"

    def link(self, record: Record, name: str, where: str, limit: int) -> str | None:
        """A web address (http or https only) or an email address, else None and a warning."""
        text = _text(record, name, where)
        pattern = _EMAIL if name == "email" else _WEB_ADDRESS
        if text is not None and (len(text) > limit or not pattern.fullmatch(text)):
            self.warn(f"{where}: {name} {text[:80]!r} is not a usable address; left out")
            return None
        return text

    def organization(self, record: Record, where: str) -> Organization:
        self.check("organization", record)
        org_id, name = _identifier(record, where), _required(record, "name", where)
        if org_id not in self.organizations:
            self.organizations[org_id] = self.upsert_organization(record, where, org_id, name)
        org = self.organizations[org_id]
        for number, service in enumerate(_objects(record, "services", where) or [], 1):
            inner = f"{where}, service {service.get('id') or f'#{number}'}"
            self.service(service, inner, org, merge=False)
        return org

    def upsert_organization(
        self, record: Record, where: str, org_id: str, name: str
    ) -> Organization:
        org = self.session.get(Organization, org_id)
        if org is not None and org.origin != ORIGIN:
            self.warn(f"{where}: organization {org_id} is kept in {org.origin}; left as it is")
            self.report.count("organization", "skipped")
            return org
        values = {
            "name": self.fit(name, NAME_LENGTH, where, "name"),
            "alternate_name": self.fit(
                _text(record, "alternate_name", where), NAME_LENGTH, where, "alternate_name"
            ),
            "description": _text(record, "description", where) or "",
            "website": self.link(record, "website", where, URL_LENGTH),
            "email": self.link(record, "email", where, NAME_LENGTH),
            "retired": False,
        }
        outcome = "created" if org is None else "updated" if _assign(org, values) else "unchanged"
        if org is None:
            org = Organization(id=org_id, origin=ORIGIN, **values)
            self.session.add(org)
        if outcome != "unchanged":
            org.updated_at = self.now
            self.changed_organizations.add(org_id)
        self.report.count("organization", outcome)
        return org

    def service(
        self, record: Record, where: str, org: Organization | None, *, merge: bool
    ) -> Resource | None:
        self.check("service", record)
        service_id, name = _identifier(record, where), _required(record, "name", where)
        if service_id in self.resources:
            if not merge:
                self.warn(f"{where}: service {service_id} is given twice; the first is kept")
            return self.resources[service_id]
        self.resources[service_id] = None
        org = org or self.organization_of(record, where)
        resource = self.session.get(Resource, service_id)
        kept_by = resource.origin if resource is not None and resource.origin != ORIGIN else None
        if org is None or kept_by is not None:
            why = f"is kept in {kept_by}" if kept_by else "names no organization"
            self.warn(f"{where}: service {service_id} {why}; skipped")
            self.report.count("service", "skipped")
            return None
        values = self.service_values(record, where, name, org, resource)
        if resource is None:
            resource = Resource(id=service_id, origin=ORIGIN, updated_at=self.now, **values)
            self.session.add(resource)
            outcome = "created"
        else:
            if resource.region_id != self.region.id:
                self.warn(f"{where}: service {service_id} moves to region {self.region.slug}")
            outcome = "updated" if _assign(resource, values) else "unchanged"
        if self.children(resource, record, where, merge=merge) and outcome == "unchanged":
            outcome = "updated"
        if outcome == "updated":
            resource.updated_at = self.now
        if outcome != "unchanged":
            self.changed_resources.add(service_id)
        if not resource.categories:
            self.warn(f"{where}: no taxonomy term matches a Refuge category; it has none")
        self.report.count("service", outcome)
        self.resources[service_id] = resource
        return resource

    def organization_of(self, record: Record, where: str) -> Organization | None:
        nested = _object(record, "organization", where)
        if nested is not None:
            return self.organization(nested, self.at(nested, f"{where}, organization"))
        org_id = _text(record, "organization_id", where)
        if org_id is None or org_id in self.organizations:
            return self.organizations.get(org_id or "")
        return self.session.get(Organization, org_id)

    def service_values(
        self, record: Record, where: str, name: str, org: Organization, old: Resource | None
    ) -> Record:
        given = _text(record, "status", where)
        try:
            status = ServiceStatus((given or "").lower())
        except ValueError:
            status = ServiceStatus.INACTIVE
            self.warn(f"{where}: status {given!r} is not an HSDS status; imported as inactive")
        verified_on = _date(record, "assured_date", where)
        if verified_on is None:
            verified_on = _date(record, "last_modified", where)
            if verified_on is not None:
                self.warn(f"{where}: no assured_date; verified on its last_modified date")
            elif old is not None:
                verified_on = old.verified_on  # today would make it look newly checked
            else:
                verified_on = self.now.date()
                self.warn(f"{where}: no assured_date or last_modified; verified_on is today")
        verified_by = _text(record, "assurer_email", where) or org.name
        return {
            "organization_id": org.id,
            "region_id": self.region.id,
            "name": self.fit(name, NAME_LENGTH, where, "name"),
            "alternate_name": self.fit(
                _text(record, "alternate_name", where), NAME_LENGTH, where, "alternate_name"
            ),
            "description": _text(record, "description", where) or "",
            "url": self.link(record, "url", where, URL_LENGTH),
            "email": self.link(record, "email", where, NAME_LENGTH),
            "status": status,
            "verified_on": verified_on,
            "verified_by": self.fit(verified_by, NAME_LENGTH, where, "assurer_email"),
            "source_locale": "en",
            "retired": False,
        }

    def service_at_location(self, record: Record, where: str) -> None:
        _identifier(record, where)
        nested = _object(record, "service", where)
        resource: Resource | None = None
        if nested is not None:
            inner = self.at(nested, f"{where}, service {nested.get('id')}")
            resource = self.service(nested, inner, None, merge=True)
        elif (service_id := _text(record, "service_id", where)) is not None:
            resource = self.resources.get(service_id) or self.session.get(Resource, service_id)
        if resource is None or resource.origin != ORIGIN:
            self.warn(f"{where}: names no service this import can change; skipped")
            self.report.count("location", "skipped")
            return
        if self.children(resource, {"service_at_locations": [record]}, where, merge=True):
            self.changed_resources.add(resource.id)

    # --- A service's phones, locations, schedules, languages and categories ------------------

    def children(self, resource: Resource, record: Record, where: str, *, merge: bool) -> bool:
        """Bring the resource's children in line with the record's; True when any changed."""
        sals = [
            (sal, self.at(sal, f"{where}, service_at_location {sal.get('id')}"))
            for sal in _objects(record, "service_at_locations", where) or []
        ]
        parts = [(record, where), *sals]
        changed = False
        if "service_at_locations" in record:
            wanted = self.locations(resource, sals)
            changed |= self.sync(resource.locations, wanted, Location, "location", merge)
        if any("phones" in part for part, _ in parts):
            phones: dict[str, Record] = {}
            for part, part_where in parts:
                for phone in _objects(part, "phones", part_where) or []:
                    inner = self.at(phone, f"{part_where}, phone {phone.get('id')}")
                    self.phone(resource, phone, inner, phones)
            changed |= self.sync(resource.phones, phones, Phone, "phone", merge)
        if any("schedules" in part for part, _ in parts):
            changed |= self.schedules(resource, parts, merge)
        if "languages" in record:
            codes = self.languages(_objects(record, "languages", where) or [], where)
            current = {entry.code: entry for entry in resource.languages}
            changed |= self.sync_set(resource.languages, current, codes, "language", merge)
        if "attributes" in record:
            wanted_categories = self.categories(_objects(record, "attributes", where) or [], where)
            have = {entry.category: entry for entry in resource.categories}
            changed |= self.sync_set(
                resource.categories, have, wanted_categories, "category", merge
            )
        return changed

    def sync(
        self,
        items: list[_Child],
        wanted: dict[str, Record],
        model: type[_Child],
        kind: str,
        merge: bool,
    ) -> bool:
        current = {item.id: item for item in items}
        changed = False
        for key, values in wanted.items():
            if key not in current:
                items.append(model(id=key, **values))
                outcome = "created"
            else:
                outcome = "updated" if _assign(current[key], values) else "unchanged"
            changed = changed or outcome != "unchanged"
            self.report.count(kind, outcome)
        for key, item in current.items():
            if key not in wanted and not merge:
                items.remove(item)
                self.report.count(kind, "removed")
                changed = True
        return changed

    def sync_set(
        self, items: list[Any], current: dict[Any, Any], wanted: set[Any], kind: str, merge: bool
    ) -> bool:
        added = sorted(wanted - current.keys(), key=str)
        removed = [] if merge else [current[key] for key in current.keys() - wanted]
        for key in added:
            items.append(
                ResourceLanguage(code=key) if kind == "language" else ResourceCategory(category=key)
            )
            self.report.count(kind, "created")
        for item in removed:
            items.remove(item)
            self.report.count(kind, "removed")
        for _ in wanted & current.keys():
            self.report.count(kind, "unchanged")
        return bool(added or removed)

    def phone(
        self, resource: Resource, record: Record, where: str, wanted: dict[str, Record]
    ) -> None:
        self.check("phone", record)
        key = derived_id("phone", resource.id, _identifier(record, where))
        if key in wanted:
            return  # the same phone, listed again at a location
        number = _required(record, "number", where).strip("\"' ")
        given = (_text(record, "type", where) or "voice").lower()
        description = _text(record, "description", where)
        kind = PhoneKind.WHATSAPP if "whatsapp" in f"{given} {description}".lower() else None
        if kind is None and given not in _PHONE_KINDS:
            self.warn(f"{where}: phone type {given!r} is not HSDS's; imported as voice")
        kind = kind or _PHONE_KINDS.get(given, PhoneKind.VOICE)
        if kind is None or not number or len(number) > PHONE_LENGTH:
            why = f"a {given} number" if kind is None else f"number {number!r} is not usable"
            self.warn(f"{where}: {why}; skipped")
            self.report.count("phone", "skipped")
            return
        if not _E164.fullmatch(number):
            self.warn(f"{where}: {number!r} is not in E.164 form; kept as written")
        if kind is PhoneKind.WHATSAPP and description:
            description = _WHATSAPP_NOTE.sub("", description) or None
        if (extension := _text(record, "extension", where)) is not None:
            description = f"Extension {extension}. {description or ''}".strip()
        wanted[key] = {
            "number": number,
            "kind": kind,
            "description": self.fit(description, NAME_LENGTH, where, "description"),
        }

    def locations(self, resource: Resource, sals: list[tuple[Record, str]]) -> dict[str, Record]:
        wanted: dict[str, Record] = {}
        for sal, where in sals:
            self.check("service_at_location", sal)
            sal_id = _identifier(sal, where)
            location = _object(sal, "location", where)
            values = None
            if location is not None:
                inner = self.at(location, f"{where}, location {location.get('id')}")
                values = self.place(location, inner)
            else:
                self.warn(f"{where}: names no location this import has; skipped")
            if values is None:
                self.report.count("location", "skipped")
            else:
                wanted[derived_id("location", resource.id, sal_id)] = values
        return wanted

    def place(self, record: Record, where: str) -> Record | None:
        self.check("location", record)
        _identifier(record, where)
        kind = (_text(record, "location_type", where) or "physical").lower()
        if kind != "physical":
            self.warn(f"{where}: a {kind} location is not a place to go; skipped")
            return None
        addresses = _objects(record, "addresses", where) or []
        for address in addresses:
            self.check("address", address)
        physical = [a for a in addresses if (a.get("address_type") or "physical") == "physical"]
        if addresses and not physical:
            self.warn(f"{where}: has no physical address (only postal or virtual); none kept")
        address = physical[0] if physical else {}
        inner = self.at(address, f"{where}, address {address.get('id')}")
        lines = [_text(address, name, inner) for name in ("address_1", "address_2", "postal_code")]
        country = (_text(address, "country", inner) or "").upper() or None
        if country is not None and not (len(country) == 2 and country.isalpha()):
            self.warn(f"{inner}: country {country!r} is not an ISO 3166 code; left out")
            country = None
        latitude, longitude = (
            _number(record, "latitude", where),
            _number(record, "longitude", where),
        )
        if latitude is None or longitude is None or abs(latitude) > 90 or abs(longitude) > 180:
            if (latitude, longitude) != (None, None):
                self.warn(f"{where}: {latitude}, {longitude} is not a place on Earth; left out")
            latitude = longitude = None
        return {
            "name": self.fit(_text(record, "name", where), NAME_LENGTH, where, "name"),
            "address": ", ".join(line for line in lines if line) or None,
            "city": self.fit(_text(address, "city", inner), NAME_LENGTH, inner, "city"),
            "country_code": country,
            "latitude": latitude,
            "longitude": longitude,
        }

    def schedules(self, resource: Resource, parts: list[tuple[Record, str]], merge: bool) -> bool:
        wanted: list[tuple[str, time | None, time | None, str | None]] = []
        seen: set[str] = set()
        for part, part_where in parts:
            for record in _objects(part, "schedules", part_where) or []:
                where = self.at(record, f"{part_where}, schedule {record.get('id')}")
                self.check("schedule", record)
                if (schedule_id := _identifier(record, where)) not in seen:
                    seen.add(schedule_id)
                    entry = self.schedule(record, where)
                    if entry is not None and entry not in wanted:
                        wanted.append(entry)
        changed = False
        for schedule in list(resource.schedules):
            key = (schedule.byday, schedule.opens_at, schedule.closes_at, schedule.description)
            if key in wanted:
                wanted.remove(key)
                self.report.count("schedule", "unchanged")
            elif not merge:
                resource.schedules.remove(schedule)
                self.report.count("schedule", "removed")
                changed = True
        for byday, opens_at, closes_at, description in wanted:
            resource.schedules.append(
                Schedule(
                    byday=byday, opens_at=opens_at, closes_at=closes_at, description=description
                )
            )
            self.report.count("schedule", "created")
            changed = True
        return changed

    def schedule(
        self, record: Record, where: str
    ) -> tuple[str, time | None, time | None, str | None] | None:
        opens_at, closes_at = _time(record, "opens_at", where), _time(record, "closes_at", where)
        description = self.fit(
            _text(record, "description", where), NAME_LENGTH, where, "description"
        )
        ended = [day for name in ("valid_to", "until") if (day := _date(record, name, where))]
        frequency = (_text(record, "freq", where) or "WEEKLY").upper()
        byday = _weekdays(_text(record, "byday", where))
        if ended and min(ended) < self.now.date():
            why = f"ended on {min(ended)}"
        elif frequency == "WEEKLY" and byday is not None:
            return byday, opens_at, closes_at, description
        else:
            why = f"is not weekly on named days (freq {frequency}, byday {record.get('byday')!r})"
        self.warn(f"{where}: {why}; skipped")
        self.report.count("schedule", "skipped")
        return None

    def languages(self, records: list[Record], where: str) -> set[str]:
        codes: set[str] = set()
        for record in records:
            inner = self.at(record, f"{where}, language {record.get('id')}")
            self.check("language", record)
            code, name = _text(record, "code", inner), _text(record, "name", inner)
            tag = next((t for text in (code, name) if text and (t := language_tag(text))), None)
            if tag is None:
                self.warn(f"{inner}: language {name or code!r} is not recognised; left out")
                self.report.count("language", "skipped")
            else:
                codes.add(tag)
        return codes

    def categories(self, records: list[Record], where: str) -> set[Category]:
        found: set[Category] = set()
        for record in records:
            inner = self.at(record, f"{where}, attribute {record.get('id')}")
            self.check("attribute", record)
            term = _object(record, "taxonomy_term", inner)
            if term is not None:
                self.check("taxonomy_term", term)
                if (detail := _object(term, "taxonomy_detail", inner)) is not None:
                    self.check("taxonomy", detail)
                found |= categories_for(term)
        return found
