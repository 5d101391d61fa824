"""`refuge keys`, `refuge notes` and `refuge purge` as an operator runs them."""

from __future__ import annotations

import base64
import json
import stat
from datetime import date, timedelta
from pathlib import Path

import pytest
from click.testing import Result
from flask import Flask

from server import db, people, vault
from server.app import create_app
from server.config import load_config
from server.phones import normalize_phone
from tests.conftest import refuge_env


def invoke(app: Flask, *args: str, stdin: str | None = None) -> Result:
    """Run a command as the operator's terminal shows it (standard output and error)."""
    return app.test_cli_runner().invoke(args=list(args), input=stdin, catch_exceptions=False)


def test_keys_generate_prints_settings_that_production_accepts(app: Flask, tmp_path: Path) -> None:
    result = invoke(app, "keys", "generate", "--key-id", "k9")
    assert result.exit_code == 0
    generated = dict(line.split("=", 1) for line in result.output.strip().splitlines())
    assert set(generated) == {"REFUGE_SECRET_KEY", "REFUGE_MASTER_KEYS", "REFUGE_INDEX_KEY"}
    settings = load_config({**refuge_env(tmp_path), **generated})
    assert settings.master_keys.current_id == "k9"
    assert invoke(app, "keys", "generate").output != result.output


def test_keys_rotate_rewraps_and_then_has_nothing_left(tmp_path: Path, database_url: str) -> None:
    env = refuge_env(tmp_path, REFUGE_DATABASE_URL=database_url)
    old = create_app(load_config(env))
    db.Base.metadata.create_all(db.get_database(old).engine)
    with db.get_database(old).session() as session:
        for n in range(3):
            people.register_subscriber(session, normalize_phone(f"+4477009001{n:02d}"))

    new_key = vault.new_key_settings(master_key_id="k2")["REFUGE_MASTER_KEYS"]
    env["REFUGE_MASTER_KEYS"] = f"{new_key},{env['REFUGE_MASTER_KEYS']}"
    rotated = create_app(load_config(env))
    first = invoke(rotated, "keys", "rotate", "--batch-size", "2")
    assert first.exit_code == 0
    assert "3 data keys now wrapped by k2" in first.output
    again = invoke(rotated, "keys", "rotate")
    assert "every data key is already wrapped by k2" in again.output

    env["REFUGE_MASTER_KEYS"] = new_key  # the old key retired
    retired = create_app(load_config(env))
    with db.get_database(retired).session() as session:
        found = people.find_subscriber(session, normalize_phone("+447700900101"))
        assert found is not None
        assert found.phone == "+447700900101"


def test_keys_rotate_without_the_old_key_fails_closed(tmp_path: Path, database_url: str) -> None:
    env = refuge_env(tmp_path, REFUGE_DATABASE_URL=database_url)
    old = create_app(load_config(env))
    db.Base.metadata.create_all(db.get_database(old).engine)
    with db.get_database(old).session() as session:
        people.register_subscriber(session, normalize_phone("+447700900123"))
    env["REFUGE_MASTER_KEYS"] = vault.new_key_settings(master_key_id="k2")["REFUGE_MASTER_KEYS"]
    result = invoke(create_app(load_config(env)), "keys", "rotate")
    assert result.exit_code == 1
    assert "which REFUGE_MASTER_KEYS does not hold" in result.output


def test_notes_keygen_writes_a_private_file_and_refuses_to_overwrite(
    app: Flask, tmp_path: Path
) -> None:
    key_file = tmp_path / "ngo.pem"
    result = invoke(app, "notes", "keygen", "--out", str(key_file))
    assert result.exit_code == 0
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    assert "public key:" in result.output
    assert key_file.read_bytes().startswith(b"-----BEGIN PRIVATE KEY-----")
    before = key_file.read_bytes()
    again = invoke(app, "notes", "keygen", "--out", str(key_file))
    assert again.exit_code == 1
    assert key_file.read_bytes() == before


def test_exported_notes_open_offline_with_the_ngo_key_only(app: Flask, tmp_path: Path) -> None:
    key_file = tmp_path / "ngo.pem"
    keygen = invoke(app, "notes", "keygen", "--out", str(key_file))
    public_b64 = next(
        line.split(":", 1)[1].strip()
        for line in keygen.output.splitlines()
        if line.startswith("public key:")
    )
    public = base64.b64decode(public_b64)
    with db.get_database(app).session() as session:
        person = people.register_subscriber(session, normalize_phone("+447700900123"))
        people.leave_note(session, person, public, "Soldiers searched the clinic at dawn.")

    exported = invoke(app, "notes", "export")
    assert exported.exit_code == 0
    assert "Soldiers" not in exported.output
    record = json.loads(exported.output.strip())
    assert record["recipient"] == vault.key_fingerprint(public)

    opened = invoke(app, "notes", "open", "--key", str(key_file), stdin=exported.output)
    assert opened.exit_code == 0
    assert "Soldiers searched the clinic at dawn." in opened.output

    stranger = tmp_path / "stranger.pem"
    invoke(app, "notes", "keygen", "--out", str(stranger))
    refused = invoke(app, "notes", "open", "--key", str(stranger), stdin=exported.output)
    assert refused.exit_code == 1
    assert "Soldiers" not in refused.output


def test_purge_reports_what_it_deleted(app: Flask) -> None:
    long_ago = date.today() - timedelta(days=400)
    with db.get_database(app).session() as session:
        people.register_subscriber(session, normalize_phone("+447700900123"), today=long_ago)
        people.register_subscriber(session, normalize_phone("+447700900456"))
    result = invoke(app, "purge")
    assert result.exit_code == 0
    assert "inactive_subscribers: 1 deleted" in result.output


@pytest.mark.parametrize("garbage", [b"not a key", b"-----BEGIN PRIVATE KEY-----\nAAAA\n"])
def test_notes_open_with_a_broken_key_file_is_a_clear_error(
    app: Flask, tmp_path: Path, garbage: bytes
) -> None:
    key_file = tmp_path / "broken.pem"
    key_file.write_bytes(garbage)
    result = invoke(app, "notes", "open", "--key", str(key_file), stdin="")
    assert result.exit_code == 1
    assert "not an unencrypted PEM private key" in result.output
