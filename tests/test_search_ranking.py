"""Search ranks well and filters correctly however many matches there are, in step with content."""

from __future__ import annotations

import shutil
from datetime import date
from pathlib import Path

import pytest
from flask import Flask
from sqlalchemy import select
from sqlalchemy.orm import Session

from server import db
from server.content import loader, search_sqlite
from server.content.search import ResourceQuery, index_resource, search_resources
from server.models.content import Category, Region, Resource, ResourceCategory, ResourceLanguage

FIXTURES = Path(__file__).parent / "fixtures" / "content"
ORGANIZATION = "test-clinic-org"


@pytest.fixture
def content(tmp_path: Path) -> Path:
    root = tmp_path / "content"
    shutil.copytree(FIXTURES, root)
    return root


@pytest.fixture
def database(app: Flask, content: Path) -> db.Database:
    database = db.get_database(app)
    with database.session() as session:
        loader.load(session, content)
    return database


#: FTS5's ranking is SQLite's; PostgreSQL ranks by trigram similarity (tested in test_search).
sqlite_only = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)


def region_id(session: Session, slug: str) -> int:
    region = session.scalar(select(Region).where(Region.slug == slug))
    assert region is not None
    return region.id


def add(
    session: Session,
    resource_id: str,
    text: str,
    region: str = "river-camp",
    categories: tuple[Category, ...] = (Category.MEDICAL,),
    languages: tuple[str, ...] = ("en",),
) -> Resource:
    resource = Resource(
        id=resource_id,
        organization_id=ORGANIZATION,
        region_id=region_id(session, region),
        name=resource_id,
        description=text,
        verified_on=date(2026, 11, 20),
        verified_by="Test team",
        categories=[ResourceCategory(category=category) for category in categories],
        languages=[ResourceLanguage(code=code) for code in languages],
    )
    session.add(resource)
    session.flush()
    index_resource(session, resource)
    session.flush()
    return resource


def ids(session: Session, **query: object) -> list[str]:
    return [hit.resource_id for hit in search_resources(session, ResourceQuery(**query))]  # type: ignore[arg-type]


@pytest.fixture
def computed_bm25(monkeypatch: pytest.MonkeyPatch) -> None:
    """Rank every query of several terms here, never with FTS5's bm25()."""
    monkeypatch.setattr(search_sqlite, "COUNT_COST", float("inf"))
    return


@pytest.fixture
def fts5_bm25(monkeypatch: pytest.MonkeyPatch) -> None:
    """Rank every query with FTS5's bm25()."""
    monkeypatch.setattr(search_sqlite, "COUNT_COST", 0.0)
    return


FILLER = " and more words that say nothing much about the service at all"


def add_ranked(session: Session) -> None:
    """Documents holding "kettle" and "lantern" in several ways; lantern is the commoner."""
    add(session, "both-twice", "kettle kettle lantern lantern")
    add(session, "kettle-twice", "kettle kettle lantern")
    add(session, "lantern-twice", "kettle lantern lantern")
    add(session, "short", "kettle lantern")
    add(session, "long", "kettle lantern" + FILLER)
    for number in range(3):
        add(session, f"lantern-only-{number}", "lantern" + FILLER)
    for number in range(12):
        add(session, f"neither-{number}", "a service" + FILLER)


@sqlite_only
def test_more_occurrences_and_shorter_documents_rank_first(database: db.Database) -> None:
    with database.session() as session:
        add(session, "short", "kettle")
        add(session, "long", "kettle" + FILLER)
        add(session, "twice-long", "kettle kettle" + FILLER)
        found = ids(session, text="kettle")
    assert found.index("short") < found.index("long")
    assert found.index("twice-long") < found.index("long")


@sqlite_only
def test_both_rankings_put_several_terms_in_the_same_order(
    database: db.Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    with database.session() as session:
        add_ranked(session)
        monkeypatch.setattr(search_sqlite, "COUNT_COST", 0.0)  # FTS5's bm25()
        by_fts5 = ids(session, text="lantern kettle")
        monkeypatch.setattr(search_sqlite, "COUNT_COST", float("inf"))  # computed here
        computed = ids(session, text="lantern kettle")
    assert computed == by_fts5
    assert computed.index("both-twice") < computed.index("short") < computed.index("long")
    assert computed[-1] == "long"
    # The rarer term weighs more.
    assert computed.index("kettle-twice") < computed.index("lantern-twice")


@sqlite_only
def test_scores_of_the_computed_ranking_are_positive_and_descending(
    database: db.Database, computed_bm25: None
) -> None:
    with database.session() as session:
        add_ranked(session)
        hits = search_resources(session, ResourceQuery(text="kettle lantern"))
    scores = [hit.score for hit in hits]
    assert len(hits) == 5
    assert scores == sorted(scores, reverse=True)
    assert all(score > 0 for score in scores)


@pytest.mark.parametrize("ranking", ["computed_bm25", "fts5_bm25"])
def test_filters_find_matches_ranked_below_many_others(
    database: db.Database, ranking: str, request: pytest.FixtureRequest
) -> None:
    request.getfixturevalue(ranking)
    with database.session() as session:
        for number in range(150):  # short documents rank first
            add(session, f"camp-{number:03d}", "kettle lantern")
        for number in range(3):
            add(
                session,
                f"city-{number}",
                "kettle lantern" + FILLER,
                region="east-city",
                categories=(Category.FOOD_WATER,),
                languages=("uk",),
            )
        city = {f"city-{number}" for number in range(3)}
        east = region_id(session, "east-city")
        for text in ("kettle", "kettle lantern"):
            assert set(ids(session, text=text, region_id=east)) == city
            assert set(ids(session, text=text, category=Category.FOOD_WATER)) == city
            assert set(ids(session, text=text, language="uk")) == city
            assert len(ids(session, text=text, limit=200)) == 153


def test_a_region_filter_with_text_includes_its_children(database: db.Database) -> None:
    with database.session() as session:
        add(session, "in-the-camp", "kettle", region="river-camp")
        add(session, "in-the-city", "kettle", region="east-city")
        north = region_id(session, "north-area")  # river-camp's parent
        assert ids(session, text="kettle", region_id=north) == ["in-the-camp"]


def test_a_resource_withdrawn_without_reindexing_is_not_found(database: db.Database) -> None:
    with database.session() as session:
        for number in range(120):
            add(session, f"kettle-{number:03d}", "kettle")
        for resource in session.scalars(select(Resource).where(Resource.id.like("kettle-0%"))):
            resource.retired = True  # its search documents still say it is there
        session.flush()
        found = ids(session, text="kettle", limit=200)
        assert sorted(found) == [f"kettle-{number}" for number in range(100, 120)]


def test_filters_follow_a_content_reload(database: db.Database, content: Path) -> None:
    clinic = content / "resources" / "test-river-clinic.yaml"
    clinic.write_text(
        clinic.read_text(encoding="utf-8")
        .replace("region: river-camp", "region: east-city")
        .replace("categories: [medical]", "categories: [food_water]")
        .replace("languages: [ar, en]", "languages: [uk]"),
        encoding="utf-8",
    )
    with database.session() as session:
        camp, city = region_id(session, "river-camp"), region_id(session, "east-city")
        assert ids(session, text="maternal", region_id=camp) == ["test-river-clinic"]
        loader.load(session, content)
        assert ids(session, text="maternal", region_id=camp) == []
        assert ids(session, text="maternal", region_id=city) == ["test-river-clinic"]
        assert ids(session, text="maternal", category=Category.MEDICAL) == []
        assert ids(session, text="maternal", category=Category.FOOD_WATER) == ["test-river-clinic"]
        assert ids(session, text="maternal", language="en") == []
        assert ids(session, text="maternal", language="uk") == ["test-river-clinic"]
