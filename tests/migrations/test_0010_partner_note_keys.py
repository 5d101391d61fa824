"""Migration 0010 remembers each NGO's current note key, so later rotations hide none of its
notes; going back drops the history and keeps the partners."""

from __future__ import annotations

import uuid

import pytest
from sqlalchemy.exc import IntegrityError

from server import vault
from tests.migrations.conftest import Steps

REVISION = "0010"
KEYED, KEYLESS = uuid.uuid4(), uuid.uuid4()
PARTNER_ROW = (
    "INSERT INTO checkin_partners (id, region_slug, name, note_key) "
    "VALUES (:partner, :region, 'Aid', :note_key)"
)
KEY_ROW = (
    "INSERT INTO checkin_partner_keys (id, partner_id, fingerprint) "
    "VALUES (:key, :partner, :fingerprint)"
)


def _partners(steps: Steps, public: bytes) -> None:
    steps.run(PARTNER_ROW, partner=steps.uuid(KEYED), region="kharkiv", note_key=public)
    steps.run(PARTNER_ROW, partner=steps.uuid(KEYLESS), region="odesa", note_key=None)


def test_each_partner_with_a_note_key_starts_with_it_remembered(steps: Steps) -> None:
    _private, public = vault.new_note_keypair()
    _partners(steps, public)
    steps.upgrade()
    rows = steps.rows("SELECT partner_id, fingerprint, added_on FROM checkin_partner_keys")
    assert [(row.fingerprint, row.added_on is not None) for row in rows] == [
        (vault.key_fingerprint(public), True)
    ]
    assert str(rows[0].partner_id).replace("-", "") == KEYED.hex
    with pytest.raises(IntegrityError):  # one row per partner and key
        steps.run(
            KEY_ROW,
            key=steps.uuid(uuid.uuid4()),
            partner=steps.uuid(KEYED),
            fingerprint=vault.key_fingerprint(public),
        )
    steps.run("DELETE FROM checkin_partners")  # the history goes with its partner
    assert steps.rows("SELECT id FROM checkin_partner_keys") == []


def test_going_back_drops_the_history_and_keeps_the_partners(steps: Steps) -> None:
    _private, public = vault.new_note_keypair()
    _partners(steps, public)
    steps.upgrade()
    steps.downgrade()
    assert "checkin_partner_keys" not in steps.tables()
    assert len(steps.rows("SELECT id FROM checkin_partners")) == 2
    steps.upgrade()
