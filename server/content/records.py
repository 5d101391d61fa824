"""Each kind of content record: read from a file, compared with the database, written back.

A record has one canonical form, a plain dict exactly as its file would hold it. The loader
compares the canonical form of a file with that of the database row, so a second load of the
same files writes nothing, and `export` writes the canonical form back to a file.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from server.content import schema as s
from server.content.schema import Checker, LineDict
from server.models.bulletins import (
    CAP_CATEGORIES,
    CAP_CERTAINTIES,
    CAP_URGENCIES,
    BulletinKind,
    BulletinStatus,
    Severity,
)
from server.models.content import Category, PhoneKind, RegionKind, ServiceStatus
from server.segments import measure

Canonical = dict[str, Any]
#: How to get a resource's help (HSDS eligibility, fees and application process): plain text.
ACCESS = ("eligibility", "fees", "application_process")


@dataclass
class Parsed:
    """A valid record read from a file, and the other records it names."""

    kind: str
    id: str
    path: Path
    data: Canonical
    references: list[tuple[str, str, int]] = field(default_factory=list)  # kind, id, line


def _values(kind: type[Any]) -> set[str]:
    return {member.value for member in kind}


def _translations(
    check: Checker, record: LineDict, fields: set[str], nested: frozenset[str] = frozenset()
) -> dict[str, dict[str, Any]]:
    """A file's translations: {locale: {field: text}}, with the translations of parts (steps,
    places, opening hours, rumour wordings) nested under their list's name, by part id."""
    raw = record.get("translations") or {}
    if not isinstance(raw, dict):
        check.fail(record, "translations", "'translations' must map a locale to its fields")
        return {}
    result: dict[str, dict[str, Any]] = {}
    for tag, fields_of_locale in sorted(raw.items()):
        check.get({"locale": tag}, "locale", s.locale)
        if not isinstance(fields_of_locale, dict):
            check.fail(raw, tag, f"translations for '{tag}' must be a mapping of fields")
            continue
        clean: dict[str, Any] = {}
        for name, value in sorted(fields_of_locale.items()):
            if name in nested and isinstance(value, dict):
                clean[name] = {}
                for key, part in sorted(value.items(), key=lambda pair: str(pair[0])):
                    if isinstance(part, dict):
                        clean[name][str(key)] = dict(sorted(part.items()))
                    else:
                        check.fail(value, key, f"'{name}: {key}' must be a mapping of fields")
            elif name not in fields or not isinstance(value, str) or not value.strip():
                check.fail(fields_of_locale, name, f"'{name}' is not a translatable text field")
            else:
                clean[name] = value.strip()
        result[tag] = clean
    return result


def parse_region(check: Checker, record: LineDict) -> Parsed:
    """A region file."""
    check.unknown(record, set(REGION_FIELDS))
    data: Canonical = {
        "slug": check.get(record, "slug", s.slug),
        "name": check.get(record, "name", s.text),
        "kind": check.get(record, "kind", s.one_of(_values(RegionKind))),
        "parent": check.get(record, "parent", s.slug, required=False),
        "country_code": check.get(record, "country_code", s.country),
        "timezone": check.get(record, "timezone", s.timezone),
        "default_locale": check.get(record, "default_locale", s.locale),
        "position": check.get(record, "position", s.integer, required=False, default=0),
        "hide_stale": check.get(record, "hide_stale", s.boolean, required=False, default=False),
        "review_resources": check.get(record, "review_resources", s.boolean, required=False),
        "locale": check.get(record, "locale", s.locale, required=False, default="en"),
        "emergency": check.get(record, "emergency", _phone_number, required=False),
        "translations": _translations(check, record, {"name"}),
    }
    refs = [("region", data["parent"], s.line_of(record, "parent"))] if data["parent"] else []
    return Parsed("region", data["slug"] or "", check.path, data, refs)


def parse_organization(check: Checker, record: LineDict) -> Parsed:
    """An organisation file."""
    check.unknown(record, set(ORGANIZATION_FIELDS))
    data: Canonical = {
        "id": check.get(record, "id", s.record_id),
        "name": check.get(record, "name", s.text),
        "alternate_name": check.get(record, "alternate_name", s.optional_text, required=False),
        "description": check.get(record, "description", s.text, required=False, default=""),
        "website": check.get(record, "website", _web_url, required=False),
        "email": check.get(record, "email", s.optional_text, required=False),
        "sample": check.get(record, "sample", s.boolean, required=False, default=False),
        "locale": check.get(record, "locale", s.locale, required=False, default="en"),
        "translations": _translations(check, record, {"name", "description"}),
    }
    return Parsed("organization", data["id"] or "", check.path, data)


def _web_url(value: Any) -> str:
    # http:// too: an HSDS directory's links are often plain http, and an export must load back.
    url = s.text(value)
    if not url.startswith(("https://", "http://")) or any(ch.isspace() for ch in url):
        raise ValueError("must be an https:// (or http://) address without spaces")
    return url


def _phone(check: Checker, item: Any) -> Canonical | None:
    if not isinstance(item, LineDict):
        check.fail(None, None, "each phone must be a mapping")
        return None
    check.unknown(item, {"id", "number", "kind", "description"})
    return {
        "id": check.get(item, "id", s.record_id),
        "number": check.get(item, "number", _phone_number),
        "kind": check.get(item, "kind", s.one_of(_values(PhoneKind))),
        "description": check.get(item, "description", s.optional_text, required=False),
    }


def _phone_number(value: Any) -> str:
    number = s.text(str(value) if isinstance(value, int) else value)
    if not all(ch.isdigit() or ch in "+ -()" for ch in number):
        raise ValueError("may hold only digits, spaces, '+', '-' and brackets")
    return number


def _location(check: Checker, item: Any) -> Canonical | None:
    if not isinstance(item, LineDict):
        check.fail(None, None, "each location must be a mapping")
        return None
    check.unknown(item, set(LOCATION_FIELDS))
    data: Canonical = {
        "id": check.get(item, "id", s.record_id),
        "name": check.get(item, "name", s.optional_text, required=False),
        "address": check.get(item, "address", s.optional_text, required=False),
        "city": check.get(item, "city", s.optional_text, required=False),
        "country_code": check.get(item, "country_code", s.country, required=False),
        "latitude": check.get(item, "latitude", _coordinate, required=False),
        "longitude": check.get(item, "longitude", _coordinate, required=False),
        "confidential": check.get(item, "confidential", s.boolean, required=False, default=False),
        "call_first_phone": check.get(item, "call_first_phone", _phone_number, required=False),
    }
    if data["confidential"]:
        # A shelter's address must not be one careless field away from a page.
        for secret in ("address", "latitude", "longitude"):
            if data[secret] is not None:
                check.fail(item, secret, f"a confidential location must not have '{secret}'")
        if data["call_first_phone"] is None:
            check.fail(item, None, "a confidential location needs 'call_first_phone'")
    return data


def _coordinate(value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ValueError("must be a number")
    return float(value)


def _schedule(check: Checker, item: Any) -> Canonical | None:
    if not isinstance(item, LineDict):
        check.fail(None, None, "each schedule must be a mapping")
        return None
    check.unknown(item, {"byday", "opens_at", "closes_at", "description"})
    opens = check.get(item, "opens_at", s.time_of_day, required=False)
    closes = check.get(item, "closes_at", s.time_of_day, required=False)
    return {
        "byday": check.get(item, "byday", _byday),
        "opens_at": opens.strftime("%H:%M") if opens else None,
        "closes_at": closes.strftime("%H:%M") if closes else None,
        "description": check.get(item, "description", s.optional_text, required=False),
    }


_DAYS = ("MO", "TU", "WE", "TH", "FR", "SA", "SU")


def _byday(value: Any) -> str:
    days = [part.strip() for part in s.text(value).split(",")]
    if not all(day in _DAYS for day in days):
        raise ValueError("must list days as MO,TU,WE,TH,FR,SA,SU")
    return ",".join(days)


def _items(
    check: Checker, record: LineDict, key: str, parse: Callable[[Checker, Any], Canonical | None]
) -> list[Canonical]:
    raw = record.get(key) or []
    if not isinstance(raw, list):
        check.fail(record, key, f"'{key}' must be a list")
        return []
    parsed = [parse(check, item) for item in raw]
    return [item for item in parsed if item is not None]


def parse_resource(check: Checker, record: LineDict) -> Parsed:
    """A resource file."""
    check.unknown(record, set(RESOURCE_FIELDS))
    # No category is allowed (an HSDS service may match none): such a resource is found by
    # search, not in a category's list.
    categories = check.get(
        record, "categories", s.list_of(s.one_of(_values(Category))), required=False, default=[]
    )
    data: Canonical = {
        "id": check.get(record, "id", s.record_id),
        "organization": check.get(record, "organization", s.record_id),
        "region": check.get(record, "region", s.slug),
        "name": check.get(record, "name", s.text),
        "alternate_name": check.get(record, "alternate_name", s.optional_text, required=False),
        "description": check.get(record, "description", s.text, required=False, default=""),
        "categories": sorted(set(categories or [])),
        "languages": sorted(
            set(check.get(record, "languages", s.list_of(s.locale), required=False, default=[]))
        ),
        "status": check.get(
            record, "status", s.one_of(_values(ServiceStatus)), required=False, default="active"
        ),
        "status_note": check.get(record, "status_note", s.optional_text, required=False),
        **{name: check.get(record, name, s.optional_text, required=False) for name in ACCESS},
        "verified_on": check.get(record, "verified_on", s.day),
        "verified_by": check.get(record, "verified_by", s.text),
        "review_interval_days": check.get(
            record, "review_interval_days", s.integer, required=False, default=90
        ),
        "url": check.get(record, "url", _web_url, required=False),
        "email": check.get(record, "email", s.optional_text, required=False),
        "sample": check.get(record, "sample", s.boolean, required=False, default=False),
        "locale": check.get(record, "locale", s.locale, required=False, default="en"),
        "phones": sorted(_items(check, record, "phones", _phone), key=lambda p: str(p["id"])),
        "locations": sorted(
            _items(check, record, "locations", _location), key=lambda p: str(p["id"])
        ),
        "schedules": _items(check, record, "schedules", _schedule),
        "translations": _translations(
            check,
            record,
            {"name", "description", "status_note", *ACCESS},
            nested=frozenset({"locations", "schedules"}),
        ),
    }
    refs = [
        ("organization", data["organization"], s.line_of(record, "organization")),
        ("region", data["region"], s.line_of(record, "region")),
    ]
    return Parsed("resource", data["id"] or "", check.path, data, refs)


def parse_bulletin(check: Checker, record: LineDict, body: str) -> Parsed:
    """A bulletin file: front matter and Markdown body."""
    check.unknown(record, set(BULLETIN_FIELDS) - {"body"})
    data: Canonical = {
        "id": check.get(record, "id", s.record_id),
        "kind": check.get(record, "kind", s.one_of(_values(BulletinKind))),
        "status": check.get(
            record, "status", s.one_of(_values(BulletinStatus)), required=False, default="draft"
        ),
        "severity": check.get(
            record, "severity", s.one_of(_values(Severity)), required=False, default="unknown"
        ),
        "title": check.get(record, "title", s.text),
        "source_name": check.get(record, "source_name", s.text),
        "source_url": check.get(record, "source_url", _web_url, required=False),
        "organization": check.get(record, "organization", s.record_id, required=False),
        "regions": sorted(set(check.get(record, "regions", s.list_of(s.slug), default=[]))),
        "issued_at": check.get(record, "issued_at", s.moment),
        "expires_at": check.get(record, "expires_at", s.moment, required=False),
        "match_phrases": _phrases(check, record),
        "cap_categories": check.get(
            record, "cap_categories", s.list_of(s.one_of(set(CAP_CATEGORIES))), required=False
        ),
        "urgency": check.get(record, "urgency", s.one_of(set(CAP_URGENCIES)), required=False),
        "certainty": check.get(record, "certainty", s.one_of(set(CAP_CERTAINTIES)), required=False),
        "instruction": check.get(record, "instruction", s.optional_text, required=False),
        "contact": check.get(record, "contact", s.optional_text, required=False),
        "sample": check.get(record, "sample", s.boolean, required=False, default=False),
        "locale": check.get(record, "locale", s.locale, required=False, default="en"),
        "translations": _translations(
            check, record, {"title", "body", "instruction"}, nested=frozenset({"match_phrases"})
        ),
        "body": body,
    }
    if not body.strip():
        check.fail(record, None, "the bulletin has no body after its front matter")
    if data["kind"] in {"alert", "advisory"} and data["expires_at"] is None:
        check.fail(record, None, "alerts and advisories need 'expires_at'")
    if data["expires_at"] and data["issued_at"] and data["expires_at"] <= data["issued_at"]:
        check.fail(record, "expires_at", "'expires_at' must be after 'issued_at'")
    if data["kind"] == "context" and not data["match_phrases"]:
        check.fail(record, None, "a context note needs 'match_phrases' (the rumour's wording)")
    refs = [("region", slug, s.line_of(record, "regions")) for slug in data["regions"]]
    if data["organization"]:
        refs.append(("organization", data["organization"], s.line_of(record, "organization")))
    return Parsed("bulletin", data["id"] or "", check.path, data, refs)


def _listed(check: Checker, record: LineDict, key: str) -> list[Any]:
    """A field that must be a list, or none after saying so (a number there is no list)."""
    raw = record.get(key) or []
    if not isinstance(raw, list):
        check.fail(record, key, f"'{key}' must be a list")
        return []
    return raw


def _phrases(check: Checker, record: LineDict) -> list[Canonical]:
    phrases = []
    for item in _listed(check, record, "match_phrases"):
        if not isinstance(item, LineDict):
            check.fail(record, "match_phrases", "each match phrase needs 'locale' and 'phrase'")
            continue
        check.unknown(item, {"locale", "phrase"})
        phrases.append(
            {
                "locale": check.get(item, "locale", s.locale),
                "phrase": check.get(item, "phrase", s.text),
            }
        )
    return phrases


def parse_checklist(check: Checker, record: LineDict) -> Parsed:
    """A checklist file with its steps."""
    check.unknown(record, set(CHECKLIST_FIELDS))
    steps = []
    for item in _listed(check, record, "steps"):
        if not isinstance(item, LineDict):
            check.fail(record, "steps", "each step must be a mapping")
            continue
        check.unknown(item, {"id", "title", "web", "sms"})
        step = {
            "id": check.get(item, "id", s.record_id),
            "title": check.get(item, "title", s.text),
            "web": check.get(item, "web", s.text),
            "sms": check.get(item, "sms", s.text),
        }
        cost = measure(step["sms"] or "")
        if step["sms"] and (cost.encoding != "GSM-7" or cost.segments > 1):
            check.fail(
                item,
                "sms",
                f"'sms' must fit one GSM-7 segment (it is {cost.units} "
                f"{cost.encoding} units, {cost.segments} segments)",
            )
        steps.append(step)
    if not steps:
        check.fail(record, None, "a checklist needs at least one step")
    ids = [step["id"] for step in steps]
    if len(set(ids)) != len(ids):
        check.fail(record, "steps", "step ids must be unique within the checklist")
    data: Canonical = {
        "id": check.get(record, "id", s.record_id),
        "title": check.get(record, "title", s.text),
        "summary": check.get(record, "summary", s.text, required=False, default=""),
        "platform": check.get(record, "platform", s.text),
        "platform_version": check.get(record, "platform_version", s.text),
        "reviewed_on": check.get(record, "reviewed_on", s.day),
        "position": check.get(record, "position", s.integer, required=False, default=0),
        "locale": check.get(record, "locale", s.locale, required=False, default="en"),
        "steps": steps,
        "translations": _translations(
            check,
            record,
            {"title", "summary", "platform_version"},
            nested=frozenset({"steps"}),
        ),
    }
    return Parsed("checklist", data["id"] or "", check.path, data)


REGION_FIELDS = (
    "slug",
    "name",
    "kind",
    "parent",
    "country_code",
    "timezone",
    "default_locale",
    "position",
    "hide_stale",
    "review_resources",
    "locale",
    "emergency",
    "translations",
)
ORGANIZATION_FIELDS = (
    "id",
    "name",
    "alternate_name",
    "description",
    "website",
    "email",
    "sample",
    "locale",
    "translations",
)
LOCATION_FIELDS = (
    "id",
    "name",
    "address",
    "city",
    "country_code",
    "latitude",
    "longitude",
    "confidential",
    "call_first_phone",
)
RESOURCE_FIELDS = (
    "id",
    "organization",
    "region",
    "name",
    "alternate_name",
    "description",
    "categories",
    "languages",
    "status",
    "status_note",
    "eligibility",
    "fees",
    "application_process",
    "verified_on",
    "verified_by",
    "review_interval_days",
    "url",
    "email",
    "sample",
    "locale",
    "phones",
    "locations",
    "schedules",
    "translations",
)
BULLETIN_FIELDS = (
    "id",
    "kind",
    "status",
    "severity",
    "title",
    "source_name",
    "source_url",
    "organization",
    "regions",
    "issued_at",
    "expires_at",
    "match_phrases",
    "cap_categories",
    "urgency",
    "certainty",
    "instruction",
    "contact",
    "sample",
    "locale",
    "translations",
    "body",
)
CHECKLIST_FIELDS = (
    "id",
    "title",
    "summary",
    "platform",
    "platform_version",
    "reviewed_on",
    "position",
    "locale",
    "steps",
    "translations",
)
