"""Migration 0014 names the index key version of every blind index: rows indexed before it
were indexed under the one key there was (i1); going back refuses to strand a moved row."""

from __future__ import annotations

import uuid

import pytest

from tests.migrations.conftest import Steps, add_subscriber

REVISION = "0014"
PERSON, OTHER = uuid.uuid4(), uuid.uuid4()
CONTACT_ROW = (
    "INSERT INTO trusted_contacts (id, subscriber_id, phone_index, phone) "
    "VALUES (:id, :person, :index, :phone)"
)


def _people(steps: Steps) -> None:
    add_subscriber(steps, PERSON, index=1)
    add_subscriber(steps, OTHER, index=2)
    steps.run(
        CONTACT_ROW,
        id=steps.uuid(uuid.uuid4()),
        person=steps.uuid(PERSON),
        index=bytes([2]) * 32,
        phone=b"\x01sealed-contact",
    )


def test_rows_indexed_before_are_under_the_first_version(steps: Steps) -> None:
    _people(steps)
    steps.upgrade()
    assert {row.phone_index_key for row in steps.rows("SELECT * FROM subscribers")} == {"i1"}
    assert [row.phone_index_key for row in steps.rows("SELECT * FROM trusted_contacts")] == ["i1"]
    assert "ix_subscribers_phone_index_key" in steps.indexes("subscribers")


def test_going_back_keeps_rows_under_i1_and_refuses_while_a_row_has_moved(
    steps: Steps,
) -> None:
    _people(steps)
    steps.upgrade()
    steps.run("UPDATE subscribers SET phone_index_key = 'i2'")
    with pytest.raises(RuntimeError, match="newer index key"):
        steps.downgrade()
    steps.run("UPDATE subscribers SET phone_index_key = 'i1'")
    steps.downgrade()
    assert "phone_index_key" not in steps.columns("subscribers")
    assert len(steps.rows("SELECT id FROM subscribers")) == 2
    # Nothing that points at a person went with the column (a copied-and-dropped table on
    # SQLite deletes, with cascades, every row that refers to it).
    assert len(steps.rows("SELECT id FROM trusted_contacts")) == 1
    steps.upgrade()
