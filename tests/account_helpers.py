"""Helpers for the account-management tests: accounts by id, invitations, audit rows."""

from __future__ import annotations

import itertools
import uuid
from datetime import UTC, datetime

from flask import Flask
from sqlalchemy import select, update

from server import accounts, audit, db
from server.models.staff import AuditEvent, Role, User
from tests.portal_helpers import Account, add_account

_NUMBERS = itertools.count(1)


def account_id(app: Flask, username: str) -> uuid.UUID:
    """The id of the account named `username`."""
    with db.get_database(app).session() as session:
        found = session.scalar(select(User.id).where(User.username == username))
        assert found is not None, username
        return found


def fresh_account(app: Flask, region: str, role: Role = Role.EDITOR) -> tuple[uuid.UUID, Account]:
    """A new account of `role` working in `region`, with a name no other test account has."""
    made = add_account(app, f"{role.value}-{region}-{next(_NUMBERS)}", region, role)
    return account_id(app, made.username), made


def invite_token(app: Flask, username: str, hours: int = 72) -> str:
    """A live invitation link's token for the account, as an admin would make it."""
    with db.get_database(app).session() as session:
        user = accounts.by_name(session, username)
        return accounts.invite(session, user, None, datetime.now(UTC), hours).token


def actions(app: Flask) -> list[tuple[str, str | None, str | None]]:
    """Every audit row as (action, actor id hex, account id hex), oldest first."""
    with db.get_database(app).session() as session:
        return [
            (event.action, event.actor_id.hex if event.actor_id else None, audit.target(event))
            for event in session.scalars(select(AuditEvent).order_by(AuditEvent.seq))
        ]


def user(app: Flask, username: str) -> User:
    """The account named `username`, detached."""
    with db.get_database(app).session() as session:
        found = session.scalars(select(User).where(User.username == username)).one()
        session.expunge(found)
        return found


def forget_code_use(app: Flask, username: str) -> None:
    """Let the current TOTP code work again (a test logging in twice within 30 seconds)."""
    with db.get_database(app).session() as session:
        session.execute(update(User).where(User.username == username).values(last_totp_step=None))
