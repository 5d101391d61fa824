"""Which accounts an admin may see and manage: those whose whole scope lies within its own.

An account lies in an admin's scope when every region it names (and its NGO's region) is one
of the admin's regions or below them, and every locale it names is one of the admin's. An
account without regions works everywhere, and an admin without locales in every locale: only
an admin with the same reach manages them. So an admin never sees, makes or changes an
account reaching further than itself.
"""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import select
from sqlalchemy.orm import Session

from server.models.checkins import CheckinPartner
from server.models.content import Region
from server.models.staff import Role, User
from server.portal.access import Scope


def reaches(
    session: Session,
    scope: Scope,
    role: Role,
    regions: Iterable[str],
    locales: Iterable[str],
    partner: str | None,
) -> bool:
    """Whether an account of this role, regions, locales and NGO lies within `scope`."""
    slugs = set(regions) | ({partner} if partner else set())
    if not scope.everywhere:
        if not set(regions):
            return False
        found = dict(
            session.execute(select(Region.slug, Region.id).where(Region.slug.in_(slugs))).all()
        )
        if set(found) != slugs or not all(scope.covers_region(i) for i in found.values()):
            return False
    tags = set(locales)
    if not scope.all_locales:
        if role is Role.ADMIN and not tags:
            return False
        if not all(scope.covers_locale(tag) for tag in tags):
            return False
    return True


def covers_account(session: Session, scope: Scope, user: User) -> bool:
    """Whether `user` lies within `scope` (see the module's docstring)."""
    partner = user.organisation.region_slug if user.organisation is not None else None
    return reaches(session, scope, user.role, user.region_slugs, user.locale_tags, partner)


def regions_within(session: Session, scope: Scope) -> list[Region]:
    """The regions an account made by this admin may name, by name."""
    query = select(Region).order_by(Region.name)
    if not scope.everywhere:
        query = query.where(Region.id.in_(sorted(scope.region_ids)))
    return list(session.scalars(query))


def partners_within(session: Session, scope: Scope) -> list[CheckinPartner]:
    """The NGOs an account made by this admin may belong to."""
    slugs = {region.slug for region in regions_within(session, scope)}
    partners = session.scalars(select(CheckinPartner).order_by(CheckinPartner.name))
    return [partner for partner in partners if partner.region_slug in slugs]
