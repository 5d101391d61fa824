"""Migration 0020 gives regions an emergency number: existing regions keep everything and have
none (their helpline still answers a cry for help); going back drops it and keeps the regions."""

from __future__ import annotations

from tests.migrations.conftest import Steps

REVISION = "0020"
CONTENT = (
    "INSERT INTO regions (id, slug, kind, name, country_code, timezone, default_locale) "
    "VALUES (1, 'bangladesh', 'country', 'Bangladesh', 'BD', 'Asia/Dhaka', 'bn')",
    "INSERT INTO regions (id, slug, parent_id, kind, name, country_code, timezone, "
    "default_locale) VALUES (2, 'cox-s-bazar', 1, 'area', 'Cox''s Bazar', 'BD', 'Asia/Dhaka', "
    "'bn')",
)


def test_existing_regions_keep_their_rows_without_an_emergency_number(steps: Steps) -> None:
    steps.run(*CONTENT)
    steps.upgrade()
    rows = steps.rows("SELECT slug, parent_id, emergency FROM regions ORDER BY id")
    assert [(row.slug, row.parent_id, row.emergency) for row in rows] == [
        ("bangladesh", None, None),
        ("cox-s-bazar", 1, None),
    ]
    steps.run("UPDATE regions SET emergency = '999' WHERE slug = 'bangladesh'")
    assert steps.rows("SELECT emergency FROM regions WHERE id = 1")[0].emergency == "999"


def test_going_back_drops_the_number_and_keeps_the_regions(steps: Steps) -> None:
    steps.run(*CONTENT)
    steps.upgrade()
    steps.run("UPDATE regions SET emergency = '999' WHERE slug = 'bangladesh'")
    steps.downgrade()
    assert "emergency" not in steps.columns("regions")
    assert [row.slug for row in steps.rows("SELECT slug FROM regions ORDER BY id")] == [
        "bangladesh",
        "cox-s-bazar",
    ]
    steps.upgrade()
