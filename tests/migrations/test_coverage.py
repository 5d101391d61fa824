"""Every migration has its own test module here, so none lands untested with data."""

from __future__ import annotations

from pathlib import Path

from tests.migrations.conftest import script


def test_every_revision_has_a_test_module_with_data() -> None:
    tested = {path.name.split("_")[1] for path in Path(__file__).parent.glob("test_0*.py")}
    revisions = {revision.revision for revision in script().walk_revisions()}
    assert revisions - tested == set(), "add tests/migrations/test_<revision>_<name>.py"
