"""Migration 0007 copies each resource's region, categories and languages to its documents."""

from __future__ import annotations

from sqlalchemy import text
from sqlalchemy.engine import make_url

from server import db, schema

BEFORE, AFTER = "0006", "0007"
ROWS = (
    "INSERT INTO regions (id, slug, kind, name, country_code, timezone, default_locale) "
    "VALUES (7, 'camp', 'site', 'Camp', 'SD', 'Africa/Khartoum', 'ar')",
    "INSERT INTO organizations (id, name, description) VALUES ('org', 'Org', '')",
    "INSERT INTO resources (id, organization_id, region_id, name, description, verified_on, "
    "verified_by) VALUES ('clinic', 'org', 7, 'Clinic', '', '2026-11-20', 'Team'), "
    "('desk', 'org', 7, 'Desk', '', '2026-11-20', 'Team')",
    "INSERT INTO resource_categories (resource_id, category) "
    "VALUES ('clinic', 'medical'), ('clinic', 'shelter')",
    "INSERT INTO resource_languages (resource_id, code) VALUES ('clinic', 'ar')",
    "INSERT INTO search_documents (id, resource_id, locale, body) "
    "VALUES (1, 'clinic', 'en', 'clinic camp'), (2, 'clinic', 'ar', 'عيادة'), "
    "(3, 'desk', 'en', 'desk camp')",
)


def test_documents_get_their_resources_facts_and_lose_them_again(database_url: str) -> None:
    database = db.Database(make_url(database_url))
    try:
        schema.upgrade(database.engine, BEFORE)
        with database.engine.begin() as connection:
            for statement in ROWS:
                connection.execute(text(statement))
        schema.upgrade(database.engine, AFTER)
        with database.engine.connect() as connection:
            rows = connection.execute(
                text(
                    "SELECT id, region_id, categories, languages FROM search_documents ORDER BY id"
                )
            ).all()
        assert [(row.id, row.region_id) for row in rows] == [(1, 7), (2, 7), (3, 7)]
        assert rows[0].categories in {" medical shelter ", " shelter medical "}
        assert rows[1].languages == " ar "
        assert rows[2].categories == rows[2].languages == " "
        schema.downgrade(database.engine, BEFORE)
        with database.engine.begin() as connection:
            columns = connection.execute(text("SELECT * FROM search_documents")).keys()
            assert "region_id" not in columns
            if database.engine.dialect.name == "sqlite":  # the FTS5 triggers survived
                connection.execute(
                    text(
                        "INSERT INTO search_documents (id, resource_id, locale, body) "
                        "VALUES (4, 'desk', 'uk', 'kettle')"
                    )
                )
                found = connection.execute(
                    text("SELECT rowid FROM search_fts WHERE search_fts MATCH '\"kettle\"'")
                ).scalars()
                assert list(found) == [4]
    finally:
        database.dispose()
