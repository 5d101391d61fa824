"""Looking after portal accounts: disable, enable, unlock, new password or TOTP seed, invite.

The operator does this with `refuge user ...` (no actor), an admin in the portal (the admin
is the actor). Each change lands in the audit chain naming the account by id, and each one
that could let a thief keep a session ends the account's sessions (its epoch moves).

An invitation is a single-use token shown once; only its keyed digest is kept, beside the
account it sets up and the moment it stops working. Whoever holds it chooses the password and
proves the authenticator app holds the seed shown, once.
"""

from __future__ import annotations

import secrets
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from server import audit, staff, vault
from server.db import vault_of
from server.models.staff import AuditAction, Invite, User

INVITE_PURPOSE = "portal-invite"
INVITE_TOKEN_BYTES = 32
#: Longest token looked up: anything longer is no token of ours (and costs nothing to refuse).
MAX_INVITE_TOKEN = 64


class UnknownAccount(LookupError):
    """No portal account has this username."""


@dataclass(frozen=True)
class Invitation:
    """A link just made: the token (shown once) and when it stops working."""

    token: str
    expires_at: datetime


def by_name(session: Session, username: str) -> User:
    """The account named `username` (compared as logins compare it)."""
    user = session.scalar(select(User).where(User.username == staff.normalise_username(username)))
    if user is None:
        raise UnknownAccount(f"no portal account {username.strip()!r}")
    return user


def _note(
    session: Session, action: AuditAction, user: User, actor: uuid.UUID | None, now: datetime
) -> None:
    audit.record(session, action, now, actor=actor, detail={"user": user.id.hex})


def is_locked(user: User, now: datetime) -> bool:
    """Whether either half of the lock-out holds the account now."""
    return any(
        until is not None and until > now for until in (user.locked_until, user.known_locked_until)
    )


def is_set_up(user: User) -> bool:
    """Whether the account has a password (an invited one has none until the link is used)."""
    return user.password_hash != staff.NO_PASSWORD


def disable(session: Session, user: User, actor: uuid.UUID | None, now: datetime) -> None:
    """Stop the account logging in and end its sessions; its invitations die with them."""
    user.disabled = True
    user.session_epoch += 1
    session.execute(delete(Invite).where(Invite.user_id == user.id))
    _note(session, AuditAction.USER_DISABLED, user, actor, now)


def enable(session: Session, user: User, actor: uuid.UUID | None, now: datetime) -> None:
    """Let a disabled account log in again, with the password and seed it had."""
    user.disabled = False
    _note(session, AuditAction.USER_ENABLED, user, actor, now)


def unlock(session: Session, user: User, actor: uuid.UUID | None, now: datetime) -> None:
    """Lift both halves of the lock-out and forget the failures counted."""
    user.failed_logins = user.known_failed_logins = 0
    user.locked_until = user.known_locked_until = None
    _note(session, AuditAction.USER_UNLOCKED, user, actor, now)


def _end_sessions_and_devices(user: User) -> None:
    user.session_epoch += 1
    user.device_epoch += 1


def reset_password(
    session: Session, user: User, password: str, actor: uuid.UUID | None, now: datetime
) -> None:
    """Give the account a new password; its sessions and device cookies end."""
    staff.check_password(password)
    user.password_hash = vault_of(session).hash_password(password)
    _end_sessions_and_devices(user)
    _note(session, AuditAction.PASSWORD_RESET, user, actor, now)


def reset_totp(session: Session, user: User, actor: uuid.UUID | None, now: datetime) -> bytes:
    """Give the account a new TOTP seed (returned, to show once); its sessions end."""
    secret = _new_seed(user)
    _note(session, AuditAction.TOTP_RESET, user, actor, now)
    return secret


def invite(
    session: Session, user: User, actor: uuid.UUID | None, now: datetime, hours: int
) -> Invitation:
    """A fresh single-use link for the account; any earlier link stops working.

    The account's TOTP seed is made anew too, so a seed shown by an earlier link is useless.
    """
    session.execute(delete(Invite).where(Invite.user_id == user.id))
    purge_invites(session, now)  # the dead links of other accounts: nothing keeps them
    _new_seed(user)
    # Hex: digits and letters, which the log filter masks in any access-log line (`server.logs`).
    token = secrets.token_hex(INVITE_TOKEN_BYTES)
    expires_at = now + timedelta(hours=hours)
    digest = vault_of(session).keyed_digest(INVITE_PURPOSE, token)
    session.add(
        Invite(id=uuid.uuid4(), user_id=user.id, token_digest=digest, expires_at=expires_at)
    )
    _note(session, AuditAction.INVITE_SENT, user, actor, now)
    return Invitation(token, expires_at)


def _new_seed(user: User) -> bytes:
    secret = vault.new_totp_secret()
    user.totp_secret = secret
    user.last_totp_step = None
    _end_sessions_and_devices(user)
    return secret


def invitation(session: Session, token: str, now: datetime) -> Invite | None:
    """The live invitation of `token`; None when unknown, used, expired or its account disabled."""
    if not token or len(token) > MAX_INVITE_TOKEN or not token.isascii():
        return None
    digests = vault_of(session).keyed_digests(INVITE_PURPOSE, token)
    found = session.scalar(select(Invite).where(Invite.token_digest.in_(digests)))
    if found is None or found.expires_at <= now or found.user.disabled:
        return None
    return found


def accept(session: Session, token: str, password: str, code: str, now: datetime) -> User | None:
    """Set the invited account's password once its app shows a right code; the link dies.

    None (nothing changed) when the link is dead or the code wrong; a password out of bounds
    raises `staff.AccountError`.
    """
    found = invitation(session, token, now)
    if found is None:
        return None
    staff.check_password(password)
    user = found.user
    step = vault.verify_totp(staff.totp_secret(session, user), code, now.timestamp(), None)
    if step is None:
        return None
    # One conditional DELETE: of two uses of one link racing, only the first finds the row.
    used = session.execute(
        delete(Invite).where(Invite.id == found.id),
        execution_options={"synchronize_session": False},
    )
    if getattr(used, "rowcount", 0) != 1:
        return None
    session.expunge(found)
    user.password_hash = vault_of(session).hash_password(password)
    user.last_totp_step = step
    user.session_epoch += 1
    _note(session, AuditAction.INVITE_ACCEPTED, user, user.id, now)
    return user


def purge_invites(session: Session, now: datetime) -> int:
    """Delete invitations past their time; how many went."""
    result = session.execute(delete(Invite).where(Invite.expires_at <= now))
    return int(getattr(result, "rowcount", 0) or 0)
