"""Operator commands for the partner portal: `refuge user create`, `refuge audit verify|export`."""

from __future__ import annotations

import json
import sys

import click
from flask.cli import AppGroup

from server import audit, staff, vault
from server.db import get_database
from server.models.staff import Role


@click.group("user", cls=AppGroup)
def user_group() -> None:
    """Accounts of the partner portal (/portal): NGO caseworkers, translators, admins."""


@user_group.command("create")
@click.argument("username")
@click.option("--partner", "region", required=True, help="Region slug of the account's NGO.")
@click.option(
    "--role",
    type=click.Choice([role.value for role in Role]),
    default=Role.PARTNER.value,
    show_default=True,
    help="partner and admin see their NGO's sealed notes; translator does not.",
)
@click.option(
    "--password-stdin", is_flag=True, help="Read the password from the first line of stdin."
)
def user_create(username: str, region: str, role: str, password_stdin: bool) -> None:
    """Create a portal account and print its TOTP secret, once: add it to an authenticator app."""
    if password_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
    else:
        password = click.prompt("Password", hide_input=True, confirmation_prompt=True)
    try:
        with get_database().session() as session:
            account = staff.create_user(session, username, password, region, Role(role))
            name = account.user.username
    except staff.AccountError as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(f"created {name} ({role}) for the NGO of {region}")
    click.echo("Add this to the caseworker's authenticator app now; it is not shown again:")
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
