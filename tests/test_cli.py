"""The `refuge` command as an operator meets it: clear help, one-line errors, a working demo."""

from __future__ import annotations

import base64
import importlib.metadata
import json
import os
import socket
import stat
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from server import vault
from tests.conftest import refuge_env

REFUGE = str(Path(sys.executable).parent / "refuge")


def run(
    env: dict[str, str], *args: str, cwd: Path | None = None, stdin: str | None = None
) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("REFUGE_")}
    return subprocess.run(
        [REFUGE, *args],
        env={**clean, **env},
        cwd=cwd,
        input=stdin,
        capture_output=True,
        text=True,
        timeout=60,
    )


def files_in(folder: Path) -> list[str]:
    return sorted(str(path.relative_to(folder)) for path in folder.rglob("*"))


def test_help_lists_the_operator_commands(tmp_path: Path) -> None:
    result = run(refuge_env(tmp_path), "--help")
    assert result.returncode == 0
    for command in ("db", "demo"):
        assert f"  {command} " in result.stdout


def test_version_is_refuges_own(tmp_path: Path) -> None:
    result = run({}, "--version", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == f"refuge, version {importlib.metadata.version('refuge')}"


@pytest.mark.parametrize("env", [{}, {"REFUGE_ENV": "production"}])
@pytest.mark.parametrize("args", [("--help",), ("keys", "--help"), ("keys", "generate")])
def test_help_and_key_generation_need_no_settings_and_write_nothing(
    tmp_path: Path, env: dict[str, str], args: tuple[str, ...]
) -> None:
    result = run(env, *args, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert files_in(tmp_path) == []


@pytest.mark.parametrize("env", [{}, {"REFUGE_ENV": "production"}])
def test_notes_keygen_and_open_work_offline_writing_only_the_key(
    tmp_path: Path, env: dict[str, str]
) -> None:
    made = run(env, "notes", "keygen", "--out", "ngo.pem", cwd=tmp_path)
    assert made.returncode == 0, made.stderr
    assert files_in(tmp_path) == ["ngo.pem"]
    assert stat.S_IMODE((tmp_path / "ngo.pem").stat().st_mode) == 0o600
    public = base64.b64decode(made.stdout.split("public key:")[1].split()[0])
    sealed = vault.seal(public, "Met at the clinic; follow up Monday.", "note:7")
    line = json.dumps({"id": 7, "sealed": sealed.hex(), "context": "note:7"})
    opened = run(env, "notes", "open", "--key", "ngo.pem", cwd=tmp_path, stdin=line + "\n")
    assert opened.returncode == 0, opened.stderr
    assert "Met at the clinic; follow up Monday." in opened.stdout
    assert files_in(tmp_path) == ["ngo.pem"]


def test_db_upgrade_migrates_a_fresh_instance(tmp_path: Path) -> None:
    result = run(refuge_env(tmp_path), "db", "upgrade")
    assert result.returncode == 0, result.stderr
    assert "database at revision" in result.stdout
    assert files_in(tmp_path / "instance") == ["refuge.sqlite3"]
    assert stat.S_IMODE((tmp_path / "instance").stat().st_mode) == 0o700
    assert "DEVELOPMENT KEYS" not in result.stderr
    again = run(refuge_env(tmp_path), "db", "current")
    assert "database: 0001" in again.stdout or "database: " in again.stdout


def test_a_command_without_keys_names_where_they_come_from_and_writes_nothing(
    tmp_path: Path,
) -> None:
    result = run({"REFUGE_INSTANCE_PATH": str(tmp_path / "instance")}, "db", "upgrade")
    assert result.returncode == 2
    assert result.stderr.startswith("refuge: REFUGE_SECRET_KEY is not set")
    assert "`refuge demo`" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
    assert files_in(tmp_path) == []


@pytest.mark.parametrize(
    ("setting", "value", "line"),
    [
        ("REFUGE_DATABSE_URL", "sqlite://", "refuge: REFUGE_DATABSE_URL is not a Refuge setting"),
        ("REFUGE_DATABASE_URL", "://nope", "refuge: REFUGE_DATABASE_URL is not a database URL"),
        ("REFUGE_ENV", "production", "refuge: REFUGE_DATABASE_URL is required in production"),
    ],
)
def test_bad_configuration_is_one_clear_line_and_a_failure(
    tmp_path: Path, setting: str, value: str, line: str
) -> None:
    result = run({**refuge_env(tmp_path), setting: value}, "db", "upgrade")
    assert result.returncode == 2
    assert result.stderr.strip().startswith(line)
    assert len(result.stderr.strip().splitlines()) == 1
    assert "Traceback" not in result.stderr


def test_an_unwritable_instance_is_one_clear_line(tmp_path: Path) -> None:
    (tmp_path / "file").write_text("")
    result = run({"REFUGE_INSTANCE_PATH": str(tmp_path / "file" / "instance")}, "db", "upgrade")
    assert result.returncode == 2
    assert result.stderr.startswith("refuge: REFUGE_INSTANCE_PATH: cannot write to")
    assert len(result.stderr.strip().splitlines()) == 1


def test_an_unreachable_database_is_one_clear_line(tmp_path: Path) -> None:
    with socket.socket() as probe:  # a port that nothing listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    url = f"postgresql://refuge:s3cret@127.0.0.1:{port}/refuge"
    result = run(refuge_env(tmp_path, REFUGE_DATABASE_URL=url), "db", "upgrade")
    assert result.returncode != 0
    errors = [line for line in result.stderr.splitlines() if line.startswith("Error:")]
    assert len(errors) == 1
    assert errors[0].startswith(
        f"Error: cannot reach the database at postgresql+psycopg://refuge:***@127.0.0.1:{port}/refuge"
    )
    assert "s3cret" not in result.stderr
    assert "Traceback" not in result.stderr


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def test_demo_serves_health_without_logging_addresses(tmp_path: Path) -> None:
    port = _free_port()
    clean = {k: v for k, v in os.environ.items() if not k.startswith("REFUGE_")}
    env = {**clean, "REFUGE_INSTANCE_PATH": str(tmp_path / "instance")}
    demo = subprocess.Popen(
        [REFUGE, "demo", "--port", str(port)],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        status = None
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and status is None:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=2) as r:
                    status = r.status
            except OSError:
                time.sleep(0.2)
        assert status == 200
    finally:
        demo.terminate()
        output, _ = demo.communicate(timeout=10)
    assert f"Refuge is running at http://127.0.0.1:{port}/" in output
    assert output.count("DEVELOPMENT KEYS") == 1
    assert "Texts go only to numbers in: BD, SD, UA" in output  # production's allow-list
    keys_file = tmp_path / "instance" / "keys.json"
    assert stat.S_IMODE(keys_file.stat().st_mode) == 0o600
    access = [line for line in output.splitlines() if "GET /healthz" in line]
    assert access
    assert all("127.0.0.1" not in line for line in access)
