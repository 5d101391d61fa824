"""`refuge content load` and `export`: the files in content/ and the database, kept in step.

Loading checks every file before writing anything and writes only what changed. It retracts
(never deletes) only what the folder covers (`server.content.coverage`) unless asked to prune,
and reports each record it created, updated, retracted or left to another origin. The caller's
session is the one transaction, so a dry run is a load whose caller rolls back.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import select, true
from sqlalchemy.orm import Session

from server.content import files, search, store
from server.content.coverage import Scope
from server.content.kinds import KINDS, REGION, ContentKind, Parts
from server.content.records import Canonical, Parsed
from server.content.schema import Checker, ContentError, Problem
from server.models.bulletins import Bulletin, BulletinStatus, bulletin_regions
from server.models.content import Region, Resource

#: Records a content folder owns; HSDS and CAP imports carry their own origin and are left alone.
ORIGIN = "files"
#: Records the shipped demo samples own: a load of another folder never prunes them, and the
#: demo never touches what another origin keeps.
DEMO_ORIGIN = "demo"

#: Outcomes a load reports record by record (an unchanged record is only counted).
CREATED, UPDATED, RETRACTED = "created", "updated", "retracted"
KEPT, UNCHANGED = "kept", "unchanged"


@dataclass(frozen=True)
class Change:
    """One record a load changed, or left because another origin keeps it."""

    kind: str
    id: str
    outcome: str
    #: The record's name or title, so an operator sees what it is.
    what: str
    #: Whose it was: the origin a left record stays with, or the one a file took it from.
    detail: str = ""

    def __str__(self) -> str:
        detail = f" ({self.detail})" if self.detail else ""
        return f"{self.outcome} {self.kind} {self.id}: {self.what}{detail}"


@dataclass
class LoadReport:
    """What a load did: each change, and record counts by kind (its folder) and outcome."""

    counts: dict[str, dict[str, int]] = field(default_factory=dict)
    changes: list[Change] = field(default_factory=list)

    def count(self, kind: str, outcome: str) -> None:
        """Add one record of `kind` to `outcome`."""
        by_outcome = self.counts.setdefault(kind, {})
        by_outcome[outcome] = by_outcome.get(outcome, 0) + 1

    def note(self, kind: ContentKind, change: Change) -> None:
        """Record one change and count it."""
        self.changes.append(change)
        self.count(kind.folder, change.outcome)

    def total(self, outcome: str) -> int:
        """Records of every kind with this outcome."""
        return sum(by_outcome.get(outcome, 0) for by_outcome in self.counts.values())


@dataclass(frozen=True)
class _Plan:
    """How one load treats the rows it did not read: whose they are and which it may retract."""

    origin: str
    scope: Scope
    prune: bool

    def takes_over(self, origin: str) -> bool:
        # A folder's file replaces a record an import or the demo holds under its id; the demo
        # samples never replace what someone else keeps.
        return self.origin != DEMO_ORIGIN and origin != self.origin

    def retracts(self, kind: ContentKind, row: Any) -> bool:
        return self.prune or self.scope.covers(kind, row)


def read_all(root: Path) -> dict[str, list[Parsed]]:
    """Parse and check every content file under `root` (by kind name), or raise ContentError."""
    if not root.is_dir():
        raise ContentError([Problem(root, 1, "is not a directory of content")])
    problems: list[Problem] = []
    parsed: dict[str, list[Parsed]] = {}
    for kind in KINDS:
        parsed[kind.name] = []
        folder = root / kind.folder
        if not folder.is_dir():
            continue
        for path in sorted(folder.glob(f"*{kind.suffix}")):
            try:
                record = _read_one(kind, path)
            except ContentError as exc:
                problems.extend(exc.problems)
                continue
            parsed[kind.name].append(record)
    problems.extend(_cross_check(parsed))
    if problems:
        raise ContentError(problems)
    return parsed


def _read_one(kind: ContentKind, path: Path) -> Parsed:
    source = files.read_text(path)
    check = Checker(path)
    result = kind.read(check, source)
    if result.id and path.stem != result.id:
        check.problems.append(Problem(path, 1, f"the file name must be the id: {result.id}"))
    if check.problems:
        raise ContentError(check.problems)
    return result


def _cross_check(parsed: dict[str, list[Parsed]]) -> list[Problem]:
    problems = []
    known = {name: {item.id for item in items} for name, items in parsed.items()}
    for items in parsed.values():
        seen: dict[str, Path] = {}
        for item in items:
            if item.id in seen:
                problems.append(Problem(item.path, 1, f"id '{item.id}' is also in {seen[item.id]}"))
            seen[item.id] = item.path
            for ref_kind, ref_id, line in item.references:
                if ref_id not in known[ref_kind]:
                    problems.append(Problem(item.path, line, f"no {ref_kind} '{ref_id}'"))
    for kind in KINDS:
        problems.extend(kind.check_all(parsed[kind.name]))
    return problems


def load(
    session: Session,
    root: Path,
    now: datetime | None = None,
    *,
    origin: str = ORIGIN,
    prune: bool = False,
) -> LoadReport:
    """Bring the database in step with the files under `root`; all or nothing.

    Records of `origin` that the folder does not hold are retracted when the folder covers them,
    or, with `prune`, all of them.
    """
    parsed = read_all(root)
    now = now or store.utcnow()
    report = LoadReport()
    plan = _Plan(origin=origin, scope=Scope.of(parsed), prune=prune)
    changed = {
        kind.name: _load_kind(session, kind, parsed[kind.name], plan, report, now) for kind in KINDS
    }
    session.flush()
    if prune:
        _prune_regions(session, {item.id for item in parsed[REGION.name]}, report)
    # Search documents carry the organisation's name, so its resources follow its changes.
    stale = select(Resource).where(
        Resource.id.in_(changed["resource"]) | Resource.organization_id.in_(changed["organization"])
    )
    search.reindex_all(session, session.scalars(stale))
    session.flush()
    return report


def _plain(data: Canonical) -> Canonical:
    return {k: v for k, v in data.items() if k != "translations"}


def _what(row: Any) -> str:
    return str(getattr(row, "name", None) or getattr(row, "title", None) or "")


def _load_kind(
    session: Session,
    kind: ContentKind,
    items: list[Parsed],
    plan: _Plan,
    report: LoadReport,
    now: datetime,
) -> set[str]:
    """Load one kind of record; returns the ids it created, updated or retracted."""
    changed: set[str] = set()
    owned = select(kind.model)
    if kind.has_origin:
        owned = owned.where(kind.model.origin == plan.origin)
    existing = {kind.key_of(row): row for row in session.scalars(owned)}
    for item in kind.order(items):
        what = str(item.data.get("name") or item.data.get("title") or "")
        row = existing.get(item.id)
        detail = ""
        if row is None and kind.has_origin:
            row = session.get(kind.model, item.id)
            if row is not None and not plan.takes_over(row.origin):
                report.note(kind, Change(kind.name, item.id, KEPT, what, f"kept by {row.origin}"))
                continue
            if row is not None:
                # Taken over, even when identical: from now on the folder keeps it.
                detail = f"was kept by {row.origin}"
        # Unless the file states the status (a bulletin may say "retracted"), a record is
        # retired only when its file disappears, so a retired row with a file again must be
        # brought back.
        brought_back = not kind.status_in_file and row is not None and kind.is_retired(row)
        unchanged = (
            row is not None
            and not brought_back
            and not detail
            and kind.canonical(row) == _plain(item.data)
            and not _translations_changed(session, kind, item)
        )
        if unchanged:
            report.count(kind.folder, UNCHANGED)
            continue
        outcome = UPDATED if row is not None else CREATED
        report.note(kind, Change(kind.name, item.id, outcome, what, detail))
        changed.add(item.id)
        with session.no_autoflush:  # a half-built row must not be flushed by a lookup
            row = kind.apply(session, item.data, row, now)
        if kind.has_origin:
            row.origin = plan.origin
        session.flush()
        _write_translations(session, kind, item, now)
    loaded = {item.id for item in items}
    for row_id, row in existing.items():
        if kind is REGION:  # shared by every origin: `_prune_regions` decides, once all is loaded
            break
        if row_id in loaded or kind.is_retired(row) or not plan.retracts(kind, row):
            continue
        kind.retire(row)
        changed.add(row_id)
        report.note(kind, Change(kind.name, row_id, RETRACTED, _what(row)))
    return changed


def _prune_regions(session: Session, held: set[str], report: LoadReport) -> None:
    """Retire the regions a pruning folder lacks, but none that current content still lies in.

    Regions have no origin: every folder, import and the demo share them. So a region stays
    while a current resource or bulletin of any origin names it, or it holds one that does.
    """
    regions = {region.id: region for region in session.scalars(select(Region))}
    used = set(session.scalars(select(Resource.region_id).where(Resource.retired.is_(False))))
    used |= set(
        session.scalars(
            select(bulletin_regions.c.region_id)
            .join(Bulletin, Bulletin.id == bulletin_regions.c.bulletin_id)
            .where(Bulletin.status != BulletinStatus.RETRACTED)
        )
    )
    needed = used | {region.id for region in regions.values() if region.slug in held}
    for region_id in list(needed):  # a region needed keeps the regions it lies in
        parent = regions[region_id].parent_id
        while parent is not None and parent not in needed:
            needed.add(parent)
            parent = regions[parent].parent_id
    for region in regions.values():
        if region.slug in held or region.retired:
            continue
        if region.id in needed:
            detail = "current content lies in it"
            report.note(REGION, Change(REGION.name, region.slug, KEPT, region.name, detail))
        else:
            REGION.retire(region)
            report.note(REGION, Change(REGION.name, region.slug, RETRACTED, region.name))
    session.flush()


def _translations_changed(session: Session, kind: ContentKind, item: Parsed) -> bool:
    if store.translations_differ(session, kind.name, item.id, item.data["translations"]):
        return True
    return any(
        store.translations_differ(session, parts.entity, part_id, wanted)
        for parts in kind.parts
        for part_id, wanted in _part_translations(parts, item).items()
    )


def _write_translations(session: Session, kind: ContentKind, item: Parsed, now: datetime) -> None:
    # An optional field left empty (a resource's status note) has nothing to translate.
    sources = {name: item.data[name] for name in kind.translatable if item.data[name] is not None}
    nested = {parts.field for parts in kind.parts}
    translations = {
        locale: {k: v for k, v in fields.items() if k not in nested}
        for locale, fields in item.data["translations"].items()
    }
    store.write_translations(session, kind.name, item.id, sources, translations, now)
    for parts in kind.parts:
        part_sources = parts.sources(item.id, item.data)
        for part_id, part_translations in _part_translations(parts, item).items():
            if part_id in part_sources:
                store.write_translations(
                    session, parts.entity, part_id, part_sources[part_id], part_translations, now
                )


def _part_translations(parts: Parts, item: Parsed) -> dict[str, dict[str, dict[str, str]]]:
    """A file's translations of each part: {part translation id: {locale: {field: text}}}."""
    by_part: dict[str, dict[str, dict[str, str]]] = {}
    for locale, fields in item.data["translations"].items():
        for part_id, part_fields in (fields.get(parts.field) or {}).items():
            by_part.setdefault(parts.part_id(item.id, str(part_id)), {})[locale] = part_fields
    return by_part


# --- Export -----------------------------------------------------------------------------------


def export(session: Session, root: Path) -> int:
    """Write every current record to files under `root`, in the format `load` reads."""
    written = 0
    for kind in KINDS:
        # A file that states its status is written whatever the status.
        wanted = true() if kind.status_in_file else kind.current(kind.model)
        row: Any
        for row in session.scalars(select(kind.model).where(wanted)):
            record_id = kind.key_of(row)
            data = kind.canonical(row)
            data["translations"] = store.translations_of(session, kind.name, record_id)
            for parts in kind.parts:
                _nest_part_translations(session, parts, record_id, data)
            kind.write(root / kind.folder / f"{record_id}{kind.suffix}", data)
            written += 1
    return written


def _nest_part_translations(
    session: Session, parts: Parts, record_id: str, data: Canonical
) -> None:
    for name, _part in parts.named(data):
        part_id = parts.part_id(record_id, name)
        for locale, fields in store.translations_of(session, parts.entity, part_id).items():
            nested = data["translations"].setdefault(locale, {}).setdefault(parts.field, {})
            nested[name] = fields
