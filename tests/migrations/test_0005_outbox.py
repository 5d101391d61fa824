"""Migration 0005: the outbox, sender pacing, outbound counts and provider deletions."""

from __future__ import annotations

import uuid

import pytest
from sqlalchemy.exc import IntegrityError

from tests.migrations.conftest import Steps, add_subscriber

REVISION = "0005"
PERSON, CONTACT = uuid.uuid4(), uuid.uuid4()
CONTACT_ROW = (
    "INSERT INTO trusted_contacts (id, subscriber_id, phone_index, phone) "
    "VALUES (:contact, :person, :index, :sealed)"
)
MESSAGE = (
    "INSERT INTO outbox (id, subscriber_id, contact_id, kind, priority, dedupe_key, body, "
    "not_before, expires_at, next_attempt_at, sender) VALUES (:id, :person, :contact, :kind, "
    ":priority, :key, :sealed, :at, '2026-11-28 14:00:00+00:00', :at, 'sms')"
)
AT = "2026-11-28 12:00:00+00:00"


def _people(steps: Steps) -> dict[str, object]:
    add_subscriber(steps, PERSON, channel="whatsapp")
    values = {
        "person": steps.uuid(PERSON),
        "contact": steps.uuid(CONTACT),
        "index": b"\x55" * 32,
        "sealed": b"\x01sealed",
        "at": AT,
    }
    steps.run(CONTACT_ROW, **values)
    return values


def _message(steps: Steps, values: dict[str, object], key: str, **changes: object) -> None:
    row = {"id": steps.uuid(uuid.uuid4()), "kind": "reminder", "priority": 2, "key": key}
    steps.run(MESSAGE, **{**values, "contact": None, **row, **changes})


def test_people_stay_and_a_queued_message_starts_pending(steps: Steps) -> None:
    values = _people(steps)
    steps.upgrade()
    assert [row.channel for row in steps.rows("SELECT channel FROM subscribers")] == ["whatsapp"]
    _message(steps, values, "reminder:1")
    _message(steps, values, "alert:1", kind="alert", priority=0, contact=values["contact"])
    rows = steps.rows(
        "SELECT status, attempts, template, claim_id, provider_sid, sent_at FROM outbox "
        "ORDER BY priority"
    )
    assert [(row.status, row.attempts) for row in rows] == [("pending", 0), ("pending", 0)]
    for row in rows:
        assert not row.template
        assert (row.claim_id, row.provider_sid, row.sent_at) == (None, None, None)
    # The index the worker claims by: due messages of one sender, most urgent first.
    assert {"ix_outbox_due", "ix_outbox_expiry", "ix_outbox_cleanup"} <= steps.indexes("outbox")
    due = steps.rows(
        "SELECT kind FROM outbox WHERE status = 'pending' AND sender = 'sms' "
        "AND next_attempt_at <= :at ORDER BY priority, next_attempt_at",
        at=AT,
    )
    assert [row.kind for row in due] == ["alert", "reminder"]


def test_a_message_is_queued_once_and_goes_with_its_person(steps: Steps) -> None:
    values = _people(steps)
    steps.upgrade()
    _message(steps, values, "reminder:1")
    with pytest.raises(IntegrityError):
        _message(steps, values, "reminder:1")
    _message(steps, values, "alert:1", kind="alert", priority=0, contact=values["contact"])
    steps.run("DELETE FROM trusted_contacts")
    assert [row.dedupe_key for row in steps.rows("SELECT dedupe_key FROM outbox")] == ["reminder:1"]
    steps.run("DELETE FROM subscribers")
    assert steps.rows("SELECT id FROM outbox") == []


def test_counts_pacing_and_deletions_start_from_zero(steps: Steps) -> None:
    steps.upgrade()
    steps.run(
        "INSERT INTO outbound_counts (scope, subject, day) VALUES ('person', :digest, :day)",
        "INSERT INTO sender_pace (sender, next_slot_at) VALUES ('sms', :at)",
        "INSERT INTO provider_deletions (id, wrapped_data_key, provider_sid, due_at) "
        "VALUES (:id, :key, :sid, :at)",
        digest=b"\x66" * 32,
        day="2026-11-28",
        at=AT,
        id=steps.uuid(uuid.uuid4()),
        key=b"\x02wrapped-key",
        sid=b"\x01sealed-sid",
    )
    assert [row.count for row in steps.rows("SELECT count FROM outbound_counts")] == [0]
    assert [row.attempts for row in steps.rows("SELECT attempts FROM provider_deletions")] == [0]
    with pytest.raises(IntegrityError):
        steps.run(
            "INSERT INTO outbound_counts (scope, subject, day) VALUES ('person', :d, :day)",
            d=b"\x66" * 32,
            day="2026-11-28",
        )


def test_the_downgrade_drops_the_delivery_tables_and_keeps_the_people(steps: Steps) -> None:
    values = _people(steps)
    steps.upgrade()
    _message(steps, values, "alert:1", kind="alert", priority=0, contact=values["contact"])
    steps.downgrade()
    gone = {"outbox", "sender_pace", "outbound_counts", "provider_deletions"}
    assert gone & steps.tables() == set()
    assert len(steps.rows("SELECT id FROM subscribers")) == 1
    assert len(steps.rows("SELECT id FROM trusted_contacts")) == 1
