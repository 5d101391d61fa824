"""Migration 0022 adds the version store and the regions' review setting: existing regions
inherit (no setting), and going back drops both, leaving live content as it was."""

from __future__ import annotations

from tests.migrations.conftest import Steps

REVISION = "0022"
REGION = (
    "INSERT INTO regions (id, slug, kind, name, country_code, timezone, default_locale) "
    "VALUES (1, 'kharkiv', 'area', 'Kharkiv', 'UA', 'Europe/Kyiv', 'uk')"
)
DRAFT = (
    "INSERT INTO record_versions (kind, record_id, form, created_at) "
    "VALUES ('bulletin', 'curfew', '{\"id\": \"curfew\"}', '2026-12-07 20:00:00+00:00')"
)


def test_regions_inherit_review_and_drafts_start_as_drafts(steps: Steps) -> None:
    steps.run(REGION)
    steps.upgrade()
    assert steps.rows("SELECT review_resources FROM regions")[0].review_resources is None
    steps.run(DRAFT)
    (row,) = steps.rows("SELECT state, origin FROM record_versions")
    assert (row.state, row.origin) == ("draft", "portal")


def test_going_back_drops_the_version_store_and_keeps_the_regions(steps: Steps) -> None:
    steps.run(REGION)
    steps.upgrade()
    steps.run(DRAFT, "UPDATE regions SET review_resources = true")
    steps.downgrade()
    assert "record_versions" not in steps.tables()
    assert "review_resources" not in steps.columns("regions")
    assert [row.slug for row in steps.rows("SELECT slug FROM regions")] == ["kharkiv"]
    steps.upgrade()
