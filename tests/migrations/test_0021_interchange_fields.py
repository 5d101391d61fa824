"""Migration 0021 gives resources eligibility, fees and an application process, and bulletins
their CAP words, instruction and contact: existing rows say nothing more; going back drops the
new columns and keeps the rows."""

from __future__ import annotations

from tests.migrations.conftest import Steps

REVISION = "0021"
CONTENT = (
    "INSERT INTO regions (id, slug, kind, name, country_code, timezone, default_locale) "
    "VALUES (1, 'kharkiv', 'area', 'Kharkiv', 'UA', 'Europe/Kyiv', 'uk')",
    "INSERT INTO organizations (id, name, description) VALUES ('aid', 'Aid', '')",
    "INSERT INTO resources (id, organization_id, region_id, name, description, status, "
    "verified_on, verified_by) VALUES ('clinic', 'aid', 1, 'Clinic', '', 'active', "
    "'2026-11-20', 'Team')",
    "INSERT INTO bulletins (id, kind, status, severity, title, body, source_name, issued_at, "
    "updated_at) VALUES ('flood', 'alert', 'published', 'severe', 'Flood', 'Move up.', 'Met', "
    "'2026-12-01 10:00:00', '2026-12-01 10:00:00')",
)


def test_existing_rows_say_nothing_more_and_take_the_new_fields(steps: Steps) -> None:
    steps.run(*CONTENT)
    steps.upgrade()
    (resource,) = steps.rows("SELECT eligibility, fees, application_process FROM resources")
    assert tuple(resource) == (None, None, None)
    (bulletin,) = steps.rows(
        "SELECT cap_categories, cap_urgency, cap_certainty, instruction, contact FROM bulletins"
    )
    assert tuple(bulletin) == (None, None, None, None, None)
    steps.run(
        "UPDATE resources SET fees = 'Free', eligibility = 'Anyone', "
        "application_process = 'Walk in'",
        "UPDATE bulletins SET cap_urgency = 'Immediate', instruction = 'Go uphill.'",
    )
    assert steps.rows("SELECT fees FROM resources")[0].fees == "Free"
    assert steps.rows("SELECT instruction FROM bulletins")[0].instruction == "Go uphill."


def test_going_back_drops_the_new_fields_and_keeps_the_rows(steps: Steps) -> None:
    steps.run(*CONTENT)
    steps.upgrade()
    steps.run("UPDATE resources SET fees = 'Free'", "UPDATE bulletins SET contact = 'Met desk'")
    steps.downgrade()
    assert "fees" not in steps.columns("resources")
    assert "contact" not in steps.columns("bulletins")
    assert [row.name for row in steps.rows("SELECT name FROM resources")] == ["Clinic"]
    assert [row.title for row in steps.rows("SELECT title FROM bulletins")] == ["Flood"]
    steps.upgrade()
