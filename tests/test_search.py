"""Search finds resources in any script, within a region and its children, ranked."""

from __future__ import annotations

import shutil
from datetime import UTC, datetime
from pathlib import Path

import pytest
from flask import Flask
from sqlalchemy import select

from server import db
from server.content import loader
from server.content.context import match_context_notes, similarity
from server.content.search import ResourceQuery, search_resources
from server.content.text import fold
from server.models.content import Category, Region

FIXTURES = Path(__file__).parent / "fixtures" / "content"
NOW = datetime(2026, 11, 28, 12, 0, tzinfo=UTC)


@pytest.fixture
def database(app: Flask, tmp_path: Path) -> db.Database:
    database = db.get_database(app)
    root = tmp_path / "content"
    shutil.copytree(FIXTURES, root)
    with database.session() as session:
        loader.load(session, root)
    return database


def found(database: db.Database, **query: object) -> list[str]:
    with database.session() as session:
        return [hit.resource_id for hit in search_resources(session, ResourceQuery(**query))]  # type: ignore[arg-type]


def region_id(database: db.Database, slug: str) -> int:
    with database.session() as session:
        region = session.scalar(select(Region).where(Region.slug == slug))
        assert region is not None
        return region.id


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("clinic", "test-river-clinic"),
        ("CLINIC", "test-river-clinic"),
        ("maternal care", "test-river-clinic"),
        ("عيادة", "test-river-clinic"),  # Arabic
        ("عياده النهر", "test-river-clinic"),  # teh marbuta written as heh, as people type it
        ("مستودع", None),  # another word: no false match
        ("Юридична", "test-kharkiv-legal"),  # Cyrillic, any case
        ("юридична допомога", "test-kharkiv-legal"),
        ("ဥပဒေ", "test-kharkiv-legal"),  # Burmese, no spaces between words
        ("documents", "test-kharkiv-legal"),
        ("Partners", "test-river-clinic"),  # the organisation's name
    ],
)
def test_text_search_finds_resources_in_three_scripts(
    database: db.Database, text: str, expected: str | None
) -> None:
    hits = found(database, text=text)
    if expected is None:
        assert hits == []
    else:
        assert expected in hits


def test_accents_and_case_do_not_matter() -> None:
    assert fold("CLÍNIC Ünit") == fold("clinic unit")
    assert fold("مَدْرَسَة") == fold("مدرسة")
    assert fold("၁၂၃") == "123"


def test_a_region_includes_its_children(database: db.Database) -> None:
    north = found(database, region_id=region_id(database, "north-area"))
    assert set(north) == {"test-river-clinic", "test-safe-house", "test-old-helpline"}
    east = found(database, region_id=region_id(database, "east-city"))
    assert "test-safe-house" not in east  # a sibling area's resource is not the city's


def test_a_camp_shows_its_area_s_resources_after_its_own(database: db.Database) -> None:
    camp = found(database, region_id=region_id(database, "river-camp"))
    assert camp == ["test-old-helpline", "test-river-clinic", "test-safe-house"]


def test_category_and_language_filters(database: db.Database) -> None:
    assert found(database, category=Category.MEDICAL) == ["test-river-clinic"]
    assert found(database, language="uk") == ["test-kharkiv-legal"]
    assert found(database, text="maternal", category=Category.LEGAL_AID) == []


def test_short_terms_still_filter(database: db.Database) -> None:
    assert "test-river-clinic" in found(database, text="first aid")


def test_results_are_ranked_and_paged(database: db.Database) -> None:
    everything = found(database, limit=50)
    assert len(everything) == 4
    assert found(database, limit=2) + found(database, limit=2, offset=2) == everything


def test_a_confidential_location_is_not_searchable_by_its_place(database: db.Database) -> None:
    assert "test-safe-house" in found(database, text="safe house")
    with database.session() as session:
        from server.models.search import SearchDocument

        bodies = session.scalars(
            select(SearchDocument.body).where(SearchDocument.resource_id == "test-safe-house")
        ).all()
    assert bodies
    assert not any("hidden" in body for body in bodies)


def test_a_forwarded_rumour_finds_its_context_note(database: db.Database) -> None:
    with database.session() as session:
        matches = match_context_notes(
            session, "FWD!!! They say the AID WATER is poisoned, don't drink it", NOW
        )
        assert [m.bulletin.id for m in matches] == ["test-water-rumour"]
        assert matches[0].score >= 0.9
        arabic = match_context_notes(session, "انتبهوا: مياه المساعدات مسمومة!", NOW)
        assert [m.bulletin.id for m in arabic] == ["test-water-rumour"]
        assert match_context_notes(session, "where is the nearest clinic", NOW) == []


def test_an_expired_or_retracted_note_is_never_offered(database: db.Database) -> None:
    with database.session() as session:
        later = datetime(2030, 1, 1, tzinfo=UTC)
        assert match_context_notes(session, "the aid water is poisoned", later)[0].score > 0.9
        from server.models.bulletins import Bulletin, BulletinStatus

        note = session.get(Bulletin, "test-water-rumour")
        assert note is not None
        note.status = BulletinStatus.RETRACTED
        session.flush()
        assert match_context_notes(session, "the aid water is poisoned", NOW) == []


def test_similarity_is_containment_of_the_phrase() -> None:
    assert similarity("the aid water is poisoned", "the aid water is poisoned") == 1.0
    assert similarity("", "anything") == 0.0
    assert similarity("nothing in common", "aid water poisoned") < 0.35
