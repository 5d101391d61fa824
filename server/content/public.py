"""Public content as the web pages and the JSON API show it, in the reader's language.

Everything here goes through `queries`, so the rules hold on both: retired and stale-hidden
resources never appear, only bulletins in force are current, and a confidential location
gives away nothing but its call-first phone. Items are plain dataclasses (`items`); only
`resource_rows` hands out rows, for the HSDS export's shapes.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import replace
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session, joinedload, selectinload

from server.config import Localization
from server.content import queries, store
from server.content.items import (
    BulletinItem,
    ChecklistItem,
    OpeningHours,
    PhoneItem,
    RegionItem,
    ResourceItem,
    ResourcePage,
    ScopeItem,
    StepItem,
)
from server.content.localize import Key, Localized, load_translations, pick
from server.content.markup import render
from server.content.places import NamedPlace, named_place
from server.content.queries import PublicLocation
from server.content.records import ACCESS
from server.content.search import (
    MAX_DEPTH,
    SHOWN_STATUSES,
    Reach,
    ResourceQuery,
    reach,
    search_resources,
)
from server.models.checklists import Checklist
from server.models.content import Category, Region, Resource, Schedule
from server.models.translations import Translation

#: The most resources one search considers before paging (far above any region's count).
MAX_MATCHES = 2000


class Shelf:
    """Public content for one request: one session, one locale, one moment."""

    def __init__(
        self, session: Session, localization: Localization, locale: str, now: datetime
    ) -> None:
        self.session = session
        self.localization = localization
        self.locale = locale
        self.now = now
        self.today = now.date()
        self._names: dict[int, ScopeItem] | None = None

    # --- localization --------------------------------------------------------------------

    def _translations(self, entity: str, rows: Iterable[tuple[str, str]]) -> dict[Key, Translation]:
        """Translations `pick` needs for these (id, source locale) rows, in one query."""
        chain = self.localization.chain(self.locale)
        ids: list[str] = []
        wanted: dict[str, None] = {}
        for row_id, source in rows:
            before = chain[: chain.index(source)] if source in chain else chain
            if before:
                ids.append(row_id)
                wanted.update(dict.fromkeys(before))
        return load_translations(self.session, entity, ids, tuple(wanted)) if ids else {}

    def _pick(
        self, table: dict[Key, Translation], row_id: str, field: str, text: str, source: str
    ) -> Localized:
        return pick(table, row_id, field, text, source, self.locale, self.localization)

    # --- regions -------------------------------------------------------------------------

    def regions(self) -> list[RegionItem]:
        """Every current region, parents before their children, in menu order."""
        rows = list(
            self.session.scalars(
                select(Region)
                .where(Region.retired.is_(False))
                .order_by(Region.position, Region.name)
            )
        )
        table = self._translations("region", [(r.slug, r.source_locale) for r in rows])
        by_parent: dict[int | None, list[Region]] = {}
        for row in rows:
            by_parent.setdefault(row.parent_id, []).append(row)
        items: list[RegionItem] = []

        def walk(parent: Region | None, depth: int, emergency: str | None) -> None:
            if depth >= MAX_DEPTH:
                return
            for row in by_parent.get(parent.id if parent else None, []):
                name = self._pick(table, row.slug, "name", row.name, row.source_locale).text
                number = row.emergency or emergency  # inherited down the tree
                items.append(
                    RegionItem(
                        row.slug,
                        name,
                        row.kind.value,
                        parent.slug if parent else None,
                        depth,
                        number,
                    )
                )
                walk(row, depth + 1, number)

        walk(None, 0, None)
        return items

    def named_place(self, text: str, within: str | None = None) -> NamedPlace | None:
        """The place a search's words name, if it lies within `within` (anywhere when None):
        words narrow an area chosen in a form, never contradict it."""
        names = queries.place_names(self.session)
        place = named_place(text, names)
        if place is None or (within is not None and not names.within(place.slug, within)):
            return None
        return place

    def _scope(self, region_id: int, place: Reach | None) -> ScopeItem | None:
        """Where an item of this region applies, seen from the place (None: no place)."""
        distance = place.distance(region_id) if place is not None else None
        if distance is None:
            return None
        if self._names is None:
            ids = dict(self.session.execute(select(Region.slug, Region.id)).all())
            self._names = {
                ids[item.slug]: ScopeItem(item.slug, item.name, 0) for item in self.regions()
            }
        named = self._names.get(region_id)
        if named is None:  # a retired region: nothing of it is shown
            return None
        return ScopeItem(named.region, named.name, distance)

    def region_id(self, slug: str) -> int | None:
        """The id of a current region by slug."""
        return self.session.scalar(
            select(Region.id).where(Region.slug == slug, Region.retired.is_(False))
        )

    # --- resources -----------------------------------------------------------------------

    def find_resources(
        self,
        *,
        text: str = "",
        region_id: int | None = None,
        category: Category | None = None,
        modified_after: datetime | None = None,
        offset: int = 0,
        limit: int = 20,
    ) -> ResourcePage:
        """Matching resources that may be shown, best first, one page of them.

        With a region, the place's own and those within it come first, then its area's, then
        its country's; each item says where it applies (`scope`).
        """
        rows = self._matching(text, region_id, category, modified_after)
        page = rows[offset : offset + limit]
        # Only the page is loaded in full; `visible` is the rule, applied to what is shown.
        views = queries.visible(self._load([row.id for row in page], schedules=True), self.today)
        place = reach(self.session, region_id) if region_id is not None else None
        return ResourcePage(tuple(self._resource_items(views, place)), len(rows))

    def resource_rows(
        self, *, modified_after: datetime | None = None, offset: int = 0, limit: int = 20
    ) -> tuple[list[Resource], int]:
        """One page of the resources that may be shown, as rows (for HSDS), and the total."""
        rows = self._matching("", None, None, modified_after)
        page = self._load([row.id for row in rows[offset : offset + limit]], schedules=True)
        return [view.resource for view in queries.visible(page, self.today)], len(rows)

    def _matching(
        self,
        text: str,
        region_id: int | None,
        category: Category | None,
        modified_after: datetime | None,
    ) -> list[Resource]:
        """Every match that may be shown, in order, read with its region only (for counting)."""
        hits = search_resources(
            self.session,
            ResourceQuery(
                text=text, region_id=region_id, category=category, limit=MAX_MATCHES, offset=0
            ),
        )
        ids = [hit.resource_id for hit in hits]
        if not ids:
            return []
        found = {
            row.id: row
            for row in self.session.scalars(
                select(Resource).where(Resource.id.in_(ids)).options(joinedload(Resource.region))
            )
        }
        # The same rule as `queries.visible` (which still gates every item shown), read without
        # loading each match's places: it only decides what is counted and paged.
        return [
            row
            for row in (found[id_] for id_ in ids if id_ in found)
            if not row.retired
            and not (row.region.hide_stale and row.is_stale(self.today))
            and (modified_after is None or row.updated_at > modified_after)
        ]

    def resource(self, resource_id: str, region_id: int | None = None) -> ResourceItem | None:
        """One resource by id, when it may be shown; with a place, where it applies there."""
        rows = self._load([resource_id], schedules=True)
        views = queries.visible([row for row in rows if row.status in SHOWN_STATUSES], self.today)
        place = reach(self.session, region_id) if region_id is not None else None
        items = self._resource_items(views, place)
        return items[0] if items else None

    def _load(self, ids: list[str], schedules: bool = False) -> list[Resource]:
        if not ids:
            return []
        extra = [selectinload(Resource.schedules)] if schedules else []
        found = {
            row.id: row
            for row in self.session.scalars(
                select(Resource)
                .where(Resource.id.in_(ids))
                .options(
                    selectinload(Resource.region),
                    selectinload(Resource.organization),
                    selectinload(Resource.locations),
                    selectinload(Resource.phones),
                    selectinload(Resource.categories),
                    selectinload(Resource.languages),
                    *extra,
                )
                # Rows counted by `_matching` sit in the session without their collections.
                .execution_options(populate_existing=True)
            )
        }
        return [found[id_] for id_ in ids if id_ in found]

    def _resource_items(
        self, views: list[queries.ResourceView], place: Reach | None = None
    ) -> list[ResourceItem]:
        rows = [view.resource for view in views]
        table = self._translations("resource", [(row.id, row.source_locale) for row in rows])
        places = self._translations(
            store.PLACE_ENTITY,
            [
                (f"{row.id}/{location.id}", row.source_locale)
                for row in rows
                for location in row.locations
                if not location.confidential  # never translated: nothing of it is shown
            ],
        )
        hours = self._translations(
            store.HOURS_ENTITY,
            [
                (f"{row.id}/{position}", row.source_locale)
                for row in rows
                for position in range(1, len(row.schedules) + 1)
            ],
        )
        return [self._resource_item(view, place, table, places, hours) for view in views]

    def _resource_item(
        self,
        view: queries.ResourceView,
        place: Reach | None,
        table: dict[Key, Translation],
        places: dict[Key, Translation],
        hours: dict[Key, Translation],
    ) -> ResourceItem:
        row = view.resource
        name = self._pick(table, row.id, "name", row.name, row.source_locale)
        description = self._pick(table, row.id, "description", row.description, name.locale)
        note = self._pick(table, row.id, "status_note", row.status_note or "", row.source_locale)
        shown_places = [
            self._place(f"{row.id}/{location.id}", shown, row.source_locale, places)
            for location, shown in zip(row.locations, view.locations, strict=True)
        ]
        shown_hours = [
            self._hours(f"{row.id}/{position}", each, row.source_locale, hours)
            for position, each in enumerate(row.schedules, start=1)
        ]
        access = {
            field: self._pick(table, row.id, field, text, row.source_locale)
            for field in ACCESS
            if (text := getattr(row, field))
        }
        picked = [name, description, note, *(p for _, ps in shown_places for p in ps)]
        picked += [shown for _, shown in shown_hours if shown is not None]
        picked += access.values()
        return ResourceItem(
            id=row.id,
            name=name.text,
            description=description.text,
            locale=name.locale,
            organization=row.organization.name,
            region=row.region.slug,
            categories=tuple(c.value for c in row.category_codes),
            languages=tuple(entry.code for entry in row.languages),
            phones=tuple(PhoneItem(p.number, p.kind.value, p.description) for p in row.phones),
            places=tuple(shown for shown, _ in shown_places),
            url=row.url,
            status=row.status.value,
            verified_on=view.verified_on,
            verified_by=view.verified_by,
            review_due_on=row.review_due_on(),
            stale=view.stale,
            updated_at=row.updated_at,
            scope=self._scope(row.region_id, place),
            status_note=note.text,
            outdated=any(shown.stale for shown in picked),
            hours=tuple(opening for opening, _ in shown_hours),
            **access,
        )

    def _place(
        self, part_id: str, shown: PublicLocation, source: str, table: dict[Key, Translation]
    ) -> tuple[PublicLocation, list[Localized]]:
        """A public place with its name and address in the reader's language (a confidential
        one shows neither, so has nothing translated)."""
        if shown.confidential:
            return shown, []
        name = self._pick(table, part_id, "name", shown.name or "", source)
        address = self._pick(table, part_id, "address", shown.address or "", source)
        localized = replace(shown, name=name.text or None, address=address.text or None)
        return localized, [name, address]

    def _hours(
        self, part_id: str, schedule: Schedule, source: str, table: dict[Key, Translation]
    ) -> tuple[OpeningHours, Localized | None]:
        """Opening hours with the partner's description of them in the reader's language."""
        note = None
        if schedule.description:
            note = self._pick(table, part_id, "description", schedule.description, source)
        opening = OpeningHours.of(
            schedule.byday, schedule.opens_at, schedule.closes_at, note.text if note else ""
        )
        return opening, note

    # --- bulletins -----------------------------------------------------------------------

    def bulletins(self, region_slug: str | None = None) -> list[BulletinItem]:
        """Bulletins in force now for a region and those above it (all regions when None): the
        place's own first, then its area's, then its country's, each saying where it applies."""
        region = None
        if region_slug is not None:
            region = self.session.scalar(select(Region).where(Region.slug == region_slug))
            if region is None:
                return []
        placed = [
            (bulletin, scope)
            for bulletin, scope in queries.placed_bulletins(self.session, region, self.now)
            if bulletin.is_current(self.now)
        ]
        place = reach(self.session, region.id) if region is not None else None
        table = self._translations("bulletin", [(b.id, b.source_locale) for b, _ in placed])
        items = []
        for row, scope in placed:
            title = self._pick(table, row.id, "title", row.title, row.source_locale)
            body = self._pick(table, row.id, "body", row.body, row.source_locale)
            instruction = self._pick(
                table, row.id, "instruction", row.instruction or "", body.locale
            )
            items.append(
                BulletinItem(
                    id=row.id,
                    kind=row.kind.value,
                    severity=row.severity.value,
                    title=title.text,
                    body_html=render(body.text),
                    locale=title.locale,
                    source_name=row.source_name,
                    source_url=row.source_url,
                    issued_at=row.issued_at,
                    expires_at=row.expires_at,
                    regions=tuple(region.slug for region in row.regions),
                    updated_at=row.updated_at,
                    scope=self._scope(scope.region.id, place) if scope else None,
                    instruction_html=render(instruction.text) if instruction.text else "",
                    contact=row.contact,
                    outdated=title.stale or body.stale or instruction.stale,
                )
            )
        return items

    # --- checklists ----------------------------------------------------------------------

    def checklists(self) -> list[ChecklistItem]:
        """Every current checklist in menu order, without their steps."""
        rows = queries.current_checklists(self.session)
        counts = queries.step_counts(self.session, [row.id for row in rows])
        table = self._translations("checklist", [(row.id, row.source_locale) for row in rows])
        return [self._checklist_item(row, table, counts.get(row.id, 0), ()) for row in rows]

    def checklist(self, slug: str) -> ChecklistItem | None:
        """One current checklist with its steps."""
        row = self.session.get(Checklist, slug, options=[selectinload(Checklist.steps)])
        if row is None or row.retired:
            return None
        table = self._translations("checklist", [(row.id, row.source_locale)])
        steps_table = self._translations(
            "checklist_step", [(step.id, row.source_locale) for step in row.steps]
        )
        picked = [
            (
                step,
                self._pick(steps_table, step.id, "title", step.title, row.source_locale),
                self._pick(steps_table, step.id, "web", step.web_text, row.source_locale),
            )
            for step in row.steps
        ]
        steps = tuple(
            StepItem(
                id=step.id.rsplit("/", 1)[-1],
                position=step.position,
                title=title.text,
                body_html=render(web.text),
            )
            for step, title, web in picked
        )
        outdated = any(title.stale or web.stale for _step, title, web in picked)
        return self._checklist_item(row, table, len(steps), steps, outdated)

    def _checklist_item(
        self,
        row: Checklist,
        table: dict[Key, Translation],
        count: int,
        steps: tuple[StepItem, ...],
        steps_outdated: bool = False,
    ) -> ChecklistItem:
        title = self._pick(table, row.id, "title", row.title, row.source_locale)
        summary = self._pick(table, row.id, "summary", row.summary, row.source_locale)
        version = self._pick(
            table, row.id, "platform_version", row.platform_version, row.source_locale
        )
        return ChecklistItem(
            slug=row.id,
            title=title.text,
            summary=summary.text,
            locale=title.locale,
            platform=row.platform,
            platform_version=version.text,
            reviewed_on=row.reviewed_on,
            step_count=count,
            steps=steps,
            updated_at=row.updated_at,
            outdated=steps_outdated or title.stale or summary.stale or version.stale,
        )
