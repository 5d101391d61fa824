"""Migration 0025 adds the table of rumour-word sightings: tallies are untouched, sightings
can be written (once per week, region, word and number), and going back drops the table."""

from __future__ import annotations

import pytest
from sqlalchemy.exc import IntegrityError

from tests.migrations.conftest import Steps

REVISION = "0025"
TALLY = (
    "INSERT INTO tallies (kind, subject, region_slug, day, count) "
    "VALUES ('context_check', 'unverified', 'kharkiv', '2026-11-30', 12)"
)
SIGHTING = (
    "INSERT INTO word_sightings (week, region_slug, word_digest, sender_digest) "
    "VALUES ('2026-11-30', 'kharkiv', :word, :sender)"
)


def test_tallies_stay_and_a_sighting_is_kept_once_per_number(steps: Steps) -> None:
    steps.run(TALLY)
    steps.upgrade()
    assert [row.count for row in steps.rows("SELECT count FROM tallies")] == [12]
    steps.run(SIGHTING, word=b"w" * 32, sender=b"s" * 32)
    assert [row.checks for row in steps.rows("SELECT checks FROM word_sightings")] == [1]
    with pytest.raises(IntegrityError):
        steps.run(SIGHTING, word=b"w" * 32, sender=b"s" * 32)


def test_going_back_drops_the_sightings_and_keeps_the_tallies(steps: Steps) -> None:
    steps.run(TALLY)
    steps.upgrade()
    steps.run(SIGHTING, word=b"w" * 32, sender=b"s" * 32)
    steps.downgrade()
    assert "word_sightings" not in steps.tables()
    assert [row.count for row in steps.rows("SELECT count FROM tallies")] == [12]
    steps.upgrade()
