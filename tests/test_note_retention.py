"""Sealed notes leave the server REFUGE_NOTE_RETENTION_DAYS after a caseworker handled them,
or after they were written while nobody has: the worker's upkeep and `refuge purge` both."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import date, timedelta

import pytest
from flask import Flask
from sqlalchemy import select

from server import db, people, upkeep, vault
from server.checkins import notes
from server.config import ConfigError, Settings, app_settings
from server.delivery.channels import ConsoleChannel
from server.models.checkins import SealedNote
from server.models.people import Subscriber
from server.phones import normalize_phone
from tests.test_cli_vault import invoke

TODAY = date(2026, 12, 7)


def _notes(app: Flask, *days: tuple[date, date | None]) -> list[uuid.UUID]:
    """Notes written on the first day of each pair and handled on the second (or never)."""
    _private, public = vault.new_note_keypair()
    made = []
    with db.get_database(app).session() as session:
        known = len(session.scalars(select(Subscriber.id)).all())
        number = normalize_phone(f"+44 7700 9008{31 + known:02d}")
        person = people.register_subscriber(session, number)
        for created_on, handled_on in days:
            note = people.leave_note(session, person, public, "Room 12, after dark.")
            note.created_on, note.handled_on = created_on, handled_on
            made.append(note.id)
    return made


def _left(app: Flask) -> set[uuid.UUID]:
    with db.get_database(app).session() as session:
        return set(session.scalars(select(SealedNote.id)))


def test_the_default_keeps_a_note_ninety_days(make_settings: Callable[..., Settings]) -> None:
    assert make_settings().retention.note_days == 90
    assert make_settings(REFUGE_NOTE_RETENTION_DAYS="30").retention.note_days == 30
    with pytest.raises(ConfigError, match="REFUGE_NOTE_RETENTION_DAYS='soon' must"):
        make_settings(REFUGE_NOTE_RETENTION_DAYS="soon")
    with pytest.raises(ConfigError, match="between 1 and"):
        make_settings(REFUGE_NOTE_RETENTION_DAYS="0")


def test_handled_notes_go_after_retention_from_handling_unhandled_from_writing(
    app: Flask,
) -> None:
    days = app_settings(app).retention.note_days
    long_ago = TODAY - timedelta(days=days + 30)
    (
        handled_long_ago,
        handled_lately,
        unhandled_old,
        unhandled_last_day,
        fresh,
    ) = _notes(
        app,
        (long_ago, TODAY - timedelta(days=days + 1)),  # handled a day past retention: goes
        (long_ago, TODAY - timedelta(days=10)),  # written long ago, handled lately: stays
        (TODAY - timedelta(days=days + 1), None),  # never handled, past retention: goes
        (TODAY - timedelta(days=days), None),  # its last day is today: stays
        (TODAY, None),
    )
    with db.get_database(app).session() as session:
        assert upkeep.purge_notes(session, app_settings(app), TODAY) == 2
    assert _left(app) == {handled_lately, unhandled_last_day, fresh}
    assert _left(app).isdisjoint({handled_long_ago, unhandled_old})


def test_the_portal_date_is_the_last_day_kept(app: Flask) -> None:
    days = app_settings(app).retention.note_days
    handled_on = TODAY - timedelta(days=5)
    handled, unhandled = _notes(app, (TODAY - timedelta(days=50), handled_on), (TODAY, None))
    with db.get_database(app).session() as session:
        kept = {}
        for note_id in (handled, unhandled):
            note = session.get(SealedNote, note_id)
            assert note is not None
            kept[note_id] = notes.kept_until(note.created_on, note.handled_on, days)
        assert kept == {
            handled: handled_on + timedelta(days=days),
            unhandled: TODAY + timedelta(days=days),
        }
        assert notes.purge(session, days, kept[handled]) == 0  # kept through that day
        assert notes.purge(session, days, kept[handled] + timedelta(days=1)) == 1
    assert _left(app) == {unhandled}


def test_the_worker_and_refuge_purge_both_purge_notes(app: Flask) -> None:
    days = app_settings(app).retention.note_days
    today = date.today()
    (old,) = _notes(app, (today - timedelta(days=days + 1), None))
    sender = upkeep.worker(db.get_database(app), app_settings(app), ConsoleChannel())
    sender.run_once()
    assert old not in _left(app)
    _notes(app, (today - timedelta(days=days + 1), None))
    result = invoke(app, "purge")
    assert result.exit_code == 0
    assert "sealed_notes: 1 deleted" in result.output
    assert _left(app) == set()
