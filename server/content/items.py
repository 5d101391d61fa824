"""What the public shelf hands out: plain data for pages and the API, never ORM rows."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time

from server.content.localize import Localized
from server.content.queries import PublicLocation
from server.models.content import PhoneKind


@dataclass(frozen=True)
class RegionItem:
    """A region with its name in the reader's language."""

    slug: str
    name: str
    kind: str
    parent: str | None
    depth: int
    emergency: str | None = None  # its own, or the nearest region's above it


@dataclass(frozen=True)
class ScopeItem:
    """Where an item shown for a place applies: its region (slug, name) and how far it lies.

    `distance` is 0 for the place asked for, 1, 2... for its area, its country, and -1, -2...
    for the places within it.
    """

    region: str
    name: str
    distance: int


@dataclass(frozen=True)
class PhoneItem:
    """A number to call, text or message on WhatsApp."""

    number: str
    kind: str
    description: str | None


@dataclass(frozen=True)
class OpeningHours:
    """Opening hours on some days: RFC 5545 day codes ("MO", "TU"...) and times, if known."""

    days: tuple[str, ...]
    opens: time | None
    closes: time | None
    #: What the partner says about these hours, in the reader's language when translated.
    note: str = ""

    @classmethod
    def of(
        cls, byday: str, opens: time | None, closes: time | None, note: str = ""
    ) -> OpeningHours:
        """From a stored schedule ("MO,TU,WE")."""
        return cls(tuple(day for day in byday.split(",") if day), opens, closes, note)


@dataclass(frozen=True)
class ResourceItem:
    """A resource as shown: localized text, how to reach it, and how fresh its check is."""

    id: str
    name: str
    description: str
    locale: str
    organization: str
    region: str
    categories: tuple[str, ...]
    languages: tuple[str, ...]
    phones: tuple[PhoneItem, ...]
    places: tuple[PublicLocation, ...]  # confidential ones: call-first phone only
    url: str | None
    status: str
    verified_on: date
    verified_by: str
    review_due_on: date
    stale: bool
    updated_at: datetime
    scope: ScopeItem | None = None  # None when no place was asked for
    hours: tuple[OpeningHours, ...] = ()
    status_note: str = ""  # what the partner says about the status, in the reader's language
    # Who may come, what it costs and how to ask for it (HSDS eligibility_description,
    # fees_description, application_process), each in the language it is shown in; None
    # when unknown.
    eligibility: Localized | None = None
    fees: Localized | None = None
    application_process: Localized | None = None
    #: A translation shown was made from an older source text (REFUGE_STALE_TRANSLATIONS=mark).
    outdated: bool = False

    @property
    def closed(self) -> bool:
        """Temporarily closed (HSDS status): shown, and said so."""
        return self.status == "temporarily closed"

    @property
    def whatsapp(self) -> str | None:
        """The resource's WhatsApp number, if it has one."""
        return next((p.number for p in self.phones if p.kind == PhoneKind.WHATSAPP.value), None)

    @property
    def call_first(self) -> str | None:
        """The number to call before going to a confidential place."""
        return next((p.call_first_phone for p in self.places if p.confidential), None)


@dataclass(frozen=True)
class ResourcePage:
    """One page of matching resources and how many match in all."""

    items: tuple[ResourceItem, ...]
    total: int


@dataclass(frozen=True)
class BulletinItem:
    """A current bulletin with its source, dates and sanitised body."""

    id: str
    kind: str
    severity: str
    title: str
    body_html: str
    locale: str
    source_name: str
    source_url: str | None
    issued_at: datetime
    expires_at: datetime | None
    regions: tuple[str, ...]
    updated_at: datetime
    scope: ScopeItem | None = None  # None when no place was asked for
    instruction_html: str = ""  # what to do (CAP <instruction>), sanitised; "" when none
    contact: str | None = None  # whom to ask for more (CAP <contact>)
    #: A translation shown was made from an older source text (REFUGE_STALE_TRANSLATIONS=mark).
    outdated: bool = False


@dataclass(frozen=True)
class StepItem:
    """One step of a checklist."""

    id: str
    position: int
    title: str
    body_html: str


@dataclass(frozen=True)
class ChecklistItem:
    """An account-security checklist; `steps` is empty in listings."""

    slug: str
    title: str
    summary: str
    locale: str
    platform: str
    platform_version: str
    reviewed_on: date
    step_count: int
    steps: tuple[StepItem, ...]
    updated_at: datetime
    #: A translation shown was made from an older source text (REFUGE_STALE_TRANSLATIONS=mark).
    outdated: bool = False
