"""The portal's edit forms, built from the content format: one field per field of the file.

Each editable kind lists its fields once, named exactly as `docs/content-format.md` names
them, with the widget that edits it. A submitted form is turned into the mapping a content
file would hold and read by the same parser `refuge content load` uses, so a form accepts
exactly what a file accepts and the problems it reports are the loader's. Lists of mappings
(phones, locations, schedules, steps, match phrases) are edited as the YAML a file holds.
"""

from __future__ import annotations

import enum
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import yaml
from flask_babel import lazy_gettext as _l
from werkzeug.datastructures import MultiDict

from server.content import records
from server.content.kinds import BULLETIN, CHECKLIST, ORGANIZATION, RESOURCE, ContentKind
from server.content.records import Canonical
from server.content.schema import Checker, ContentError, LineDict, Problem, parse_yaml
from server.models.bulletins import BulletinStatus, Severity
from server.models.content import Category, ServiceStatus

#: The most digits a number field reads.
NUMBER_DIGITS = 9


class Widget(enum.Enum):
    """How a field is edited."""

    LINE = "line"  # one line of text
    TEXT = "text"  # several lines (Markdown where the kind says so)
    CHOICE = "choice"  # one of a list
    CHOICES = "choices"  # any of a list (check boxes)
    WORDS = "words"  # a list of words, one per line or separated by commas
    FLAG = "flag"  # yes or no
    NUMBER = "number"
    DAY = "day"
    MOMENT = "moment"  # a time with its zone, as a file writes it
    YAML = "yaml"  # a list of mappings, as a file writes it


@dataclass(frozen=True)
class Field:
    """One field of a form: its name in the content format, its widget and its label."""

    name: str
    widget: Widget
    label: object  # a lazy translation
    choices: tuple[str, ...] = ()
    #: Choices made in the request (the regions of the account's scope, the organisations).
    dynamic: str | None = None


@dataclass(frozen=True)
class Editable:
    """A kind of record the portal edits: its pages, its fields, and which records it lists."""

    slug: str  # its pages are /portal/<slug>/
    kind: ContentKind
    title: object  # a lazy translation
    fields: tuple[Field, ...]
    #: Bulletin kinds listed and edited here (alerts and advisories, or context notes).
    bulletin_kinds: tuple[str, ...] = ()

    def blank(self, today: date, now: datetime) -> Canonical:
        """What a new record's form starts with."""
        starts: Canonical = {"locale": "en", "sample": False}
        if self.kind is BULLETIN:
            starts |= {
                "kind": self.bulletin_kinds[0],
                "status": BulletinStatus.PUBLISHED.value,
                "severity": Severity.UNKNOWN.value,
                "issued_at": now.replace(second=0, microsecond=0),
            }
        if self.kind is RESOURCE:
            starts |= {"status": ServiceStatus.ACTIVE.value, "verified_on": today}
            starts["review_interval_days"] = 90
        if self.kind is CHECKLIST:
            starts["reviewed_on"] = today
        return starts


ID = Field("id", Widget.LINE, _l("Id (letters, digits, - and _; never changes)"))
TITLE = Field("title", Widget.LINE, _l("Title"))
NAME = Field("name", Widget.LINE, _l("Name"))
ALTERNATE_NAME = Field("alternate_name", Widget.LINE, _l("Other name"))
DESCRIPTION = Field("description", Widget.TEXT, _l("Description (Markdown)"))
EMAIL = Field("email", Widget.LINE, _l("Email"))
ORGANIZATION_FIELD = Field(
    "organization", Widget.CHOICE, _l("Organisation"), dynamic="organizations"
)
BULLETIN_FIELDS = (
    TITLE,
    Field("body", Widget.TEXT, _l("Text (Markdown)")),
    Field("status", Widget.CHOICE, _l("Status"), tuple(s.value for s in BulletinStatus)),
    Field("severity", Widget.CHOICE, _l("Severity"), tuple(s.value for s in Severity)),
    Field("regions", Widget.CHOICES, _l("Regions"), dynamic="regions"),
    Field("source_name", Widget.LINE, _l("Source")),
    Field("source_url", Widget.LINE, _l("Source address (https://)")),
    ORGANIZATION_FIELD,
    Field("issued_at", Widget.MOMENT, _l("Issued at (like 2026-11-20T08:00:00Z)")),
    Field("expires_at", Widget.MOMENT, _l("Expires at (like 2026-11-22T08:00:00Z)")),
)
EDITABLES: tuple[Editable, ...] = (
    Editable(
        "bulletins",
        BULLETIN,
        _l("Bulletins"),
        (
            ID,
            Field("kind", Widget.CHOICE, _l("Kind"), ("alert", "advisory")),
            *BULLETIN_FIELDS,
        ),
        bulletin_kinds=("alert", "advisory"),
    ),
    Editable(
        "context",
        BULLETIN,
        _l("Context notes"),
        (
            ID,
            *BULLETIN_FIELDS,
            Field("match_phrases", Widget.YAML, _l("Rumour wordings (match_phrases, YAML)")),
        ),
        bulletin_kinds=("context",),
    ),
    Editable(
        "resources",
        RESOURCE,
        _l("Resources"),
        (
            ID,
            NAME,
            ALTERNATE_NAME,
            DESCRIPTION,
            Field("region", Widget.CHOICE, _l("Region"), dynamic="regions"),
            ORGANIZATION_FIELD,
            Field("categories", Widget.CHOICES, _l("Categories"), tuple(c.value for c in Category)),
            Field("languages", Widget.WORDS, _l("Languages spoken (codes like uk, ar)")),
            Field("status", Widget.CHOICE, _l("Status"), tuple(s.value for s in ServiceStatus)),
            Field("status_note", Widget.LINE, _l("Status note")),
            Field("verified_on", Widget.DAY, _l("Verified on")),
            Field("verified_by", Widget.LINE, _l("Verified by")),
            Field("review_interval_days", Widget.NUMBER, _l("Check again after (days)")),
            Field("url", Widget.LINE, _l("Web address (https://)")),
            EMAIL,
            Field("phones", Widget.YAML, _l("Phones (YAML)")),
            Field("locations", Widget.YAML, _l("Locations (YAML)")),
            Field("schedules", Widget.YAML, _l("Opening hours (schedules, YAML)")),
        ),
    ),
    Editable(
        "organizations",
        ORGANIZATION,
        _l("Organisations"),
        (
            ID,
            NAME,
            ALTERNATE_NAME,
            DESCRIPTION,
            Field("website", Widget.LINE, _l("Website (https://)")),
            EMAIL,
        ),
    ),
    Editable(
        "checklists",
        CHECKLIST,
        _l("Checklists"),
        (
            ID,
            TITLE,
            Field("summary", Widget.TEXT, _l("Summary")),
            Field("platform", Widget.LINE, _l("Platform")),
            Field("platform_version", Widget.LINE, _l("Platform version")),
            Field("reviewed_on", Widget.DAY, _l("Checked on")),
            Field("position", Widget.NUMBER, _l("Position in the list")),
            Field("steps", Widget.YAML, _l("Steps (YAML: id, title, web, sms)")),
        ),
    ),
)


def editable(slug: str) -> Editable:
    """The editable kind whose pages are /portal/<slug>/."""
    return next(each for each in EDITABLES if each.slug == slug)


def editable_of(kind_name: str, form: Mapping[str, Any]) -> Editable:
    """The editable kind a version of this content kind is edited as."""
    for each in EDITABLES:
        if each.kind.name == kind_name and (
            not each.bulletin_kinds or form.get("kind") in each.bulletin_kinds
        ):
            return each
    return next(each for each in EDITABLES if each.kind.name == kind_name)


# --- Canonical form -> what the form shows ------------------------------------------------------


def _moment_text(value: datetime) -> str:
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _yaml_text(items: list[dict[str, Any]]) -> str:
    plain = [{k: v for k, v in item.items() if v is not None} for item in items]
    return yaml.safe_dump(plain, allow_unicode=True, sort_keys=False) if plain else ""


def shown(fields: tuple[Field, ...], form: Canonical) -> dict[str, Any]:
    """The values a form shows for a canonical form: text, except lists of choices and flags."""
    values: dict[str, Any] = {}
    for field in fields:
        value = form.get(field.name)
        if field.widget is Widget.CHOICES:
            values[field.name] = list(value or [])
        elif field.widget is Widget.FLAG:
            values[field.name] = bool(value)
        elif value is None:
            values[field.name] = ""
        elif field.widget is Widget.MOMENT:
            values[field.name] = _moment_text(value)
        elif field.widget is Widget.DAY:
            values[field.name] = value.isoformat()
        elif field.widget is Widget.WORDS:
            values[field.name] = ", ".join(value)
        elif field.widget is Widget.YAML:
            values[field.name] = _yaml_text(value)
        else:
            values[field.name] = str(value)
    return values


def submitted(fields: tuple[Field, ...], data: MultiDict[str, str]) -> dict[str, Any]:
    """The values a submitted form holds, to show again when it has problems."""
    values: dict[str, Any] = {}
    for field in fields:
        if field.widget is Widget.CHOICES:
            values[field.name] = data.getlist(field.name)
        elif field.widget is Widget.FLAG:
            values[field.name] = field.name in data
        else:
            values[field.name] = data.get(field.name, "")
    return values


# --- What the form holds -> a checked canonical form --------------------------------------------


PARSERS: dict[str, Callable[[Checker, LineDict], records.Parsed]] = {
    RESOURCE.name: records.parse_resource,
    ORGANIZATION.name: records.parse_organization,
    CHECKLIST.name: records.parse_checklist,
}


#: The fields a file of each kind may hold.
FILE_FIELDS: dict[str, tuple[str, ...]] = {
    BULLETIN.name: records.BULLETIN_FIELDS,
    RESOURCE.name: records.RESOURCE_FIELDS,
    ORGANIZATION.name: records.ORGANIZATION_FIELDS,
    CHECKLIST.name: records.CHECKLIST_FIELDS,
}


def _line_dict(values: Mapping[str, Any]) -> LineDict:
    mapping = LineDict(values)
    mapping.line, mapping.key_lines = 1, {}
    return mapping


def _value(field: Field, raw: Any, check: Checker) -> Any:
    """One field as a file would hold it; None leaves it out (the parser's default)."""
    if field.widget is Widget.FLAG:
        return raw
    if field.widget is Widget.CHOICES:
        return [_clean(str(value)) for value in raw]
    # NUL never belongs in text, and PostgreSQL refuses to store it.
    text = _clean(str(raw)).strip()
    if not text:
        return None
    if field.widget is Widget.NUMBER:
        # Longer than any count of days or position: left as text for the parser to refuse.
        return int(text) if text.isdigit() and len(text) <= NUMBER_DIGITS else text
    if field.widget is Widget.WORDS:
        return [word for word in text.replace(",", " ").split() if word]
    if field.widget is Widget.YAML:
        try:
            document = parse_yaml(Path(field.name), f"{field.name}:\n" + _indent(text))
        except ContentError as error:
            check.problems.extend(error.problems)
            return None
        return document.get(field.name)
    return text


def _clean(text: str) -> str:
    return text.replace("\x00", "")


def _indent(text: str) -> str:
    return "".join(f"  {line}\n" for line in text.replace("\r\n", "\n").split("\n"))


def checked(
    editable: Editable, values: dict[str, Any], kept: Canonical
) -> tuple[Canonical | None, list[Problem]]:
    """The canonical form of a submitted form, or the problems the content parser found.

    `kept` gives the fields the form does not show (the record's language, the sample flag,
    a context note's kind), as the record holds them.
    """
    check = Checker(Path(editable.slug))
    allowed = FILE_FIELDS[editable.kind.name]
    record: dict[str, Any] = {
        name: value
        for name, value in kept.items()
        if name in {"locale", "sample", "kind"} and name in allowed and value is not None
    }
    body = ""
    for field in editable.fields:
        value = _value(field, values.get(field.name, ""), check)
        if field.name == "body":
            body = (value or "").strip() + "\n"
        elif value is not None:
            record[field.name] = value
    if check.problems:
        return None, check.problems
    if editable.kind is BULLETIN:
        parsed = records.parse_bulletin(check, _line_dict(record), body)
    else:
        parsed = PARSERS[editable.kind.name](check, _line_dict(record))
    if check.problems:
        return None, check.problems
    form = {k: v for k, v in parsed.data.items() if k != "translations"}
    return form, []
