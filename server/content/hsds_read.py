"""HSDS input read for import: JSON or a tabular datapackage into nested records, and a
record's parts (phones, places, schedules, languages, terms) into the values Refuge keeps.

Each record remembers where it came from ("phones.csv line 3") for warnings and errors; fields
HSDS 3.0 does not define are counted, not kept. Nothing here touches the database.
"""

from __future__ import annotations

import csv
import re
from datetime import datetime, time
from pathlib import Path
from typing import Any

from server.content.hsds import (
    CSV_FILES,
    FIELDS,
    HsdsError,
    HsdsImportReport,
    Item,
    Record,
    _date,
    _identifier,
    _number,
    _object,
    _objects,
    _required,
    _text,
    _time,
    _weekdays,
    categories_for,
    derived_id,
    language_tag,
    load_json,
)
from server.content.hsds_export import call_first_phone_id, hsds_id
from server.models.content import NAME_LENGTH, PHONE_LENGTH, Category, PhoneKind, Resource

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
_WEB_ADDRESS = re.compile(r"https?://[^\s/?#]+[^\s]*", re.IGNORECASE)
_EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+")
_E164 = re.compile(r"\+[1-9]\d{1,14}")
#: What content files accept as a number (records._phone_number): digits, spaces, + - ( ).
_DIALLABLE = re.compile(r"[\d+\- ()]+")
_WHATSAPP_NOTE = re.compile(r"^whatsapp(?::\s*|$)", re.IGNORECASE)


class HsdsReader:
    """Reads one import's records: the report so far, and where each record came from."""

    def __init__(self, now: datetime) -> None:
        self.now = now
        self.report = HsdsImportReport()
        self.origins: dict[int, str] = {}  # id(record) -> "phones.csv line 3"

    def read(self, path: Path) -> list[Item]:
        """The records of an HSDS JSON file or tabular datapackage, in import order."""
        if path.is_dir() or path.name == "datapackage.json":
            tables = self.read_package(path if path.is_dir() else path.parent)
            return self.assemble(tables, str(path))
        return self.json_items(load_json(path), path.name)

    # --- Files into nested records ------------------------------------------------------------

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
            "service_areas": grouped("service_area", "service_id"),
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

    # --- Where a record came from, and what to say about it -----------------------------------

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

    # --- A service's phones, places, schedules, languages and categories, as values -----------

    def phone(
        self, resource: Resource, record: Record, where: str, wanted: dict[str, Record]
    ) -> None:
        self.check("phone", record)
        phone_id = _identifier(record, where)
        hidden = {call_first_phone_id(loc.id) for loc in resource.locations if loc.confidential}
        if phone_id in hidden:
            return  # Refuge's export of a confidential place's number: the place keeps it
        exported = {hsds_id("phone", phone.id): phone.id for phone in resource.phones}
        key = exported.get(phone_id) or derived_id("phone", resource.id, phone_id)
        if key in wanted:
            return  # the same phone, listed again at a location
        number = _required(record, "number", where).strip("\"' ")
        given = (_text(record, "type", where) or "voice").lower()
        description = _text(record, "description", where)
        kind = PhoneKind.WHATSAPP if "whatsapp" in f"{given} {description}".lower() else None
        if kind is None and given not in _PHONE_KINDS:
            self.warn(f"{where}: phone type {given!r} is not HSDS's; imported as voice")
        kind = kind or _PHONE_KINDS.get(given, PhoneKind.VOICE)
        # Letters or dots: content files could not hold it, and a phone cannot dial it.
        usable = len(number) <= PHONE_LENGTH and _DIALLABLE.fullmatch(number) is not None
        if kind is None or not usable:
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
