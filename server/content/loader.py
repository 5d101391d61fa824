"""`refuge content load` and `export`: the files in content/ and the database, kept in step.

Loading checks every file before writing anything, writes only what changed, and retracts
(never deletes) what a removed file held. The caller's session is the one transaction.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import select, true
from sqlalchemy.orm import Session

from server.content import files, search, store
from server.content.kinds import KINDS, ContentKind, Parts
from server.content.records import Canonical, Parsed
from server.content.schema import Checker, ContentError, Problem
from server.models.content import Resource

#: Records the files own; HSDS and CAP imports carry their own origin and are left alone.
ORIGIN = "files"


@dataclass
class LoadReport:
    """What a load did, by kind: created, updated, unchanged and retracted record counts."""

    counts: dict[str, dict[str, int]] = field(default_factory=dict)

    def count(self, kind: str, outcome: str) -> None:
        """Add one record of `kind` to `outcome`."""
        by_outcome = self.counts.setdefault(kind, {})
        by_outcome[outcome] = by_outcome.get(outcome, 0) + 1

    def total(self, outcome: str) -> int:
        """Records of every kind with this outcome."""
        return sum(by_outcome.get(outcome, 0) for by_outcome in self.counts.values())


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


def load(session: Session, root: Path, now: datetime | None = None) -> LoadReport:
    """Bring the database in step with the files under `root`; all or nothing."""
    parsed = read_all(root)
    now = now or store.utcnow()
    report = LoadReport()
    changed = {
        kind.name: _load_kind(session, kind, parsed[kind.name], report, now) for kind in KINDS
    }
    session.flush()
    # Search documents carry the organisation's name, so its resources follow its changes.
    stale = select(Resource).where(
        Resource.id.in_(changed["resource"]) | Resource.organization_id.in_(changed["organization"])
    )
    search.reindex_all(session, session.scalars(stale))
    session.flush()
    return report


def _plain(data: Canonical) -> Canonical:
    return {k: v for k, v in data.items() if k != "translations"}


def _load_kind(
    session: Session, kind: ContentKind, items: list[Parsed], report: LoadReport, now: datetime
) -> set[str]:
    """Load one kind of record; returns the ids it created, updated or retracted."""
    changed: set[str] = set()
    owned = select(kind.model)
    if kind.has_origin:
        owned = owned.where(kind.model.origin == ORIGIN)
    existing = {kind.key_of(row): row for row in session.scalars(owned)}
    for item in kind.order(items):
        row = existing.get(item.id)
        if row is None and kind.has_origin:
            # A record an import holds under the same id is taken over by its file.
            row = session.get(kind.model, item.id)
        # Unless the file states the status (a bulletin may say "retracted"), a record is
        # retired only when its file disappears, so a retired row with a file again must be
        # brought back.
        brought_back = not kind.status_in_file and row is not None and kind.is_retired(row)
        unchanged = (
            row is not None
            and not brought_back
            and kind.canonical(row) == _plain(item.data)
            and not _translations_changed(session, kind, item)
        )
        if unchanged:
            report.count(kind.folder, "unchanged")
            continue
        report.count(kind.folder, "updated" if row is not None else "created")
        changed.add(item.id)
        with session.no_autoflush:  # a half-built row must not be flushed by a lookup
            row = kind.apply(session, item.data, row, now)
        if kind.has_origin:
            row.origin = ORIGIN
        session.flush()
        _write_translations(session, kind, item, now)
    loaded = {item.id for item in items}
    for row_id, row in existing.items():
        if row_id not in loaded and not kind.is_retired(row):
            kind.retire(row)
            changed.add(row_id)
            report.count(kind.folder, "retracted")
    return changed


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
