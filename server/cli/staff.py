"""Operator commands for the partner portal: `refuge user create`, `refuge audit verify|export`."""

from __future__ import annotations

import json
import sys

import click
from flask.cli import AppGroup

from server import audit, staff, vault
from server.config import app_settings
from server.db import get_database
from server.models.staff import Role


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
    click.echo("Add this to the account's authenticator app now; it is not shown again:")
    click.echo(f"  {vault.totp_provisioning_uri(account.totp_secret, name)}")
    click.echo(f"  secret: {vault.totp_secret_text(account.totp_secret)}")


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
    """Write the audit log as JSON lines, oldest first, each with its hash."""
    with get_database().session() as session:
        for event in audit.export(session):
            click.echo(json.dumps(event, sort_keys=True))


COMMANDS: tuple[click.Command, ...] = (user_group, audit_group)
