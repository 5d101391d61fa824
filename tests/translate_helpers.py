"""Helpers for the translator's workspace tests: accounts by locale, pages, entries."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from flask import Flask
from flask.testing import FlaskClient

from server import staff
from server.db import get_database
from server.i18n.live import LIVE
from server.i18n.ui_catalogue import message_token
from server.models.staff import Role
from tests.portal_helpers import PASSWORD, TOKEN, Account, log_in

#: A UI message sent by SMS (the answer to STOP), with no placeholder.
STOP_REPLY = "You will get no more messages from Refuge. Reply START to come back."
#: A UI message with a placeholder.
AGREED = "%(name)s agreed to be one of your contacts."


@pytest.fixture(autouse=True)
def _forget_overrides() -> Iterator[None]:
    """Saved UI translations live per process: none outlives the test that saved it."""
    LIVE.forget()
    yield
    LIVE.forget()


def translator(
    app: Flask, username: str, locales: tuple[str, ...], role: Role = Role.TRANSLATOR
) -> Account:
    """An account translating (or reviewing) the given locales."""
    with get_database(app).session() as session:
        created = staff.create_user(session, username, PASSWORD, role, locales=locales)
    return Account(created.user.username, PASSWORD, created.totp_secret)


def signed_in(app: Flask, account: Account) -> FlaskClient:
    """A browser logged in as the account."""
    client = app.test_client()
    response = log_in(client, account.username, account.password, account.code())
    assert response.status_code == 302, response.get_data(as_text=True)
    return client


def form_token(client: FlaskClient, path: str) -> str:
    """The CSRF token of a page's forms."""
    page = client.get(path).get_data(as_text=True)
    found = TOKEN.search(page)
    assert found is not None, page
    return found[1]


def token_of(msgid: str, msgctxt: str = "") -> str:
    """How the workspace names a UI message."""
    return message_token(msgctxt, msgid)


def entry_html(page: str, token: str) -> str:
    """The HTML of one entry of a workspace page."""
    found = re.search(
        rf'<section class="entry" id="{re.escape(token)}">(.*?)</section>', page, re.S
    )
    assert found is not None, f"{token} is not on the page"
    return found[1]


def shown_cost(page: str, token: str) -> tuple[str, int]:
    """The encoding and segments an entry's cost line shows."""
    found = re.search(r'data-encoding="([^"]+)" data-segments="(\d+)"', entry_html(page, token))
    assert found is not None, "no SMS cost shown"
    return found[1], int(found[2])
