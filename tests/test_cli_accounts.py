"""`refuge user list|disable|enable|reset-password|reset-totp|unlock` and named audit exports."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest
from flask import Flask
from sqlalchemy import update

from server import db, vault
from server.models.staff import Role, User
from tests.account_helpers import account_id, actions, forget_code_use, user
from tests.portal_helpers import Account, add_account, add_ngo, add_region, log_in
from tests.test_cli_portal import _secret
from tests.test_cli_vault import invoke

NEW_PASSWORD = "a brand new passphrase for Olena"


@pytest.fixture
def olena(app: Flask) -> Account:
    add_ngo(app, "kharkiv", "Kharkiv Aid")
    add_region(app, "odesa")
    add_account(app, "tariq", "kharkiv", Role.TRANSLATOR, locales=("ar", "uk"))
    return add_account(app, "olena", "kharkiv", Role.EDITOR)


def _logs_in(app: Flask, account: Account, password: str | None = None) -> bool:
    forget_code_use(app, account.username)
    response = log_in(
        app.test_client(), account.username, password or account.password, account.code()
    )
    return response.status_code == 302


def test_user_list_shows_role_scope_ngo_and_state_and_never_a_secret(
    app: Flask, olena: Account
) -> None:
    invoke(app, "user", "disable", "tariq")
    output = invoke(app, "user", "list").output
    lines = output.splitlines()
    assert lines[0].split() == ["USERNAME", "ROLE", "REGIONS", "LOCALES", "NGO", "STATE", "CREATED"]
    rows = {line.split()[0]: line.split() for line in lines[1:]}
    today = datetime.now(UTC).date().isoformat()
    assert rows["olena"] == ["olena", "editor", "kharkiv", "-", "-", "active", today]
    assert rows["tariq"] == ["tariq", "translator", "-", "ar,uk", "-", "disabled", today]
    stored = user(app, "olena")
    assert stored.password_hash not in output
    assert vault.totp_secret_text(olena.secret) not in output


def test_disable_stops_logins_and_ends_sessions_and_enable_lets_the_account_back(
    app: Flask, olena: Account
) -> None:
    client = app.test_client()
    assert log_in(client, olena.username, olena.password, olena.code()).status_code == 302
    result = invoke(app, "user", "disable", "Olena")
    assert result.exit_code == 0
    assert "disabled olena" in result.output
    assert client.get("/portal/").status_code == 302  # the open session ended
    assert not _logs_in(app, olena)
    assert invoke(app, "user", "enable", "olena").exit_code == 0
    assert _logs_in(app, olena)
    olena_id = account_id(app, "olena").hex
    assert ("user_disabled", None, olena_id) in actions(app)
    assert ("user_enabled", None, olena_id) in actions(app)


def test_reset_password_ends_sessions_and_only_the_new_password_works(
    app: Flask, olena: Account
) -> None:
    client = app.test_client()
    assert log_in(client, olena.username, olena.password, olena.code()).status_code == 302
    result = invoke(
        app, "user", "reset-password", "olena", "--password-stdin", stdin=f"{NEW_PASSWORD}\n"
    )
    assert result.exit_code == 0, result.output
    assert NEW_PASSWORD not in result.output
    assert client.get("/portal/").status_code == 302
    assert not _logs_in(app, olena)
    assert _logs_in(app, olena, NEW_PASSWORD)
    assert ("password_reset", None, account_id(app, "olena").hex) in actions(app)


def test_reset_password_refuses_a_short_one_and_changes_nothing(app: Flask, olena: Account) -> None:
    before = user(app, "olena").password_hash
    result = invoke(app, "user", "reset-password", "olena", "--password-stdin", stdin="short\n")
    assert result.exit_code == 1
    assert "12 to 256 characters" in result.output
    assert user(app, "olena").password_hash == before
    assert "password_reset" not in [action for action, _actor, _about in actions(app)]


def test_reset_totp_prints_the_new_seed_once_and_the_old_one_stops_working(
    app: Flask, olena: Account
) -> None:
    result = invoke(app, "user", "reset-totp", "olena")
    assert result.exit_code == 0, result.output
    uri, secret = _secret(result.output)
    assert uri.startswith("otpauth://totp/Refuge:olena?")
    assert secret != olena.secret
    assert not _logs_in(app, olena)
    assert _logs_in(app, Account(olena.username, olena.password, secret))
    assert ("totp_reset", None, account_id(app, "olena").hex) in actions(app)


def test_unlock_lets_a_locked_account_log_in_at_once(app: Flask, olena: Account) -> None:
    for _ in range(5):
        log_in(app.test_client(), olena.username, "not the password!", olena.code())
    assert "locked" in invoke(app, "user", "list").output
    assert not _logs_in(app, olena)
    assert invoke(app, "user", "unlock", "olena").exit_code == 0
    assert _logs_in(app, olena)
    assert ("user_unlocked", None, account_id(app, "olena").hex) in actions(app)


def test_an_unknown_username_is_a_clear_error(app: Flask, olena: Account) -> None:
    for command in ("disable", "enable", "unlock", "reset-totp"):
        result = invoke(app, "user", command, "nobody")
        assert result.exit_code == 1
        assert "no portal account 'nobody'" in result.output


def test_audit_export_names_the_actor_and_the_account_by_username(
    app: Flask, olena: Account
) -> None:
    assert _logs_in(app, olena)
    invoke(app, "user", "disable", "tariq")
    lines = [json.loads(line) for line in invoke(app, "audit", "export").output.splitlines()]
    login = next(line for line in lines if line["action"] == "login")
    assert (login["actor"], login["actor_name"]) == (account_id(app, "olena").hex, "olena")
    disabled = next(line for line in lines if line["action"] == "user_disabled")
    assert (disabled["actor_name"], disabled["user_name"]) == (None, "tariq")
    assert disabled["detail"] == {"user": account_id(app, "tariq").hex}
    assert invoke(app, "audit", "verify").exit_code == 0


def test_a_locked_account_shows_as_locked_until_the_lock_runs_out(
    app: Flask, olena: Account
) -> None:
    with db.get_database(app).session() as session:
        session.execute(
            update(User)
            .where(User.username == "olena")
            .values(known_locked_until=datetime.now(UTC) + timedelta(minutes=5))
        )
    assert "locked" in invoke(app, "user", "list").output
    with db.get_database(app).session() as session:
        session.execute(
            update(User)
            .where(User.username == "olena")
            .values(known_locked_until=datetime.now(UTC) - timedelta(minutes=1))
        )
    assert "locked" not in invoke(app, "user", "list").output
