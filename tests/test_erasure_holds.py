"""An erasure holds on SQLite: the erased person's bytes are in neither the file nor its log.

The adversary is whoever copies the data directory after the person asked to be forgotten:
they read the raw files, not the rows SQLite still shows.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, timedelta
from pathlib import Path

import pytest
from flask import Flask
from sqlalchemy import text

import server.models  # noqa: F401 (every table in the metadata)
from server import db, people
from server.app import create_app
from server.config import Retention, load_config
from server.phones import normalize_phone
from tests.conftest import refuge_env
from tests.sms_helpers import Handset, handset_number

NUMBER = handset_number(61)
CONTACT = normalize_phone("+44 7700 900462")


@pytest.fixture
def sqlite_app(tmp_path: Path) -> Iterator[Flask]:
    """An app on an SQLite file of its own (whatever backends the rest of the suite runs)."""
    url = f"sqlite:///{tmp_path / 'refuge.sqlite3'}"
    application = create_app(load_config(refuge_env(tmp_path, REFUGE_DATABASE_URL=url)))
    db.Base.metadata.create_all(db.get_database(application).engine)
    yield application
    db.get_database(application).dispose()


def _database_files(app: Flask) -> bytes:
    """Every byte of the database file and of its write-ahead log, as a copier would get."""
    path = Path(str(db.get_database(app).engine.url.database))
    wal = path.with_name(path.name + "-wal")
    return path.read_bytes() + (wal.read_bytes() if wal.exists() else b"")


def _enrol(app: Flask, number: str, today: date | None = None) -> list[bytes]:
    """A person with a trusted contact and a conversation state: their secrets' raw bytes."""
    with db.get_database(app).session() as session:
        person = people.register_subscriber(session, normalize_phone(number), today=today)
        people.save_state(person, {"flow": "menu", "note": "a canary state"})
        contact = people.add_trusted_contact(session, person, CONTACT, name="Sister")
        session.flush()
        assert person.wrapped_data_key is not None
        assert person.state_ct is not None
        assert contact.name_ct is not None
        return [
            person.wrapped_data_key,
            person.phone_ct,
            person.state_ct,
            person.phone_index,
            contact.phone_ct,
            contact.name_ct,
        ]


def _still_there(app: Flask, secrets: list[bytes]) -> list[int]:
    raw = _database_files(app)
    return [position for position, secret in enumerate(secrets) if secret in raw]


def test_a_person_erased_by_text_leaves_no_key_or_ciphertext_in_the_file_or_its_log(
    sqlite_app: Flask,
) -> None:
    secrets = _enrol(sqlite_app, NUMBER)
    handset = Handset(sqlite_app, NUMBER)
    handset.ask("HELLO")  # traffic of their own, as a real person's would be
    assert _still_there(sqlite_app, secrets) == list(range(len(secrets)))  # the bytes are real
    handset.ask("DELETE YES")
    assert _still_there(sqlite_app, secrets) == []


def test_a_person_purged_for_inactivity_leaves_nothing_in_the_file_or_its_log(
    sqlite_app: Flask,
) -> None:
    long_ago = date.today() - timedelta(days=400)
    secrets = _enrol(sqlite_app, NUMBER, today=long_ago)
    with db.get_database(sqlite_app).session() as session:
        report = people.purge(session, Retention(inactive_subscriber_days=180))
    assert report.inactive_subscribers == 1
    assert _still_there(sqlite_app, secrets) == []


def test_every_sqlite_connection_overwrites_what_it_deletes(sqlite_app: Flask) -> None:
    engine = db.get_database(sqlite_app).engine
    connections = [engine.connect() for _ in range(3)]  # each a new connection from the pool
    try:
        for connection in connections:
            assert connection.execute(text("PRAGMA secure_delete")).scalar() == 1
            assert connection.execute(text("PRAGMA journal_mode")).scalar() == "wal"
    finally:
        for connection in connections:
            connection.close()
