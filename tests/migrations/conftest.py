"""A database one migration away, for the tests of that migration with data in its tables.

Each module here tests one revision of `migrations/versions/` and says which in `REVISION`.
Its `steps` fixture is an empty database (SQLite or PostgreSQL) migrated to the revision
before; the test loads rows with plain SQL, upgrades, checks what the migration did to them,
then loads what it needs, downgrades and checks what survived (SecureDrop's
`load_data`/`check_upgrade`/`check_downgrade`, one behaviour per test).
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

import pytest
from alembic.script import ScriptDirectory
from sqlalchemy import Engine, Row, inspect, text
from sqlalchemy.engine import make_url
from sqlalchemy.types import TypeEngine

from server import db, schema


def script() -> ScriptDirectory:
    """Refuge's migrations."""
    return ScriptDirectory.from_config(schema.alembic_config())


@dataclass
class Steps:
    """A database migrated to `before`, with the one step to `revision` and back."""

    engine: Engine
    revision: str
    before: str

    @property
    def dialect(self) -> str:
        """'sqlite' or 'postgresql'."""
        return self.engine.dialect.name

    def upgrade(self) -> None:
        """Apply the migration under test."""
        schema.upgrade(self.engine, self.revision)
        assert schema.current_revision(self.engine) == self.revision

    def downgrade(self) -> None:
        """Revert the migration under test."""
        schema.downgrade(self.engine, self.before)
        expected = None if self.before == "base" else self.before
        assert schema.current_revision(self.engine) == expected

    def uuid(self, value: uuid.UUID) -> str:
        """A UUID as a plain SQL parameter: 32 hex digits on SQLite, dashed on PostgreSQL."""
        return value.hex if self.dialect == "sqlite" else str(value)

    def run(self, *statements: str, **params: Any) -> None:
        """Execute statements in one transaction, each with the same parameters."""
        with self.engine.begin() as connection:
            for statement in statements:
                connection.execute(text(statement), params)

    def rows(
        self, query: str, types: Mapping[str, TypeEngine[Any]] | None = None, **params: Any
    ) -> list[Row[Any]]:
        """The rows a query returns; `types` turns raw columns (SQLite's text dates) into values."""
        statement = text(query)
        if types:
            statement = statement.columns(**types)  # type: ignore[assignment]
        with self.engine.connect() as connection:
            return list(connection.execute(statement, params))

    def tables(self) -> set[str]:
        """Every table but Alembic's own."""
        return set(inspect(self.engine).get_table_names()) - {"alembic_version"}

    def columns(self, table: str) -> set[str]:
        """The names of a table's columns."""
        return {column["name"] for column in inspect(self.engine).get_columns(table)}

    def indexes(self, table: str) -> set[str]:
        """The names of a table's indexes."""
        return {str(index["name"]) for index in inspect(self.engine).get_indexes(table)}


def add_subscriber(steps: Steps, person: uuid.UUID, index: int = 1, **columns: object) -> None:
    """A subscriber row as 0002 made it: blind index and ciphertexts are opaque bytes."""
    names = ", ".join(("id", "phone_index", "phone", "wrapped_data_key", "data_key_id", *columns))
    marks = ", ".join(f":{name}" for name in ("id", "index", "phone", "key", "key_id", *columns))
    steps.run(
        f"INSERT INTO subscribers ({names}) VALUES ({marks})",
        id=steps.uuid(person),
        index=bytes([index]) * 32,
        phone=b"\x01sealed-phone-" + bytes([index]),
        key=b"\x02wrapped-key",
        key_id="k1",
        **columns,
    )


@pytest.fixture
def steps(request: pytest.FixtureRequest, database_url: str) -> Iterator[Steps]:
    """An empty database migrated to the revision before the module's `REVISION`."""
    revision: str = request.module.REVISION
    before = script().get_revision(revision).down_revision
    assert before is None or isinstance(before, str), "one parent per revision"
    database = db.Database(make_url(database_url))
    try:
        if before is not None:
            schema.upgrade(database.engine, before)
        yield Steps(database.engine, revision, before or "base")
    finally:
        database.dispose()
