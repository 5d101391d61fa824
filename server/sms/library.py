"""The content port on the database: what the conversation reads, in the person's language."""

from __future__ import annotations

from datetime import date, datetime

from babel import Locale
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from server.config import Localization
from server.content import queries
from server.content.context import match_context_notes
from server.content.labels import CATEGORY_NAMES
from server.content.localize import Localized, load_translations, pick
from server.content.markup import plain_text
from server.content.search import ResourceQuery, search_resources
from server.i18n import catalogue, parse_tag
from server.models.bulletins import Bulletin
from server.models.checklists import Checklist, ChecklistStep
from server.models.content import Category, PhoneKind, Region, Resource
from server.sms.port import (
    BulletinLine,
    ChecklistLine,
    ContextLine,
    RegionChoice,
    ResourceLine,
    StepLine,
)

SUMMARY_CHARACTERS = 220


class Library:
    """Content for one conversation turn, read through one session."""

    def __init__(self, session: Session, localization: Localization, today: date) -> None:
        self.session = session
        self.localization = localization
        self.today = today

    def _text(
        self, entity: str, row_id: str, field: str, source: str, origin: str, locale: str
    ) -> Localized:
        translations = load_translations(
            self.session, entity, [row_id], self.localization.chain(locale)
        )
        return pick(translations, row_id, field, source, origin, locale, self.localization)

    def _region_choice(self, region: Region, locale: str) -> RegionChoice:
        name = self._text("region", region.slug, "name", region.name, region.source_locale, locale)
        has_children = bool(
            self.session.scalar(
                select(func.count())
                .select_from(Region)
                .where(Region.parent_id == region.id, Region.retired.is_(False))
            )
        )
        return RegionChoice(region.slug, name.text, has_children)

    def _region(self, slug: str | None) -> Region | None:
        if slug is None:
            return None
        return self.session.scalar(select(Region).where(Region.slug == slug))

    def regions(self, parent: str | None, locale: str) -> list[RegionChoice]:
        """The regions one level below `parent` (the countries when None)."""
        above = self._region(parent)
        return [self._region_choice(r, locale) for r in queries.region_choices(self.session, above)]

    def region(self, slug: str, locale: str) -> RegionChoice | None:
        """One region by slug."""
        region = self._region(slug)
        return self._region_choice(region, locale) if region else None

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
        """Verified resources in and below a region, stale ones flagged or hidden by region."""
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
        rows = [self.session.get(Resource, hit.resource_id) for hit in hits]
        views = queries.visible([row for row in rows if row is not None], self.today)
        return [self._resource_line(view, locale) for view in views]

    def _resource_line(self, view: queries.ResourceView, locale: str) -> ResourceLine:
        resource = view.resource
        name = self._text(
            "resource", resource.id, "name", resource.name, resource.source_locale, locale
        )
        voice = next((p.number for p in resource.phones if p.kind is not PhoneKind.WHATSAPP), None)
        whatsapp = next((p.number for p in resource.phones if p.kind is PhoneKind.WHATSAPP), None)
        call_first = next(
            (loc.call_first_phone for loc in view.locations if loc.confidential), None
        )
        return ResourceLine(
            name=name.text,
            phone=call_first or voice or whatsapp,
            whatsapp=whatsapp,
            verified_on=view.verified_on,
            stale=view.stale,
            call_first=call_first is not None,
        )

    def bulletins(self, region: str | None, locale: str, now: datetime) -> list[BulletinLine]:
        """Bulletins in force now for the region and the regions above it."""
        items = queries.current_bulletins(self.session, self._region(region), now)
        return [self._bulletin_line(item, locale) for item in items]

    def _bulletin_line(self, item: Bulletin, locale: str) -> BulletinLine:
        title = self._text("bulletin", item.id, "title", item.title, item.source_locale, locale)
        body = self._text("bulletin", item.id, "body", item.body, item.source_locale, locale)
        return BulletinLine(
            kind=item.kind.value,
            title=title.text,
            summary=_summary(plain_text(body.text)),
            source=item.source_name,
            issued_on=item.issued_at.date(),
        )

    def checklists(self, locale: str) -> list[ChecklistLine]:
        """Every current checklist in menu order."""
        rows = self.session.scalars(
            select(Checklist)
            .where(Checklist.retired.is_(False))
            .order_by(Checklist.position, Checklist.id)
        )
        lines = []
        for row in rows:
            title = self._text("checklist", row.id, "title", row.title, row.source_locale, locale)
            lines.append(ChecklistLine(row.id, title.text, len(row.steps)))
        return lines

    def step(self, checklist: str, index: int, locale: str) -> StepLine | None:
        """Step `index` (1-based) of a checklist, its SMS text in the locale."""
        guide = self.session.get(Checklist, checklist)
        if guide is None or guide.retired or not 1 <= index <= len(guide.steps):
            return None
        step: ChecklistStep = guide.steps[index - 1]
        sms = self._text(
            "checklist_step", step.id, "sms", step.sms_text, guide.source_locale, locale
        )
        title = self._text(
            "checklist_step", step.id, "title", step.title, guide.source_locale, locale
        )
        return StepLine(title.text, sms.text, index, len(guide.steps))

    def context_notes(
        self, text: str, region: str | None, locale: str, now: datetime
    ) -> list[ContextLine]:
        """Context notes that answer a forwarded text, best first."""
        matches = match_context_notes(self.session, text, now, self._region(region))
        lines = []
        for match in matches:
            line = self._bulletin_line(match.bulletin, locale)
            lines.append(
                ContextLine(
                    match.bulletin.id,
                    line.title,
                    line.summary,
                    line.source,
                    line.issued_on,
                    match.score,
                )
            )
        return lines

    def language_names(self) -> list[tuple[str, str]]:
        """Every offered language named in itself (Rohingya in the Latin script it is texted in)."""
        names = []
        for code in self.localization.locales:
            locale = parse_tag(code)
            script = self.localization.script(code)
            if locale is None:
                continue
            if script and script != (locale.script or _default_script(locale)):
                name = Locale("en").languages.get(locale.language, code)
            else:
                name = locale.get_display_name(locale) or code
            names.append((code, str(name)))
        return names


def _default_script(locale: Locale) -> str | None:
    return locale.script


def _summary(text: str) -> str:
    flat = " ".join(text.split())
    if len(flat) <= SUMMARY_CHARACTERS:
        return flat
    cut = flat[:SUMMARY_CHARACTERS].rsplit(" ", 1)[0]
    return cut + "..."


__all__ = ["Library"]
