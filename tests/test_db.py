"""The database layer: hardened SQLite, pinged PostgreSQL, sessions that never half-write."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest
from flask import Flask
from sqlalchemy import Column, Integer, String, Table, select, text
from sqlalchemy.engine import make_url

from server import db


@pytest.fixture
def sqlite_database(tmp_path: Path) -> db.Database:
    return db.Database(make_url(f"sqlite:///{tmp_path / 'refuge.sqlite3'}"))


def test_sqlite_runs_in_wal_mode_with_foreign_keys_secure_delete_and_a_memory_map(
    sqlite_database: db.Database,
) -> None:
    with sqlite_database.engine.connect() as connection:
        assert connection.execute(text("PRAGMA journal_mode")).scalar() == "wal"
        assert connection.execute(text("PRAGMA foreign_keys")).scalar() == 1
        assert connection.execute(text("PRAGMA secure_delete")).scalar() == 1
        assert connection.execute(text("PRAGMA mmap_size")).scalar() == db.SQLITE_MMAP_BYTES


def test_the_sqlite_file_is_readable_by_its_owner_only(
    sqlite_database: db.Database, tmp_path: Path
) -> None:
    sqlite_database.ping()
    mode = stat.S_IMODE((tmp_path / "refuge.sqlite3").stat().st_mode)
    assert mode == 0o600


def test_postgresql_connections_are_checked_before_use() -> None:
    engine = db.make_engine(make_url("postgresql+psycopg://refuge@127.0.0.1:1/refuge"))
    assert engine.pool._pre_ping  # type: ignore[attr-defined]


def test_constraints_get_stable_names_from_the_convention() -> None:
    metadata = db.Base.metadata
    table = Table(
        "naming_probe",
        metadata,
        Column("id", Integer, primary_key=True),
        Column("code", String(8), unique=True),
    )
    try:
        names = {constraint.name for constraint in table.constraints}
        assert "pk_naming_probe" in names
        assert "uq_naming_probe_code" in names
    finally:
        metadata.remove(table)


def test_a_command_session_rolls_back_everything_on_error(database_url: str) -> None:
    database = db.Database(make_url(database_url))
    with database.engine.begin() as connection:
        connection.execute(text("CREATE TABLE probe (id INTEGER PRIMARY KEY)"))

    def interrupted_write() -> None:
        with database.session() as session:
            session.execute(text("INSERT INTO probe (id) VALUES (1)"))
            raise RuntimeError("interrupted half-way")

    with pytest.raises(RuntimeError):
        interrupted_write()
    with database.session() as session:
        assert session.execute(select(text("count(*)")).select_from(text("probe"))).scalar() == 0
    database.dispose()


def test_a_request_session_discards_what_the_view_did_not_commit(app: Flask) -> None:
    database = db.get_database(app)
    with database.engine.begin() as connection:
        connection.execute(text("CREATE TABLE probe (id INTEGER PRIMARY KEY)"))

    @app.get("/write-without-commit")
    def write() -> str:
        db.request_session().execute(text("INSERT INTO probe (id) VALUES (1)"))
        return "done"

    assert app.test_client().get("/write-without-commit").status_code == 200
    with database.session() as session:
        assert session.execute(text("SELECT count(*) FROM probe")).scalar() == 0
