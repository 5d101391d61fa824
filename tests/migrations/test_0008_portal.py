"""Migration 0008 adds portal accounts and the audit log, and takes them away with their rows."""

from __future__ import annotations

import uuid

import pytest
from sqlalchemy.exc import IntegrityError

from tests.migrations.conftest import Steps

REVISION = "0008"
PARTNER, USER, EVENT = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
PARTNER_ROW = (
    "INSERT INTO checkin_partners (id, region_slug, name) VALUES (:partner, 'kharkiv', 'Aid')"
)
USER_ROW = (
    "INSERT INTO portal_users (id, username, password_hash, totp_secret, organisation_id) "
    "VALUES (:user, 'olena', '$argon2id$x', :blob, :partner)"
)
EVENT_ROW = (
    "INSERT INTO audit_events (id, seq, at, action, detail, digest) "
    "VALUES (:event, 1, :at, 'user_created', '{}', :digest)"
)


def _values(steps: Steps) -> dict[str, object]:
    return {
        "partner": steps.uuid(PARTNER),
        "user": steps.uuid(USER),
        "event": steps.uuid(EVENT),
        "blob": b"\x01sealed",
        "at": "2026-11-28 10:00:00+00:00",
        "digest": "0" * 64,
    }


def test_partners_stay_and_a_new_account_starts_unlocked(steps: Steps) -> None:
    values = _values(steps)
    steps.run(PARTNER_ROW, **values)
    steps.upgrade()
    steps.run(USER_ROW, EVENT_ROW, **values)
    [user] = steps.rows("SELECT failed_logins, session_epoch, role, created_on FROM portal_users")
    assert (user.failed_logins, user.session_epoch, user.role) == (0, 0, "partner")
    assert user.created_on is not None
    with pytest.raises(IntegrityError):  # one link of the audit chain per sequence number
        steps.run(EVENT_ROW, **{**values, "event": steps.uuid(uuid.uuid4())})
    steps.run("DELETE FROM checkin_partners")  # an account goes with its organisation
    assert steps.rows("SELECT id FROM portal_users") == []


def test_portal_tables_go_with_their_rows_and_partners_stay(steps: Steps) -> None:
    values = _values(steps)
    steps.run(PARTNER_ROW, **values)
    steps.upgrade()
    steps.run(USER_ROW, EVENT_ROW, **values)
    steps.downgrade()
    assert {"portal_users", "audit_events"} & steps.tables() == set()
    assert [row.name for row in steps.rows("SELECT name FROM checkin_partners")] == ["Aid"]
    steps.upgrade()
