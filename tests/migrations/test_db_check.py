"""`refuge db check`: the models and the migrations agree, and a model change alone is caught."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Column, Integer, MetaData, String, Table
from sqlalchemy.engine import make_url

from server import db, schema, vault
from server.app import create_app
from server.config import Settings

REFUGE = str(Path(sys.executable).parent / "refuge")


def run(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    """`refuge ARGS` with only the given REFUGE_* settings."""
    clean = {k: v for k, v in os.environ.items() if not k.startswith("REFUGE_")}
    return subprocess.run(
        [REFUGE, *args], env={**clean, **env}, capture_output=True, text=True, timeout=60
    )


@pytest.fixture
def models_with_a_table_no_migration_makes() -> Iterator[None]:
    """A model added in this test only: no migration creates its table."""
    table = Table("test_only_shoes", db.Base.metadata, Column("id", Integer, primary_key=True))
    try:
        yield
    finally:
        db.Base.metadata.remove(table)


def test_db_check_passes_on_an_empty_database_with_the_real_models(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'check.sqlite3'}"
    env = {
        "REFUGE_INSTANCE_PATH": str(tmp_path),
        "REFUGE_DATABASE_URL": url,
        **vault.new_key_settings(),
    }
    result = run(env, "db", "check")
    assert result.returncode == 0, result.stderr
    assert (
        result.stdout.strip()
        == f"the models and the migrations agree (revision {schema.head_revision()})"
    )
    again = run(env, "db", "check")  # now at the newest revision: compared as it is
    assert again.returncode == 0, again.stderr


@pytest.mark.usefixtures("models_with_a_table_no_migration_makes")
def test_db_check_fails_and_names_a_model_no_migration_follows(settings: Settings) -> None:
    app = create_app(settings)
    try:
        result = app.test_cli_runner().invoke(args=["db", "check"])
    finally:
        db.get_database(app).dispose()
    assert result.exit_code == 1
    assert result.stdout.splitlines()[0] == "add_table test_only_shoes"
    assert "the models and the migrations differ (1)" in result.output


def test_db_check_refuses_a_database_behind_the_migrations(settings: Settings) -> None:
    app = create_app(settings)
    database = db.get_database(app)
    try:
        schema.upgrade(database.engine, "0007")
        result = app.test_cli_runner().invoke(args=["db", "check"])
    finally:
        database.dispose()
    assert result.exit_code == 1
    assert "at revision 0007, not" in result.output
    assert schema.current_revision(database.engine) == "0007"  # left as it was


def test_each_difference_is_one_line_naming_table_and_column(database_url: str) -> None:
    database = db.Database(make_url(database_url))
    try:
        schema.upgrade(database.engine)
        changed = MetaData()
        for table in db.Base.metadata.tables.values():
            table.to_metadata(changed)
        subscribers = changed.tables["subscribers"]
        subscribers.append_column(Column("shoe_size", Integer, nullable=True))
        changed.tables["regions"].c.name.type = String(300)
        lines = schema.model_differences(database.engine, changed)
        assert schema.model_differences(database.engine) == []
    finally:
        database.dispose()
    assert "add_column subscribers.shoe_size" in lines
    assert (
        "modify_type regions.name: database VARCHAR(length=200), models String(length=300)" in lines
    )
    assert len(lines) == 2
