"""The outbox: one row per cause, sealed bodies, references instead of numbers."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from flask import Flask
from sqlalchemy import func, select

from server import db, people
from server.delivery import admission, outbox
from server.models.messaging import Outbox, OutboxKind, OutboxStatus
from server.phones import normalize_phone

ALICE = normalize_phone("+44 7700 900123")
CAROL = normalize_phone("+44 7700 900789")
WHATSAPP_BOB = normalize_phone("whatsapp:+1 202 555 0142")
NOW = datetime(2026, 11, 28, 12, 0, tzinfo=UTC)


@pytest.fixture
def database(app: Flask) -> db.Database:
    return db.get_database(app)


def outgoing(subscriber, cause: str = "alert:1", **changes) -> outbox.Outgoing:  # type: ignore[no-untyped-def]
    fields = {
        "subscriber": subscriber,
        "body": "Please call Amina.",
        "kind": OutboxKind.ALERT,
        "cause": cause,
        "not_before": NOW,
        "expires_at": NOW + timedelta(hours=2),
    }
    fields.update(changes)
    return outbox.Outgoing(**fields)


def test_a_cause_is_queued_once_however_often_it_is_decided(database: db.Database) -> None:
    with database.session() as session:
        alice = people.register_subscriber(session, ALICE)
        assert outbox.enqueue(session, outgoing(alice))
        assert not outbox.enqueue(session, outgoing(alice, body="a second decision"))
    with database.session() as session:
        alice = people.find_subscriber(session, ALICE)
        assert not outbox.enqueue(session, outgoing(alice))
        assert outbox.enqueue(session, outgoing(alice, cause="alert:2"))
    with database.session() as session:
        assert session.scalar(select(func.count()).select_from(Outbox)) == 2
        first = outbox.queued(session, "alert:1")
        assert first is not None
        assert first.body == "Please call Amina."
        assert first.status is OutboxStatus.PENDING
        assert first.priority < outbox.PRIORITY[OutboxKind.REMINDER]


def test_the_row_names_no_number_and_holds_no_readable_text(database: db.Database) -> None:
    with database.session() as session:
        alice = people.register_subscriber(session, ALICE)
        carol = people.add_trusted_contact(session, alice, CAROL, "Carol")
        outbox.enqueue(session, outgoing(alice, contact=carol, body="Amina missed a check-in"))
    with database.engine.connect() as connection:
        raw = repr(connection.exec_driver_sql("SELECT * FROM outbox").all())
    for secret in ("7700", "900789", "Amina", "Carol", "check-in"):
        assert secret not in raw


def test_a_whatsapp_person_is_paced_by_the_whatsapp_sender(database: db.Database) -> None:
    with database.session() as session:
        bob = people.register_subscriber(session, WHATSAPP_BOB)
        carol = people.add_trusted_contact(session, bob, CAROL, "Carol")
        outbox.enqueue(session, outgoing(bob, cause="for-bob", kind=OutboxKind.REMINDER))
        outbox.enqueue(session, outgoing(bob, cause="for-carol", contact=carol))
    with database.session() as session:
        assert outbox.queued(session, "for-bob").sender == outbox.WHATSAPP_SENDER  # type: ignore[union-attr]
        assert outbox.queued(session, "for-carol").sender == outbox.SMS_SENDER  # type: ignore[union-attr]


def test_erasing_the_person_erases_their_queued_messages(database: db.Database) -> None:
    with database.session() as session:
        alice = people.register_subscriber(session, ALICE)
        carol = people.add_trusted_contact(session, alice, CAROL, "Carol")
        outbox.enqueue(session, outgoing(alice, contact=carol))
        outbox.enqueue(session, outgoing(alice, cause="reminder", kind=OutboxKind.REMINDER))
    with database.session() as session:
        people.delete_subscriber(session, people.find_subscriber(session, ALICE))  # type: ignore[arg-type]
    with database.session() as session:
        assert session.scalar(select(func.count()).select_from(Outbox)) == 0


def test_nonsense_is_refused_before_anything_is_written(database: db.Database) -> None:
    with database.session() as session:
        alice = people.register_subscriber(session, ALICE)
        with pytest.raises(ValueError, match="expire after"):
            outbox.enqueue(session, outgoing(alice, expires_at=NOW))
        with pytest.raises(outbox.CauseTooLong):
            outbox.enqueue(session, outgoing(alice, cause="x" * 500))
        assert session.scalar(select(func.count()).select_from(Outbox)) == 0


def test_the_allow_list_knows_countries_by_number() -> None:
    allowed = frozenset({"GB"})
    assert admission.destination_allowed(allowed, ALICE.e164)
    assert not admission.destination_allowed(allowed, "+12025550142")
    assert not admission.destination_allowed(allowed, "+999")
