"""The content port on the database: what the conversation reads, in the person's language."""

from __future__ import annotations

import functools
from collections.abc import Callable, Hashable, Iterable
from dataclasses import dataclass, replace
from datetime import date, datetime
from typing import TypeVar

from babel import Locale
from sqlalchemy import select
from sqlalchemy.orm import Session, joinedload, selectinload

from server.config import Localization
from server.content import queries, store
from server.content.context import NoteWordings, best_matches, note_wordings
from server.content.labels import CATEGORY_NAMES, scope_label
from server.content.localize import Key, Localized, load_translations, pick
from server.content.markup import plain_text
from server.content.places import PlaceNames
from server.content.records import ACCESS
from server.content.search import Hit, ResourceQuery, search_resources
from server.conversation.answers import SHARED
from server.conversation.port import (
    BulletinLine,
    ChecklistLine,
    ContextLine,
    Hours,
    RegionChoice,
    ResourceLine,
    StepLine,
)
from server.i18n.locales import catalogue, parse_tag
from server.models.bulletins import Bulletin, BulletinKind, in_force
from server.models.checklists import Checklist, ChecklistStep
from server.models.content import Category, PhoneKind, Region, Resource, ServiceStatus
from server.models.translations import Translation
from server.models.versions import current as current_version

T = TypeVar("T")


@dataclass(frozen=True)
class Dated:
    """A bulletin as the conversation shows it, and its time in force."""

    bulletin_id: str
    issued_at: datetime
    expires_at: datetime | None
    line: BulletinLine

    def in_force(self, now: datetime) -> bool:
        """Already issued and not yet expired (it was read as published)."""
        return in_force(self.issued_at, self.expires_at, now)


class Library:
    """Content for one conversation turn, read through one session.

    A turn reads little, so the rows it has read are kept for the rest of the turn (regions by
    slug, which of them have children, a checklist's step translations) and asked for once.
    """

    def __init__(self, session: Session, localization: Localization, today: date) -> None:
        self.session = session
        self.localization = localization
        self.today = today
        self._regions: dict[str, Region | None] = {}
        self._has_children: dict[int, bool] = {}
        self._step_translations: dict[tuple[str, str], dict[Key, Translation]] = {}
        self._version: str | bool | None = False  # False: not read yet this turn

    def _shared(self, key: tuple[Hashable, ...], compute: Callable[[], T]) -> T:
        """A content answer from this process's shared store, or computed (and kept)."""
        if self._version is False:
            self._version = current_version(self.session)
        if not isinstance(self._version, str):  # no version row: nothing can be kept
            return compute()
        return SHARED.get(self._version, (self.localization, *key), compute)

    def _wanted(self, locale: str, source: str) -> tuple[str, ...]:
        """The locales looked at before the source text: none when the reader reads it."""
        chain = self.localization.chain(locale)
        return chain[: chain.index(source)] if source in chain else chain

    def _translations(
        self, entity: str, rows: Iterable[tuple[str, str]], locale: str
    ) -> dict[Key, Translation]:
        """What `pick` needs for many rows (id, source locale), in one query or none at all."""
        ids: list[str] = []
        locales: dict[str, None] = {}
        for row_id, source in rows:
            wanted = self._wanted(locale, source)
            if wanted:
                ids.append(row_id)
                locales.update(dict.fromkeys(wanted))
        if not ids:
            return {}
        return load_translations(self.session, entity, ids, tuple(locales))

    def _pick(
        self,
        translations: dict[Key, Translation],
        row_id: str,
        field: str,
        source: str,
        origin: str,
        locale: str,
    ) -> Localized:
        return pick(translations, row_id, field, source, origin, locale, self.localization)

    def _region_choices(self, regions: list[Region], locale: str) -> list[RegionChoice]:
        """Regions as menu items: their names in one query, which have children in another."""
        unknown = [region.id for region in regions if region.id not in self._has_children]
        if unknown:
            counts = queries.child_counts(self.session, unknown)
            self._has_children.update({id_: bool(counts.get(id_)) for id_ in unknown})
        translations = self._translations(
            "region", [(region.slug, region.source_locale) for region in regions], locale
        )
        return [
            RegionChoice(
                region.slug,
                self._pick(
                    translations, region.slug, "name", region.name, region.source_locale, locale
                ).text,
                self._has_children[region.id],
            )
            for region in regions
        ]

    def _region(self, slug: str | None) -> Region | None:
        if slug is None:
            return None
        if slug not in self._regions:
            self._regions[slug] = self.session.scalar(select(Region).where(Region.slug == slug))
        return self._regions[slug]

    def regions(self, parent: str | None, locale: str) -> list[RegionChoice]:
        """The regions one level below `parent` (the countries when None)."""
        found = self._shared(
            ("regions", parent, locale), lambda: tuple(self._read_regions(parent, locale))
        )
        return list(found)

    def _read_regions(self, parent: str | None, locale: str) -> list[RegionChoice]:
        above = self._region(parent)
        below = queries.region_choices(self.session, above)
        for region in below:
            self._regions.setdefault(region.slug, region)
        if above is not None:
            self._has_children[above.id] = bool(below)
        return self._region_choices(below, locale)

    def region(self, slug: str, locale: str) -> RegionChoice | None:
        """One region by slug."""
        return self._shared(("region", slug, locale), lambda: self._read_region(slug, locale))

    def _read_region(self, slug: str, locale: str) -> RegionChoice | None:
        region = self._region(slug)
        return self._region_choices([region], locale)[0] if region else None

    def place_names(self) -> PlaceNames:
        """Every current region's names in every language, to find places named in words."""
        return self._shared(("place names",), lambda: queries.place_names(self.session))

    def emergency_number(self, region: str) -> str | None:
        """The number to call in an emergency in a place (its own, or the nearest above it)."""
        return self._shared(
            ("emergency", region),
            lambda: queries.emergency_number(self.session, self._region(region)),
        )

    def _applies(self, region_id: int, distance: int, locale: str) -> str:
        """Where an item of another region than the person's applies, in their language."""
        if distance == 0:
            return ""
        region = self.session.get_one(Region, region_id)
        named = self.region(region.slug, locale)
        name = named.name if named is not None else region.name
        return scope_label(catalogue(locale).gettext, distance, name)

    def category_names(self, locale: str) -> list[tuple[str, str]]:
        """Every category with its name in the locale."""
        translations = catalogue(locale)
        return [
            (category.value, str(translations.gettext(name)))
            for category, name in CATEGORY_NAMES.items()
        ]

    def resources(
        self, region: str, category: str | None, locale: str, offset: int, limit: int
    ) -> list[ResourceLine]:
        """Verified resources in and below a region, then its area's and its country's (each
        labelled where it applies), stale ones flagged or hidden by region."""
        key = ("resources", region, category, locale, offset, limit, self.today)
        found = self._shared(
            key, lambda: tuple(self._read_resources(region, category, locale, offset, limit))
        )
        return list(found)

    def search(self, text: str, region: str | None, locale: str, limit: int) -> list[ResourceLine]:
        """Verified resources matching a person's words, best first, in their region if known.

        Read every time (what a person wrote is never kept), through the same search as the
        web and the API.
        """
        place = self._region(region)
        if region is not None and place is None:
            return []
        query = ResourceQuery(text=text, region_id=place.id if place else None, limit=limit)
        return self._lines(search_resources(self.session, query), locale)

    def _read_resources(
        self, region: str, category: str | None, locale: str, offset: int, limit: int
    ) -> list[ResourceLine]:
        place = self._region(region)
        if place is None:
            return []
        hits = search_resources(
            self.session,
            ResourceQuery(
                region_id=place.id,
                category=Category(category) if category else None,
                limit=limit,
                offset=offset,
            ),
        )
        return self._lines(hits, locale)

    def _lines(self, hits: list[Hit], locale: str) -> list[ResourceLine]:
        """Found resources as SMS lines, in the order found, without those not to be shown."""
        views = queries.visible(self._resources([hit.resource_id for hit in hits]), self.today)
        translations = self._translations(
            "resource", [(view.resource.id, view.resource.source_locale) for view in views], locale
        )
        hours = self._translations(
            store.HOURS_ENTITY,
            [
                (f"{view.resource.id}/{position}", view.resource.source_locale)
                for view in views
                for position in range(1, len(view.resource.schedules) + 1)
            ],
            locale,
        )
        above = {hit.resource_id: hit.above for hit in hits}
        return [
            replace(
                self._resource_line(view, locale, translations, hours),
                applies=self._applies(view.resource.region_id, above[view.resource.id], locale),
            )
            for view in views
        ]

    def _resources(self, ids: list[str]) -> list[Resource]:
        """Resources by id, in that order, with their locations and phones: three queries."""
        if not ids:
            return []
        found = {
            resource.id: resource
            for resource in self.session.scalars(
                select(Resource)
                .where(Resource.id.in_(ids))
                .options(
                    selectinload(Resource.locations),
                    selectinload(Resource.phones),
                    selectinload(Resource.schedules),
                    selectinload(Resource.languages),
                )
            )
        }
        return [found[id_] for id_ in ids if id_ in found]

    def _hours(
        self, resource: Resource, locale: str, translations: dict[Key, Translation]
    ) -> tuple[tuple[Hours, ...], bool]:
        """A resource's opening hours, each with the partner's note in the person's language,
        and whether a note shown is a stale translation."""
        found, outdated = [], False
        for position, row in enumerate(resource.schedules, start=1):
            note = ""
            if row.description:
                shown = self._pick(
                    translations,
                    f"{resource.id}/{position}",
                    "description",
                    row.description,
                    resource.source_locale,
                    locale,
                )
                note, outdated = shown.text, outdated or shown.stale
            days = tuple(filter(None, row.byday.split(",")))
            found.append(Hours(days, row.opens_at, row.closes_at, note))
        return tuple(found), outdated

    def _resource_line(
        self,
        view: queries.ResourceView,
        locale: str,
        translations: dict[Key, Translation],
        hour_notes: dict[Key, Translation],
    ) -> ResourceLine:
        resource = view.resource
        hours, hours_outdated = self._hours(resource, locale, hour_notes)
        name = self._pick(
            translations, resource.id, "name", resource.name, resource.source_locale, locale
        )
        # A number to call first, then one to text (phones come in id order, not by kind).
        voice = next((p.number for p in resource.phones if p.kind is PhoneKind.VOICE), None)
        voice = voice or next((p.number for p in resource.phones if p.kind is PhoneKind.TEXT), None)
        whatsapp = next((p.number for p in resource.phones if p.kind is PhoneKind.WHATSAPP), None)
        call_first = next(
            (loc.call_first_phone for loc in view.locations if loc.confidential), None
        )
        note = self._pick(
            translations,
            resource.id,
            "status_note",
            resource.status_note or "",
            resource.source_locale,
            locale,
        )
        return ResourceLine(
            name=name.text,
            phone=call_first or voice or whatsapp,
            whatsapp=whatsapp,
            verified_on=view.verified_on,
            stale=view.stale,
            call_first=call_first is not None,
            verified_by=view.verified_by,
            closed=resource.status is ServiceStatus.TEMPORARILY_CLOSED,
            status_note=note.text,
            outdated=name.stale
            or hours_outdated
            or (note.stale and resource.status is ServiceStatus.TEMPORARILY_CLOSED),
            hours=hours,
            languages=tuple(entry.code for entry in resource.languages),
            **{
                name: self._pick(
                    translations,
                    resource.id,
                    name,
                    getattr(resource, name) or "",
                    resource.source_locale,
                    locale,
                ).text
                for name in ACCESS
            },
        )

    def bulletins(self, region: str | None, locale: str, now: datetime) -> list[BulletinLine]:
        """Bulletins in force now for the region, then its area's and its country's."""
        return [row.line for row in self._dated_bulletins(region, locale, now) if row.in_force(now)]

    def _dated_bulletins(
        self, region: str | None, locale: str, now: datetime, within: bool = False
    ) -> tuple[Dated, ...]:
        key = ("bulletins", region, locale, within)
        return self._kept(key, now, self._read_bulletins(region, locale, within))

    def _read_bulletins(
        self, region: str | None, locale: str, within: bool
    ) -> Callable[[datetime], tuple[Dated, ...]]:
        def read(at: datetime) -> tuple[Dated, ...]:
            placed = queries.placed_bulletins(self.session, self._region(region), at, within=within)
            translations = self._bulletin_translations([b for b, _ in placed], locale)
            return tuple(
                Dated(
                    b.id,
                    b.issued_at,
                    b.expires_at,
                    replace(
                        self._bulletin_line(b, locale, translations),
                        applies=self._applies(scope.region.id, scope.distance, locale)
                        if scope
                        else "",
                    ),
                )
                for b, scope in placed
            )

        return read

    def _kept(
        self, key: tuple[Hashable, ...], now: datetime, read: Callable[[datetime], tuple[T, ...]]
    ) -> tuple[T, ...]:
        """What `read(now)` lists (everything not expired by then), shared until content changes.

        Whatever is in force at a later moment was not expired at `now`, so it is in the list;
        the reader filters by its own moment. A moment before the list was read reads afresh.
        """
        since, rows = self._shared(key, lambda: (now, read(now)))
        return read(now) if now < since else rows

    def _bulletin_translations(
        self, items: Iterable[Bulletin], locale: str
    ) -> dict[Key, Translation]:
        return self._translations("bulletin", [(b.id, b.source_locale) for b in items], locale)

    def _bulletin_line(
        self, item: Bulletin, locale: str, translations: dict[Key, Translation]
    ) -> BulletinLine:
        title = self._pick(translations, item.id, "title", item.title, item.source_locale, locale)
        body = self._pick(translations, item.id, "body", item.body, item.source_locale, locale)
        text = sms_text(body.text, verdict_first=item.kind is BulletinKind.CONTEXT)
        if item.instruction:
            # What to do (CAP <instruction>) follows the body, whole, as it did inside it.
            instruction = self._pick(
                translations, item.id, "instruction", item.instruction, body.locale, locale
            )
            text = "\n".join(filter(None, (text, sms_text(instruction.text, verdict_first=False))))
        return BulletinLine(
            kind=item.kind.value,
            title=title.text,
            text=text,
            source=item.source_name,
            issued_on=item.issued_at.date(),
            expires_on=item.expires_at.date() if item.expires_at else None,
            outdated=title.stale or body.stale,
        )

    def checklists(self, locale: str) -> list[ChecklistLine]:
        """Every current checklist in menu order."""
        return list(
            self._shared(("checklists", locale), lambda: tuple(self._read_checklists(locale)))
        )

    def _read_checklists(self, locale: str) -> list[ChecklistLine]:
        rows = queries.current_checklists(self.session)
        steps = queries.step_counts(self.session, [row.id for row in rows])
        translations = self._translations(
            "checklist", [(row.id, row.source_locale) for row in rows], locale
        )
        return [
            ChecklistLine(
                row.id,
                self._pick(
                    translations, row.id, "title", row.title, row.source_locale, locale
                ).text,
                steps.get(row.id, 0),
            )
            for row in rows
        ]

    def step(self, checklist: str, index: int, locale: str) -> StepLine | None:
        """Step `index` (1-based) of a checklist, its SMS text in the locale."""
        key = ("step", checklist, index, locale)
        return self._shared(key, lambda: self._read_step(checklist, index, locale))

    def _read_step(self, checklist: str, index: int, locale: str) -> StepLine | None:
        guide = self.session.get(Checklist, checklist, options=[joinedload(Checklist.steps)])
        if guide is None or guide.retired or not 1 <= index <= len(guide.steps):
            return None
        step: ChecklistStep = guide.steps[index - 1]
        key = (guide.id, locale)
        if key not in self._step_translations:  # NEXT reads two steps of one guide
            self._step_translations[key] = self._translations(
                "checklist_step", [(each.id, guide.source_locale) for each in guide.steps], locale
            )
        translations = self._step_translations[key]
        origin = guide.source_locale
        sms = self._pick(translations, step.id, "sms", step.sms_text, origin, locale)
        title = self._pick(translations, step.id, "title", step.title, origin, locale)
        return StepLine(title.text, sms.text, index, len(guide.steps), sms.locale, sms.stale)

    def context_notes(
        self, text: str, region: str | None, locale: str, now: datetime
    ) -> list[ContextLine]:
        """Context notes that answer a forwarded text, best first: the place's and those above
        it, then (when none of those matches) those of the places within it."""
        notes = self._kept(("context notes", region), now, self._read_notes(region))
        matches = best_matches(text, notes, now)
        if not matches:
            return []
        dated = self._dated_bulletins(region, locale, now, within=True)
        lines = {row.bulletin_id: row.line for row in dated}
        return [
            ContextLine(
                note_id,
                lines[note_id].title,
                lines[note_id].text,
                lines[note_id].source,
                lines[note_id].issued_on,
                score,
                applies=lines[note_id].applies,
                outdated=lines[note_id].outdated,
            )
            for note_id, score, _phrase in matches
            if note_id in lines
        ]

    def _read_notes(self, region: str | None) -> Callable[[datetime], tuple[NoteWordings, ...]]:
        return lambda at: tuple(note_wordings(self.session, self._region(region), at))

    def language_names(self) -> list[tuple[str, str]]:
        """Every offered language named in itself (Rohingya in the Latin script it is texted in)."""
        return list(_language_names(self.localization))


@functools.lru_cache(maxsize=16)
def _language_names(localization: Localization) -> tuple[tuple[str, str], ...]:
    """The offered languages' own names: settings and CLDR data only, the same all day."""
    names = []
    for code in localization.locales:
        locale = parse_tag(code)
        script = localization.script(code)
        if locale is None:
            continue
        if script and script != locale.script:
            name = Locale("en").languages.get(locale.language, code)
        else:
            name = locale.get_display_name(locale) or code
        names.append((code, str(name)))
    return tuple(names)


@functools.lru_cache(maxsize=512)
def sms_text(markdown: str, *, verdict_first: bool) -> str:
    """A bulletin body as plain text, whole, one paragraph a line (public content: kept).

    Nothing is cut: SMS paging (`server.segments.paginate`) ends pages at paragraphs or
    sentences, and MORE continues the same text. A context note states the rumour in its first
    paragraph and the verdict after it (see docs/content-format.md); by SMS the verdict leads
    and the rumour, which the person has just forwarded, comes last.
    """
    paragraphs = [" ".join(part.split()) for part in plain_text(markdown).split("\n")]
    paragraphs = [part for part in paragraphs if part]
    if verdict_first and len(paragraphs) > 1:
        paragraphs = [*paragraphs[1:], paragraphs[0]]
    return "\n".join(paragraphs)


__all__ = ["Library"]
