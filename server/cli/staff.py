"""Operator commands for the partner portal: `refuge user create|list|disable|enable|
reset-password|reset-totp|unlock` and `refuge audit verify|export`.

The operator acts as nobody in particular: the audit rows these commands write have no actor.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from datetime import UTC, datetime
from typing import TypeVar

import click
from flask.cli import AppGroup
from sqlalchemy import select
from sqlalchemy.orm import Session

from server import accounts, audit, staff, vault
from server.config import app_settings
from server.db import get_database
from server.models.staff import Role, User

Outcome = TypeVar("Outcome")


@click.group("user", cls=AppGroup)
def user_group() -> None:
    """Accounts of the partner portal (/portal): admins, editors, reviewers, translators and
    caseworkers."""


@user_group.command("create")
@click.argument("username")
@click.option(
    "--role",
    type=click.Choice([role.value for role in Role]),
    default=Role.CASEWORKER.value,
    show_default=True,
    help="admin: everything; editor: drafts content; reviewer: approves others' drafts or "
    "translations; translator: translates; caseworker: reads the NGO's sealed notes.",
)
@click.option(
    "--region",
    "regions",
    multiple=True,
    help="Region slug the account works in (repeatable; covers the region's children).",
)
@click.option(
    "--locale", "locales", multiple=True, help="Locale the account works in (repeatable)."
)
@click.option("--partner", help="Region slug of the NGO whose notes a caseworker reads.")
@click.option(
    "--password-stdin", is_flag=True, help="Read the password from the first line of stdin."
)
def user_create(
    username: str,
    role: str,
    regions: tuple[str, ...],
    locales: tuple[str, ...],
    partner: str | None,
    password_stdin: bool,
) -> None:
    """Create a portal account and print its TOTP secret, once: add it to an authenticator app.

    A caseworker without --region works in its NGO's region.
    """
    chosen = Role(role)
    if chosen is Role.CASEWORKER and partner and not regions:
        regions = (partner,)
    if password_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
    else:
        password = click.prompt("Password", hide_input=True, confirmation_prompt=True)
    try:
        with get_database().session() as session:
            account = staff.create_user(
                session,
                username,
                password,
                chosen,
                regions=regions,
                locales=locales,
                partner=partner,
                known_locales=app_settings().localization.locales,
            )
            name = account.user.username
    except staff.AccountError as exc:
        raise click.ClickException(str(exc)) from None
    where = ", ".join([*sorted(set(regions)), *sorted(set(locales))]) or "everywhere"
    click.echo(f"created {name} ({role}) for {where}")
    _show_seed(account.totp_secret, name)


def _show_seed(secret: bytes, name: str) -> None:
    click.echo("Add this to the account's authenticator app now; it is not shown again:")
    click.echo(f"  {vault.totp_provisioning_uri(secret, name)}")
    click.echo(f"  secret: {vault.totp_secret_text(secret)}")


def _state(user: User, now: datetime) -> str:
    """What stops the account logging in, if anything."""
    states = [
        label
        for label, holds in (
            ("disabled", user.disabled),
            ("locked", accounts.is_locked(user, now)),
            ("invited", not accounts.is_set_up(user)),
        )
        if holds
    ]
    return ",".join(states) or "active"


@user_group.command("list")
def user_list() -> None:
    """List the portal's accounts: role, scope, NGO, state and creation date (never a secret)."""
    now = datetime.now(UTC)
    with get_database().session() as session:
        users = session.scalars(select(User).order_by(User.username)).all()
        rows = [
            (
                user.username,
                user.role.value,
                ",".join(user.region_slugs) or "-",
                ",".join(user.locale_tags) or "-",
                user.organisation.region_slug if user.organisation else "-",
                _state(user, now),
                user.created_on.isoformat(),
            )
            for user in users
        ]
    header = ("USERNAME", "ROLE", "REGIONS", "LOCALES", "NGO", "STATE", "CREATED")
    widths = [max(len(row[i]) for row in (header, *rows)) for i in range(len(header))]
    for row in (header, *rows):
        cells = (cell.ljust(width) for cell, width in zip(row, widths, strict=True))
        click.echo("  ".join(cells).rstrip())


def _change(username: str, act: Callable[[Session, User], Outcome]) -> Outcome:
    """Apply `act` to the named account in one transaction; a clear error when none exists."""
    try:
        with get_database().session() as session:
            return act(session, accounts.by_name(session, username))
    except (accounts.UnknownAccount, staff.AccountError) as exc:
        raise click.ClickException(str(exc)) from None


@user_group.command("disable")
@click.argument("username")
def user_disable(username: str) -> None:
    """Stop an account logging in and end its sessions (nothing else about it changes)."""
    _change(username, lambda s, u: accounts.disable(s, u, None, datetime.now(UTC)))
    click.echo(f"disabled {staff.normalise_username(username)}")


@user_group.command("enable")
@click.argument("username")
def user_enable(username: str) -> None:
    """Let a disabled account log in again."""
    _change(username, lambda s, u: accounts.enable(s, u, None, datetime.now(UTC)))
    click.echo(f"enabled {staff.normalise_username(username)}")


@user_group.command("unlock")
@click.argument("username")
def user_unlock(username: str) -> None:
    """Lift an account's lock-out after failed logins."""
    _change(username, lambda s, u: accounts.unlock(s, u, None, datetime.now(UTC)))
    click.echo(f"unlocked {staff.normalise_username(username)}")


@user_group.command("reset-password")
@click.argument("username")
@click.option(
    "--password-stdin", is_flag=True, help="Read the password from the first line of stdin."
)
def user_reset_password(username: str, password_stdin: bool) -> None:
    """Set a new password; the account's sessions end everywhere."""
    if password_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
    else:
        password = click.prompt("New password", hide_input=True, confirmation_prompt=True)
    _change(username, lambda s, u: accounts.reset_password(s, u, password, None, datetime.now(UTC)))
    click.echo(f"new password set for {staff.normalise_username(username)}; its sessions ended")


@user_group.command("reset-totp")
@click.argument("username")
def user_reset_totp(username: str) -> None:
    """Make a new TOTP seed and print it once; the old authenticator entry stops working."""
    secret = _change(username, lambda s, u: accounts.reset_totp(s, u, None, datetime.now(UTC)))
    name = staff.normalise_username(username)
    click.echo(f"new TOTP seed for {name}; its sessions ended")
    _show_seed(secret, name)


@click.group("audit", cls=AppGroup)
def audit_group() -> None:
    """The portal's audit log: hash-chained, without personal data."""


@audit_group.command("verify")
def audit_verify() -> None:
    """Check every row's hash against the one before it; exit 1 at the first broken row."""
    with get_database().session() as session:
        broken = audit.first_broken(session)
        total = audit.count(session)
    if broken is not None:
        click.echo(f"audit chain broken at seq {broken}", err=True)
        raise SystemExit(1)
    click.echo(f"audit chain intact: {total} events")


@audit_group.command("export")
def audit_export() -> None:
    """Write the audit log as JSON lines, oldest first, each with its hash.

    `actor_name` and `user_name` give the usernames of the acting and the named account, as
    they are now (looked up at export: the chain itself keeps ids).
    """
    with get_database().session() as session:
        for event in audit.export(session):
            click.echo(json.dumps(event, sort_keys=True))


COMMANDS: tuple[click.Command, ...] = (user_group, audit_group)
