"""Ranking FTS5 matches on SQLite: FTS5's bm25() when it is cheap, the same formula here when not.

bm25() needs, for each term of a query, how many documents hold it, and FTS5 finds out by
running every term as a query of its own over the whole index: tens of milliseconds for a
common word, more than the search itself. A query of several terms whose separate matches
far outnumber their common ones is ranked by the same BM25 formula computed from the matched
documents' text, with each term's document frequency estimated from a bounded sample of its
matches.

The statements are SQL (FTS5 is SQLite's own) built once per shape of query: only counts and
constants are formatted into them, every value is a bound parameter.
"""

from __future__ import annotations

import functools
import json
import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.orm import Session

#: FTS5's trigram tokenizer matches terms of three characters or more; shorter ones filter.
MIN_TRIGRAM = 3
#: BM25's parameters, as FTS5's bm25() has them, and its floor for a term's weight.
BM25_K1 = 1.2
BM25_B = 0.75
MIN_WEIGHT = 1e-6
#: Matches of an FTS5 query read to estimate how many documents it matches.
SAMPLE_MATCHES = 400
#: Counting one matched document costs bm25() about this share of what ranking one here costs.
#: Measured on the search benchmark's 128 queries of several terms (Arabic, Bengali, Burmese,
#: English, Ukrainian), each ranked both ways: ranking here is faster in nearly every query
#: whose terms alone match more than about 7 times what they match together, bm25() below.
COUNT_COST = 0.14


@dataclass(frozen=True)
class DocumentFilters:
    """What a matched document must carry: one of these regions, a category, a language."""

    regions: Sequence[int] | None = None
    category: str | None = None
    language: str | None = None


@dataclass(frozen=True)
class Ranking:
    """A statement giving (resource_id, score) of matching documents, best first."""

    sql: str
    params: dict[str, Any] = field(default_factory=dict)

    def rows(self, session: Session, limit: int) -> list[tuple[str, float]]:
        """The best `limit` documents."""
        result = session.connection().exec_driver_sql(self.sql, {**self.params, "limit": limit})
        return [(resource_id, float(score)) for resource_id, score in result]


def fts_match(long_terms: Sequence[str]) -> str:
    """An FTS5 query requiring every term, each as a phrase (a substring, by trigrams)."""
    return " AND ".join('"' + term.replace('"', '""') + '"' for term in long_terms)


def facets(values: Sequence[str]) -> str:
    """Values as a search document keeps them: sorted, each followed by a space, after a space."""
    return " " + "".join(f"{value} " for value in sorted(set(values)))


def ranking(session: Session, terms: list[str], filters: DocumentFilters) -> Ranking:
    """Documents matching every term and the filters, as (resource_id, score), best first."""
    long_terms = list(dict.fromkeys(term for term in terms if len(term) >= MIN_TRIGRAM))
    short = [term for term in terms if len(term) < MIN_TRIGRAM]
    params: dict[str, Any] = {"match": fts_match(long_terms)}
    params.update({f"short{index}": term for index, term in enumerate(short)})
    if filters.regions is not None:
        params["regions"] = json.dumps(list(filters.regions))
    if filters.category is not None:
        params["category"] = facets([filters.category])
    if filters.language is not None:
        params["language"] = facets([filters.language])
    where = _where(
        len(short),
        filters.regions is not None,
        filters.category is not None,
        filters.language is not None,
    )
    if len(long_terms) > 1:
        total, counts = _counts(session, [*(fts_match([t]) for t in long_terms), params["match"]])
        *alone, together = counts
        if COUNT_COST * sum(alone) > together:
            for index, (term, holding) in enumerate(zip(long_terms, alone, strict=True)):
                params[f"term{index}"] = term
                params[f"size{index}"] = float(len(term))
                params[f"weight{index}"] = (BM25_K1 + 1) * _weight(total, holding)
            return Ranking(_computed_sql(len(long_terms), where), params)
    return Ranking(_bm25_sql(where, len(params) > 1), params)


def _weight(total: float, holding: float) -> float:
    """BM25's inverse document frequency, as FTS5 computes it."""
    return max(math.log((total - holding + 0.5) / (holding + 0.5)), MIN_WEIGHT)


@functools.cache
def _where(shorts: int, region: bool, category: bool, language: bool) -> str:
    conditions = ["search_fts MATCH :match"]
    conditions += [f"instr(d.body, :short{index}) > 0" for index in range(shorts)]
    if region:
        conditions.append("d.region_id IN (SELECT value FROM json_each(:regions))")
    if category:
        conditions.append("instr(d.categories, :category) > 0")
    if language:
        conditions.append("instr(d.languages, :language) > 0")
    return (
        "FROM search_fts JOIN search_documents AS d ON d.id = search_fts.rowid WHERE "
        + " AND ".join(conditions)
    )


@functools.cache
def _bm25_sql(where: str, filtered: bool) -> str:
    # FTS5 sorts by its rank column itself, ranking every match before any filter applies;
    # ordered by the same bm25() instead, a filtered search ranks only what passes.
    order = "score DESC" if filtered else "rank"
    return f"SELECT d.resource_id, -bm25(search_fts) AS score {where} ORDER BY {order} LIMIT :limit"


@functools.cache
def _computed_sql(terms: int, where: str) -> str:
    """BM25 over the matched documents: term counts and lengths from their folded text.

    Lengths are taken against the mean length of the matched documents (FTS5 uses the whole
    index's), which orders the matches among themselves alike.
    """
    counts = ", ".join(
        f"(length(d.body) - length(replace(d.body, :term{i}, ''))) / :size{i} AS tf{i}"
        for i in range(terms)
    )
    pivot = f"({BM25_K1 * (1 - BM25_B)!r} + {BM25_K1 * BM25_B!r} * length / mean)"
    score = " + ".join(f":weight{i} * tf{i} / (tf{i} + {pivot})" for i in range(terms))
    documents = (
        "SELECT d.resource_id, length(d.body) AS length, avg(length(d.body)) OVER () AS mean"
    )
    inner = f"{documents}, {counts} {where}"
    ordered = "ORDER BY score DESC, resource_id LIMIT :limit"
    return f"SELECT resource_id, {score} AS score FROM ({inner}) {ordered}"  # noqa: S608


def _counts(session: Session, matches: list[str]) -> tuple[float, list[float]]:
    """The span of document ids, and how many documents each FTS5 query matches.

    FTS5 returns matches in rowid order, so the rowid reached after SAMPLE_MATCHES matches says
    what share of the documents match; a query with fewer matches is counted exactly.
    """
    params: dict[str, Any] = {f"m{index}": match for index, match in enumerate(matches)}
    params["sample"] = SAMPLE_MATCHES
    row = session.connection().exec_driver_sql(_counts_sql(len(matches)), params).one()
    first, last, *sampled = row
    if first is None:
        return 0.0, [0.0 for _ in matches]
    total = float(last - first + 1)
    counts = []
    for index in range(len(matches)):
        seen, reached = sampled[2 * index], sampled[2 * index + 1]
        if seen < SAMPLE_MATCHES:
            counts.append(float(seen))
        else:
            counts.append(SAMPLE_MATCHES * total / (reached - first + 1))
    return total, counts


@functools.cache
def _counts_sql(matches: int) -> str:
    sample = "SELECT rowid FROM search_fts WHERE search_fts MATCH :m{} LIMIT :sample"
    samples = ", ".join(f"s{i} AS MATERIALIZED ({sample.format(i)})" for i in range(matches))
    counted = "(SELECT count(*) FROM s{0}), (SELECT max(rowid) FROM s{0})"
    columns = ", ".join(counted.format(i) for i in range(matches))
    # min() and max() in one query would scan the table; two subqueries each look one row up.
    span = "(SELECT min(id) FROM search_documents), (SELECT max(id) FROM search_documents)"
    return f"WITH {samples} SELECT {span}, {columns}"
