"""Migration 0001, the baseline: it versions an empty database and creates nothing else."""

from __future__ import annotations

from tests.migrations.conftest import Steps

REVISION = "0001"


def test_the_baseline_versions_an_empty_database_and_nothing_more(steps: Steps) -> None:
    steps.upgrade()
    assert steps.tables() == set()
    steps.downgrade()
    assert steps.tables() == set()
