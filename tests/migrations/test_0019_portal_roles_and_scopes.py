"""Migration 0019: partners become caseworkers with an empty scope and stay enabled; an account
may then belong to no NGO; going back refuses while such an account exists, and otherwise
turns caseworkers back into partners."""

from __future__ import annotations

import json
import uuid

import pytest

from tests.migrations.conftest import Steps

REVISION = "0019"
PARTNER, USER, ADMIN = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
PARTNER_ROW = (
    "INSERT INTO checkin_partners (id, region_slug, name) VALUES (:partner, 'kharkiv', 'Aid')"
)
USER_ROW = (
    "INSERT INTO portal_users (id, username, password_hash, totp_secret, organisation_id, role) "
    "VALUES (:user, 'olena', '$argon2id$x', :blob, :partner, 'partner')"
)
NO_NGO_ROW = (
    "INSERT INTO portal_users (id, username, password_hash, totp_secret, role, regions, locales) "
    "VALUES (:admin, 'root', '$argon2id$x', :blob, 'editor', '[\"kharkiv\"]', '[]')"
)


def _values(steps: Steps) -> dict[str, object]:
    return {
        "partner": steps.uuid(PARTNER),
        "user": steps.uuid(USER),
        "admin": steps.uuid(ADMIN),
        "blob": b"\x01sealed",
    }


def _scope(raw: object) -> object:
    return json.loads(raw) if isinstance(raw, str) else raw


def test_partners_become_caseworkers_with_an_empty_scope(steps: Steps) -> None:
    values = _values(steps)
    steps.run(PARTNER_ROW, USER_ROW, **values)
    steps.upgrade()
    [user] = steps.rows("SELECT role, regions, locales, disabled FROM portal_users")
    assert user.role == "caseworker"
    assert (_scope(user.regions), _scope(user.locales), bool(user.disabled)) == ([], [], False)
    steps.run(NO_NGO_ROW, **values)  # an editor belongs to no NGO
    [editor] = steps.rows("SELECT regions FROM portal_users WHERE username = 'root'")
    assert _scope(editor.regions) == ["kharkiv"]


def test_going_back_refuses_to_drop_an_account_of_no_ngo(steps: Steps) -> None:
    values = _values(steps)
    steps.run(PARTNER_ROW, USER_ROW, **values)
    steps.upgrade()
    steps.run(NO_NGO_ROW, **values)
    with pytest.raises(RuntimeError, match="belong to no NGO"):
        steps.downgrade()
    steps.run("DELETE FROM portal_users WHERE username = 'root'")
    steps.downgrade()
    assert [row.role for row in steps.rows("SELECT role FROM portal_users")] == ["partner"]
    assert "regions" not in steps.columns("portal_users")
    steps.upgrade()
