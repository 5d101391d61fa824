"""The lock-out a stranger cannot hold: failures of browsers an account never logged in from
lock those browsers out, never the owner at a browser it logged in from before.

A guesser who knows a username still gets five tries a quarter-hour, whichever address it
comes from, and then nothing, even with the right password and code; the per-client limit
still holds each address to ten tries a minute (`test_portal.py`).
"""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from flask import Flask
from flask.testing import FlaskClient

from server import accounts, db
from server.models.staff import Role
from server.portal import auth
from server.web.ratelimit import RateLimiter
from tests.account_helpers import forget_code_use, user
from tests.portal_helpers import Account, add_account, add_ngo, csrf_token, error_of, log_in

WRONG = "not the password at all"


@pytest.fixture
def olena(app: Flask) -> Account:
    add_ngo(app, "kharkiv", "Kharkiv Aid")
    # Every test client comes from 127.0.0.1: the per-client limit is tried elsewhere.
    app.extensions[auth.LIMITER_EXTENSION] = RateLimiter(limit=1000)
    return add_account(app, "olena", "kharkiv", Role.EDITOR)


def _owner_browser(app: Flask, olena: Account) -> FlaskClient:
    """A browser Olena logged in from, and out of again: it holds her device cookie."""
    browser = app.test_client()
    assert log_in(browser, olena.username, olena.password, olena.code()).status_code == 302
    token = csrf_token(browser, "/portal/")
    assert browser.post("/portal/logout", data={"csrf_token": token}).status_code == 302
    return browser


def _try(client: FlaskClient, app: Flask, olena: Account, password: str) -> int:
    forget_code_use(app, olena.username)
    return log_in(client, olena.username, password, olena.code()).status_code


def test_a_strangers_failures_do_not_stop_the_owner_at_a_browser_it_used_before(
    app: Flask, olena: Account
) -> None:
    browser = _owner_browser(app, olena)
    stranger = app.test_client()
    failures = [log_in(stranger, olena.username, WRONG, "123456") for _ in range(5)]
    # The guesser is stopped, even with the right password and code, and is told nothing new.
    stopped = log_in(stranger, olena.username, olena.password, olena.code())
    assert stopped.status_code == 401
    assert error_of(stopped) == error_of(failures[0]) == error_of(failures[-1])
    assert user(app, "olena").locked_until is not None
    assert _try(app.test_client(), app, olena, olena.password) == 401  # any new browser too
    # The owner, at her own browser, logs in as ever.
    assert _try(browser, app, olena, olena.password) == 302


def test_failures_at_the_owners_browser_lock_the_known_browsers_only(
    app: Flask, olena: Account
) -> None:
    browser = _owner_browser(app, olena)
    for _ in range(5):
        assert _try(browser, app, olena, WRONG) == 401
    assert _try(browser, app, olena, olena.password) == 401
    assert user(app, "olena").known_locked_until is not None
    assert user(app, "olena").locked_until is None
    # A thief holding her browser's cookie cannot keep her out of a fresh one.
    assert _try(app.test_client(), app, olena, olena.password) == 302


def test_a_forged_or_foreign_device_cookie_counts_as_a_stranger(app: Flask, olena: Account) -> None:
    other = add_account(app, "mykola", "kharkiv", Role.EDITOR)
    stranger = _owner_browser(app, other)  # Mykola's browser: known to his account only
    olena_id = user(app, "olena").id.hex
    stranger.set_cookie(auth.DEVICE_COOKIE, f"{olena_id}-0-{'0' * 32}", path="/portal")
    for _ in range(5):
        assert _try(stranger, app, olena, WRONG) == 401
    assert user(app, "olena").locked_until is not None
    assert user(app, "olena").known_failed_logins == 0
    assert _try(stranger, app, olena, olena.password) == 401


def test_a_new_password_forgets_every_browser_the_account_used(app: Flask, olena: Account) -> None:
    browser = _owner_browser(app, olena)
    with db.get_database(app).session() as session:
        found = accounts.by_name(session, "olena")
        accounts.reset_password(session, found, "another long passphrase", None, datetime.now(UTC))
    for _ in range(5):
        assert _try(app.test_client(), app, olena, WRONG) == 401
    # Her old browser's cookie died with the reset: the strangers' lock now holds it too.
    assert _try(browser, app, olena, "another long passphrase") == 401


def test_the_device_cookie_is_httponly_strict_and_only_for_the_portal(
    app: Flask, olena: Account
) -> None:
    response = log_in(app.test_client(), olena.username, olena.password, olena.code())
    cookie = next(
        header
        for header in response.headers.getlist("Set-Cookie")
        if header.startswith(auth.DEVICE_COOKIE + "=")
    )
    attributes = {part.strip().split("=")[0].lower() for part in cookie.split(";")}
    assert {"httponly", "path", "max-age", "samesite"} <= attributes
    assert "Path=/portal" in cookie
    assert "SameSite=Strict" in cookie
    value = cookie.split(";")[0].split("=", 1)[1]
    assert olena.password not in value
    assert user(app, "olena").id.hex in value  # which account, and a keyed digest: no secret
