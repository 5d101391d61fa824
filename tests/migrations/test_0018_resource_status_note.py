"""Migration 0018 gives resources a status note: existing ones keep their status and say
nothing more; going back drops the note and keeps the resources."""

from __future__ import annotations

from tests.migrations.conftest import Steps

REVISION = "0018"
CONTENT = (
    "INSERT INTO regions (id, slug, kind, name, country_code, timezone, default_locale) "
    "VALUES (1, 'kharkiv', 'area', 'Kharkiv', 'UA', 'Europe/Kyiv', 'uk')",
    "INSERT INTO organizations (id, name, description) VALUES ('aid', 'Aid', '')",
    "INSERT INTO resources (id, organization_id, region_id, name, description, status, "
    "verified_on, verified_by) VALUES ('clinic', 'aid', 1, 'Clinic', '', 'temporarily closed', "
    "'2026-11-20', 'Team')",
)


def test_existing_resources_keep_their_status_without_a_note(steps: Steps) -> None:
    steps.run(*CONTENT)
    steps.upgrade()
    (row,) = steps.rows("SELECT status, status_note FROM resources")
    assert (row.status, row.status_note) == ("temporarily closed", None)
    steps.run("UPDATE resources SET status_note = 'Back on 1 December'")
    assert steps.rows("SELECT status_note FROM resources")[0].status_note == "Back on 1 December"


def test_going_back_drops_the_note_and_keeps_the_resources(steps: Steps) -> None:
    steps.run(*CONTENT)
    steps.upgrade()
    steps.run("UPDATE resources SET status_note = 'Back on 1 December'")
    steps.downgrade()
    assert "status_note" not in steps.columns("resources")
    assert [row.status for row in steps.rows("SELECT status FROM resources")] == [
        "temporarily closed"
    ]
    steps.upgrade()
