"""The database: engine, sessions for requests, commands and the worker, and the model Base."""

from __future__ import annotations

import enum
import functools
import logging
import os
import sqlite3
import weakref
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from datetime import UTC, datetime
from typing import Any

from flask import Flask, current_app, g
from sqlalchemy import (
    DateTime,
    Dialect,
    Engine,
    Enum,
    MetaData,
    TypeDecorator,
    create_engine,
    event,
    text,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import URL
from sqlalchemy.orm import DeclarativeBase, Session, sessionmaker

from server.vault import Vault

# The vault's accessors, re-exported: sessions are where encrypted fields reach their keys.
from server.vault.fields import VaultUnavailable as VaultUnavailable
from server.vault.fields import vault_of as vault_of

#: Stable constraint names, so Alembic migrations name the same thing on every backend.
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

log = logging.getLogger(__name__)

EXTENSION = "refuge.db"
#: How much of an SQLite file is read through a memory map (the rest, if any, through reads).
SQLITE_MMAP_BYTES = 256 * 1024 * 1024


class UTCDateTime(TypeDecorator[datetime]):
    """A timestamp stored in UTC and always read back timezone-aware, on every backend."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("timestamps must be timezone-aware")
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


class HourlyDateTime(UTCDateTime):
    """A time of someone's activity, stored to the hour before it: the minute serves no one.

    For times that only need to be roughly right and may come early, never late (a window
    that closes, a retry that may come sooner); never for what the worker must do on time.
    """

    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        exact = super().process_bind_param(value, dialect)
        return None if exact is None else exact.replace(minute=0, second=0, microsecond=0)


def enum_column(kind: type[enum.Enum], length: int) -> Enum:
    """A portable enum column: the members' values stored as text, no native enum type."""
    return Enum(kind, native_enum=False, length=length, values_callable=_values)


def _values(kind: type[enum.Enum]) -> list[str]:
    return [str(member.value) for member in kind]


class Base(DeclarativeBase):
    """Base class of every Refuge model."""

    metadata = MetaData(naming_convention=NAMING_CONVENTION)


def make_engine(url: URL) -> Engine:
    """An engine tuned for the backend: SQLite hardened per connection, PostgreSQL pinged."""
    if url.get_backend_name() == "sqlite":
        _create_private_file(url.database)
        engine = create_engine(url, connect_args={"timeout": 15})
        event.listen(engine, "connect", _sqlite_pragmas)
        return engine
    return create_engine(url, pool_pre_ping=True, pool_size=5, max_overflow=10)


def create_sqlite_file(url: URL) -> None:
    """Make a new SQLite database's folder (0700) and file (0600): migrating a new instance does.

    Only `refuge db upgrade` and `refuge demo` call this; an app whose database folder is gone
    (an unmounted volume) reports it unreachable rather than starting an empty one.
    """
    if url.get_backend_name() != "sqlite" or not url.database or url.database == ":memory:":
        return
    with suppress(OSError):  # the connection attempt then reports the problem clearly
        os.makedirs(os.path.dirname(os.path.abspath(url.database)), mode=0o700, exist_ok=True)
    _create_private_file(url.database)


def _create_private_file(path: str | None) -> None:
    """Create the SQLite file readable by its owner only; its -wal and -shm files inherit this."""
    if not path or path == ":memory:" or path.startswith("file:"):
        return
    # When this fails, the connection attempt reports the problem with its own clear error.
    with suppress(OSError):
        os.close(os.open(path, os.O_RDWR | os.O_CREAT, 0o600))


def _sqlite_pragmas(dbapi_connection: sqlite3.Connection, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    try:
        # WAL lets readers run beside the one writer; foreign keys are off by default in
        # SQLite; secure_delete overwrites deleted rows so a copied file keeps less. Pages are
        # read through a memory map: a connection whose cache another process's write made
        # stale reads them again without copying (measured: about a tenth less CPU per SMS
        # with two gunicorn workers answering).
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA secure_delete=ON")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute(f"PRAGMA mmap_size={SQLITE_MMAP_BYTES}")
    finally:
        cursor.close()


#: Set in a session's info by an erasure; its commit is followed by `empty_write_ahead_log`.
ERASED = "refuge.erased"


def note_erasure(session: Session) -> None:
    """Mark this session as erasing someone: once it commits, nothing erased stays in a log."""
    session.info[ERASED] = True


def empty_write_ahead_log(engine: Engine) -> bool:
    """On SQLite, copy the write-ahead log into the database file and truncate it to nothing.

    A deleted row's old bytes stay in the `-wal` file until later writes overwrite them
    (hours or days on a quiet server); `secure_delete` only zeroes the database's own pages.
    A checkpoint in TRUNCATE mode writes the zeroed pages into the file and empties the log.
    False when readers kept it from finishing in the busy timeout. PostgreSQL keeps erased
    bytes in its own WAL and archives: what an operator does about them is in docs/deploy.md.
    """
    if engine.dialect.name != "sqlite":
        return True
    with engine.connect() as connection:
        busy = connection.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)").scalar()
    return busy == 0


def _after_commit(engine: weakref.ref[Engine], session: Session) -> None:
    bound = engine()
    if session.info.pop(ERASED, False) and bound is not None and not empty_write_ahead_log(bound):
        log.warning(
            "the write-ahead log still holds erased rows: readers kept the checkpoint "
            "from finishing; the next erasure tries again"
        )


class Database:
    """One engine and its session factory, shared by the web app, the CLI and the worker."""

    def __init__(self, url: URL, keys: Vault | None = None) -> None:
        self.engine = make_engine(url)
        self.vault = keys
        # Sessions carry the vault so that encrypted model fields can reach their keys.
        self.sessionmaker = sessionmaker(self.engine, expire_on_commit=False, info={"vault": keys})
        # An erasure holds only once the bytes it deleted are gone from the SQLite log too.
        # (A weak reference: the listener must not keep an engine, and its files, alive.)
        listener = functools.partial(_after_commit, weakref.ref(self.engine))
        event.listen(self.sessionmaker, "after_commit", listener)

    @contextmanager
    def session(self) -> Iterator[Session]:
        """A session for one command or job: committed on success, rolled back on error."""
        session = self.sessionmaker()
        try:
            yield session
            session.commit()
        except BaseException:
            session.rollback()
            raise
        finally:
            session.close()

    def ping(self) -> None:
        """Raise if the database does not answer a trivial query."""
        with self.engine.connect() as connection:
            connection.execute(text("SELECT 1"))

    def dispose(self) -> None:
        """Close every pooled connection."""
        self.engine.dispose()


def init_app(app: Flask, database: Database) -> None:
    """Attach the database to the app and close the request's session after each request."""
    app.extensions[EXTENSION] = database
    app.teardown_appcontext(_close_request_session)


def get_database(app: Flask | None = None) -> Database:
    """The Database attached to the app (the current one by default)."""
    database: Database = (app or current_app).extensions[EXTENSION]
    return database


def request_session() -> Session:
    """The session of the current request, opened on first use; the web layer's only door."""
    if "db_session" not in g:
        g.db_session = get_database().sessionmaker()
    session: Session = g.db_session
    return session


def _close_request_session(_exc: BaseException | None) -> None:
    session: Session | None = g.pop("db_session", None)
    if session is not None:
        # Whatever the view did not commit is discarded: no half-written record survives.
        session.rollback()
        session.close()


def insert_for(session: Session) -> Any:
    """The INSERT construct of the session's backend, for its ON CONFLICT clauses."""
    return postgresql.insert if session.get_bind().dialect.name == "postgresql" else sqlite.insert
