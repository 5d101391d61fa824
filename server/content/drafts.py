"""Drafts, review and history of content records: the version store.

A change to a record is a `RecordVersion` holding the record's whole canonical form, the same
dict a content file holds, so files, portal forms and exports share one vocabulary. A change
that needs a second person waits as a draft; the live record stays as it was, and stays
public, until a reviewer who is not the author approves it. Approving writes the form through
the kind's `apply` (the path `refuge content load` takes) and refuses when the live record
changed since the draft was made from it: the draft would silently undo that change.

Nothing here commits and nothing knows about Flask: the portal and the CAP import call in.
"""

from __future__ import annotations

import hashlib
import json
import uuid
from datetime import date, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from server.content import search, store
from server.content.kinds import BULLETIN, CHECKLIST, KINDS, ORGANIZATION, RESOURCE, ContentKind
from server.content.records import Canonical
from server.models.bulletins import ContextPhrase
from server.models.checklists import ChecklistStep
from server.models.content import Location, Phone, Region, Resource, Schedule
from server.models.drafts import RecordVersion, VersionState
from server.models.translations import Translation, TranslationStatus

#: Fields of a canonical form holding a day or a moment (JSON keeps them as ISO text).
DAY_FIELDS = frozenset({"verified_on", "reviewed_on"})
MOMENT_FIELDS = frozenset({"issued_at", "expires_at"})
#: Kinds whose every change waits for a reviewer; resources and organisations ask the region.
ALWAYS_REVIEWED = frozenset({BULLETIN.name, CHECKLIST.name})
#: Who keeps a record a reviewer approved in the portal.
PORTAL = "portal"


class ReviewRefused(Exception):
    """A decision on a draft that cannot be taken; the message says why, for the reviewer."""


class OwnDraft(ReviewRefused):
    """The reviewer wrote the draft: two people must see every reviewed change."""


class NotPending(ReviewRefused):
    """The version was already approved, rejected or superseded."""


class LiveChanged(ReviewRefused):
    """The live record changed after the draft was made: approving would undo that change."""


class ReferenceGone(ReviewRefused):
    """A region or organisation the draft names was retired since it was written."""


class ReasonMissing(ReviewRefused):
    """A rejection without a reason tells the author nothing."""


def kind_named(name: str) -> ContentKind:
    """The content kind of this name (a version's `kind`)."""
    return next(kind for kind in KINDS if kind.name == name)


# --- The stored form --------------------------------------------------------------------------


def _plain(value: Any) -> Any:
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(item) for item in value]
    return value


def stored(form: Canonical) -> dict[str, Any]:
    """A canonical form as JSON holds it: days and moments as ISO text."""
    plain: dict[str, Any] = _plain(form)
    return plain


def loaded(data: dict[str, Any]) -> Canonical:
    """A stored form back as the canonical form `apply` takes."""
    form = dict(data)
    for name in DAY_FIELDS & form.keys():
        if form[name] is not None:
            form[name] = date.fromisoformat(form[name])
    for name in MOMENT_FIELDS & form.keys():
        if form[name] is not None:
            form[name] = datetime.fromisoformat(form[name])
    return form


def digest(form: Canonical | None) -> str | None:
    """A fingerprint of a canonical form (None for a record that does not exist)."""
    if form is None:
        return None
    text = json.dumps(stored(form), sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


# --- Live records -----------------------------------------------------------------------------


def live_row(session: Session, kind: ContentKind, record_id: str) -> Any:
    """The record as the public sees it, or None."""
    return session.get(kind.model, record_id)


def live_form(session: Session, kind: ContentKind, record_id: str) -> Canonical | None:
    """The canonical form of the live record, or None when it does not exist."""
    row = live_row(session, kind, record_id)
    return None if row is None else kind.canonical(row)


def region_slugs(session: Session, kind: ContentKind, form: Canonical) -> list[str]:
    """The regions a form is bound to; none for a checklist (they serve every region)."""
    if kind is RESOURCE:
        return [form["region"]]
    if kind is BULLETIN:
        return list(form["regions"])
    if kind is ORGANIZATION:
        query = (
            select(Region.slug)
            .join(Resource, Resource.region_id == Region.id)
            .where(Resource.organization_id == form["id"])
            .distinct()
        )
        return sorted(session.scalars(query))
    return []


def _requires_resource_review(session: Session, slug: str) -> bool:
    region = session.scalar(select(Region).where(Region.slug == slug))
    seen: set[int] = set()
    while region is not None and region.id not in seen:
        if region.review_resources is not None:
            return region.review_resources
        seen.add(region.id)
        region = region.parent
    return False


def needs_review(session: Session, kind: ContentKind, form: Canonical) -> bool:
    """Whether a change to this record waits for a second person."""
    if kind.name in ALWAYS_REVIEWED:
        return True
    return any(
        _requires_resource_review(session, slug) for slug in region_slugs(session, kind, form)
    )


def missing_references(session: Session, kind: ContentKind, form: Canonical) -> list[str]:
    """The regions and organisations a form names that do not exist (or are retired)."""
    wanted: list[tuple[ContentKind, str]] = []
    if kind in (RESOURCE, BULLETIN):
        wanted += [(kind_named("region"), slug) for slug in region_slugs(session, kind, form)]
    if kind in (RESOURCE, BULLETIN) and form.get("organization"):
        wanted.append((ORGANIZATION, form["organization"]))
    missing = []
    for other, key in wanted:
        row = session.scalar(select(other.model).where(other.key_column() == key))
        if row is None or other.is_retired(row):
            missing.append(key)
    return missing


def taken_ids(session: Session, kind: ContentKind, form: Canonical) -> list[str]:
    """Phone and location ids of a resource form that another resource already uses."""
    if kind is not RESOURCE:
        return []
    found: list[str] = []
    for model, field in ((Phone, "phones"), (Location, "locations")):
        wanted = [item["id"] for item in form[field]]
        if wanted:
            query = select(model.id).where(model.id.in_(wanted), model.resource_id != form["id"])
            found += session.scalars(query)
    return sorted(found)


#: Where each list of a form is stored, and the columns its items' fields go to.
_PARTS: dict[str, tuple[type[Any], dict[str, str]]] = {
    "phones": (Phone, {}),
    "locations": (Location, {}),
    "schedules": (Schedule, {}),
    "match_phrases": (ContextPhrase, {}),
    "steps": (ChecklistStep, {"web": "web_text", "sms": "sms_text"}),
}
#: Form fields stored under another column name.
_COLUMNS = {"organization": "organization_id", "locale": "source_locale"}


def _limit(model: type[Any], name: str) -> int | None:
    column = model.__table__.columns.get(name)
    length = getattr(column.type, "length", None) if column is not None else None
    return length if isinstance(length, int) else None


def too_long(kind: ContentKind, form: Canonical) -> list[str]:
    """The fields of a form longer than their columns hold (the database would refuse them)."""
    found = []
    for name, value in form.items():
        limit = _limit(kind.model, _COLUMNS.get(name, name))
        if isinstance(value, str) and limit is not None and len(value) > limit:
            found.append(name)
        if name in _PARTS and isinstance(value, list):
            model, columns = _PARTS[name]
            for item in value:
                for part, text in item.items():
                    limit = _limit(model, columns.get(part, part))
                    if isinstance(text, str) and limit is not None and len(text) > limit:
                        found.append(f"{name}.{part}")
    return sorted(set(found))


# --- Versions ---------------------------------------------------------------------------------


def pending(session: Session, kind: ContentKind, record_id: str) -> list[RecordVersion]:
    """The drafts of one record waiting for review, oldest first."""
    query = (
        select(RecordVersion)
        .where(
            RecordVersion.kind == kind.name,
            RecordVersion.record_id == record_id,
            RecordVersion.state == VersionState.DRAFT,
        )
        .order_by(RecordVersion.id)
    )
    return list(session.scalars(query))


def history(session: Session, kind: ContentKind, record_id: str) -> list[RecordVersion]:
    """Every version of one record, newest first."""
    query = (
        select(RecordVersion)
        .where(RecordVersion.kind == kind.name, RecordVersion.record_id == record_id)
        .order_by(RecordVersion.id.desc())
    )
    return list(session.scalars(query))


def propose(
    session: Session,
    kind: ContentKind,
    form: Canonical,
    *,
    author: uuid.UUID | None,
    now: datetime,
    origin: str = PORTAL,
    review: bool | None = None,
) -> RecordVersion:
    """Record a change: a draft when it needs review, else applied at once (and versioned).

    The author's own earlier drafts of the record (an import's, for an import) are superseded:
    the newer one says what its author wants now.
    """
    record_id = str(form[_key(kind)])
    _keep_baseline(session, kind, record_id, now)
    for older in pending(session, kind, record_id):
        if older.author_id == author and older.origin == origin:
            older.state = VersionState.SUPERSEDED
            older.decided_at = now
    version = RecordVersion(
        kind=kind.name,
        record_id=record_id,
        form=stored(form),
        state=VersionState.DRAFT,
        origin=origin,
        author_id=author,
        created_at=now,
        base_digest=digest(live_form(session, kind, record_id)),
    )
    session.add(version)
    session.flush()
    if not (needs_review(session, kind, form) if review is None else review):
        _apply(session, version, now)
    return version


def _keep_baseline(session: Session, kind: ContentKind, record_id: str, now: datetime) -> None:
    """Before the first change to a record loaded or imported elsewhere, keep its live form.

    History then starts from what the public saw, and rolling back can return to it.
    """
    row = live_row(session, kind, record_id)
    if row is None or history(session, kind, record_id):
        return
    since = getattr(row, "updated_at", None) or now
    session.add(
        RecordVersion(
            kind=kind.name,
            record_id=record_id,
            form=stored(kind.canonical(row)),
            state=VersionState.APPROVED,
            origin=getattr(row, "origin", None) or "files",
            created_at=since,
            decided_at=since,
        )
    )
    session.flush()


def _key(kind: ContentKind) -> str:
    return "slug" if kind.key == "slug" else "id"


def approve(session: Session, version: RecordVersion, reviewer: uuid.UUID, now: datetime) -> None:
    """Make a draft live, as its author wrote it, in the caller's transaction."""
    if version.state is not VersionState.DRAFT:
        raise NotPending(version.state.value)
    if version.author_id is not None and version.author_id == reviewer:
        raise OwnDraft(version.id)
    kind = kind_named(version.kind)
    if digest(live_form(session, kind, version.record_id)) != version.base_digest:
        raise LiveChanged(version.id)
    if missing_references(session, kind, loaded(version.form)):
        raise ReferenceGone(version.id)
    version.reviewer_id = reviewer
    _apply(session, version, now)


def reject(
    session: Session, version: RecordVersion, reviewer: uuid.UUID, reason: str, now: datetime
) -> None:
    """Turn a draft down with a reason the author will read; the live record is untouched."""
    if version.state is not VersionState.DRAFT:
        raise NotPending(version.state.value)
    if not reason.strip():
        raise ReasonMissing(version.id)
    version.state = VersionState.REJECTED
    version.reviewer_id = reviewer
    version.reason = reason.strip()
    version.decided_at = now


def roll_back(
    session: Session, older: RecordVersion, author: uuid.UUID, now: datetime
) -> RecordVersion:
    """A new change holding an older version's form: reviewed like any other change."""
    kind = kind_named(older.kind)
    form = {k: v for k, v in loaded(older.form).items() if k != "translations"}
    return propose(session, kind, form, author=author, now=now)


def _apply(session: Session, version: RecordVersion, now: datetime) -> None:
    kind = kind_named(version.kind)
    form = loaded(version.form)
    translations = form.pop("translations", None)
    row = live_row(session, kind, version.record_id)
    with session.no_autoflush:  # a half-built row must not be flushed by a lookup
        row = kind.apply(session, form, row, now)
    if kind.has_origin:
        row.origin = version.origin
    session.flush()
    if translations:
        _write_translations(session, kind, version, form, translations, now)
    if kind is RESOURCE:
        search.reindex_all(session, [row])
    elif kind is ORGANIZATION:
        owned = select(Resource).where(Resource.organization_id == version.record_id)
        search.reindex_all(session, session.scalars(owned))
    version.state = VersionState.APPROVED
    version.decided_at = now
    session.flush()


def _write_translations(
    session: Session,
    kind: ContentKind,
    version: RecordVersion,
    form: Canonical,
    translations: dict[str, dict[str, str]],
    now: datetime,
) -> None:
    """Write the translations an import brought; the issuer's own are taken as reviewed."""
    sources = {name: form[name] for name in kind.translatable if form.get(name) is not None}
    store.write_translations(session, kind.name, version.record_id, sources, translations, now)
    if version.origin == PORTAL:
        return
    session.flush()
    for row in session.scalars(
        select(Translation).where(
            Translation.entity == kind.name, Translation.entity_id == version.record_id
        )
    ):
        if row.locale in translations:
            row.status = TranslationStatus.REVIEWED
