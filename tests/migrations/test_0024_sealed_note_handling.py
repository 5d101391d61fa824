"""Migration 0024 lets notes be marked downloaded and handled: existing notes are neither (so
their retention runs from the day they were written); going back keeps the notes."""

from __future__ import annotations

import uuid

from sqlalchemy import Date

from tests.migrations.conftest import Steps, add_subscriber

REVISION = "0024"
PERSON, NOTE = uuid.uuid4(), uuid.uuid4()
NOTE_ROW = (
    "INSERT INTO sealed_notes (id, subscriber_id, recipient, sealed, created_on) "
    "VALUES (:note, :person, 'ngo-kharkiv', :sealed, '2026-11-20')"
)


def _a_note(steps: Steps) -> None:
    add_subscriber(steps, PERSON)
    steps.run(NOTE_ROW, note=steps.uuid(NOTE), person=steps.uuid(PERSON), sealed=b"\x03sealed-note")


def test_existing_notes_are_neither_downloaded_nor_handled(steps: Steps) -> None:
    _a_note(steps)
    steps.upgrade()
    (row,) = steps.rows("SELECT downloaded_on, handled_on, sealed FROM sealed_notes")
    assert (row.downloaded_on, row.handled_on, bytes(row.sealed)) == (
        None,
        None,
        b"\x03sealed-note",
    )
    steps.run("UPDATE sealed_notes SET handled_on = '2026-12-01'")
    (handled,) = steps.rows("SELECT handled_on FROM sealed_notes", {"handled_on": Date()})
    assert handled.handled_on.isoformat() == "2026-12-01"


def test_going_back_drops_the_marks_and_keeps_the_notes(steps: Steps) -> None:
    _a_note(steps)
    steps.upgrade()
    steps.run("UPDATE sealed_notes SET downloaded_on = '2026-11-21', handled_on = '2026-12-01'")
    steps.downgrade()
    assert {"downloaded_on", "handled_on"}.isdisjoint(steps.columns("sealed_notes"))
    assert len(steps.rows("SELECT id FROM sealed_notes")) == 1
    steps.upgrade()
