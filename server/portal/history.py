"""What the record pages and the review queue show of versions: who, when, what changed.

Accounts are named by username (a version keeps only the account's id); an import's version
names the import instead. An audit row's detail names the kind, the record and the version:
content ids, never personal data.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from server.content import drafts
from server.content.diffs import Change, changes, previous_form
from server.models.content import Organization
from server.models.drafts import RecordVersion, VersionState
from server.models.staff import User
from server.portal import scoping
from server.portal.access import Scope
from server.portal.forms import Editable


@dataclass(frozen=True)
class Entry:
    """One version as a page shows it."""

    version: RecordVersion
    author: str
    reviewer: str
    changes: list[Change]
    #: Whether saving it again would change the live record (an older, different version).
    restorable: bool


def detail(version: RecordVersion) -> dict[str, Any]:
    """An audit row's detail for an action on a version."""
    return {"kind": version.kind, "id": version.record_id, "version": version.id}


def names(session: Session, ids: Iterable[uuid.UUID | None]) -> dict[uuid.UUID, str]:
    """Usernames of accounts by id."""
    wanted = {each for each in ids if each is not None}
    if not wanted:
        return {}
    rows = session.execute(select(User.id, User.username).where(User.id.in_(wanted)))
    return {row.id: row.username for row in rows}


def organizations(session: Session) -> list[tuple[str, str]]:
    """Every current organisation, (id, name), for the organisation field."""
    query = select(Organization.id, Organization.name).where(Organization.retired.is_(False))
    return [(row_id, name) for row_id, name in session.execute(query.order_by(Organization.name))]


def entries(
    session: Session, versions: list[RecordVersion], live: dict[str, Any] | None
) -> list[Entry]:
    """Versions newest first, each with what it changed from the version live before it."""
    who = names(session, [v.author_id for v in versions] + [v.reviewer_id for v in versions])
    live_digest = drafts.digest(live)
    found = []
    for version in versions:
        before = previous_form(session, version, versions)
        if version.state is VersionState.DRAFT:
            before = drafts.stored(live) if live is not None else None
        found.append(
            Entry(
                version,
                who.get(version.author_id, version.origin) if version.author_id else version.origin,
                who.get(version.reviewer_id, "") if version.reviewer_id else "",
                changes(before, version.form),
                version.state is VersionState.APPROVED
                and drafts.digest(drafts.loaded(version.form)) != live_digest,
            )
        )
    return found


def context(
    session: Session,
    editable: Editable,
    record_id: str,
    live: dict[str, Any] | None,
    versions: list[RecordVersion],
) -> dict[str, Any]:
    """What a record page shows beside its form."""
    return {
        "record_id": record_id,
        "live": live is not None,
        "base": drafts.digest(live) or "",
        "history": entries(session, versions, live),
        "new": False,
    }


def new_records(session: Session, scope: Scope, editable: Editable) -> list[RecordVersion]:
    """Drafts of records not live yet (listed apart: the public does not see them)."""
    found = []
    for version in scoping.waiting(session, scope, [editable.kind.name]):
        if editable.bulletin_kinds and version.form.get("kind") not in editable.bulletin_kinds:
            continue
        if drafts.live_row(session, editable.kind, version.record_id) is None:
            found.append(version)
    return found
