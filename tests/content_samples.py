"""Content records for the portal tests, made as the portal makes them: through the version
store, live at once, so each has a version to roll back to."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from typing import Any

from flask import Flask

from server import db
from server.content import drafts
from server.content.kinds import BULLETIN, CHECKLIST, ORGANIZATION, RESOURCE, ContentKind
from server.content.records import Canonical
from server.models.content import Organization

NOW = datetime(2026, 12, 1, 8, 0, tzinfo=UTC)


def unique(prefix: str) -> str:
    """A fresh record id."""
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


def live(app: Flask, kind: ContentKind, form: Canonical, author: uuid.UUID | None = None) -> int:
    """Make a record live (no review) and return its version's id."""
    with db.get_database(app).session() as session:
        version = drafts.propose(session, kind, form, author=author, now=NOW, review=False)
        return version.id


def draft(app: Flask, kind: ContentKind, form: Canonical) -> int:
    """Leave a change waiting for review (made by an import: no author) and return its id."""
    with db.get_database(app).session() as session:
        version = drafts.propose(session, kind, form, author=None, now=NOW, review=True)
        return version.id


def bulletin(region: str, kind: str = "advisory", **fields: Any) -> Canonical:
    """A bulletin's canonical form in `region`."""
    form: Canonical = {
        "id": unique(kind),
        "kind": kind,
        "status": "published",
        "severity": "moderate",
        "title": f"Water cut in {region}",
        "source_name": "City council",
        "source_url": None,
        "organization": None,
        "regions": [region],
        "issued_at": NOW - timedelta(days=1),
        "expires_at": NOW + timedelta(days=3650) if kind != "context" else None,
        "match_phrases": [{"locale": "en", "phrase": "the water is poisoned"}]
        if kind == "context"
        else [],
        "sample": False,
        "locale": "en",
        "body": "Water returns tomorrow.\n",
    }
    return form | fields


def organization(app: Flask) -> str:
    """An organisation with no resource yet; its id."""
    return _ensure_organization(app, unique("ngo"))


def _ensure_organization(app: Flask, org_id: str) -> str:
    with db.get_database(app).session() as session:
        if session.get(Organization, org_id) is None:
            form = {
                "id": org_id,
                "name": "Aid group",
                "alternate_name": None,
                "description": "Helps.",
                "website": None,
                "email": None,
                "sample": False,
                "locale": "en",
            }
            drafts.propose(session, ORGANIZATION, form, author=None, now=NOW, review=False)
    return org_id


def resource(app: Flask, region: str, org_id: str | None = None, **fields: Any) -> Canonical:
    """A resource's canonical form in `region` (its organisation made if needed)."""
    org_id = _ensure_organization(app, org_id or unique("ngo"))
    form: Canonical = {
        "id": unique("clinic"),
        "organization": org_id,
        "region": region,
        "name": f"Clinic in {region}",
        "alternate_name": None,
        "description": "Open to everyone.",
        "categories": ["medical"],
        "languages": ["uk"],
        "status": "active",
        "status_note": None,
        "verified_on": date(2026, 11, 1),
        "verified_by": "Aid group",
        "review_interval_days": 90,
        "url": None,
        "email": None,
        "sample": False,
        "locale": "en",
        "phones": [
            {
                "id": unique("phone"),
                "number": "+44 7700 900123",
                "kind": "voice",
                "description": None,
            }
        ],
        "locations": [],
        "schedules": [],
    }
    return form | fields


def checklist(**fields: Any) -> Canonical:
    """A checklist's canonical form."""
    form: Canonical = {
        "id": unique("phone"),
        "title": "Lock your phone",
        "summary": "Two minutes.",
        "platform": "Android",
        "platform_version": "14",
        "reviewed_on": date(2026, 11, 1),
        "position": 0,
        "locale": "en",
        "steps": [
            {"id": "pin", "title": "Set a PIN", "web": "Open **Settings**.", "sms": "Set a PIN."}
        ],
    }
    return form | fields


def organization_in(app: Flask, region: str) -> str:
    """An organisation whose one resource is in `region`; its id."""
    org_id = organization(app)
    live(app, RESOURCE, resource(app, region, org_id))
    return org_id


Values = dict[str, object]
Sample = Callable[[Any], tuple[Values, Values | None]]
HOME, ELSEWHERE = "kharkiv", "odesa"


def _forms(app: Flask, slug: str, region: str) -> tuple[ContentKind, Canonical]:
    if slug == "bulletins":
        return BULLETIN, bulletin(region)
    if slug == "context":
        return BULLETIN, bulletin(region, kind="context")
    if slug == "resources":
        return RESOURCE, resource(app, region)
    if slug == "organizations":
        org_id = organization_in(app, region)
        with db.get_database(app).session() as session:
            form = drafts.live_form(session, ORGANIZATION, org_id)
        assert form is not None
        return ORGANIZATION, form
    return CHECKLIST, checklist()


def _record(slug: str) -> Sample:
    def make(world: Any) -> tuple[Values, Values | None]:
        made = []
        for region in (HOME, ELSEWHERE):
            kind, form = _forms(world.app, slug, region)
            version_id = live(world.app, kind, form)
            made.append({"record_id": form["id"], "version_id": version_id})
        inside, outside = made
        # A checklist serves every region: none lies outside anyone's scope.
        return inside, (None if slug == "checklists" else outside)

    return make


def _pending(world: Any) -> tuple[Values, Values | None]:
    inside = draft(world.app, BULLETIN, bulletin(HOME))
    outside = draft(world.app, BULLETIN, bulletin(ELSEWHERE))
    return {"version_id": inside}, {"version_id": outside}


def _without_version(sample: Sample) -> Sample:
    def make(world: Any) -> tuple[Values, Values | None]:
        inside, outside = sample(world)
        trim = lambda values: {"record_id": values["record_id"]}  # noqa: E731
        return trim(inside), (trim(outside) if outside is not None else None)

    return make


def portal_samples() -> dict[str, Sample]:
    """The matrix samples of every content route naming a record or a draft."""
    found: dict[str, Sample] = {
        "portal.approve": _pending,
        "portal.reject": _pending,
        "portal.resources_verify": _without_version(_record("resources")),
    }
    for slug in ("bulletins", "context", "resources", "organizations", "checklists"):
        found[f"portal.{slug}_record"] = _without_version(_record(slug))
        found[f"portal.{slug}_rollback"] = _record(slug)
    return found
