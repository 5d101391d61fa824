"""A seized database yields no phone number, name, note or conversation, in any form.

Canary values go in through the real code paths; then the raw SQLite files and a PostgreSQL
`pg_dump` are searched for every written form of them: E.164, national format, digits only,
as UTF-8, UTF-16 and hex (the form bytea takes in a dump).
"""

from __future__ import annotations

import pytest
from flask import Flask

from server import db, people, vault
from server.phones import normalize_phone
from tests.seizure import seize

NUMBERS = {
    # raw input: the forms it must never appear in
    "+44 7700 900123": ["+447700900123", "447700900123", "07700900123", "07700 900123"],
    "whatsapp:+44 7700 900456": ["+447700900456", "447700900456", "07700900456"],
    "+1 (202) 555-0142": ["+12025550142", "12025550142", "2025550142", "(202) 555-0142"],
}
CONTACT = ("07700 900789", ["+447700900789", "447700900789", "07700900789"])
TEXTS = [
    "Daw Canary Khin",  # a trusted contact's name
    "canary: they are watching the north gate",  # a sealed note
    "canary-state: looking for a clinic",  # conversation state
]


def _forms(text: str) -> list[bytes]:
    encoded = [text.encode("utf-8"), text.encode("utf-16-le")]
    return encoded + [e.hex().encode("ascii") for e in encoded]


def _canaries() -> list[bytes]:
    written = [form for forms in NUMBERS.values() for form in forms] + CONTACT[1] + TEXTS
    return [blob for text in written for blob in _forms(text)]


def _plant(database: db.Database) -> None:
    _, ngo_public = vault.new_note_keypair()
    with database.session() as session:
        for raw in NUMBERS:
            subscriber = people.register_subscriber(session, normalize_phone(raw))
            people.save_state(subscriber, {"last": TEXTS[2]})
        first = people.find_subscriber(session, normalize_phone("+447700900123"))
        assert first is not None
        people.add_trusted_contact(session, first, normalize_phone(CONTACT[0], "GB"), TEXTS[0])
        people.leave_note(session, first, ngo_public, TEXTS[1])
    # The planted data is really there, and readable through the vault.
    with database.session() as session:
        found = people.find_subscriber(session, normalize_phone("+447700900123"))
        assert found is not None
        assert found.contacts[0].name == TEXTS[0]
        assert people.load_state(found) == {"last": TEXTS[2]}


def _assert_no_canary(dump: bytes, where: str) -> None:
    assert len(dump) > 0
    leaked = [canary for canary in _canaries() if canary in dump]
    assert leaked == [], f"{where} leaks {leaked}"


def test_a_seized_database_holds_no_canary(app: Flask) -> None:
    database = db.get_database(app)
    _plant(database)
    _assert_no_canary(seize(database), database.engine.url.get_backend_name())


def test_the_search_would_find_a_number_stored_in_plaintext(app: Flask) -> None:
    database = db.get_database(app)
    _plant(database)
    with database.session() as session:
        found = people.find_subscriber(session, normalize_phone("+447700900123"))
        assert found is not None
        found.region_slug = "07700900123"  # what a careless column would do
    with pytest.raises(AssertionError, match="leaks"):
        _assert_no_canary(seize(database), "a careless schema")
