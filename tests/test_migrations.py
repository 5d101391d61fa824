"""Migrations tested like code: one base, one head, every step up and down, schema = models."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import inspect
from sqlalchemy.engine import make_url

import server.models  # noqa: F401
from server import db, schema


def _script() -> ScriptDirectory:
    return ScriptDirectory.from_config(schema.alembic_config())


def test_the_history_has_one_base_and_one_head() -> None:
    script = _script()
    assert len(script.get_bases()) == 1
    assert len(script.get_heads()) == 1


def test_the_schema_after_upgrade_head_equals_the_models(database_url: str) -> None:
    database = db.Database(make_url(database_url))
    schema.upgrade(database.engine)
    assert schema.current_revision(database.engine) == schema.head_revision()
    with database.engine.connect() as connection:
        context = MigrationContext.configure(
            connection,
            opts={
                "compare_type": True,
                "compare_server_default": True,
                "include_object": schema.include_object,
            },
        )
        differences = compare_metadata(context, db.Base.metadata)
    assert differences == []
    database.dispose()


def test_every_revision_upgrades_and_downgrades(database_url: str) -> None:
    database = db.Database(make_url(database_url))
    revisions = [rev.revision for rev in reversed(list(_script().walk_revisions()))]
    for revision in revisions:
        schema.upgrade(database.engine, revision)
        assert schema.current_revision(database.engine) == revision
    for _ in revisions:
        schema.downgrade(database.engine, "-1")
    assert schema.current_revision(database.engine) is None
    leftover = set(inspect(database.engine).get_table_names()) - {"alembic_version"}
    assert leftover == set()
    schema.upgrade(database.engine)
    assert schema.current_revision(database.engine) == schema.head_revision()
    database.dispose()
