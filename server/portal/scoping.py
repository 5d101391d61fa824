"""Which content records and drafts lie in an account's scope, and listing them.

A resource lies where its region is; a bulletin or context note where any of its regions is;
an organisation where any of its resources is (one with none yet is everyone's, so its
creator can give it one); a checklist serves every region, so it is in every editor's scope.
A change may only name regions of the scope: nobody writes into another region's pages.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date
from typing import Any

from sqlalchemy import Select, exists, select
from sqlalchemy.orm import Session

from server.content import drafts
from server.content.kinds import BULLETIN, CHECKLIST, ORGANIZATION, RESOURCE, ContentKind
from server.models.bulletins import Bulletin, BulletinStatus, bulletin_regions
from server.models.content import Organization, Region, Resource, ServiceStatus
from server.models.drafts import RecordVersion, VersionState
from server.portal.access import Scope, below
from server.portal.forms import Editable

#: The status filter of resources due for re-verification.
STALE = "stale"
#: The most records a list shows (filter by region or status to see others).
LIST_LIMIT = 200


def region_ids(session: Session, slugs: Iterable[str]) -> set[int]:
    """The ids of the regions of these slugs."""
    wanted = list(slugs)
    if not wanted:
        return set()
    return set(session.scalars(select(Region.id).where(Region.slug.in_(wanted))))


def regions_in(session: Session, scope: Scope) -> list[Region]:
    """The regions of the scope, for choosing where a record applies."""
    query = select(Region).where(Region.retired.is_(False)).order_by(Region.position, Region.name)
    return [region for region in session.scalars(query) if scope.covers_region(region.id)]


def form_covered(session: Session, scope: Scope, kind: ContentKind, form: dict[str, Any]) -> bool:
    """Whether a record in this form lies in the scope (any of its regions does)."""
    if scope.everywhere or kind is CHECKLIST:
        return True
    slugs = drafts.region_slugs(session, kind, form)
    if kind is ORGANIZATION and not slugs:
        return True
    return scope.covers_any(region_ids(session, slugs))


def outside(session: Session, scope: Scope, kind: ContentKind, form: dict[str, Any]) -> list[str]:
    """The regions a form names that lie outside the scope (a change may name none)."""
    if scope.everywhere or kind not in (RESOURCE, BULLETIN):
        return []
    slugs = drafts.region_slugs(session, kind, form)
    rows = session.execute(select(Region.slug, Region.id).where(Region.slug.in_(slugs))).all()
    return sorted(slug for slug, region_id in rows if not scope.covers_region(region_id))


def version_covered(session: Session, scope: Scope, version: RecordVersion) -> bool:
    """Whether a version lies in the scope."""
    return form_covered(session, scope, drafts.kind_named(version.kind), version.form)


def _scoped(editable: Editable, scope: Scope, query: Select[Any]) -> Select[Any]:
    if editable.kind is RESOURCE:
        return query.where(scope.regions_clause(Resource.region_id))
    if editable.kind is BULLETIN:
        query = query.where(Bulletin.kind.in_(editable.bulletin_kinds))
        if scope.everywhere:
            return query
        return query.where(
            exists().where(
                bulletin_regions.c.bulletin_id == Bulletin.id,
                scope.regions_clause(bulletin_regions.c.region_id),  # type: ignore[arg-type]
            )
        )
    if editable.kind is ORGANIZATION and not scope.everywhere:
        owned = exists().where(Resource.organization_id == Organization.id)
        mine = exists().where(
            Resource.organization_id == Organization.id, scope.regions_clause(Resource.region_id)
        )
        return query.where(~owned | mine)
    return query


def _in_region(editable: Editable, query: Select[Any], ids: set[int]) -> Select[Any]:
    if editable.kind is RESOURCE:
        return query.where(Resource.region_id.in_(ids))
    if editable.kind is BULLETIN:
        return query.where(
            exists().where(
                bulletin_regions.c.bulletin_id == Bulletin.id,
                bulletin_regions.c.region_id.in_(ids),
            )
        )
    return query


def listed(
    session: Session,
    scope: Scope,
    editable: Editable,
    *,
    region: str | None,
    status: str | None,
    today: date,
) -> list[Any]:
    """The live records of a kind in the scope, resources due for re-verification first."""
    model = editable.kind.model
    query = _scoped(editable, scope, select(model))
    if region:
        query = _in_region(editable, query, below(session, [region]))
    wanted = statuses(editable)
    if status in wanted and status != STALE:
        query = query.where(model.status == model.status.type.enum_class(status))
    rows = list(session.scalars(query.order_by(editable.kind.key_column()).limit(LIST_LIMIT)))
    if editable.kind is RESOURCE:
        if status == STALE:
            rows = [row for row in rows if row.is_stale(today)]
        rows.sort(key=lambda row: not row.is_stale(today))
    return rows


def statuses(editable: Editable) -> list[str]:
    """The statuses a list of this kind filters by."""
    if editable.kind is BULLETIN:
        return [status.value for status in BulletinStatus]
    if editable.kind is RESOURCE:
        return [STALE, *(status.value for status in ServiceStatus)]
    return []


def waiting(session: Session, scope: Scope, kinds: Iterable[str] | None = None) -> list[Any]:
    """The drafts in the scope waiting for a reviewer, oldest first."""
    query = select(RecordVersion).where(RecordVersion.state == VersionState.DRAFT)
    if kinds is not None:
        query = query.where(RecordVersion.kind.in_(list(kinds)))
    return [
        version
        for version in session.scalars(query.order_by(RecordVersion.id))
        if version_covered(session, scope, version)
    ]
