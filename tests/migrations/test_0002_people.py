"""Migration 0002: subscribers, their trusted contacts and sealed notes, with their rules."""

from __future__ import annotations

import uuid
from datetime import date

import pytest
from sqlalchemy import Date
from sqlalchemy.exc import IntegrityError

from tests.migrations.conftest import Steps

REVISION = "0002"
PERSON, CONTACT, NOTE = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
SUBSCRIBER = (
    "INSERT INTO subscribers (id, phone_index, phone, wrapped_data_key, data_key_id) "
    "VALUES (:person, :index, :sealed, :key, 'k1')"
)
CONTACT_ROW = (
    "INSERT INTO trusted_contacts (id, subscriber_id, phone_index, phone, name) "
    "VALUES (:contact, :person, :contact_index, :sealed, :sealed)"
)
NOTE_ROW = (
    "INSERT INTO sealed_notes (id, subscriber_id, recipient, sealed) "
    "VALUES (:note, :person, 'ngo-kharkiv', :sealed)"
)


def _values(steps: Steps) -> dict[str, object]:
    # Blind indexes and ciphertexts are opaque bytes to the schema: none is a real number.
    return {
        "person": steps.uuid(PERSON),
        "contact": steps.uuid(CONTACT),
        "note": steps.uuid(NOTE),
        "index": b"\x11" * 32,
        "contact_index": b"\x22" * 32,
        "sealed": b"\x01sealed-bytes",
        "key": b"\x02wrapped-key",
    }


def test_a_new_subscriber_gets_the_defaults_a_first_message_needs(steps: Steps) -> None:
    steps.upgrade()
    steps.run(SUBSCRIBER, CONTACT_ROW, NOTE_ROW, **_values(steps))
    [person] = steps.rows(
        "SELECT locale, channel, opted_out, state, created_on, last_seen_on, phone "
        "FROM subscribers",
        {"created_on": Date(), "last_seen_on": Date()},
    )
    assert (person.locale, person.channel, person.state) == ("en", "sms", None)
    assert not person.opted_out
    assert bytes(person.phone) == b"\x01sealed-bytes"
    assert person.created_on == person.last_seen_on
    assert abs((person.created_on - date.today()).days) <= 1  # the database's own today
    [contact] = steps.rows("SELECT consent FROM trusted_contacts")
    assert contact.consent == "pending"


def test_one_subscriber_per_number_and_one_contact_per_number_each(steps: Steps) -> None:
    steps.upgrade()
    values = _values(steps)
    steps.run(SUBSCRIBER, CONTACT_ROW, **values)
    with pytest.raises(IntegrityError):
        steps.run(SUBSCRIBER, **{**values, "person": steps.uuid(uuid.uuid4())})
    with pytest.raises(IntegrityError):
        steps.run(CONTACT_ROW, **{**values, "contact": steps.uuid(uuid.uuid4())})
    # The indexes the look-ups use are there.
    assert "ix_trusted_contacts_phone_index" in steps.indexes("trusted_contacts")
    assert "ix_subscribers_last_seen_on" in steps.indexes("subscribers")


def test_removing_a_subscriber_removes_their_contacts_and_notes(steps: Steps) -> None:
    steps.upgrade()
    steps.run(SUBSCRIBER, CONTACT_ROW, NOTE_ROW, **_values(steps))
    steps.run("DELETE FROM subscribers")
    assert steps.rows("SELECT id FROM trusted_contacts") == []
    assert steps.rows("SELECT id FROM sealed_notes") == []


def test_the_downgrade_takes_the_people_tables_with_their_rows(steps: Steps) -> None:
    steps.upgrade()
    steps.run(SUBSCRIBER, CONTACT_ROW, NOTE_ROW, **_values(steps))
    steps.downgrade()
    assert steps.tables() == set()
    steps.upgrade()  # and it can come back on the same database
    assert steps.rows("SELECT id FROM subscribers") == []
