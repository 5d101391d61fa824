"""Finding resources: by region (with its children), category, language and free text, ranked.

One function answers on both backends: SQLite through FTS5 (trigram tokenizer, BM25 ranking),
PostgreSQL through pg_trgm (similarity ranking). Text is folded the same way when indexed and
when searched, so case, accents and digit scripts do not matter, in Arabic, Burmese or Cyrillic.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Float,
    Select,
    bindparam,
    delete,
    exists,
    func,
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
    """One found resource and how well it matched (higher is better)."""

    resource_id: str
    score: float


def _descendants_statement() -> Select[tuple[int]]:
    below = select(Region.id).where(Region.id == bindparam("region_id")).cte(recursive=True)
    child = select(Region.id).join(below, Region.parent_id == below.c.id)
    below = below.union_all(child.where(Region.retired.is_(False)))
    return select(below.c.id)


#: One statement walks the hierarchy down: a search asks for it every time it has a region.
_DESCENDANTS = _descendants_statement()


def region_and_descendants(session: Session, region_id: int) -> list[int]:
    """The region's id and the ids of every region below it (retired ones and theirs left out)."""
    return list(session.scalars(_DESCENDANTS, {"region_id": region_id}))


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
    """The conditions a shown resource meets; `by_id` when resources are looked up by id.

    Without table statistics SQLite guesses that an equality on an indexed column finds ten
    rows, and would scan a whole region rather than look the candidates up by primary key;
    `by_id` writes the region test as an expression no index answers.
    """
    conditions: list[ColumnElement[bool]] = [
        Resource.retired.is_(False),
        Resource.status.in_(SHOWN_STATUSES),
    ]
    if query.region_id is not None:
        region = (Resource.region_id + 0) if by_id else Resource.region_id
        if regions is None:
            regions = region_and_descendants(session, query.region_id)
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
    """Resources matching the query, best first; without text, ordered by name."""
    terms = _terms(query.text)
    if session.get_bind().dialect.name == "sqlite" and any(len(t) >= MIN_TRIGRAM for t in terms):
        return _sqlite_hits(session, terms, query)
    conditions = _filters(session, query)
    if not terms:
        rows = session.execute(
            select(Resource.id)
            .where(*conditions)
            .order_by(Resource.name, Resource.id)
            .limit(query.limit)
            .offset(query.offset)
        )
        return [Hit(resource_id, 0.0) for (resource_id,) in rows]
    filtered = any(value is not None for value in (query.region_id, query.category, query.language))
    hits: list[Hit] = []
    # The best `candidates` documents hold the best resources exactly: a resource left out
    # ranks below every one found. Too few hits after filtering: look wider, then at all.
    for candidates in _candidate_steps(query.limit + query.offset, filtered):
        hits = _ranked_hits(session, terms, conditions, query, candidates)
        if len(hits) >= query.limit:
            break
    return hits


def _sqlite_hits(session: Session, terms: list[str], query: ResourceQuery) -> list[Hit]:
    """FTS5 matches ranked best first, then the best-ranked resources checked against filters.

    The scan of the matches reads the FTS index and the matched documents only: a region,
    category or language filter is tested on the documents' copies of those facts, so only
    what passes is ranked; then the best-ranked resources are checked against the resources
    themselves (retired, status, and the filters again), in growing batches. The first
    document of each resource is its best; when fewer come back than asked for, every match
    has been seen.
    """
    wanted = query.limit + query.offset
    regions = None if query.region_id is None else region_and_descendants(session, query.region_id)
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
