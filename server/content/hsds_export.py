"""HSDS 3.0 export: every current resource as nested JSON (services.json) and as a datapackage.

Confidential locations (shelters) leave without address, city or coordinates: the location is
named "Confidential location - call first" and its call-first number becomes a phone of the
service. Refuge ids that are not UUIDs are exported as stable UUIDs derived from them, as HSDS
requires UUIDs. Each record is checked against the HSDS schema before anything is written.
"""

from __future__ import annotations

import csv
import io
import json
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import jsonschema  # type: ignore[import-untyped]
from babel import Locale
from sqlalchemy import select
from sqlalchemy.orm import Session

from server.content.hsds import (
    CATEGORY_TAXONOMY,
    CSV_FILES,
    HsdsError,
    Record,
    columns,
    derived_id,
    load_json,
)
from server.models.content import Category, Location, PhoneKind, Resource

CONFIDENTIAL_NAME = "Confidential location - call first"
#: The compiled HSDS service schema, vendored next to this module: every export is checked.
DEFAULT_SCHEMA = Path(__file__).with_name("hsds_service_schema.json")
#: The tables written, parents before children.
TABLES = (
    "organization",
    "service",
    "location",
    "service_at_location",
    "service_area",
    "address",
    "phone",
    "schedule",
    "language",
    "taxonomy",
    "taxonomy_term",
    "attribute",
)
CATEGORY_NAMES = {
    Category.HELPLINE: "Helpline",
    Category.MEDICAL: "Medical care",
    Category.SHELTER: "Shelter",
    Category.FOOD_WATER: "Food and water",
    Category.LEGAL_AID: "Legal aid",
    Category.DOCUMENTATION: "Documentation",
    Category.PSYCHOSOCIAL: "Mental health and psychosocial support",
    Category.PROTECTION: "Protection",
    Category.EVACUATION: "Evacuation",
    Category.FAMILY_TRACING: "Family tracing",
}
_COLUMN_TYPES = {
    **dict.fromkeys(("latitude", "longitude", "extension", "year_incorporated"), "number"),
    **dict.fromkeys(("minimum_age", "maximum_age", "timezone", "count", "interval"), "number"),
    **dict.fromkeys(("assured_date", "valid_from", "valid_to", "dtstart", "until"), "date"),
    **dict.fromkeys(("opens_at", "closes_at"), "time"),
    "last_modified": "datetime",
}
_TAXONOMY_ID = derived_id("taxonomy", CATEGORY_TAXONOMY)
_TAXONOMY = {
    "id": _TAXONOMY_ID,
    "name": CATEGORY_TAXONOMY,
    "description": "Refuge's categories of help for people in a crisis",
}


@dataclass
class ExportReport:
    """What an export wrote: record counts, the files, and whether the records were validated."""

    directory: Path
    services: int = 0
    organizations: int = 0
    locations: int = 0
    confidential_locations: int = 0
    samples_left_out: int = 0
    validated: bool = False
    files: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)


def hsds_id(kind: str, refuge_id: str) -> str:
    """The HSDS id of a Refuge record: its own id when a UUID, else a stable UUID made from it."""
    try:
        if str(uuid.UUID(refuge_id)) == refuge_id:
            return refuge_id
    except ValueError:
        pass
    return derived_id(kind, refuge_id)


def export_hsds(
    session: Session,
    directory: Path,
    *,
    now: datetime,
    schema: Path | None = None,
    include_samples: bool = False,
) -> ExportReport:
    """Write services.json and an HSDS tabular datapackage of every resource not retired."""
    report = ExportReport(directory)
    records: list[Record] = []
    for resource in session.scalars(
        select(Resource).where(Resource.retired.is_(False)).order_by(Resource.id)
    ):
        if resource.sample and not include_samples:
            report.samples_left_out += 1
        else:
            records.append(_service(resource, report))
    check = _validator(schema, report)
    for record in records:
        check(record)
    tables = _tables(records)
    report.services, report.organizations = len(records), len(tables["organization"])
    report.locations = len(tables["location"])
    files = {"services.json": json.dumps(records, ensure_ascii=False, indent=2) + "\n"}
    files.update({CSV_FILES[kind]: _csv(kind, tables[kind].values()) for kind in TABLES})
    files["datapackage.json"] = json.dumps(_descriptor(now), indent=2) + "\n"
    try:
        directory.mkdir(parents=True, exist_ok=True)
        for name, text in files.items():
            (directory / name).write_text(text, encoding="utf-8", newline="")
            report.files.append(name)
    except OSError as error:
        raise HsdsError(f"{directory}: cannot be written: {error.strerror}") from None
    return report


def call_first_phone_id(location_id: str) -> str:
    """The HSDS id of the phone a confidential location's call-first number goes out as."""
    return derived_id("phone", "call-first", location_id)


def service_record(resource: Resource) -> Record:
    """One resource as a nested HSDS service (confidential places without their whereabouts)."""
    return _service(resource, ExportReport(Path()))


def _clean(record: Record) -> Record:
    """The record without empty optional fields: HSDS has no nulls."""
    return {key: value for key, value in record.items() if value is not None and value != []}


def _email(value: str | None) -> str | None:
    return value if value and "@" in value and " " not in value.strip() else None


def _service(resource: Resource, report: ExportReport) -> Record:
    service_id = hsds_id("service", resource.id)
    org = resource.organization
    org_id = hsds_id("organization", org.id)
    modified = resource.updated_at.astimezone(UTC) if resource.updated_at else None
    return _clean(
        {
            "id": service_id,
            "organization_id": org_id,
            "name": resource.name,
            "alternate_name": resource.alternate_name,
            "description": resource.description or "",
            "url": resource.url,
            "email": _email(resource.email),
            "status": resource.status.value,
            "eligibility_description": resource.eligibility,
            "fees_description": resource.fees,
            "application_process": resource.application_process,
            "assured_date": resource.verified_on.isoformat(),
            "assurer_email": _email(resource.verified_by),
            "last_modified": modified.isoformat().replace("+00:00", "Z") if modified else None,
            "organization": _clean(
                {
                    "id": org_id,
                    "name": org.name,
                    "alternate_name": org.alternate_name,
                    "description": org.description or "",
                    "email": _email(org.email),
                    "website": org.website,
                }
            ),
            "phones": _phones(resource, service_id),
            "schedules": [
                _clean(
                    {
                        "id": derived_id("schedule", resource.id, str(schedule.id)),
                        "service_id": service_id,
                        "freq": "WEEKLY",
                        "byday": schedule.byday,
                        "opens_at": schedule.opens_at.isoformat() if schedule.opens_at else None,
                        "closes_at": schedule.closes_at.isoformat() if schedule.closes_at else None,
                        "description": schedule.description,
                    }
                )
                for schedule in resource.schedules
            ],
            "languages": [
                {
                    "id": derived_id("language", resource.id, entry.code),
                    "service_id": service_id,
                    "name": _language_name(entry.code),
                    "code": entry.code,
                }
                for entry in resource.languages
            ],
            # The region the service is offered in: an import finds its way back by this name.
            "service_areas": [
                {
                    "id": derived_id("service_area", resource.id, resource.region.slug),
                    "service_id": service_id,
                    "name": resource.region.name,
                }
            ],
            "service_at_locations": [
                _service_at_location(location, service_id, resource, report)
                for location in resource.locations
            ],
            "attributes": [
                _attribute(entry.category, resource.id, service_id) for entry in resource.categories
            ],
        }
    )


def _phones(resource: Resource, service_id: str) -> list[Record]:
    phones: list[Record] = []
    for phone in resource.phones:
        kind, description = phone.kind.value, phone.description
        if phone.kind is PhoneKind.WHATSAPP:
            # HSDS has no WhatsApp type: a mobile number, said so in the description.
            kind = "cell"
            if "whatsapp" not in (description or "").lower():
                description = f"WhatsApp: {description}" if description else "WhatsApp"
        phones.append(
            _clean(
                {
                    "id": hsds_id("phone", phone.id),
                    "service_id": service_id,
                    "number": phone.number,
                    "type": kind,
                    "description": description,
                }
            )
        )
    numbers = {phone.number for phone in resource.phones}
    for location in resource.locations:
        number = location.call_first_phone
        if location.confidential and number and number not in numbers:
            numbers.add(number)
            phones.append(
                {
                    "id": call_first_phone_id(location.id),
                    "service_id": service_id,
                    "number": number,
                    "type": "voice",
                    "description": "Call first: the address of this place is confidential",
                }
            )
    return phones


def _service_at_location(
    location: Location, service_id: str, resource: Resource, report: ExportReport
) -> Record:
    location_id = derived_id("location", location.id)
    place: Record = {"id": location_id, "location_type": "physical"}
    if location.confidential:
        # Nothing that could lead to the place: no address, no city, no coordinates.
        place["name"] = CONFIDENTIAL_NAME
        report.confidential_locations += 1
    else:
        place.update(
            _clean(
                {
                    "name": location.name,
                    "latitude": location.latitude,
                    "longitude": location.longitude,
                }
            )
        )
        if location.address or location.city:
            place["addresses"] = [
                {
                    "id": derived_id("address", location.id),
                    "location_id": location_id,
                    "address_1": location.address or "",
                    "city": location.city or "",
                    "state_province": "",
                    "postal_code": "",
                    "country": location.country_code or resource.region.country_code,
                    "address_type": "physical",
                }
            ]
    return {
        "id": hsds_id("service_at_location", location.id),
        "service_id": service_id,
        "location_id": location_id,
        "location": place,
    }


def _attribute(category: Category, resource_id: str, service_id: str) -> Record:
    term = {
        "id": derived_id("taxonomy_term", CATEGORY_TAXONOMY, category.value),
        "code": category.value,
        "name": CATEGORY_NAMES[category],
        "description": CATEGORY_NAMES[category],
        "taxonomy": CATEGORY_TAXONOMY,
        "taxonomy_id": _TAXONOMY_ID,
        "taxonomy_detail": _TAXONOMY,
    }
    return {
        "id": derived_id("attribute", resource_id, category.value),
        "link_id": service_id,
        "link_entity": "service",
        "taxonomy_term_id": term["id"],
        "taxonomy_term": term,
    }


def _language_name(code: str) -> str:
    name = Locale("en").languages.get(code.split("-")[0])
    return name if isinstance(name, str) else code


def _validator(schema: Path | None, report: ExportReport) -> Callable[[Record], None]:
    """Check a record against the HSDS service schema: `schema`, else the vendored one."""
    path = schema or DEFAULT_SCHEMA
    if not path.is_file():
        # The vendored schema ships with Refuge: its absence is a packaging bug, never a reason
        # to export records nobody checked.
        why = "no such HSDS schema" if schema is not None else "the vendored HSDS schema is missing"
        raise HsdsError(f"{path}: {why}")
    kind = jsonschema.Draft202012Validator
    validator = kind(load_json(path), format_checker=kind.FORMAT_CHECKER)
    report.validated = True

    def check(record: Record) -> None:
        error = jsonschema.exceptions.best_match(validator.iter_errors(record))
        if error is not None:
            at = "/".join(str(part) for part in error.absolute_path) or "the record"
            name = f"service {record.get('id')} ({record.get('name')})"
            raise HsdsError(f"services.json: {name}: {at}: {error.message}")

    return check


def _tables(records: list[Record]) -> dict[str, dict[str, Record]]:
    """The nested records cut into the datapackage's tables, one row per id."""
    tables: dict[str, dict[str, Record]] = {kind: {} for kind in TABLES}

    def add(kind: str, *rows: Record) -> None:
        for row in rows:
            tables[kind].setdefault(row["id"], row)

    for service in records:
        add("service", service)
        add("organization", service["organization"])
        add("phone", *service.get("phones", []))
        add("schedule", *service.get("schedules", []))
        add("language", *service.get("languages", []))
        add("service_area", *service.get("service_areas", []))
        for sal in service.get("service_at_locations", []):
            add("service_at_location", sal)
            add("location", sal["location"])
            add("address", *sal["location"].get("addresses", []))
        for attribute in service.get("attributes", []):
            add("attribute", attribute)
            add("taxonomy_term", attribute["taxonomy_term"])
            add("taxonomy", attribute["taxonomy_term"]["taxonomy_detail"])
    return tables


def _csv(kind: str, rows: Any) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(columns(kind))
    for row in rows:
        writer.writerow(["" if row.get(name) is None else row[name] for name in columns(kind)])
    return buffer.getvalue()


def _descriptor(now: datetime) -> Record:
    return {
        "name": "refuge-hsds",
        "title": "Refuge resources (Human Services Data Specification 3.0)",
        "profile": "tabular-data-package",
        "version": "3.0.0",
        "created": now.astimezone(UTC).isoformat(timespec="seconds").replace("+00:00", "Z"),
        "resources": [
            {
                "name": kind,
                "path": CSV_FILES[kind],
                "profile": "tabular-data-resource",
                "format": "csv",
                "mediatype": "text/csv",
                "encoding": "utf-8",
                "schema": {
                    "fields": [
                        {"name": name, "type": _COLUMN_TYPES.get(name, "string")}
                        for name in columns(kind)
                    ],
                    "primaryKey": "id",
                },
            }
            for kind in TABLES
        ],
    }
