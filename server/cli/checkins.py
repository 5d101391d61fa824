"""Operator commands for check-ins: `refuge checkins partner|partners`.

An NGO that takes escalations (and caseworkers' sealed notes) for a region is registered here
with what it gives: its office alert line and the public key from `refuge notes keygen`.
"""

from __future__ import annotations

import base64
import binascii

import click
from flask.cli import AppGroup
from sqlalchemy import select

from server import vault
from server.checkins import contacts
from server.config import app_settings
from server.db import get_database
from server.delivery import admission
from server.models.checkins import CheckinPartner
from server.models.content import Region
from server.phones import InvalidPhoneNumber, can_receive_texts, normalize_phone


@click.group("checkins", cls=AppGroup)
def checkins_group() -> None:
    """Check-ins: the NGO partners that take escalations and sealed notes."""


@checkins_group.command("partner")
@click.option("--region", required=True, help="The region slug the NGO covers (and below it).")
@click.option("--name", required=True, help="The NGO's name, as people will see it.")
@click.option("--phone", help="The NGO's alert line (an office number, never a person's).")
@click.option("--note-key", help="The NGO's public key for sealed notes (base64).")
def partner(region: str, name: str, phone: str | None, note_key: str | None) -> None:
    """Register, or change, the NGO that takes escalations for a region."""
    line = None
    if phone:
        try:
            line = normalize_phone(phone).e164
        except InvalidPhoneNumber:
            raise click.ClickException("--phone is not a phone number") from None
    key = None
    if note_key:
        try:
            key = base64.b64decode(note_key, validate=True)
        except (binascii.Error, ValueError):
            key = b""
        if len(key) != vault.NOTE_ENC_BYTES:
            raise click.ClickException("--note-key is not a base64 X25519 public key")
    with get_database().session() as session:
        if session.scalar(select(Region.id).where(Region.slug == region)) is None:
            raise click.ClickException(f"no region {region!r}: load content first")
        if line is not None:
            _check_textable(line, admission.allowed_countries(session, app_settings()))
        contacts.set_partner(session, region, name, line, key)
    fingerprint = vault.key_fingerprint(key) if key else "none"
    click.echo(f"{name} takes check-in escalations for {region} (note key {fingerprint})")


def _check_textable(line: str, allowed: frozenset[str]) -> None:
    """Refuse an alert line escalations could never reach (the worker would drop them)."""
    if not can_receive_texts(line):
        raise click.ClickException(
            "--phone cannot receive texts (a landline): escalations go by SMS; give a mobile line"
        )
    if not admission.destination_allowed(allowed, line):
        raise click.ClickException(
            f"--phone is a number of {admission.country_of(line) or 'no country'}, outside the "
            f"countries Refuge texts ({', '.join(sorted(allowed)) or 'none'}): give a line in "
            "one of them, or add its country to REFUGE_SMS_COUNTRIES"
        )


@checkins_group.command("partners")
def partners() -> None:
    """List the NGO partners: region, name, whether an alert line is set (and can be texted),
    note key."""
    with get_database().session() as session:
        allowed = admission.allowed_countries(session, app_settings())
        for found in session.scalars(select(CheckinPartner).order_by(CheckinPartner.region_slug)):
            number = contacts.partner_line(session, found) if found.alert_phone_ct else None
            line = "no alert line" if number is None else "alert line set"
            if number is not None and not admission.destination_allowed(allowed, number):
                line = "alert line outside REFUGE_SMS_COUNTRIES: not alerted"
            key = vault.key_fingerprint(found.note_key) if found.note_key else "no note key"
            click.echo(f"{found.region_slug}\t{found.name}\t{line}\t{key}")


COMMANDS: tuple[click.Command, ...] = (checkins_group,)
