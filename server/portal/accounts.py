"""/portal/accounts: an admin's list of the accounts in its scope, and what it can do to one.

Disable, enable, unlock, a new TOTP seed (shown once) and a new invitation, each a POST with
the form's CSRF token, each in the audit chain with the admin as actor. An account outside the
admin's scope answers 404, as one that does not exist; an admin cannot disable itself.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import UTC, datetime

from flask import abort, redirect, render_template, url_for
from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from werkzeug.wrappers import Response as BaseResponse

from server import accounts, vault
from server.config import app_settings
from server.db import request_session
from server.models.staff import Permission, Role, User
from server.portal.access import account, found, rule, scope
from server.portal.account_scope import covers_account
from server.portal.session import blueprint

ROLE_NAMES: dict[Role, object] = {
    Role.ADMIN: _l("Admin"),
    Role.EDITOR: _l("Editor"),
    Role.REVIEWER: _l("Reviewer"),
    Role.TRANSLATOR: _l("Translator"),
    Role.CASEWORKER: _l("Caseworker"),
}


def states(user: User, now: datetime) -> list[object]:
    """What stops the account logging in, as words (an empty list: nothing)."""
    return [
        label
        for label, holds in (
            # Translators: the state of a portal account: it cannot log in.
            (_l("Disabled"), user.disabled),
            # Translators: the state of a portal account: too many failed logins stop it a while.
            (_l("Locked"), accounts.is_locked(user, now)),
            # Translators: the state of a portal account: its invitation link is not used yet.
            (_l("Invited"), not accounts.is_set_up(user)),
        )
        if holds
    ]


def managed(account_id: uuid.UUID) -> User:
    """The account, when it exists and lies in this admin's scope; else 404."""
    database = request_session()
    return found(
        database.get(User, account_id),
        lambda admin_scope, user: covers_account(database, admin_scope, user),
    )


@blueprint.get("/accounts")
@rule(Permission.MANAGE_ACCOUNTS)
def account_list() -> str:
    """Every account in the admin's scope, by username."""
    database = request_session()
    users = [
        user
        for user in database.scalars(select(User).order_by(User.username))
        if covers_account(database, scope(), user)
    ]
    return render_template(
        "portal/accounts.html",
        user=account(),
        accounts=users,
        roles=ROLE_NAMES,
        states=states,
        now=datetime.now(UTC),
    )


@blueprint.get("/accounts/<uuid:account_id>")
@rule(Permission.MANAGE_ACCOUNTS)
def account_view(account_id: uuid.UUID) -> str:
    """One account: role, scope, state, and the buttons that change it."""
    shown = managed(account_id)
    return render_template(
        "portal/account.html",
        user=account(),
        shown=shown,
        roles=ROLE_NAMES,
        states=states(shown, datetime.now(UTC)),
        set_up=accounts.is_set_up(shown),
        itself=shown.id == account().id,
    )


def _act(
    account_id: uuid.UUID, change: Callable[[User, uuid.UUID, datetime], None]
) -> BaseResponse:
    shown = managed(account_id)
    database = request_session()
    change(shown, account().id, datetime.now(UTC))
    database.commit()
    return redirect(url_for("portal.account_view", account_id=shown.id))


@blueprint.post("/accounts/<uuid:account_id>/disable")
@rule(Permission.MANAGE_ACCOUNTS)
def account_disable(account_id: uuid.UUID) -> BaseResponse:
    """Disable the account and end its sessions (never the admin's own)."""
    if account_id == account().id:
        abort(403)
    return _act(
        account_id, lambda user, actor, now: accounts.disable(request_session(), user, actor, now)
    )


@blueprint.post("/accounts/<uuid:account_id>/enable")
@rule(Permission.MANAGE_ACCOUNTS)
def account_enable(account_id: uuid.UUID) -> BaseResponse:
    """Let a disabled account log in again."""
    return _act(
        account_id, lambda user, actor, now: accounts.enable(request_session(), user, actor, now)
    )


@blueprint.post("/accounts/<uuid:account_id>/unlock")
@rule(Permission.MANAGE_ACCOUNTS)
def account_unlock(account_id: uuid.UUID) -> BaseResponse:
    """Lift the account's lock-out."""
    return _act(
        account_id, lambda user, actor, now: accounts.unlock(request_session(), user, actor, now)
    )


@blueprint.post("/accounts/<uuid:account_id>/reset-totp")
@rule(Permission.MANAGE_ACCOUNTS)
def account_reset_totp(account_id: uuid.UUID) -> str:
    """A new TOTP seed, shown to the admin once to hand over; the account's sessions end."""
    shown = managed(account_id)
    database = request_session()
    secret = accounts.reset_totp(database, shown, account().id, datetime.now(UTC))
    database.commit()
    return render_template(
        "portal/seed.html",
        user=account(),
        shown=shown,
        uri=vault.totp_provisioning_uri(secret, shown.username),
        secret=vault.totp_secret_text(secret),
    )


@blueprint.post("/accounts/<uuid:account_id>/invite")
@rule(Permission.MANAGE_ACCOUNTS)
def account_invite(account_id: uuid.UUID) -> str:
    """A new single-use link for the account: it chooses a password and a new TOTP seed."""
    shown = managed(account_id)
    database = request_session()
    hours = app_settings().invite_hours
    made = accounts.invite(database, shown, account().id, datetime.now(UTC), hours)
    database.commit()
    return invitation_page(shown, made)


def invitation_page(shown: User, made: accounts.Invitation) -> str:
    """The page showing a new invitation link, once."""
    # The public address, not the Host header this request came with.
    path = url_for("portal.invite", token=made.token, lang=None)
    link = app_settings().public_url.rstrip("/") + path
    return render_template(
        "portal/invitation.html", user=account(), shown=shown, link=link, expires_at=made.expires_at
    )
