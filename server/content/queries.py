"""What may be shown to a person: current bulletins, resources with their verification state,
and locations that never give a confidential address away.

Every channel (web, SMS, API) reads content through these functions, so the rules hold
everywhere: expired or retracted bulletins are never current, stale resources are flagged
(or hidden, per region), and a confidential location yields only its call-first phone.

Content inherits down the region tree: a place shows its own items first, then its area's,
then its country's, and each item carries its `Scope` (the region it comes from, how far).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from server.content.places import PlaceNames
from server.content.search import MAX_DEPTH, reach, region_and_descendants
from server.content.text import fold
from server.models.bulletins import Bulletin, BulletinKind, BulletinStatus, bulletin_regions
from server.models.checklists import Checklist, ChecklistStep
from server.models.content import Location, Region, Resource
from server.models.translations import Translation


@dataclass(frozen=True)
class Scope:
    """Where an item shown for a place applies: its region, and how far that lies from the place.

    `distance` is 0 for the place itself, 1, 2... for the regions above it (its area, its
    country: "for all of Cox's Bazar"), -1, -2... for the places within it.
    """

    region: Region
    distance: int


def nearness(distance: int) -> int:
    """The order of distances: the place, then each region above it, then the places within it.

    Used where the places within come last (a rumour answered in one of the country's areas
    counts after every note of the country itself); resources list the places within a place
    with the place itself (`search.Reach.tiers`).
    """
    return distance if distance >= 0 else MAX_DEPTH - distance


@dataclass(frozen=True)
class PublicLocation:
    """A location as anyone may see it; for a confidential one, only how to make contact."""

    name: str | None
    address: str | None
    city: str | None
    latitude: float | None
    longitude: float | None
    confidential: bool
    call_first_phone: str | None


def public_location(location: Location) -> PublicLocation:
    """The shareable view of a location: a confidential one keeps its place to itself."""
    if location.confidential:
        return PublicLocation(
            name=None,
            address=None,
            city=None,
            latitude=None,
            longitude=None,
            confidential=True,
            call_first_phone=location.call_first_phone,
        )
    return PublicLocation(
        name=location.name,
        address=location.address,
        city=location.city,
        latitude=location.latitude,
        longitude=location.longitude,
        confidential=False,
        call_first_phone=location.call_first_phone,
    )


@dataclass(frozen=True)
class ResourceView:
    """A resource with what a person must know about its trustworthiness."""

    resource: Resource
    stale: bool
    verified_on: date
    verified_by: str
    locations: tuple[PublicLocation, ...]


def view_resource(resource: Resource, today: date) -> ResourceView:
    """A resource as shown: stale flag, verification, and only public locations."""
    return ResourceView(
        resource=resource,
        stale=resource.is_stale(today),
        verified_on=resource.verified_on,
        verified_by=resource.verified_by,
        locations=tuple(public_location(location) for location in resource.locations),
    )


def visible(resources: list[Resource], today: date) -> list[ResourceView]:
    """Views of resources in order, dropping retired ones and stale ones where hidden."""
    views = []
    for resource in resources:
        if resource.retired:
            continue
        view = view_resource(resource, today)
        if view.stale and resource.region.hide_stale:
            continue
        views.append(view)
    return views


def stale_resources(session: Session, today: date) -> list[Resource]:
    """Resources past their review date, for partners to re-verify (oldest first)."""
    candidates = session.scalars(
        select(Resource).where(Resource.retired.is_(False)).order_by(Resource.verified_on)
    )
    return [resource for resource in candidates if resource.is_stale(today)]


def current_bulletins(
    session: Session,
    region: Region | None,
    now: datetime,
    kinds: tuple[BulletinKind, ...] = tuple(BulletinKind),
) -> list[Bulletin]:
    """Published bulletins in force now for a region (and its ancestors), newest first."""
    return [b for b in published_bulletins(session, region, now, kinds) if b.is_current(now)]


def published_bulletins(
    session: Session,
    region: Region | None,
    now: datetime,
    kinds: tuple[BulletinKind, ...] = tuple(BulletinKind),
    within: bool = False,
) -> list[Bulletin]:
    """Published bulletins for a region (and its ancestors) not expired at `now`: the place's
    own first, then its area's, then its country's, newest first within each.

    Bulletins issued later are included: whoever keeps the list must still ask each one
    whether it is in force at the moment it is shown. `within` adds those of the places
    within the region, after all others.
    """
    return [bulletin for bulletin, _scope in placed_bulletins(session, region, now, kinds, within)]


def placed_bulletins(
    session: Session,
    region: Region | None,
    now: datetime,
    kinds: tuple[BulletinKind, ...] = tuple(BulletinKind),
    within: bool = False,
) -> list[tuple[Bulletin, Scope | None]]:
    """`published_bulletins` with the scope of each: the nearest region it covers (None when
    no region is asked for)."""
    statement = (
        select(Bulletin)
        .where(
            Bulletin.status == BulletinStatus.PUBLISHED,
            or_(Bulletin.expires_at.is_(None), Bulletin.expires_at > now),
            Bulletin.kind.in_(kinds),
        )
        .order_by(Bulletin.issued_at.desc(), Bulletin.id)
    )
    if region is None:
        return [(bulletin, None) for bulletin in session.scalars(statement)]
    place = reach(session, region.id)
    regions = [id_ for id_, distance in place.distances.items() if within or distance >= 0]
    nearest: dict[str, tuple[int, int]] = {}  # bulletin id: (distance, region id)
    for bulletin_id, region_id in session.execute(
        select(bulletin_regions.c.bulletin_id, bulletin_regions.c.region_id).where(
            bulletin_regions.c.region_id.in_(regions)
        )
    ):
        distance = place.distances[region_id]
        known = nearest.get(bulletin_id)
        if known is None or (nearness(distance), region_id) < (nearness(known[0]), known[1]):
            nearest[bulletin_id] = (distance, region_id)
    found = list(session.scalars(statement.where(Bulletin.id.in_(list(nearest)))))
    found.sort(key=lambda bulletin: nearness(nearest[bulletin.id][0]))  # stable: newest first
    return [
        (bulletin, Scope(session.get_one(Region, nearest[bulletin.id][1]), nearest[bulletin.id][0]))
        for bulletin in found
    ]


def resources_in(session: Session, region: Region) -> list[Resource]:
    """Every non-retired resource in a region and below it, by name (what partners keep there;
    a place shows more: `search.search_resources` adds what applies from above)."""
    return list(
        session.scalars(
            select(Resource)
            .where(
                Resource.region_id.in_(region_and_descendants(session, region.id)),
                Resource.retired.is_(False),
            )
            .order_by(Resource.name, Resource.id)
        )
    )


def region_choices(session: Session, parent: Region | None = None) -> list[Region]:
    """The regions offered at one level of the menu, in their menu order."""
    parent_id = parent.id if parent is not None else None
    return list(
        session.scalars(
            select(Region)
            .where(
                Region.parent_id.is_(None) if parent_id is None else Region.parent_id == parent_id
            )
            .where(Region.retired.is_(False))
            .order_by(Region.position, Region.name)
        )
    )


def pick_region(session: Session, answer: str, parent: Region | None = None) -> Region | None:
    """The region a person means by a menu number ("2", "၂") or by a name in any locale."""
    choices = region_choices(session, parent)
    wanted = fold(answer)
    if wanted.isdigit():
        number = int(wanted)
        return choices[number - 1] if 1 <= number <= len(choices) else None
    if not wanted:
        return None
    names = {
        row.entity_id: row.text
        for row in session.scalars(
            select(Translation).where(
                Translation.entity == "region",
                Translation.field == "name",
                Translation.entity_id.in_([region.slug for region in choices]),
            )
        )
    }
    for region in choices:
        spelled = {fold(region.name), fold(region.slug.replace("-", " "))}
        if region.slug in names:
            spelled.add(fold(names[region.slug]))
        if wanted in spelled:
            return region
    # A unique prefix is enough: "kharkiv" for "Kharkiv oblast".
    prefixed = [region for region in choices if fold(region.name).startswith(wanted)]
    return prefixed[0] if len(prefixed) == 1 else None


def child_counts(session: Session, region_ids: list[int]) -> dict[int, int]:
    """How many current regions sit directly below each of these (absent: none), in one query."""
    if not region_ids:
        return {}
    rows = session.execute(
        select(Region.parent_id, func.count())
        .where(Region.parent_id.in_(region_ids), Region.retired.is_(False))
        .group_by(Region.parent_id)
    )
    return {parent_id: number for parent_id, number in rows if parent_id is not None}


def current_checklists(session: Session) -> list[Checklist]:
    """Every checklist not retired, in menu order."""
    return list(
        session.scalars(
            select(Checklist)
            .where(Checklist.retired.is_(False))
            .order_by(Checklist.position, Checklist.id)
        )
    )


def step_counts(session: Session, checklist_ids: list[str]) -> dict[str, int]:
    """How many steps each of these checklists has (absent: none), in one query."""
    if not checklist_ids:
        return {}
    rows = session.execute(
        select(ChecklistStep.checklist_id, func.count())
        .where(ChecklistStep.checklist_id.in_(checklist_ids))
        .group_by(ChecklistStep.checklist_id)
    )
    return dict(rows.all())


def place_names(session: Session) -> PlaceNames:
    """Every current region's names in every language, for finding places named in words."""
    regions = list(session.scalars(select(Region).where(Region.retired.is_(False))))
    slugs = {region.id: region.slug for region in regions}
    translated: dict[str, list[str]] = {}
    for slug, name in session.execute(
        select(Translation.entity_id, Translation.text).where(
            Translation.entity == "region", Translation.field == "name"
        )
    ):
        translated.setdefault(slug, []).append(name)
    return PlaceNames.of(
        (
            region.slug,
            slugs.get(region.parent_id) if region.parent_id is not None else None,
            [region.name, *translated.get(region.slug, [])],
        )
        for region in regions
    )


def emergency_number(session: Session, region: Region | None) -> str | None:
    """The emergency number that serves a place: its own, else the nearest region's above it."""
    seen: set[int] = set()
    while region is not None and region.id not in seen and len(seen) < MAX_DEPTH:
        if region.emergency:
            return region.emergency
        seen.add(region.id)
        region = region.parent
    return None
