"""Migration 0015: erasing a person keeps their receipts (for their digests); going back
restores the cascade."""

from __future__ import annotations

import uuid

from tests.migrations.conftest import Steps, add_subscriber

REVISION = "0015"
PERSON = uuid.uuid4()
RECEIPT_ROW = (
    "INSERT INTO inbound_receipts (id, digest, subscriber_id, reply) "
    "VALUES (:receipt, :digest, :person, :reply)"
)


def _receipt(steps: Steps, digest: bytes) -> None:
    steps.run(
        RECEIPT_ROW,
        receipt=steps.uuid(uuid.uuid4()),
        digest=digest,
        person=steps.uuid(PERSON),
        reply=b"\x01sealed-reply",
    )


def test_a_receipt_outlives_its_sender_without_naming_them(steps: Steps) -> None:
    add_subscriber(steps, PERSON)
    _receipt(steps, b"\x51" * 32)
    steps.upgrade()
    assert len(steps.rows("SELECT id FROM inbound_receipts")) == 1  # kept as it was
    steps.run("DELETE FROM subscribers WHERE id = :person", person=steps.uuid(PERSON))
    [row] = steps.rows("SELECT digest, subscriber_id FROM inbound_receipts")
    assert (bytes(row.digest), row.subscriber_id) == (b"\x51" * 32, None)


def test_going_back_makes_receipts_go_with_their_sender_again(steps: Steps) -> None:
    add_subscriber(steps, PERSON)
    steps.upgrade()
    _receipt(steps, b"\x52" * 32)
    steps.downgrade()
    assert len(steps.rows("SELECT id FROM inbound_receipts")) == 1
    steps.run("DELETE FROM subscribers WHERE id = :person", person=steps.uuid(PERSON))
    assert steps.rows("SELECT id FROM inbound_receipts") == []
    steps.upgrade()
