"""Migration 0003: the content tables and their search index, beside the people already there."""

from __future__ import annotations

import uuid

from sqlalchemy import DateTime

from tests.migrations.conftest import Steps, add_subscriber

REVISION = "0003"
PERSON = uuid.uuid4()
CONTENT = (
    "INSERT INTO regions (id, slug, kind, name, country_code, timezone, default_locale) "
    "VALUES (1, 'kharkiv', 'area', 'Kharkiv', 'UA', 'Europe/Kyiv', 'uk')",
    "INSERT INTO organizations (id, name, description) VALUES ('aid', 'Aid', '')",
    "INSERT INTO resources (id, organization_id, region_id, name, description, verified_on, "
    "verified_by) VALUES ('clinic', 'aid', 1, 'Clinic', 'Walk-in clinic', '2026-11-20', 'Team')",
    "INSERT INTO resource_categories (resource_id, category) VALUES ('clinic', 'medical')",
    "INSERT INTO phones (id, resource_id, number, kind) "
    "VALUES ('clinic-1', 'clinic', '+15550123', 'voice')",
    "INSERT INTO search_documents (id, resource_id, locale, body) "
    "VALUES (1, 'clinic', 'en', 'walk-in clinic kharkiv')",
)


def _found(steps: Steps, word: str) -> list[int]:
    if steps.dialect == "sqlite":
        query = "SELECT rowid FROM search_fts WHERE search_fts MATCH :word"
        return [row[0] for row in steps.rows(query, word=f'"{word}"')]
    query = "SELECT id FROM search_documents WHERE body ILIKE :word"
    return [row[0] for row in steps.rows(query, word=f"%{word}%")]


def test_people_stay_and_content_gets_its_defaults_and_search(steps: Steps) -> None:
    add_subscriber(steps, PERSON, locale="uk")
    steps.upgrade()
    assert [tuple(row) for row in steps.rows("SELECT locale, data_key_id FROM subscribers")] == [
        ("uk", "k1")
    ]
    steps.run(*CONTENT)
    [resource] = steps.rows(
        "SELECT status, source_locale, review_interval_days, sample, retired, origin, "
        "updated_at FROM resources",
        {"updated_at": DateTime(timezone=True)},
    )
    assert (resource.status, resource.source_locale, resource.origin) == ("active", "en", "files")
    assert resource.review_interval_days == 90
    assert not resource.sample
    assert not resource.retired
    assert resource.updated_at is not None
    [region] = steps.rows("SELECT position, hide_stale, retired FROM regions")
    assert region.position == 0
    assert not region.hide_stale
    # The search index follows the documents: on SQLite through FTS5's triggers.
    assert _found(steps, "clinic") == [1]
    steps.run("UPDATE search_documents SET body = 'mobile kitchen' WHERE id = 1")
    assert _found(steps, "clinic") == []
    assert _found(steps, "kitchen") == [1]
    if steps.dialect == "postgresql":
        assert "ix_search_documents_body_trgm" in steps.indexes("search_documents")


def test_removing_a_resource_takes_its_phones_categories_and_documents(steps: Steps) -> None:
    steps.upgrade()
    steps.run(*CONTENT)
    steps.run("DELETE FROM resources WHERE id = 'clinic'")
    for table in ("phones", "resource_categories", "search_documents"):
        assert steps.rows(f"SELECT * FROM {table}") == []
    assert _found(steps, "clinic") == []


def test_the_downgrade_drops_the_content_and_keeps_the_people(steps: Steps) -> None:
    add_subscriber(steps, PERSON, locale="uk")
    steps.upgrade()
    steps.run(*CONTENT)
    steps.downgrade()
    assert steps.tables() == {"subscribers", "trusted_contacts", "sealed_notes"}
    [person] = steps.rows("SELECT id, locale, phone FROM subscribers")
    assert person.locale == "uk"
    assert bytes(person.phone) == b"\x01sealed-phone-\x01"
