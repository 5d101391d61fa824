"""Operator commands for keys, sealed notes and retention: `refuge keys|notes|purge`."""

from __future__ import annotations

import base64
import binascii
import json
import os
from datetime import date
from pathlib import Path
from typing import TextIO

import click
from flask.cli import AppGroup, with_appcontext

import server.models  # noqa: F401  (every model registers its sealed columns for rotation)
from server import people, vault
from server.checkins import notes
from server.config import app_settings
from server.db import get_database
from server.vault import index_rotation, rotation


@click.group("keys", cls=AppGroup)
def keys_group() -> None:
    """Generate and rotate the keys that protect people's data."""


@keys_group.command("generate", with_appcontext=False)
@click.option("--key-id", default="k1", show_default=True, help="Id of the new master key.")
@click.option(
    "--index-key-id",
    help="Give the index key this version id (i1, i2...); without it the key is bare: i1.",
)
def keys_generate(key_id: str, index_key_id: str | None) -> None:
    """Print a fresh set of key settings for production (put them in a secret store)."""
    try:
        settings = vault.new_key_settings(master_key_id=key_id, index_key_id=index_key_id)
    except vault.KeyFormatError as exc:
        raise click.BadParameter(str(exc), param_hint="--index-key-id") from None
    for name, value in settings.items():
        click.echo(f"{name}={value}")


@keys_group.command("rotate")
@click.option("--batch-size", default=500, show_default=True, type=click.IntRange(1, 100_000))
def keys_rotate(batch_size: int) -> None:
    """Move everything under the newest master key (the first in REFUGE_MASTER_KEYS).

    Re-wraps the data key of every row that holds one (people, provider deletions) and
    re-seals the fields under the master keyring (NGO alert lines, TOTP seeds); field
    ciphertexts under data keys are not touched. Resumable: run it again after an
    interruption and it carries on. When it reports nothing left, the older master keys can
    be removed from the ring; it exits with status 1 when a row could not be moved.
    """
    database = get_database()
    waiting = rotation.pending(database)
    total = sum(waiting.values())
    current = rotation.current_key_id(database)
    if total == 0:
        click.echo(f"every data key is already wrapped by {current}")
        return
    with click.progressbar(length=total, label=f"re-wrapping under {current}") as bar:
        report = rotation.rotate(database, batch_size, on_batch=bar.update)
    keys = fields = 0
    for kind in report.kinds:
        if kind.moved or kind.failed:
            click.echo(f"{kind.kind}: {kind.moved} moved to {current}, {kind.failed} failed")
        if kind.kind.endswith(rotation.DATA_KEYS):
            keys += kind.moved
        else:
            fields += kind.moved
    for kind in report.kinds:
        if kind.error is not None:
            click.echo(f"{kind.kind}: {kind.error}", err=True)
    if report.failed:
        raise click.ClickException(
            f"{report.failed} rows could not be moved; keep the older master keys until "
            "they are (rows moved before are kept)"
        )
    sealed = f", {fields} fields sealed under it" if fields else ""
    click.echo(
        f"{keys} data keys now wrapped by {current}{sealed}; older master keys can be retired"
    )


@keys_group.command("rotate-index")
@click.option("--new-key", is_flag=True, help="Print a new index key version to add; no change.")
@click.option("--retire", "retire_id", metavar="ID", help="Check that this version can go.")
@click.option("--batch-size", default=500, show_default=True, type=click.IntRange(1, 100_000))
def keys_rotate_index(new_key: bool, retire_id: str | None, batch_size: int) -> None:
    """Move every blind index to the newest index key version, then retire the old one.

    Three steps (docs/operating.md): `--new-key` prints a version to put first in
    REFUGE_INDEX_KEY (restart every process: new rows use it, look-ups match both); then this
    command, without options, indexes every row again from its decrypted number (resumable);
    then `--retire ID` checks that nothing needs the old version before it is removed.
    """
    database = get_database()
    keys = database.vault
    if keys is None:
        raise click.ClickException("this command needs the instance's keys")
    if new_key:
        entry = vault.new_index_key_entry(vault.next_index_key_id(app_settings().index_keys))
        click.echo(f"put this version first in REFUGE_INDEX_KEY: {entry},<its current value>")
        click.echo("then restart every web process and worker, and run `refuge keys rotate-index`")
        return
    if retire_id is not None:
        _check_retirement(retire_id)
        return
    current = keys.index_key_id
    total = sum(index_rotation.pending_reindex(database).values())
    if total == 0:
        _report_index_versions(current)
        return
    with click.progressbar(length=total, label=f"indexing again under {current}") as bar:
        report = index_rotation.reindex(database, batch_size, on_batch=bar.update)
    for table, moved in report.moved.items():
        click.echo(f"{table}: {moved} moved to {current}, {report.failed.get(table, 0)} failed")
    if report.error is not None:
        click.echo(str(report.error), err=True)
        raise click.ClickException(
            "some rows could not be indexed again; keep the older index keys until they are"
        )
    _report_index_versions(current)


def _report_index_versions(current: str) -> None:
    older = [kid for kid in app_settings().index_keys.ids() if kid != current]
    click.echo(f"every blind index is under {current}")
    for kid in older:
        click.echo(f"check {kid} before removing it: refuge keys rotate-index --retire {kid}")


def _check_retirement(key_id: str) -> None:
    try:
        blockers = index_rotation.retirement_blockers(get_database(), key_id)
    except vault.VaultError as exc:
        raise click.ClickException(str(exc)) from None
    if blockers:
        for kind, count in blockers.items():
            click.echo(f"{kind}: {count} still need {key_id}", err=True)
        raise click.ClickException(
            f"{key_id} is still needed: `refuge keys rotate-index` moves blind indexes; a "
            "password moves at its next login, a PIN when it is set again (docs/operating.md)"
        )
    click.echo(
        f"nothing needs {key_id}: remove it from REFUGE_INDEX_KEY, restart every process, "
        "and destroy every copy of it"
    )


@click.group("notes", cls=AppGroup)
def notes_group() -> None:
    """Sealed notes for NGO caseworkers: key pairs, export and offline opening."""


@notes_group.command("keygen", with_appcontext=False)
@click.option(
    "--out",
    required=True,
    type=click.Path(dir_okay=False, path_type=Path),
    help="File for the private key; keep it offline, never on this server.",
)
def notes_keygen(out: Path) -> None:
    """Make an NGO key pair: the private key to a file, the public key printed."""
    pem, public = vault.new_note_keypair()
    try:
        descriptor = os.open(out, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        raise click.ClickException(f"{out} exists; refusing to overwrite a key") from None
    except OSError as exc:
        raise click.ClickException(f"cannot write {out}: {exc.strerror}") from None
    with os.fdopen(descriptor, "wb") as handle:
        handle.write(pem)
    click.echo(f"private key written to {out} (mode 0600): move it off this machine")
    click.echo(f"public key:  {base64.b64encode(public).decode('ascii')}")
    click.echo(f"fingerprint: {vault.key_fingerprint(public)}")


@notes_group.command("export")
@click.option("--recipient", help="Only the notes for this key fingerprint.")
def notes_export(recipient: str | None) -> None:
    """Write the sealed notes as JSON lines (still encrypted) for `refuge notes open`."""
    with get_database().session() as session:
        for line in people.export_note_lines(session, recipient):
            click.echo(line)


@notes_group.command("open", with_appcontext=False)
@click.option(
    "--key",
    "key_file",
    required=True,
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="The NGO's private key file from `refuge notes keygen`.",
)
@click.argument("export", type=click.File("r"), default="-")
def notes_open(key_file: Path, export: TextIO) -> None:
    """Decrypt exported notes (a file, or standard input) offline with the NGO's private key."""
    try:
        private_key = vault.load_note_private_key(key_file.read_bytes())
    except vault.VaultError as exc:
        raise click.ClickException(str(exc)) from None
    opened = failed = 0
    for number, line in enumerate(export, start=1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
            sealed = binascii.unhexlify(record["sealed"])
            text = vault.open_sealed(private_key, sealed, record["context"])
        except (ValueError, KeyError, TypeError, binascii.Error, vault.VaultError):
            failed += 1
            click.echo(f"line {number}: cannot be opened with this key", err=True)
            continue
        opened += 1
        click.echo(f"--- note {record['id']} ({record.get('created_on', '?')})")
        click.echo(text)
    click.echo(f"{opened} opened, {failed} could not be opened", err=True)
    if failed:
        raise SystemExit(1)


@click.command("purge")
@with_appcontext
def purge_command() -> None:
    """Delete what is kept past its retention period (inactive people are crypto-shredded)."""
    retention = app_settings().retention
    with get_database().session() as session:
        report = people.purge(session, retention)
        # What the worker's upkeep purges too (`server.upkeep.purge_notes`).
        handled = notes.purge(session, retention.note_days, date.today())
    for kind, count in [*report.as_dict().items(), ("sealed_notes", handled)]:
        click.echo(f"{kind}: {count} deleted")


COMMANDS: tuple[click.Command, ...] = (keys_group, notes_group, purge_command)
