"""Each kind of content, described once: its files, its record, its model and its translations.

`KINDS` lists them in load order: what a record names is loaded before it. The loader, the
export and the translation files walk this table; none of them names a kind. To add a kind:
its `parse_*` in `records`, its canonical form and `apply_*` in `store`, its model (a
`ContentModel`, so caches see its changes), and one entry here.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import ColumnElement
from sqlalchemy.orm import Session

from server.content import files, records, store
from server.content.records import Canonical, Parsed
from server.content.schema import Checker, LineDict, Problem, parse_front_matter, parse_yaml
from server.models.bulletins import Bulletin, BulletinStatus
from server.models.checklists import Checklist
from server.models.content import Organization, Region, Resource


def _every_part(_part: Canonical, _record: Canonical) -> bool:
    return True


@dataclass(frozen=True)
class Parts:
    """Translatable parts of a record (a checklist's steps, a resource's places), each
    translated under its own id.

    The canonical form lists the parts under `field`, each with its `id` (or, for parts without
    one, its 1-based position in the list: `numbered`); their translations are stored under
    `entity` with the id `record-id/part-id`, and a file nests them in its translations under
    `field`. `include` leaves parts out of translation altogether (a confidential place's name
    and address must never reach a translator's file).
    """

    field: str
    entity: str
    label: str
    translatable: tuple[str, ...]
    markdown: tuple[str, ...] = ()
    #: Fields that go out by SMS, so must fit one segment.
    sms: tuple[str, ...] = ()
    #: Fields the conversation sends by SMS, of any length.
    texted: tuple[str, ...] = ()
    numbered: bool = False
    include: Callable[[Canonical, Canonical], bool] = _every_part

    def part_id(self, record_id: str, part_id: str) -> str:
        """How one part's translations are stored."""
        return f"{record_id}/{part_id}"

    def named(self, data: Canonical) -> list[tuple[str, Canonical]]:
        """The translated parts of a record, each with its id within the record."""
        return [
            (str(position) if self.numbered else str(part["id"]), part)
            for position, part in enumerate(data[self.field], start=1)
            if self.include(part, data)
        ]

    def sources(self, record_id: str, data: Canonical) -> dict[str, dict[str, str]]:
        """Each part's non-empty translatable source texts, by the part's translation id."""
        return {
            self.part_id(record_id, part_id): {
                name: part[name] for name in self.translatable if part.get(name)
            }
            for part_id, part in self.named(data)
        }


def _retired_flag(row: Any) -> bool:
    return bool(row.retired)


def _set_retired_flag(row: Any) -> None:
    row.retired = True


def _not_retired(model: Any) -> ColumnElement[bool]:
    clause: ColumnElement[bool] = model.retired.is_(False)
    return clause


@dataclass(frozen=True)
class Ties:
    """The regions and organisation a record belongs to: what decides whether a folder covers it."""

    regions: tuple[str, ...]
    organization: str | None


def _as_is(items: list[Parsed]) -> list[Parsed]:
    return items


def _no_problems(_items: list[Parsed]) -> Iterable[Problem]:
    return ()


@dataclass(frozen=True)
class ContentKind:
    """One kind of content: where its files are, how they read and write, and its rows."""

    #: Its name in references between records, in translations and in .po contexts.
    name: str
    #: How a note to translators names it.
    label: str
    #: Its folder under content/, also its name in a load report.
    folder: str
    suffix: str
    model: type[Any]
    #: The model attribute a record's id (its file name) is.
    key: str
    read: Callable[[Checker, str], Parsed]
    write: Callable[[Path, Canonical], None]
    canonical: Callable[[Any], Canonical]
    apply: Callable[[Session, Canonical, Any, datetime], Any]
    translatable: tuple[str, ...]
    #: Translatable fields written in Markdown (rendered through server.content.markup).
    markdown: tuple[str, ...] = ()
    #: Translatable fields the conversation sends by SMS (paged when long): what the SMS cost
    #: of a locale is measured over (`server.i18n.costs`).
    texted: tuple[str, ...] = ()
    parts: tuple[Parts, ...] = ()
    #: Rows say who keeps them ("files", "hsds" or "cap" imports, "portal"), and the files own
    #: only theirs; without an origin, every row of the kind is the files'.
    has_origin: bool = True
    #: The file states the record's status (a bulletin may say "retracted"): a retracted row
    #: is exported too, and is not brought back merely because its file is there.
    status_in_file: bool = False
    is_retired: Callable[[Any], bool] = _retired_flag
    retire: Callable[[Any], None] = _set_retired_flag
    #: Rows that are current: neither retired nor retracted.
    current: Callable[[Any], ColumnElement[bool]] = _not_retired
    #: The order to load records of this kind in, when one may name another of its kind.
    order: Callable[[list[Parsed]], list[Parsed]] = _as_is
    #: Problems only the whole set of records of this kind shows.
    check_all: Callable[[list[Parsed]], Iterable[Problem]] = _no_problems
    #: A row's regions and organisation, so a load without `--prune` may retract it when the
    #: folder covers them (`server.content.coverage`); None: only `--prune` retracts the kind.
    ties: Callable[[Any], Ties] | None = None

    def key_of(self, row: Any) -> str:
        """A row's record id."""
        return str(getattr(row, self.key))

    def key_column(self) -> Any:
        """The column of a row's record id, to order rows by or find one."""
        return getattr(self.model, self.key)


def _yaml(parse: Callable[[Checker, LineDict], Parsed]) -> Callable[[Checker, str], Parsed]:
    def read(check: Checker, source: str) -> Parsed:
        return parse(check, parse_yaml(check.path, source))

    return read


def _read_bulletin(check: Checker, source: str) -> Parsed:
    front, body = parse_front_matter(check.path, source)
    return records.parse_bulletin(check, front, body)


def _parents(regions: list[Parsed]) -> dict[str, str | None]:
    return {region.id: region.data["parent"] for region in regions}


def _parents_first(regions: list[Parsed]) -> list[Parsed]:
    """Parents before children, so that every parent exists when its child names it."""
    parents = _parents(regions)

    def depth(slug: str) -> int:
        depth, current = 0, parents.get(slug)
        while current and depth < len(parents):
            depth, current = depth + 1, parents.get(current)
        return depth

    return sorted(regions, key=lambda region: depth(region.id))


def _region_cycles(regions: list[Parsed]) -> Iterable[Problem]:
    parent = _parents(regions)
    for region in regions:
        seen, current = {region.id}, parent.get(region.id)
        while current:
            if current in seen:
                yield Problem(region.path, 1, f"region '{region.id}' is its own ancestor")
                break
            seen.add(current)
            current = parent.get(current)


def _public_place(place: Canonical, _record: Canonical) -> bool:
    """A place whose name and address may be shown, so translated (a confidential one: never)."""
    return not place["confidential"]


def _in_record_language(phrase: Canonical, record: Canonical) -> bool:
    """A rumour wording in the note's own language: one already in another stays as written."""
    return bool(phrase["locale"] == record["locale"])


def _bulletin_retracted(row: Any) -> bool:
    return bool(row.status is BulletinStatus.RETRACTED)


def _retract_bulletin(row: Any) -> None:
    row.status = BulletinStatus.RETRACTED


def _bulletin_not_retracted(model: Any) -> ColumnElement[bool]:
    clause: ColumnElement[bool] = model.status != BulletinStatus.RETRACTED
    return clause


def _resource_ties(row: Any) -> Ties:
    return Ties(regions=(row.region.slug,), organization=row.organization_id)


def _bulletin_ties(row: Any) -> Ties:
    regions = tuple(region.slug for region in row.regions)
    return Ties(regions=regions, organization=row.organization_id)


REGION = ContentKind(
    name="region",
    label="Region",
    folder="regions",
    suffix=".yaml",
    model=Region,
    key="slug",
    read=_yaml(records.parse_region),
    write=files.write_yaml,
    canonical=store.region_canonical,
    apply=store.apply_region,
    translatable=("name",),
    texted=("name",),
    has_origin=False,
    order=_parents_first,
    check_all=_region_cycles,
)
ORGANIZATION = ContentKind(
    name="organization",
    label="Organisation",
    folder="organizations",
    suffix=".yaml",
    model=Organization,
    key="id",
    read=_yaml(records.parse_organization),
    write=files.write_yaml,
    canonical=store.organization_canonical,
    apply=store.apply_organization,
    translatable=("name", "description"),
    markdown=("description",),
)
RESOURCE = ContentKind(
    name="resource",
    label="Resource",
    folder="resources",
    suffix=".yaml",
    model=Resource,
    key="id",
    read=_yaml(records.parse_resource),
    write=files.write_yaml,
    canonical=store.resource_canonical,
    apply=store.apply_resource,
    translatable=("name", "description", "status_note", *records.ACCESS),
    markdown=("description",),
    ties=_resource_ties,
    texted=("name", "status_note", *records.ACCESS),
    parts=(
        Parts(
            field="locations",
            entity=store.PLACE_ENTITY,
            label="Place",
            translatable=("name", "address"),
            include=_public_place,
        ),
        Parts(
            field="schedules",
            entity=store.HOURS_ENTITY,
            label="Opening hours",
            translatable=("description",),
            texted=("description",),
            numbered=True,
        ),
    ),
)
BULLETIN = ContentKind(
    name="bulletin",
    label="Bulletin",
    folder="bulletins",
    suffix=".md",
    model=Bulletin,
    key="id",
    read=_read_bulletin,
    write=files.write_markdown,
    canonical=store.bulletin_canonical,
    apply=store.apply_bulletin,
    translatable=("title", "body", "instruction"),
    markdown=("body", "instruction"),
    texted=("title", "body", "instruction"),
    parts=(
        Parts(
            field="match_phrases",
            entity=store.PHRASE_ENTITY,
            label="Rumour wording",
            translatable=("phrase",),
            numbered=True,
            include=_in_record_language,
        ),
    ),
    status_in_file=True,
    is_retired=_bulletin_retracted,
    retire=_retract_bulletin,
    current=_bulletin_not_retracted,
    ties=_bulletin_ties,
)
CHECKLIST = ContentKind(
    name="checklist",
    label="Checklist",
    folder="checklists",
    suffix=".yaml",
    model=Checklist,
    key="id",
    read=_yaml(records.parse_checklist),
    write=files.write_yaml,
    canonical=store.checklist_canonical,
    apply=store.apply_checklist,
    translatable=("title", "summary", "platform_version"),
    texted=("title",),
    parts=(
        Parts(
            field="steps",
            entity=store.STEP_ENTITY,
            label="Checklist step",
            translatable=("title", "web", "sms"),
            markdown=("web",),
            sms=("sms",),
        ),
    ),
)

#: Every kind of content, in load order.
KINDS: tuple[ContentKind, ...] = (REGION, ORGANIZATION, RESOURCE, BULLETIN, CHECKLIST)
