"""Migration 0023: accounts keep their lock and gain an empty known-browser half and epoch;
invitations come and go with the migration, and going back keeps every account."""

from __future__ import annotations

import uuid

from tests.migrations.conftest import Steps

REVISION = "0023"
USER, INVITE = uuid.uuid4(), uuid.uuid4()
USER_ROW = (
    "INSERT INTO portal_users (id, username, password_hash, totp_secret, role, regions, "
    "locales, failed_logins) "
    "VALUES (:user, 'olena', '$argon2id$x', :blob, 'editor', '[\"kharkiv\"]', '[]', 3)"
)
INVITE_ROW = (
    "INSERT INTO portal_invites (id, user_id, token_digest, expires_at) "
    "VALUES (:invite, :user, :digest, '2030-01-01 00:00:00')"
)


def _values(steps: Steps) -> dict[str, object]:
    return {
        "user": steps.uuid(USER),
        "invite": steps.uuid(INVITE),
        "blob": b"\x01sealed",
        "digest": b"\x02" * 32,
    }


def test_accounts_keep_their_failures_and_start_with_no_known_browser_lock(steps: Steps) -> None:
    steps.run(USER_ROW, **_values(steps))
    steps.upgrade()
    [row] = steps.rows(
        "SELECT failed_logins, known_failed_logins, known_locked_until, device_epoch "
        "FROM portal_users"
    )
    assert tuple(row) == (3, 0, None, 0)
    steps.run(INVITE_ROW, **_values(steps))
    assert len(steps.rows("SELECT id FROM portal_invites")) == 1


def test_going_back_drops_invitations_and_keeps_the_accounts(steps: Steps) -> None:
    values = _values(steps)
    steps.run(USER_ROW, **values)
    steps.upgrade()
    steps.run(INVITE_ROW, **values)
    steps.downgrade()
    assert "portal_invites" not in steps.tables()
    assert "device_epoch" not in steps.columns("portal_users")
    assert [row.username for row in steps.rows("SELECT username FROM portal_users")] == ["olena"]
    steps.upgrade()
