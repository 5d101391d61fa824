"""Portal accounts: create one, and log in with password and TOTP code, fairly and slowly.

A failed login never says what was wrong. An unknown username costs the same password hashing
as a known one; a TOTP code is accepted once. Every outcome lands in the audit chain without
the username typed (it may be a password).

Five failures lock the account for fifteen minutes, but a username is no secret, so the lock
has two halves (docs/threat-model.md): one for clients the account never logged in from, which
any guesser fills, and one for browsers holding the account's device cookie (`device_token`,
set at each login), which only those browsers fill. A stranger's tries stop strangers, never
the owner at a browser it used before.
"""

from __future__ import annotations

import hmac
import re
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

from sqlalchemy import or_, select, update
from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import set_committed_value

from server import audit, vault
from server.db import vault_of
from server.models.checkins import CheckinPartner
from server.models.content import Region
from server.models.staff import USERNAME_LENGTH, AuditAction, Role, User

MAX_FAILED_LOGINS = 5
LOCKOUT = timedelta(minutes=15)
MIN_PASSWORD_LENGTH = 12
MAX_PASSWORD_LENGTH = 256
#: The password hash of an account invited and not yet set up: matches no password.
NO_PASSWORD = ""
USERNAME = re.compile(r"[a-z0-9][a-z0-9._-]{1,63}")
DEVICE_PURPOSE = "portal-device"
#: Characters of the device cookie's keyed digest kept (128 bits).
DEVICE_MAC_LENGTH = 32


class AccountError(ValueError):
    """A portal account cannot be created as asked; the message says why."""


@dataclass(frozen=True)
class NewAccount:
    """A created account and its TOTP seed, shown to the operator once and never again."""

    user: User
    totp_secret: bytes


def normalise_username(raw: str) -> str:
    """Usernames are compared lower-cased and trimmed."""
    return raw.strip().lower()[: USERNAME_LENGTH + 1]


def create_user(
    session: Session,
    username: str,
    password: str | None,
    role: Role,
    *,
    regions: Iterable[str] = (),
    locales: Iterable[str] = (),
    partner: str | None = None,
    known_locales: Iterable[str] | None = None,
    actor: uuid.UUID | None = None,
) -> NewAccount:
    """A portal account with a fresh TOTP seed, scoped to `regions` and `locales`.

    `partner` is the region slug of the NGO whose notes a caseworker reads (an admin may have
    one too). `known_locales` are the locales the deployment serves, when the caller knows them.
    Without a password the account cannot log in until an invitation sets one. `actor` is the
    admin creating it (None: the operator at the command line).
    """
    name = normalise_username(username)
    if not USERNAME.fullmatch(name):
        raise AccountError("a username is 2 to 64 letters, digits, '.', '_' or '-'")
    if password is not None:
        check_password(password)
    organisation = None
    if partner is not None:
        organisation = session.scalar(
            select(CheckinPartner).where(CheckinPartner.region_slug == partner)
        )
        if organisation is None:
            raise AccountError(f"no partner NGO for {partner!r}: `refuge checkins partner` first")
    region_slugs = _unique(regions)
    locale_tags = _unique(locales)
    _check_scope(session, role, region_slugs, locale_tags, partner, known_locales)
    if session.scalar(select(User.id).where(User.username == name)) is not None:
        raise AccountError(f"the username {name!r} is taken")
    keys = vault_of(session)
    secret = vault.new_totp_secret()
    user = User(
        id=uuid.uuid4(),
        username=name,
        password_hash=keys.hash_password(password) if password is not None else NO_PASSWORD,
        role=role,
        organisation=organisation,
        region_slugs=region_slugs,
        locale_tags=locale_tags,
        disabled=False,
        failed_logins=0,
        session_epoch=0,
        created_on=date.today(),
    )
    session.add(user)
    user.totp_secret = secret
    session.flush()
    audit.record(
        session,
        AuditAction.USER_CREATED,
        datetime.now(UTC),
        actor=actor,
        detail={"user": user.id.hex, "role": role.value},
    )
    return NewAccount(user, secret)


def check_password(password: str) -> None:
    """Refuse a password too short to resist guessing, or too long to hash cheaply."""
    if not MIN_PASSWORD_LENGTH <= len(password) <= MAX_PASSWORD_LENGTH:
        raise AccountError(
            f"a password is {MIN_PASSWORD_LENGTH} to {MAX_PASSWORD_LENGTH} characters long"
        )


def _unique(values: Iterable[str]) -> list[str]:
    return sorted({value.strip() for value in values if value.strip()})


def _check_scope(
    session: Session,
    role: Role,
    regions: list[str],
    locales: list[str],
    partner: str | None,
    known_locales: Iterable[str] | None,
) -> None:
    """Refuse a scope that names what does not exist, or leaves the role nothing to do."""
    found = set(session.scalars(select(Region.slug).where(Region.slug.in_(regions))))
    unknown = [slug for slug in regions if slug not in found]
    if unknown:
        raise AccountError(f"no region {unknown[0]!r}: `refuge content load` its file first")
    if known_locales is not None:
        served = set(known_locales)
        stray = [tag for tag in locales if tag not in served]
        if stray:
            raise AccountError(f"{stray[0]!r} is not a locale this deployment serves")
    if role is Role.CASEWORKER and partner is None:
        raise AccountError("a caseworker reads one NGO's notes: give --partner")
    if role is Role.EDITOR and not regions:
        raise AccountError("an editor works in regions: give --region at least once")
    if role is Role.TRANSLATOR and not locales:
        raise AccountError("a translator works in locales: give --locale at least once")
    if role is Role.REVIEWER and not (regions or locales):
        raise AccountError("a reviewer reviews regions or locales: give --region or --locale")


def totp_secret(session: Session, user: User) -> bytes:
    """An account's TOTP seed, unsealed."""
    secret = user.totp_secret
    if secret is None:
        raise vault.DecryptionFailed("this account has no TOTP seed")
    return secret


def log_in(
    session: Session,
    username: str,
    password: str,
    code: str,
    now: datetime,
    device_tokens: Iterable[str] = (),
) -> User | None:
    """The account when all three are right and it is not locked; else None, for any reason.

    `device_tokens` are what the browser's device cookie holds: one of this account's makes
    the attempt count in, and be stopped by, the known browsers' half of the lock only.
    """
    keys = vault_of(session)
    user = session.scalar(
        select(User).where(User.username == normalise_username(username)).with_for_update()
    )
    # Hash the password whatever the account, so an unknown name answers as slowly as a known.
    password_ok = keys.verify_password(user.password_hash if user else None, password)
    if user is None:
        audit.record(session, AuditAction.LOGIN_FAILED, now)
        return None
    known = is_known_device(session, user, device_tokens)
    lock = _KNOWN_LOCK if known else _STRANGER_LOCK
    step = vault.verify_totp(totp_secret(session, user), code, now.timestamp(), user.last_totp_step)
    until = getattr(user, lock.until)
    locked = until is not None and until > now
    if password_ok and step is not None and user.disabled:
        audit.record(
            session, AuditAction.LOGIN_FAILED, now, actor=user.id, detail={"disabled": True}
        )
        return None
    if password_ok and step is not None and not locked and _claim_step(session, user, step):
        if keys.made_under_older_key(user.password_hash):  # a rotated index key: hash anew
            user.password_hash = keys.hash_password(password)
        setattr(user, lock.failures, 0)
        setattr(user, lock.until, None)
        user.session_epoch += 1
        audit.record(session, AuditAction.LOGIN, now, actor=user.id)
        return user
    if not locked:
        failures = getattr(user, lock.failures) + 1
        setattr(user, lock.failures, failures)
        if failures >= MAX_FAILED_LOGINS:
            setattr(user, lock.failures, 0)
            setattr(user, lock.until, now + LOCKOUT)
    until = getattr(user, lock.until)
    audit.record(
        session,
        AuditAction.LOGIN_FAILED,
        now,
        actor=user.id,
        detail={"locked": until is not None and until > now, "known_device": known},
    )
    return None


@dataclass(frozen=True)
class _Lock:
    """The two columns of one half of the lock-out: failures counted, and locked until."""

    failures: str
    until: str


_STRANGER_LOCK = _Lock("failed_logins", "locked_until")
_KNOWN_LOCK = _Lock("known_failed_logins", "known_locked_until")


def device_token(session: Session, user: User) -> str:
    """What a browser that logged in to `user` keeps in its device cookie.

    A keyed digest of the account and its device epoch: it opens nothing by itself, and a
    password or TOTP reset (which bumps the epoch) ends every one issued before.
    """
    mac = vault_of(session).keyed_digest(DEVICE_PURPOSE, f"{user.id.hex}.{user.device_epoch}")
    return f"{user.id.hex}-{user.device_epoch}-{mac.hex()[:DEVICE_MAC_LENGTH]}"


def is_known_device(session: Session, user: User, tokens: Iterable[str]) -> bool:
    """Whether one of `tokens` is this account's device token (under any index key version)."""
    prefix = f"{user.id.hex}-{user.device_epoch}-"
    given = [t[len(prefix) :] for t in tokens if t.isascii() and t.startswith(prefix)]
    if not given:
        return False
    message = f"{user.id.hex}.{user.device_epoch}"
    expected = [
        digest.hex()[:DEVICE_MAC_LENGTH]
        for digest in vault_of(session).keyed_digests(DEVICE_PURPOSE, message)
    ]
    return any(hmac.compare_digest(mac, want) for mac in given for want in expected)


def _claim_step(session: Session, user: User, step: int) -> bool:
    """Mark a TOTP step used, in one conditional UPDATE; False when it already was.

    SQLite ignores the row lock of the read above: two logins raced with one code both read
    the old step. This UPDATE takes the write lock and checks again, so only one of them wins.
    """
    claimed = session.execute(
        update(User)
        .where(
            User.id == user.id,
            or_(User.last_totp_step.is_(None), User.last_totp_step < step),
        )
        .values(last_totp_step=step),
        execution_options={"synchronize_session": False},
    )
    if getattr(claimed, "rowcount", 0) != 1:
        return False
    set_committed_value(user, "last_totp_step", step)
    return True


def log_out(session: Session, user: User, now: datetime) -> None:
    """End every session of the account (a copied cookie included)."""
    user.session_epoch += 1
    audit.record(session, AuditAction.LOGOUT, now, actor=user.id)
