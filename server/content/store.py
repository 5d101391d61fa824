"""Content records in the database: their canonical form, and writing a canonical form back."""

from __future__ import annotations

from datetime import UTC, datetime, time
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from server.content.records import ACCESS, Canonical
from server.models.bulletins import (
    Bulletin,
    BulletinKind,
    BulletinStatus,
    ContextPhrase,
    Severity,
)
from server.models.checklists import Checklist, ChecklistStep
from server.models.content import (
    Category,
    Location,
    Organization,
    Phone,
    PhoneKind,
    Region,
    RegionKind,
    Resource,
    ResourceCategory,
    ResourceLanguage,
    Schedule,
    ServiceStatus,
)
from server.models.translations import Translation, TranslationStatus, source_digest

#: How a checklist step's translations are stored (`server.content.kinds` names its fields).
STEP_ENTITY = "checklist_step"
#: How the translations of a resource's public places, of its opening hours (by position) and
#: of a context note's rumour wordings (by position) are stored.
PLACE_ENTITY = "location"
HOURS_ENTITY = "opening_hours"
PHRASE_ENTITY = "context_phrase"


def translations_of(session: Session, entity: str, entity_id: str) -> dict[str, dict[str, str]]:
    """Every translation of one record: {locale: {field: text}}."""
    rows = session.scalars(
        select(Translation).where(Translation.entity == entity, Translation.entity_id == entity_id)
    )
    found: dict[str, dict[str, str]] = {}
    for row in rows:
        found.setdefault(row.locale, {})[row.field] = row.text
    return {locale: dict(sorted(fields.items())) for locale, fields in sorted(found.items())}


def write_translations(
    session: Session,
    entity: str,
    entity_id: str,
    sources: dict[str, str],
    translations: dict[str, dict[str, str]],
    now: datetime,
) -> None:
    """Upsert the translations a file gives; a changed text is taken as made from today's source.

    Translations the file does not mention are kept: they may come from a translator's .po.
    An unchanged translation keeps the digest it was made from, so it shows as stale when the
    source text moved on. A file cannot say who checked a text, so every new or changed text
    from a file is a draft awaiting a native speaker's review (the .po round trip marks it
    reviewed); an unchanged one keeps the review it had.
    """
    existing = {
        (row.locale, row.field): row
        for row in session.scalars(
            select(Translation).where(
                Translation.entity == entity, Translation.entity_id == entity_id
            )
        )
    }
    for locale, fields in translations.items():
        for name, value in fields.items():
            if name not in sources:
                continue
            row = existing.get((locale, name))
            if row is not None and row.text == value:
                continue
            if row is None:
                row = Translation(entity=entity, entity_id=entity_id, field=name, locale=locale)
                session.add(row)
            row.status = TranslationStatus.DRAFT
            row.text = value
            row.source_digest = source_digest(sources[name])
            row.updated_at = now


def translations_differ(
    session: Session, entity: str, entity_id: str, wanted: dict[str, dict[str, Any]]
) -> bool:
    """True when a file gives a translation text the database does not hold."""
    have = translations_of(session, entity, entity_id)
    return any(
        have.get(locale, {}).get(name) != value
        for locale, fields in wanted.items()
        for name, value in fields.items()
        if isinstance(value, str)
    )


# --- Regions ----------------------------------------------------------------------------------


def region_canonical(region: Region) -> Canonical:
    """A region as its file holds it (without translations)."""
    return {
        "slug": region.slug,
        "name": region.name,
        "kind": region.kind.value,
        "parent": region.parent.slug if region.parent else None,
        "country_code": region.country_code,
        "timezone": region.timezone,
        "default_locale": region.default_locale,
        "position": region.position,
        "hide_stale": region.hide_stale,
        "review_resources": region.review_resources,
        "locale": region.source_locale,
        "emergency": region.emergency,
    }


def apply_region(
    session: Session, data: Canonical, region: Region | None, _now: datetime
) -> Region:
    """Create or update a region from its canonical form (a region keeps no update time)."""
    if region is None:
        region = Region(slug=data["slug"])
        session.add(region)
    parent = None
    if data["parent"]:
        parent = session.scalar(select(Region).where(Region.slug == data["parent"]))
    region.name = data["name"]
    region.kind = RegionKind(data["kind"])
    region.parent = parent
    region.country_code = data["country_code"]
    region.timezone = data["timezone"]
    region.default_locale = data["default_locale"]
    region.position = data["position"]
    region.hide_stale = data["hide_stale"]
    region.review_resources = data.get("review_resources")
    region.source_locale = data["locale"]
    region.emergency = data.get("emergency")
    region.retired = False
    return region


# --- Organisations ----------------------------------------------------------------------------


def organization_canonical(org: Organization) -> Canonical:
    """An organisation as its file holds it."""
    return {
        "id": org.id,
        "name": org.name,
        "alternate_name": org.alternate_name,
        "description": org.description,
        "website": org.website,
        "email": org.email,
        "sample": org.sample,
        "locale": org.source_locale,
    }


def apply_organization(
    session: Session, data: Canonical, org: Organization | None, now: datetime
) -> Organization:
    """Create or update an organisation."""
    if org is None:
        org = Organization(id=data["id"])
        session.add(org)
    org.name = data["name"]
    org.alternate_name = data["alternate_name"]
    org.description = data["description"]
    org.website = data["website"]
    org.email = data["email"]
    org.sample = data["sample"]
    org.source_locale = data["locale"]
    org.retired = False
    org.updated_at = now
    return org


# --- Resources --------------------------------------------------------------------------------


def _hhmm(value: time | None) -> str | None:
    return value.strftime("%H:%M") if value else None


def resource_canonical(resource: Resource) -> Canonical:
    """A resource as its file holds it."""
    return {
        "id": resource.id,
        "organization": resource.organization_id,
        "region": resource.region.slug,
        "name": resource.name,
        "alternate_name": resource.alternate_name,
        "description": resource.description,
        "categories": sorted(c.category.value for c in resource.categories),
        "languages": sorted(language.code for language in resource.languages),
        "status": resource.status.value,
        "status_note": resource.status_note,
        "eligibility": resource.eligibility,
        "fees": resource.fees,
        "application_process": resource.application_process,
        "verified_on": resource.verified_on,
        "verified_by": resource.verified_by,
        "review_interval_days": resource.review_interval_days,
        "url": resource.url,
        "email": resource.email,
        "sample": resource.sample,
        "locale": resource.source_locale,
        "phones": [
            {"id": p.id, "number": p.number, "kind": p.kind.value, "description": p.description}
            for p in sorted(resource.phones, key=lambda p: p.id)
        ],
        "locations": [_location_canonical(loc) for loc in sorted(resource.locations, key=_id)],
        "schedules": [
            {
                "byday": sch.byday,
                "opens_at": _hhmm(sch.opens_at),
                "closes_at": _hhmm(sch.closes_at),
                "description": sch.description,
            }
            for sch in resource.schedules
        ],
    }


def _id(location: Location) -> str:
    return location.id


def _location_canonical(location: Location) -> Canonical:
    return {
        "id": location.id,
        "name": location.name,
        "address": location.address,
        "city": location.city,
        "country_code": location.country_code,
        "latitude": location.latitude,
        "longitude": location.longitude,
        "confidential": location.confidential,
        "call_first_phone": location.call_first_phone,
    }


def apply_resource(
    session: Session, data: Canonical, resource: Resource | None, now: datetime
) -> Resource:
    """Create or update a resource, replacing its phones, locations and schedules."""
    if resource is None:
        resource = Resource(id=data["id"])
        session.add(resource)
    region = session.scalar(select(Region).where(Region.slug == data["region"]))
    assert region is not None  # the loader checked every reference
    resource.organization_id = data["organization"]
    resource.region = region
    for name in ("name", "alternate_name", "description", "url", "email", "sample"):
        setattr(resource, name, data[name])
    resource.status_note = data.get("status_note")
    for name in ACCESS:
        setattr(resource, name, data.get(name))
    resource.status = ServiceStatus(data["status"])
    resource.verified_on = data["verified_on"]
    resource.verified_by = data["verified_by"]
    resource.review_interval_days = data["review_interval_days"]
    resource.source_locale = data["locale"]
    resource.categories = [ResourceCategory(category=Category(c)) for c in data["categories"]]
    resource.languages = [ResourceLanguage(code=code) for code in data["languages"]]
    resource.phones = [
        Phone(
            id=p["id"], number=p["number"], kind=PhoneKind(p["kind"]), description=p["description"]
        )
        for p in data["phones"]
    ]
    resource.locations = [Location(**loc) for loc in data["locations"]]
    resource.schedules = [
        Schedule(
            byday=sch["byday"],
            opens_at=time.fromisoformat(sch["opens_at"]) if sch["opens_at"] else None,
            closes_at=time.fromisoformat(sch["closes_at"]) if sch["closes_at"] else None,
            description=sch["description"],
        )
        for sch in data["schedules"]
    ]
    resource.retired = False
    resource.updated_at = now
    return resource


# --- Bulletins --------------------------------------------------------------------------------


def _utc(value: datetime | None) -> datetime | None:
    return value.astimezone(UTC) if value else None


def bulletin_canonical(bulletin: Bulletin) -> Canonical:
    """A bulletin as its file holds it."""
    return {
        "id": bulletin.id,
        "kind": bulletin.kind.value,
        "status": bulletin.status.value,
        "severity": bulletin.severity.value,
        "title": bulletin.title,
        "source_name": bulletin.source_name,
        "source_url": bulletin.source_url,
        "organization": bulletin.organization_id,
        "regions": sorted(region.slug for region in bulletin.regions),
        "issued_at": _utc(bulletin.issued_at),
        "expires_at": _utc(bulletin.expires_at),
        "match_phrases": [{"locale": p.locale, "phrase": p.phrase} for p in bulletin.match_phrases],
        "cap_categories": bulletin.cap_categories.split() if bulletin.cap_categories else None,
        "urgency": bulletin.cap_urgency,
        "certainty": bulletin.cap_certainty,
        "instruction": bulletin.instruction,
        "contact": bulletin.contact,
        "sample": bulletin.sample,
        "locale": bulletin.source_locale,
        "body": bulletin.body,
    }


def apply_bulletin(
    session: Session, data: Canonical, bulletin: Bulletin | None, now: datetime
) -> Bulletin:
    """Create or update a bulletin."""
    if bulletin is None:
        bulletin = Bulletin(id=data["id"])
        session.add(bulletin)
    bulletin.kind = BulletinKind(data["kind"])
    bulletin.status = BulletinStatus(data["status"])
    bulletin.severity = Severity(data["severity"])
    for name in ("title", "source_name", "source_url", "issued_at", "expires_at", "sample", "body"):
        setattr(bulletin, name, data[name])
    bulletin.organization_id = data["organization"]
    bulletin.source_locale = data["locale"]
    categories = data.get("cap_categories")
    bulletin.cap_categories = " ".join(categories) if categories else None
    bulletin.cap_urgency, bulletin.cap_certainty = data.get("urgency"), data.get("certainty")
    bulletin.instruction, bulletin.contact = data.get("instruction"), data.get("contact")
    bulletin.regions = list(
        session.scalars(
            select(Region).where(Region.slug.in_(data["regions"])).order_by(Region.slug)
        )
    )
    bulletin.match_phrases = [ContextPhrase(**phrase) for phrase in data["match_phrases"]]
    bulletin.updated_at = now
    return bulletin


# --- Checklists -------------------------------------------------------------------------------


def checklist_canonical(checklist: Checklist) -> Canonical:
    """A checklist as its file holds it."""
    return {
        "id": checklist.id,
        "title": checklist.title,
        "summary": checklist.summary,
        "platform": checklist.platform,
        "platform_version": checklist.platform_version,
        "reviewed_on": checklist.reviewed_on,
        "position": checklist.position,
        "locale": checklist.source_locale,
        "steps": [
            {
                "id": step.id.split("/", 1)[1],
                "title": step.title,
                "web": step.web_text,
                "sms": step.sms_text,
            }
            for step in checklist.steps
        ],
    }


def apply_checklist(
    session: Session, data: Canonical, checklist: Checklist | None, now: datetime
) -> Checklist:
    """Create or update a checklist and its steps."""
    if checklist is None:
        checklist = Checklist(id=data["id"])
        session.add(checklist)
    for name in ("title", "summary", "platform", "platform_version", "reviewed_on", "position"):
        setattr(checklist, name, data[name])
    checklist.source_locale = data["locale"]
    checklist.retired = False
    checklist.updated_at = now
    wanted = {f"{data['id']}/{step['id']}": step for step in data["steps"]}
    kept = {step.id: step for step in checklist.steps if step.id in wanted}
    steps = []
    for position, (step_id, step) in enumerate(wanted.items(), start=1):
        row = kept.get(step_id) or ChecklistStep(id=step_id)
        row.position = position
        row.title, row.web_text, row.sms_text = step["title"], step["web"], step["sms"]
        steps.append(row)
    checklist.steps = steps
    return checklist


def utcnow() -> datetime:
    """Now, in UTC."""
    return datetime.now(UTC)


def strip_nones(data: dict[str, Any]) -> dict[str, Any]:
    """A canonical form without empty optional fields, as a file writes it."""
    return {k: v for k, v in data.items() if v is not None and v != [] and v != {}}
