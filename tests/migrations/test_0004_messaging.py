"""Migration 0004: tallies, inbound receipts, and reply budgets and a window on subscribers."""

from __future__ import annotations

import uuid

import pytest
from sqlalchemy.exc import IntegrityError

from tests.migrations.conftest import Steps, add_subscriber

REVISION = "0004"
PERSON, OTHER, RECEIPT = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
NEW_COLUMNS = {
    "whatsapp_window_until",
    "replies_hour",
    "replies_in_hour",
    "replies_day",
    "replies_in_day",
}
TRUSTED = (
    "INSERT INTO trusted_contacts (id, subscriber_id, phone_index, phone, consent) "
    "VALUES (:contact, :person, :index, :sealed, 'confirmed')"
)
RECEIPT_ROW = (
    "INSERT INTO inbound_receipts (id, digest, subscriber_id, reply) "
    "VALUES (:receipt, :digest, :person, :sealed)"
)


def _people(steps: Steps) -> dict[str, object]:
    add_subscriber(steps, PERSON, 1, locale="ar", region_slug="camp")
    add_subscriber(steps, OTHER, 2, opted_out=True)
    values = {
        "person": steps.uuid(PERSON),
        "contact": steps.uuid(uuid.uuid4()),
        "index": b"\x33" * 32,
        "sealed": b"\x01sealed",
    }
    steps.run(TRUSTED, **values)
    return values


def test_subscribers_keep_everything_and_start_with_empty_reply_budgets(steps: Steps) -> None:
    _people(steps)
    steps.upgrade()
    rows = steps.rows(
        "SELECT locale, region_slug, opted_out, whatsapp_window_until, replies_hour, "
        "replies_in_hour, replies_day, replies_in_day FROM subscribers ORDER BY phone_index"
    )
    assert [(row.locale, row.region_slug, bool(row.opted_out)) for row in rows] == [
        ("ar", "camp", False),
        ("en", None, True),
    ]
    for row in rows:
        assert (row.whatsapp_window_until, row.replies_hour, row.replies_day) == (None,) * 3
        assert (row.replies_in_hour, row.replies_in_day) == (0, 0)
    assert len(steps.rows("SELECT id FROM trusted_contacts WHERE consent = 'confirmed'")) == 1


def test_a_message_is_received_once_and_each_tally_counted_in_one_row(steps: Steps) -> None:
    values = _people(steps)
    steps.upgrade()
    receipt = {**values, "receipt": steps.uuid(RECEIPT), "digest": b"\x44" * 32}
    steps.run(RECEIPT_ROW, **receipt)
    [row] = steps.rows("SELECT outcome, locale, received_on FROM inbound_receipts")
    assert (row.outcome, row.locale) == ("answered", "en")
    assert row.received_on is not None
    with pytest.raises(IntegrityError):  # the same message twice: the digest is unique
        steps.run(RECEIPT_ROW, **{**receipt, "receipt": steps.uuid(uuid.uuid4())})
    tally = (
        "INSERT INTO tallies (kind, subject, region_slug, day) "
        "VALUES ('command', 'help', 'camp', '2026-11-28')"
    )
    steps.run(tally)
    assert [row.count for row in steps.rows("SELECT count FROM tallies")] == [0]
    with pytest.raises(IntegrityError):
        steps.run(tally)
    steps.run("DELETE FROM subscribers WHERE id = :person", person=values["person"])
    assert steps.rows("SELECT id FROM inbound_receipts") == []


def test_the_downgrade_keeps_subscribers_and_their_contacts(steps: Steps) -> None:
    _people(steps)
    steps.upgrade()
    steps.run(
        "UPDATE subscribers SET replies_in_hour = 3, replies_in_day = 5, "
        "replies_hour = '2026-11-28 10:00:00+00:00', replies_day = '2026-11-28'"
    )
    steps.downgrade()
    assert not NEW_COLUMNS & steps.columns("subscribers")
    assert {"tallies", "inbound_receipts"} & steps.tables() == set()
    rows = steps.rows("SELECT locale, phone FROM subscribers ORDER BY phone_index")
    assert [(row.locale, bytes(row.phone)) for row in rows] == [
        ("ar", b"\x01sealed-phone-\x01"),
        ("en", b"\x01sealed-phone-\x02"),
    ]
    # Dropping the columns copies the table on SQLite: the contacts must not go with it.
    assert len(steps.rows("SELECT id FROM trusted_contacts")) == 1
