"""The signals one account may see: per completed week and recorded region, each count as
`suppression` publishes it.

Only completed weeks are shown (the last `WEEKS_SHOWN`): a week still being counted would
let a viewer subtract this morning's page from this evening's and see one person's request.
Every group (one signal of one week in one recorded region) is suppressed on its own, before
any filter applies, and the filters (a week, a region, a category) only select rows and
columns of the result; no sum across weeks or regions is ever made. Regions are the ones a
person chose, exactly: a region's counts never include its children's (each is listed).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Collection
from dataclasses import dataclass, field, replace
from datetime import date, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from server.models.bulletins import Bulletin
from server.models.content import Category, Region, Resource
from server.models.messaging import Tally
from server.signals import counting
from server.signals.suppression import Shown, publish

#: Completed weeks shown, the newest last.
WEEKS_SHOWN = 8
#: The signals, in the order the page shows them.
REQUESTS, RUMOURS, WORDS, OPT_OUTS, FAILURES, STALE = (
    "requests",
    "rumours",
    "words",
    "opt_outs",
    "failures",
    "stale",
)
SIGNALS = (REQUESTS, RUMOURS, WORDS, OPT_OUTS, FAILURES, STALE)
#: Request rows: every category, then every category at once, then own words searched for.
REQUEST_KEYS = (*(category.value for category in Category), counting.EVERYTHING, counting.SEARCH)
#: Delivery failures by reason: the delivery tallies each reason gathers.
FAILURE_KINDS = {
    "outbound_failed": "refused",
    "outbound_undelivered": "undelivered",
    "outbound_expired": "expired",
    "outbound_capped": "capped",
    "outbound_country": "country",
    "outbound_tampered": "tampered",
}
REASONS = ("refused", "undelivered", "expired", "capped", "country", "tampered")
#: The region key of counts from people who never chose a region (seen by every-region
#: accounts only).
UNPLACED = ""


@dataclass(frozen=True)
class Row:
    """One line of a table: its key (a category, a note id, a reason, a word) and its counts,
    one per week shown."""

    key: str
    cells: tuple[Shown, ...]


@dataclass(frozen=True)
class Table:
    """One signal of one region: its rows, and their total when they are parts of one."""

    signal: str
    rows: tuple[Row, ...]
    total: Row | None = None


@dataclass(frozen=True)
class Place:
    """One recorded region and its tables."""

    slug: str
    name: str
    tables: tuple[Table, ...]


@dataclass(frozen=True)
class Filters:
    """What a viewer narrowed the page to (None: everything in scope)."""

    week: date | None = None
    region: str | None = None
    category: str | None = None


@dataclass(frozen=True)
class Report:
    """The published signals of one scope, narrowed by the filters."""

    weeks: tuple[date, ...]
    places: tuple[Place, ...]
    note_titles: dict[str, str] = field(default_factory=dict)


def weeks_before(today: date) -> tuple[date, ...]:
    """The Mondays of the completed weeks shown, oldest first."""
    this_week = counting.week_of(today)
    return tuple(this_week - timedelta(weeks=n) for n in range(WEEKS_SHOWN, 0, -1))


def regions_in(session: Session, region_ids: Collection[int] | None) -> list[Region]:
    """The regions of a scope (None: every region), by name."""
    query = select(Region).order_by(Region.name, Region.slug)
    if region_ids is not None:
        query = query.where(Region.id.in_(sorted(region_ids)))
    return list(session.scalars(query))


def build(
    session: Session,
    region_ids: Collection[int] | None,
    today: date,
    filters: Filters = Filters(),
) -> Report:
    """The report of the regions `region_ids` (None: every region, and the unplaced)."""
    weeks = weeks_before(today)
    regions = regions_in(session, region_ids)
    slugs = [region.slug for region in regions] + ([UNPLACED] if region_ids is None else [])
    counts = _tallies(session, slugs, weeks)
    stale = _stale(session, regions, weeks)
    places = [
        Place(region.slug, region.name, _tables(counts[region.slug], weeks, stale[region.id]))
        for region in regions
    ]
    if region_ids is None:
        places.append(Place(UNPLACED, "", _tables(counts[UNPLACED], weeks, None)))
    titles = _note_titles(session, places)
    return narrow(Report(weeks, tuple(places), titles), filters)


def narrow(report: Report, filters: Filters) -> Report:
    """Only the week, region and category asked for: cells selected, never summed again."""
    weeks = report.weeks
    columns = range(len(weeks))
    if filters.week is not None and filters.week in weeks:
        columns = range(weeks.index(filters.week), weeks.index(filters.week) + 1)
    places = [
        place for place in report.places if filters.region is None or place.slug == filters.region
    ]

    def cut(row: Row) -> Row:
        return Row(row.key, tuple(row.cells[n] for n in columns))

    def table(found: Table) -> Table:
        rows = found.rows
        if found.signal == REQUESTS and filters.category is not None:
            rows = tuple(row for row in rows if row.key == filters.category)
        total = cut(found.total) if found.total is not None else None
        return Table(found.signal, tuple(cut(row) for row in rows), total)

    return replace(
        report,
        weeks=tuple(weeks[n] for n in columns),
        places=tuple(replace(p, tables=tuple(table(t) for t in p.tables)) for p in places),
    )


# --- Reading and publishing -------------------------------------------------------------------

#: (kind, subject) -> week -> count, for one region.
Counts = dict[tuple[str, str], dict[date, int]]


def _tallies(session: Session, slugs: list[str], weeks: tuple[date, ...]) -> dict[str, Counts]:
    kinds = [counting.REQUEST, counting.CONTEXT_CHECK, counting.RUMOUR_WORD, counting.OPT_OUT]
    rows = session.execute(
        select(Tally.kind, Tally.subject, Tally.region_slug, Tally.day, Tally.count).where(
            Tally.kind.in_([*kinds, *FAILURE_KINDS]),
            Tally.region_slug.in_(slugs),
            Tally.day >= weeks[0],
            Tally.day < weeks[-1] + timedelta(weeks=1),
        )
    )
    found: dict[str, Counts] = defaultdict(lambda: defaultdict(lambda: defaultdict(int)))
    for kind, subject, region, day, count in rows:
        if kind in FAILURE_KINDS:
            kind, subject = "failure", FAILURE_KINDS[kind]
        found[region][(kind, subject)][counting.week_of(day)] += count
    return found


def _tables(counts: Counts, weeks: tuple[date, ...], stale: list[int] | None) -> tuple[Table, ...]:
    notes = sorted(
        {subject for kind, subject in counts if kind == counting.CONTEXT_CHECK}
        - {counting.UNMATCHED}
    )
    words = sorted(
        (subject for kind, subject in counts if kind == counting.RUMOUR_WORD),
        key=lambda word: (-sum(counts[(counting.RUMOUR_WORD, word)].values()), word),
    )
    tables = [
        _group(REQUESTS, counts, counting.REQUEST, REQUEST_KEYS, weeks),
        _group(RUMOURS, counts, counting.CONTEXT_CHECK, (*notes, counting.UNMATCHED), weeks),
        _alone(WORDS, counts, counting.RUMOUR_WORD, words, weeks),
        _alone(OPT_OUTS, counts, counting.OPT_OUT, ("",), weeks),
        _group(FAILURES, counts, "failure", REASONS, weeks),
    ]
    if stale is not None:
        tables.append(Table(STALE, (Row("", tuple(Shown.of(n) for n in stale)),)))
    return tuple(tables)


def _group(
    signal: str, counts: Counts, kind: str, keys: tuple[str, ...], weeks: tuple[date, ...]
) -> Table:
    """Parts and total, each week's group published on its own."""
    published = [publish({key: counts[(kind, key)][week] for key in keys}) for week in weeks]
    rows = tuple(Row(key, tuple(group.parts[key] for group in published)) for key in keys)
    return Table(signal, rows, Row("", tuple(group.total for group in published)))


def _alone(
    signal: str,
    counts: Counts,
    kind: str,
    keys: list[str] | tuple[str, ...],
    weeks: tuple[date, ...],
) -> Table:
    """Counts that are parts of no total shown (a word is in many checks; opt-outs stand alone)."""
    rows = tuple(
        Row(key, tuple(Shown.of(counts[(kind, key)][week]) for week in weeks)) for key in keys
    )
    return Table(signal, rows)


def _stale(
    session: Session, regions: list[Region], weeks: tuple[date, ...]
) -> dict[int, list[int]]:
    """Resources past their review date at the end of each week, per region (as verified now:
    a resource re-verified since counts as it stands)."""
    ids = [region.id for region in regions]
    found: dict[int, list[int]] = {region_id: [0] * len(weeks) for region_id in ids}
    resources = session.scalars(
        select(Resource).where(Resource.retired.is_(False), Resource.region_id.in_(ids))
    )
    for resource in resources:
        for n, week in enumerate(weeks):
            end = week + timedelta(days=6)
            if resource.verified_on <= end and resource.is_stale(end):
                found[resource.region_id][n] += 1
    return found


def _note_titles(session: Session, places: list[Place]) -> dict[str, str]:
    ids = {
        row.key
        for place in places
        for table in place.tables
        if table.signal == RUMOURS
        for row in table.rows
        if row.key != counting.UNMATCHED
    }
    if not ids:
        return {}
    found = session.execute(select(Bulletin.id, Bulletin.title).where(Bulletin.id.in_(ids)))
    return dict(found.all())
