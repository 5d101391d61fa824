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
    column,
    delete,
    exists,
    func,
    literal_column,
    select,
    table,
    text,
)
from sqlalchemy.orm import Session

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

#: FTS5's trigram tokenizer matches terms of three characters or more; shorter ones filter.
MIN_TRIGRAM = 3
MAX_TERMS = 8
#: Documents considered per search before filters and grouping: the best-ranked ones. An
#: unfiltered search looks at a few times what it shows; a filtered one starts wider; either
#: widens to every match when that was not enough.
MIN_CANDIDATES = 100
CANDIDATE_FACTOR = 5
MAX_CANDIDATES = 2000
CANDIDATE_GROWTH = 8
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


def region_and_descendants(session: Session, region_id: int) -> list[int]:
    """The region's id and the ids of every region below it."""
    ids, frontier = [region_id], [region_id]
    while frontier:
        frontier = list(
            session.scalars(
                select(Region.id).where(Region.parent_id.in_(frontier), Region.retired.is_(False))
            )
        )
        ids.extend(frontier)
    return ids


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
    for locale, parts in texts.items():
        body = fold(" ".join([*parts, *shared]))
        session.add(SearchDocument(resource_id=resource.id, locale=locale, body=body))


def reindex_all(session: Session, resources: Iterable[Resource]) -> int:
    """Rebuild the search documents of many resources."""
    count = 0
    for resource in resources:
        index_resource(session, resource)
        count += 1
    return count


def _terms(query: str) -> list[str]:
    return fold(query).split()[:MAX_TERMS]


def _filters(session: Session, query: ResourceQuery) -> list[ColumnElement[bool]]:
    conditions: list[ColumnElement[bool]] = [
        Resource.retired.is_(False),
        Resource.status.in_(SHOWN_STATUSES),
    ]
    if query.region_id is not None:
        conditions.append(Resource.region_id.in_(region_and_descendants(session, query.region_id)))
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
    conditions = _filters(session, query)
    terms = _terms(query.text)
    if not terms:
        rows = session.execute(
            select(Resource.id)
            .where(*conditions)
            .order_by(Resource.name, Resource.id)
            .limit(query.limit)
            .offset(query.offset)
        )
        return [Hit(resource_id, 0.0) for (resource_id,) in rows]
    if session.get_bind().dialect.name == "sqlite" and any(len(t) >= MIN_TRIGRAM for t in terms):
        return _sqlite_hits(session, terms, conditions, query)
    filtered = any(value is not None for value in (query.region_id, query.category, query.language))
    hits: list[Hit] = []
    # The best `candidates` documents hold the best resources exactly: a resource left out
    # ranks below every one found. Too few hits after filtering: look wider, then at all.
    for candidates in _candidate_steps(query.limit + query.offset, filtered):
        hits = _ranked_hits(session, terms, conditions, query, candidates)
        if len(hits) >= query.limit:
            break
    return hits


def _sqlite_hits(
    session: Session,
    terms: list[str],
    conditions: list[ColumnElement[bool]],
    query: ResourceQuery,
) -> list[Hit]:
    """FTS5 matches, filtered in the same scan and ranked by BM25, best resources first.

    The filters join into the query that scans the FTS table, so only what passes them is
    ranked; documents come back best first, and the first document of each resource is its
    best. When fewer documents than asked for come back, every match has been seen.
    """
    long_terms = [term for term in terms if len(term) >= MIN_TRIGRAM]
    match = " AND ".join('"' + term.replace('"', '""') + '"' for term in long_terms)
    wanted = query.limit + query.offset
    documents = max(MIN_CANDIDATES, CANDIDATE_FACTOR * wanted)
    while True:
        rows = session.execute(
            select(SearchDocument.resource_id, -func.bm25(literal_column("search_fts")))
            .select_from(_FTS)
            .join(SearchDocument, SearchDocument.id == _FTS.c.rowid)
            .join(Resource, Resource.id == SearchDocument.resource_id)
            .where(text("search_fts MATCH :match").bindparams(match=match))
            .where(*_like_all([term for term in terms if len(term) < MIN_TRIGRAM]))
            .where(*conditions)
            .order_by(_FTS.c.rank)
            .limit(documents)
        ).all()
        best: dict[str, float] = {}
        for resource_id, score in rows:
            best.setdefault(resource_id, float(score))
        if len(best) >= wanted or len(rows) < documents:
            break
        documents *= CANDIDATE_GROWTH
    ranked = list(best.items())[query.offset : query.offset + query.limit]
    return [Hit(resource_id, score) for resource_id, score in ranked]


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


def _like_all(terms: list[str]) -> list[ColumnElement[bool]]:
    return [SearchDocument.body.contains(term, autoescape=True) for term in terms]


#: The FTS5 table, as far as SQLAlchemy needs to know it (it is not part of the metadata).
_FTS = table("search_fts", column("rowid"), column("rank"))


def _sqlite_ranked(terms: list[str], candidates: int | None) -> Select[Any, Any]:
    long_terms = [term for term in terms if len(term) >= MIN_TRIGRAM]
    if not long_terms:
        return select(
            SearchDocument.resource_id, literal_column("1.0", Float).label("score")
        ).where(*_like_all(terms))
    match = " AND ".join('"' + term.replace('"', '""') + '"' for term in long_terms)
    # bm25() must run in the query that scans the FTS table; the LIMIT keeps SQLite from
    # flattening it into the grouping query, and bounds the candidates to the best ones.
    fts = (
        select(
            SearchDocument.resource_id.label("resource_id"),
            (-func.bm25(literal_column("search_fts"))).label("score"),
        )
        .select_from(_FTS)
        .join(SearchDocument, SearchDocument.id == _FTS.c.rowid)
        .where(text("search_fts MATCH :match").bindparams(match=match))
        .where(*_like_all([term for term in terms if len(term) < MIN_TRIGRAM]))
        .order_by(_FTS.c.rank)
        .limit(candidates if candidates is not None else -1)
        .subquery()
    )
    return select(fts.c.resource_id, fts.c.score)


def _postgres_ranked(terms: list[str]) -> Select[Any, Any]:
    phrase = " ".join(terms)
    score = func.word_similarity(phrase, SearchDocument.body)
    return select(SearchDocument.resource_id, score.label("score")).where(*_like_all(terms))
