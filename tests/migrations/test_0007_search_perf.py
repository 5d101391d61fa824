"""Migration 0007 copies each resource's region, categories and languages to its documents."""

from __future__ import annotations

import re

from tests.migrations.conftest import Steps

REVISION = "0007"
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


def test_documents_get_their_resources_facts_and_a_content_version(steps: Steps) -> None:
    steps.run(*ROWS)
    steps.upgrade()
    rows = steps.rows(
        "SELECT id, region_id, categories, languages FROM search_documents ORDER BY id"
    )
    assert [(row.id, row.region_id) for row in rows] == [(1, 7), (2, 7), (3, 7)]
    assert rows[0].categories in {" medical shelter ", " shelter medical "}
    assert rows[1].languages == " ar "
    assert rows[2].categories == rows[2].languages == " "
    # Search by region and category, as the shelf does, finds the documents.
    found = steps.rows(
        "SELECT id FROM search_documents WHERE region_id = 7 AND categories LIKE '% medical %'"
    )
    assert sorted(row.id for row in found) == [1, 2]
    [version] = steps.rows("SELECT id, token FROM content_versions")
    assert version.id == 1
    assert re.fullmatch(r"[0-9a-f]{32}", version.token)


def test_the_downgrade_drops_the_copies_and_keeps_the_documents_searchable(
    steps: Steps,
) -> None:
    steps.run(*ROWS)
    steps.upgrade()
    steps.downgrade()
    assert not {"region_id", "categories", "languages"} & steps.columns("search_documents")
    assert "content_versions" not in steps.tables()
    assert len(steps.rows("SELECT id FROM search_documents")) == 3
    if steps.dialect == "sqlite":  # the FTS5 triggers survived
        steps.run(
            "INSERT INTO search_documents (id, resource_id, locale, body) "
            "VALUES (4, 'desk', 'uk', 'kettle')"
        )
        found = steps.rows("SELECT rowid FROM search_fts WHERE search_fts MATCH '\"kettle\"'")
        assert [row[0] for row in found] == [4]
