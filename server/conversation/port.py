"""What the conversation needs to know about content, as plain data (no ORM objects).

The engine reads content only through a `ContentPort`, so it stays a pure function that tests
and fuzzers drive with a fake; `server.conversation.library` implements the port on the database.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time
from typing import Protocol

from server.content.places import PlaceNames


@dataclass(frozen=True)
class RegionChoice:
    """A region as a menu item, named in the person's language."""

    slug: str
    name: str
    has_children: bool = False


@dataclass(frozen=True)
class Hours:
    """Opening hours on some days: RFC 5545 day codes ("MO", "TU"...) and times, if known."""

    days: tuple[str, ...]
    opens: time | None
    closes: time | None
    note: str = ""  # what the partner says about these hours, in the reader's language


@dataclass(frozen=True)
class ResourceLine:
    """One resource as an SMS line: name, the number to use, and how fresh it is."""

    name: str
    phone: str | None
    whatsapp: str | None
    verified_on: date
    stale: bool
    call_first: bool  # a confidential place: the phone is its call-first line, no address
    applies: str = ""  # where it applies when wider than the person's place ("For all of X")
    verified_by: str = ""
    closed: bool = False  # temporarily closed (HSDS status "temporarily closed")
    status_note: str = ""  # what the partner says about it ("back on 1 December")
    hours: tuple[Hours, ...] = ()
    languages: tuple[str, ...] = ()  # language codes, named by the reader's locale when shown
    # Who it is for, what it costs, how to ask (source or translated text; "" when unknown):
    # a reply carries them only while the resource still fits one page (items.resource).
    eligibility: str = ""
    fees: str = ""
    application_process: str = ""
    #: A translation shown was made from an older source text (REFUGE_STALE_TRANSLATIONS=mark).
    outdated: bool = False


@dataclass(frozen=True)
class BulletinLine:
    """One current bulletin for SMS: its whole text, paragraphs one per line."""

    kind: str
    title: str
    text: str
    source: str
    issued_on: date
    applies: str = ""  # where it applies when not the person's place ("For all of X")
    expires_on: date | None = None
    #: A translation shown was made from an older source text (REFUGE_STALE_TRANSLATIONS=mark).
    outdated: bool = False


@dataclass(frozen=True)
class ChecklistLine:
    """A checklist in the list."""

    id: str
    title: str
    steps: int


@dataclass(frozen=True)
class StepLine:
    """One checklist step, as one SMS."""

    title: str
    sms: str
    position: int
    total: int
    locale: str = "en"  # the language the text is shown in (a fallback when untranslated)
    #: The SMS text's translation was made from an older source (REFUGE_STALE_TRANSLATIONS=mark).
    outdated: bool = False


@dataclass(frozen=True)
class ContextLine:
    """A context note that answers a forwarded rumour: its whole text, verdict first."""

    id: str
    title: str
    text: str
    source: str
    issued_on: date
    score: float
    applies: str = ""  # where the verdict applies when not the person's place
    #: A translation shown was made from an older source text (REFUGE_STALE_TRANSLATIONS=mark).
    outdated: bool = False


class ContentPort(Protocol):
    """Read-only content, already in the person's language where a translation exists."""

    def regions(self, parent: str | None, locale: str) -> list[RegionChoice]: ...

    def region(self, slug: str, locale: str) -> RegionChoice | None: ...

    def place_names(self) -> PlaceNames: ...

    def emergency_number(self, region: str) -> str | None: ...

    def category_names(self, locale: str) -> list[tuple[str, str]]: ...

    def resources(
        self, region: str, category: str | None, locale: str, offset: int, limit: int
    ) -> list[ResourceLine]: ...

    def search(
        self, text: str, region: str | None, locale: str, limit: int
    ) -> list[ResourceLine]: ...

    def bulletins(self, region: str | None, locale: str, now: datetime) -> list[BulletinLine]: ...

    def checklists(self, locale: str) -> list[ChecklistLine]: ...

    def step(self, checklist: str, index: int, locale: str) -> StepLine | None: ...

    def context_notes(
        self, text: str, region: str | None, locale: str, now: datetime
    ) -> list[ContextLine]: ...

    def language_names(self) -> list[tuple[str, str]]: ...
