"""Finding resources: by region (with its children and the regions above it), category,
language and free text, ranked.

One function answers on both backends: SQLite through FTS5 (trigram tokenizer, BM25 ranking),
PostgreSQL through pg_trgm (similarity ranking). Text is folded the same way when indexed and
when searched, so case, accents and digit scripts do not matter, in Arabic, Burmese or Cyrillic.

A place inherits down the region tree: a camp shows its own resources and those of the places
within it first, then its area's, then its country's, each tier in the usual order (`Reach`).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, replace
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Float,
    Select,
    bindparam,
    delete,
    exists,
    func,
    literal,
    literal_column,
    select,
)
from sqlalchemy.orm import Session

from server.content import search_sqlite
from server.content.search_sqlite import MIN_TRIGRAM, facets
from server.content.text import fold
from server.models.content import (
    Category,
    Organization,
    Region,
    Resource,
    ResourceCategory,
    ResourceLanguage,
    ServiceStatus,
)
from server.models.search import SearchDocument
from server.models.translations import Translation

MAX_TERMS = 8
#: Documents considered per search before filters and grouping: the best-ranked ones. An
#: unfiltered search looks at a few times what it shows; a filtered one starts wider; either
#: widens to every match when that was not enough.
MIN_CANDIDATES = 100
CANDIDATE_FACTOR = 5
MAX_CANDIDATES = 2000
CANDIDATE_GROWTH = 8
#: Resources whose filters are checked in the first batch (each later batch is twice as big).
CHECK_BATCH = 50
SHOWN_STATUSES = (ServiceStatus.ACTIVE, ServiceStatus.TEMPORARILY_CLOSED)
#: Deeper than any real hierarchy; stops a cycle that slipped in from looping forever.
MAX_DEPTH = 16


@dataclass(frozen=True)
class ResourceQuery:
    """What a person asked for; every part is optional."""

    text: str = ""
    region_id: int | None = None
    category: Category | None = None
    language: str | None = None
    limit: int = 20
    offset: int = 0


@dataclass(frozen=True)
class Hit:
    """One found resource, how well it matched (higher is better), and how far above it sits.

    `above` is 0 for the place asked for and the places within it, 1 for its area, 2 for its
    country (0 when no place was asked for).
    """

    resource_id: str
    score: float
    above: int = 0


@dataclass(frozen=True)
class Reach:
    """The regions whose content a place shows, each with its distance from the place.

    Distances: 0 the place itself, -1, -2... the places within it (levels below), 1, 2... the
    regions above it (its area, its country). Retired regions are left out, and so is
    everything below a retired region.
    """

    distances: dict[int, int]

    def tiers(self) -> list[tuple[int, list[int]]]:
        """(levels above, region ids) nearest first: the place and what lies within it, then
        each region above it."""
        within = [id_ for id_, distance in self.distances.items() if distance <= 0]
        above = sorted((d, id_) for id_, d in self.distances.items() if d > 0)
        return [(0, within), *((distance, [id_]) for distance, id_ in above)]

    def distance(self, region_id: int) -> int | None:
        """How far a region lies from the place (None: outside its reach)."""
        return self.distances.get(region_id)


def _descendants_statement() -> Select[int, int]:
    start = select(Region.id, literal(0).label("depth")).where(Region.id == bindparam("region_id"))
    below = start.cte(recursive=True)
    child = select(Region.id, below.c.depth + 1).join(below, Region.parent_id == below.c.id)
    below = below.union_all(child.where(Region.retired.is_(False), below.c.depth < MAX_DEPTH))
    return select(below.c.id, below.c.depth)


def _ancestors_statement() -> Select[int, int, bool]:
    start = select(Region.id, Region.parent_id, Region.retired, literal(0).label("height"))
    up = start.where(Region.id == bindparam("region_id")).cte(recursive=True)
    parent = select(Region.id, Region.parent_id, Region.retired, up.c.height + 1).join(
        up, Region.id == up.c.parent_id
    )
    up = up.union_all(parent.where(up.c.height < MAX_DEPTH))
    return select(up.c.id, up.c.height, up.c.retired)


#: One statement walks the hierarchy down, one up: a search asks for them every time it has a
#: region.
_DESCENDANTS = _descendants_statement()
_ANCESTORS = _ancestors_statement()


def region_and_descendants(session: Session, region_id: int) -> list[int]:
    """The region's id and the ids of every region below it (retired ones and theirs left out)."""
    return [id_ for id_, _depth in session.execute(_DESCENDANTS, {"region_id": region_id})]


def reach(session: Session, region_id: int) -> Reach:
    """The place, the regions within it and the regions above it, with their distances."""
    distances: dict[int, int] = {}
    for id_, height, retired in session.execute(_ANCESTORS, {"region_id": region_id}):
        if height > 0 and not retired:
            distances.setdefault(id_, height)
    for id_, depth in session.execute(_DESCENDANTS, {"region_id": region_id}):
        distances.setdefault(id_, -depth)
    return Reach(distances)


def index_resource(session: Session, resource: Resource) -> None:
    """(Re)write the search documents of one resource: its source locale and each translation."""
    # No session synchronisation: walking every loaded object per resource made bulk
    # reindexing quadratic.
    session.execute(
        delete(SearchDocument).where(SearchDocument.resource_id == resource.id),
        execution_options={"synchronize_session": False},
    )
    organization = session.get(Organization, resource.organization_id)
    shared = [
        organization.name if organization else "",
        *(location.city or "" for location in resource.locations if not location.confidential),
        *(entry.category.value.replace("_", " ") for entry in resource.categories),
    ]
    texts = {
        resource.source_locale: [resource.name, resource.alternate_name or "", resource.description]
    }
    for row in session.scalars(
        select(Translation).where(
            Translation.entity == "resource", Translation.entity_id == resource.id
        )
    ):
        texts.setdefault(row.locale, []).append(row.text)
    categories = facets([entry.category.value for entry in resource.categories])
    languages = facets([entry.code for entry in resource.languages])
    for locale, parts in texts.items():
        session.add(
            SearchDocument(
                resource_id=resource.id,
                locale=locale,
                body=fold(" ".join([*parts, *shared])),
                region_id=resource.region_id,
                categories=categories,
                languages=languages,
            )
        )


def reindex_all(session: Session, resources: Iterable[Resource]) -> int:
    """Rebuild the search documents of many resources."""
    count = 0
    for resource in resources:
        index_resource(session, resource)
        count += 1
    return count


def _terms(query: str) -> list[str]:
    return fold(query).split()[:MAX_TERMS]


def _filters(
    session: Session, query: ResourceQuery, by_id: bool = False, regions: list[int] | None = None
) -> list[ColumnElement[bool]]:
    """The conditions a shown resource meets (in `regions` unless None); `by_id` when resources
    are looked up by id.

    Without table statistics SQLite guesses that an equality on an indexed column finds ten
    rows, and would scan a whole region rather than look the candidates up by primary key;
    `by_id` writes the region test as an expression no index answers.
    """
    conditions: list[ColumnElement[bool]] = [
        Resource.retired.is_(False),
        Resource.status.in_(SHOWN_STATUSES),
    ]
    if regions is not None:
        region = (Resource.region_id + 0) if by_id else Resource.region_id
        conditions.append(region.in_(regions))
    # Correlated EXISTS uses each table's primary key (resource_id first); an IN over a
    # subquery would scan the whole table on every search.
    if query.category is not None:
        conditions.append(
            exists().where(
                ResourceCategory.resource_id == Resource.id,
                ResourceCategory.category == query.category,
            )
        )
    if query.language is not None:
        conditions.append(
            exists().where(
                ResourceLanguage.resource_id == Resource.id,
                ResourceLanguage.code == query.language,
            )
        )
    return conditions


def search_resources(session: Session, query: ResourceQuery) -> list[Hit]:
    """Resources matching the query, best first; without text, ordered by name.

    With a region, the place and the places within it come first, then each region above it
    (its area, its country), each tier ranked as usual.
    """
    if query.region_id is None:
        return _search(session, query, None)
    wanted = query.offset + query.limit
    hits: list[Hit] = []
    for above, regions in reach(session, query.region_id).tiers():
        tier = replace(query, offset=0, limit=wanted - len(hits))
        hits.extend(replace(hit, above=above) for hit in _search(session, tier, regions))
        if len(hits) >= wanted:
            break
    return hits[query.offset : wanted]


def _search(session: Session, query: ResourceQuery, regions: list[int] | None) -> list[Hit]:
    """One tier: resources in these regions (any region when None) matching the query."""
    terms = _terms(query.text)
    if session.get_bind().dialect.name == "sqlite" and any(len(t) >= MIN_TRIGRAM for t in terms):
        return _sqlite_hits(session, terms, query, regions)
    conditions = _filters(session, query, regions=regions)
    if not terms:
        rows = session.execute(
            select(Resource.id)
            .where(*conditions)
            .order_by(Resource.name, Resource.id)
            .limit(query.limit)
            .offset(query.offset)
        )
        return [Hit(resource_id, 0.0) for (resource_id,) in rows]
    filtered = regions is not None or query.category is not None or query.language is not None
    hits: list[Hit] = []
    # The best `candidates` documents hold the best resources exactly: a resource left out
    # ranks below every one found. Too few hits after filtering: look wider, then at all.
    for candidates in _candidate_steps(query.limit + query.offset, filtered):
        hits = _ranked_hits(session, terms, conditions, query, candidates)
        if len(hits) >= query.limit:
            break
    return hits


def _sqlite_hits(
    session: Session, terms: list[str], query: ResourceQuery, regions: list[int] | None
) -> list[Hit]:
    """FTS5 matches ranked best first, then the best-ranked resources checked against filters.

    The scan of the matches reads the FTS index and the matched documents only: a region,
    category or language filter is tested on the documents' copies of those facts, so only
    what passes is ranked; then the best-ranked resources are checked against the resources
    themselves (retired, status, and the filters again), in growing batches. The first
    document of each resource is its best; when fewer come back than asked for, every match
    has been seen.
    """
    wanted = query.limit + query.offset
    conditions = _filters(session, query, by_id=True, regions=regions)
    filters = search_sqlite.DocumentFilters(
        regions, query.category.value if query.category else None, query.language
    )
    ranked = search_sqlite.ranking(session, terms, filters)
    documents = max(MIN_CANDIDATES, CANDIDATE_FACTOR * wanted)
    checked: dict[str, bool] = {}
    while True:
        rows = ranked.rows(session, documents)
        best: dict[str, float] = {}
        for resource_id, score in rows:
            best.setdefault(resource_id, score)
        shown = _shown(session, list(best), conditions, wanted, checked)
        if len(shown) >= wanted or len(rows) < documents:
            break
        documents *= CANDIDATE_GROWTH
    page = shown[query.offset : query.offset + query.limit]
    return [Hit(resource_id, best[resource_id]) for resource_id in page]


def _shown(
    session: Session,
    candidates: list[str],
    conditions: list[ColumnElement[bool]],
    wanted: int,
    checked: dict[str, bool],
) -> list[str]:
    """The candidates that pass the filters, in order, up to `wanted` of them.

    Candidates are checked in batches that double in size, so a filter that lets most through
    costs one small query, and one that rejects most still ends in a few; `checked` remembers
    the answers across the caller's widening rounds.
    """
    shown: list[str] = []
    position, batch = 0, max(CHECK_BATCH, 2 * wanted)
    while len(shown) < wanted and position < len(candidates):
        chunk = candidates[position : position + batch]
        unknown = [resource_id for resource_id in chunk if resource_id not in checked]
        if unknown:
            passed = set(
                session.scalars(select(Resource.id).where(Resource.id.in_(unknown), *conditions))
            )
            checked.update({resource_id: resource_id in passed for resource_id in unknown})
        shown.extend(resource_id for resource_id in chunk if checked[resource_id])
        position += len(chunk)
        batch *= 2
    return shown[:wanted]


def _candidate_steps(wanted: int, filtered: bool) -> list[int | None]:
    first = max(MIN_CANDIDATES, CANDIDATE_FACTOR * wanted)
    return [MAX_CANDIDATES, None] if filtered else [first, MAX_CANDIDATES, None]


def _ranked_hits(
    session: Session,
    terms: list[str],
    conditions: list[ColumnElement[bool]],
    query: ResourceQuery,
    candidates: int | None,
) -> list[Hit]:
    if session.get_bind().dialect.name == "sqlite":
        ranked = _sqlite_ranked(terms, candidates)
    else:
        ranked = _postgres_ranked(terms)
    best = ranked.subquery()
    statement = (
        select(best.c.resource_id, func.max(best.c.score).label("score"))
        .join(Resource, Resource.id == best.c.resource_id)
        .where(*conditions)
        .group_by(best.c.resource_id)
        .order_by(literal_column("score").desc(), best.c.resource_id)
        .limit(query.limit)
        .offset(query.offset)
    )
    return [Hit(row.resource_id, float(row.score)) for row in session.execute(statement)]


def _sqlite_ranked(terms: list[str], candidates: int | None) -> Select[Any, Any]:
    """Only terms too short for the trigram index: every document holding them, unranked."""
    return select(SearchDocument.resource_id, literal_column("1.0", Float).label("score")).where(
        *_like_all(terms)
    )


def _like_all(terms: list[str]) -> list[ColumnElement[bool]]:
    return [SearchDocument.body.contains(term, autoescape=True) for term in terms]


def _postgres_ranked(terms: list[str]) -> Select[Any, Any]:
    phrase = " ".join(terms)
    score = func.word_similarity(phrase, SearchDocument.body)
    return select(SearchDocument.resource_id, score.label("score")).where(*_like_all(terms))
