"""`refuge content load` and `export`: the files in content/ and the database, kept in step.

Loading checks every file before writing anything, writes only what changed, and retracts
(never deletes) what a removed file held. The caller's session is the one transaction.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import yaml
from sqlalchemy import select
from sqlalchemy.orm import Session

from server.content import records, search, store
from server.content.records import Canonical, Parsed
from server.content.schema import Checker, ContentError, Problem, parse_front_matter, parse_yaml
from server.models.bulletins import Bulletin, BulletinStatus
from server.models.checklists import Checklist
from server.models.content import Organization, Region, Resource

#: Folders in load order: what a record names must already be there.
KINDS = ("regions", "organizations", "resources", "bulletins", "checklists")
SUFFIX = {"bulletins": ".md"}
MAX_FILE_BYTES = 512 * 1024
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
    """Parse and check every content file under `root`, or raise ContentError with them all."""
    if not root.is_dir():
        raise ContentError([Problem(root, 1, "is not a directory of content")])
    problems: list[Problem] = []
    parsed: dict[str, list[Parsed]] = {}
    for kind in KINDS:
        parsed[kind] = []
        folder = root / kind
        if not folder.is_dir():
            continue
        for path in sorted(folder.glob(f"*{SUFFIX.get(kind, '.yaml')}")):
            try:
                record = _read_one(kind, path)
            except ContentError as exc:
                problems.extend(exc.problems)
                continue
            parsed[kind].append(record)
    problems.extend(_cross_check(parsed))
    if problems:
        raise ContentError(problems)
    return parsed


def _read_one(kind: str, path: Path) -> Parsed:
    if path.stat().st_size > MAX_FILE_BYTES:
        raise ContentError([Problem(path, 1, f"is larger than {MAX_FILE_BYTES // 1024} KiB")])
    try:
        source = path.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        raise ContentError([Problem(path, 1, "is not UTF-8 text")]) from None
    check = Checker(path)
    if kind == "bulletins":
        front, body = parse_front_matter(path, source)
        result = records.parse_bulletin(check, front, body)
    else:
        document = parse_yaml(path, source)
        parse: dict[str, Callable[[Checker, Any], Parsed]] = {
            "regions": records.parse_region,
            "organizations": records.parse_organization,
            "resources": records.parse_resource,
            "checklists": records.parse_checklist,
        }
        result = parse[kind](check, document)
    if result.id and path.stem != result.id:
        check.problems.append(Problem(path, 1, f"the file name must be the id: {result.id}"))
    if check.problems:
        raise ContentError(check.problems)
    return result


def _cross_check(parsed: dict[str, list[Parsed]]) -> list[Problem]:
    problems = []
    known = {
        "region": {p.id for p in parsed["regions"]},
        "organization": {p.id for p in parsed["organizations"]},
    }
    for items in parsed.values():
        seen: dict[str, Path] = {}
        for item in items:
            if item.id in seen:
                problems.append(Problem(item.path, 1, f"id '{item.id}' is also in {seen[item.id]}"))
            seen[item.id] = item.path
            for ref_kind, ref_id, line in item.references:
                if ref_id not in known[ref_kind]:
                    problems.append(Problem(item.path, line, f"no {ref_kind} '{ref_id}'"))
    problems.extend(_region_cycles(parsed["regions"]))
    return problems


def _region_cycles(regions: list[Parsed]) -> Iterable[Problem]:
    parent = {r.id: r.data["parent"] for r in regions}
    for region in regions:
        seen, current = {region.id}, parent.get(region.id)
        while current:
            if current in seen:
                yield Problem(region.path, 1, f"region '{region.id}' is its own ancestor")
                break
            seen.add(current)
            current = parent.get(current)


def load(session: Session, root: Path, now: datetime | None = None) -> LoadReport:
    """Bring the database in step with the files under `root`; all or nothing."""
    parsed = read_all(root)
    now = now or store.utcnow()
    report = LoadReport()
    _load_regions(session, parsed["regions"], report)
    changed_orgs = _load_kind(
        session, parsed["organizations"], Organization, "organization", report, now
    )
    changed = _load_kind(session, parsed["resources"], Resource, "resource", report, now)
    _load_kind(session, parsed["bulletins"], Bulletin, "bulletin", report, now)
    _load_kind(session, parsed["checklists"], Checklist, "checklist", report, now)
    session.flush()
    # Search documents carry the organisation's name, so its resources follow its changes.
    stale = select(Resource).where(
        Resource.id.in_(changed) | Resource.organization_id.in_(changed_orgs)
    )
    search.reindex_all(session, session.scalars(stale))
    session.flush()
    return report


def _load_regions(session: Session, items: list[Parsed], report: LoadReport) -> None:
    existing = {region.slug: region for region in session.scalars(select(Region))}
    # Parents before children, so that every parent exists when its child names it.
    depth = {p.id: _depth(p.id, {i.id: i.data["parent"] for i in items}) for p in items}
    for item in sorted(items, key=lambda p: depth[p.id]):
        region = existing.get(item.id)
        same = region is not None and not region.retired
        same = same and region is not None and store.region_canonical(region) == _plain(item.data)
        tr = item.data["translations"]
        if same and not store.translations_differ(session, "region", item.id, tr):
            report.count("regions", "unchanged")
            continue
        report.count("regions", "updated" if region else "created")
        with session.no_autoflush:  # a half-built row must not be flushed by a lookup
            region = store.apply_region(session, item.data, region)
        session.flush()
        store.write_translations(
            session, "region", item.id, {"name": item.data["name"]}, tr, store.utcnow()
        )
    for slug, region in existing.items():
        if slug not in depth and not region.retired:
            region.retired = True
            report.count("regions", "retracted")


def _depth(slug: str, parents: dict[str, str | None]) -> int:
    depth, current = 0, parents.get(slug)
    while current and depth < len(parents):
        depth, current = depth + 1, parents.get(current)
    return depth


def _plain(data: Canonical) -> Canonical:
    return {k: v for k, v in data.items() if k != "translations"}


_CANONICAL: dict[str, Callable[[Any], Canonical]] = {
    "organization": store.organization_canonical,
    "resource": store.resource_canonical,
    "bulletin": store.bulletin_canonical,
    "checklist": store.checklist_canonical,
}
_APPLY: dict[str, Callable[[Session, Canonical, Any, datetime], Any]] = {
    "organization": store.apply_organization,
    "resource": store.apply_resource,
    "bulletin": store.apply_bulletin,
    "checklist": store.apply_checklist,
}


def _load_kind(
    session: Session, items: list[Parsed], model: Any, kind: str, report: LoadReport, now: datetime
) -> set[str]:
    """Load one kind of record; returns the ids it created, updated or retracted."""
    folder = f"{kind}s"
    changed: set[str] = set()
    existing = {
        row.id: row for row in session.scalars(select(model).where(model.origin == "files"))
    }
    for item in items:
        row = existing.get(item.id) or session.get(model, item.id)
        entity, fields = store.TRANSLATABLE[kind]
        sources = {name: item.data[name] for name in fields}
        # A bulletin's status is part of its canonical form (a file may say "retracted");
        # other kinds are retired only when their file disappears, so a retired row with a
        # file again must be brought back.
        brought_back = kind != "bulletin" and row is not None and _retired(row)
        unchanged = (
            row is not None
            and not brought_back
            and _CANONICAL[kind](row) == _plain(item.data)
            and not _translations_changed(session, kind, item)
        )
        if unchanged:
            report.count(folder, "unchanged")
            continue
        report.count(folder, "updated" if row is not None else "created")
        changed.add(item.id)
        with session.no_autoflush:  # a half-built row must not be flushed by a lookup
            row = _APPLY[kind](session, item.data, row, now)
        row.origin = ORIGIN
        session.flush()
        translations = {
            locale: {k: v for k, v in fields_.items() if k != "steps"}
            for locale, fields_ in item.data["translations"].items()
        }
        store.write_translations(session, entity, item.id, sources, translations, now)
        if kind == "checklist":
            _write_step_translations(session, item.data, now)
    loaded = {item.id for item in items}
    for row_id, row in existing.items():
        if row_id not in loaded and not _retired(row):
            _retire(row)
            changed.add(row_id)
            report.count(folder, "retracted")
    return changed


def _translations_changed(session: Session, kind: str, item: Parsed) -> bool:
    entity, _ = store.TRANSLATABLE[kind]
    if store.translations_differ(session, entity, item.id, item.data["translations"]):
        return True
    if kind != "checklist":
        return False
    by_step = _step_translations(item.data)
    return any(
        store.translations_differ(session, store.STEP_ENTITY, step_id, wanted)
        for step_id, wanted in by_step.items()
    )


def _step_translations(checklist: Canonical) -> dict[str, dict[str, dict[str, str]]]:
    by_step: dict[str, dict[str, dict[str, str]]] = {}
    for locale, fields in checklist["translations"].items():
        for step_id, step_fields in (fields.get("steps") or {}).items():
            by_step.setdefault(f"{checklist['id']}/{step_id}", {})[locale] = step_fields
    return by_step


def _write_step_translations(session: Session, checklist: Canonical, now: datetime) -> None:
    sources = store.step_sources(checklist)
    for step_id, translations in _step_translations(checklist).items():
        if step_id in sources:
            store.write_translations(
                session, store.STEP_ENTITY, step_id, sources[step_id], translations, now
            )


def _retired(row: Any) -> bool:
    if isinstance(row, Bulletin):
        return row.status is BulletinStatus.RETRACTED
    return bool(row.retired)


def _retire(row: Any) -> None:
    if isinstance(row, Bulletin):
        row.status = BulletinStatus.RETRACTED
    else:
        row.retired = True


# --- Export -----------------------------------------------------------------------------------


def export(session: Session, root: Path) -> int:
    """Write every current record to files under `root`, in the format `load` reads."""
    written = 0
    regions = session.scalars(select(Region).where(Region.retired.is_(False))).all()
    for region in regions:
        data = store.region_canonical(region)
        data["translations"] = store.translations_of(session, "region", region.slug)
        _write_yaml(root / "regions" / f"{region.slug}.yaml", data)
        written += 1
    models: tuple[tuple[str, Any], ...] = (
        ("organization", Organization),
        ("resource", Resource),
        ("checklist", Checklist),
    )
    for kind, model in models:
        row: Any
        for row in session.scalars(select(model).where(model.retired.is_(False))):
            data = _CANONICAL[kind](row)
            data["translations"] = store.translations_of(session, kind, row.id)
            if kind == "checklist":
                _nest_step_translations(session, row, data)
            _write_yaml(root / f"{kind}s" / f"{row.id}.yaml", data)
            written += 1
    for bulletin in session.scalars(select(Bulletin)):
        data = store.bulletin_canonical(bulletin)
        data["translations"] = store.translations_of(session, "bulletin", bulletin.id)
        body = data.pop("body")
        front = yaml.safe_dump(_for_file(data), allow_unicode=True, sort_keys=False, width=100)
        path = root / "bulletins" / f"{bulletin.id}.md"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(f"---\n{front}---\n{body}", encoding="utf-8")
        written += 1
    return written


def _nest_step_translations(session: Session, checklist: Checklist, data: Canonical) -> None:
    for step in checklist.steps:
        short_id = step.id.split("/", 1)[1]
        for locale, fields in store.translations_of(session, store.STEP_ENTITY, step.id).items():
            steps = data["translations"].setdefault(locale, {}).setdefault("steps", {})
            steps[short_id] = fields


def _write_yaml(path: Path, data: Canonical) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    text = yaml.safe_dump(_for_file(data), allow_unicode=True, sort_keys=False, width=100)
    path.write_text(text, encoding="utf-8")


def _for_file(value: Any) -> Any:
    """Drop empty optional fields and write timestamps in ISO 8601 with Z."""
    if isinstance(value, dict):
        return {k: _for_file(v) for k, v in value.items() if v is not None and v not in ([], {})}
    if isinstance(value, list):
        return [_for_file(v) for v in value]
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%dT%H:%M:%SZ")
    return value
