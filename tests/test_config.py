"""Settings: validated once at start-up, each problem named by its variable."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest

from server import vault
from server.config import (
    ConfigError,
    Environment,
    SmsBackend,
    ensure_development_keys,
    load_config,
)
from tests.conftest import refuge_env

PRODUCTION = {
    "REFUGE_ENV": "production",
    "REFUGE_DATABASE_URL": "postgresql://refuge@db.internal/refuge",
    "REFUGE_SMS_BACKEND": "twilio",
    "REFUGE_TWILIO_ACCOUNT_SID": "AC" + "0" * 32,
    "REFUGE_TWILIO_AUTH_TOKEN": "secret-token",
    "REFUGE_TWILIO_FROM": "+15550100",
    "REFUGE_PUBLIC_URL": "https://refuge.example.org",
}


def production_env(tmp_path: Path, **overrides: str) -> dict[str, str]:
    env = {**refuge_env(tmp_path), **PRODUCTION, **overrides}
    return {name: value for name, value in env.items() if value != ""}


def test_development_defaults_need_no_configuration(tmp_path: Path) -> None:
    settings = load_config(refuge_env(tmp_path, REFUGE_INSTANCE_PATH=str(tmp_path / "inst")))
    assert settings.env is Environment.DEVELOPMENT
    assert settings.sms_backend is SmsBackend.CONSOLE
    assert settings.uses_sqlite
    assert settings.database_url.database == str(tmp_path / "inst" / "refuge.sqlite3")


def test_loading_the_configuration_writes_nothing(tmp_path: Path) -> None:
    load_config(refuge_env(tmp_path, REFUGE_INSTANCE_PATH=str(tmp_path / "a" / "b")))
    env = {"REFUGE_INSTANCE_PATH": str(tmp_path / "c")}
    with pytest.raises(ConfigError, match=r"REFUGE_SECRET_KEY is not set .*`refuge demo`"):
        load_config(env)
    assert list(tmp_path.iterdir()) == []


def test_development_keys_are_generated_once_and_private(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    env = {"REFUGE_INSTANCE_PATH": str(tmp_path / "inst")}
    ensure_development_keys(env)
    assert "DEVELOPMENT KEYS" in caplog.text
    keys_file = tmp_path / "inst" / "keys.json"
    assert stat.S_IMODE(keys_file.stat().st_mode) == 0o600
    first = load_config(env)
    caplog.clear()
    ensure_development_keys(env)
    assert "DEVELOPMENT KEYS" not in caplog.text
    second = load_config(env)
    assert first.master_keys.keys == second.master_keys.keys
    assert first.index_key == second.index_key
    assert first.secret_key == second.secret_key


def test_a_stale_temporary_file_never_leaves_development_keys_readable_by_others(
    tmp_path: Path,
) -> None:
    instance = tmp_path / "inst"
    instance.mkdir(mode=0o700)
    stale = instance / "keys.tmp"
    stale.write_text("{}", encoding="utf-8")
    stale.chmod(0o644)  # left by an interrupted run, made under a permissive umask
    ensure_development_keys({"REFUGE_INSTANCE_PATH": str(instance)})
    keys_file = instance / "keys.json"
    assert stat.S_IMODE(keys_file.stat().st_mode) == 0o600
    assert not stale.exists()
    assert load_config({"REFUGE_INSTANCE_PATH": str(instance)}).index_key


def test_explicit_keys_win_over_the_development_file(tmp_path: Path) -> None:
    explicit = vault.new_key_settings(master_key_id="k7")
    env = {"REFUGE_INSTANCE_PATH": str(tmp_path), "REFUGE_TWILIO_AUTH_TOKEN": "t0ken", **explicit}
    settings = load_config(env)
    assert settings.master_keys.current_id == "k7"
    assert settings.twilio_auth_token == "t0ken"
    assert not (tmp_path / "keys.json").exists()


def test_development_generates_a_webhook_token_for_the_simulator(tmp_path: Path) -> None:
    explicit = vault.new_key_settings(master_key_id="k7")
    env = {"REFUGE_INSTANCE_PATH": str(tmp_path), **explicit}
    assert load_config(env).twilio_auth_token is None  # its webhook refuses every request
    ensure_development_keys(env)
    first = load_config(env)
    again = load_config(env)
    assert first.twilio_auth_token
    assert first.twilio_auth_token == again.twilio_auth_token
    assert first.master_keys.current_id == "k7"  # explicit keys still win


def test_a_valid_production_configuration_loads(tmp_path: Path) -> None:
    settings = load_config(production_env(tmp_path))
    assert settings.production
    assert settings.database_url.drivername == "postgresql+psycopg"


@pytest.mark.parametrize("missing", ["REFUGE_SECRET_KEY", "REFUGE_MASTER_KEYS", "REFUGE_INDEX_KEY"])
def test_production_refuses_to_start_without_a_key(tmp_path: Path, missing: str) -> None:
    with pytest.raises(ConfigError, match=missing):
        load_config(production_env(tmp_path, **{missing: ""}))
    ensure_development_keys(production_env(tmp_path, **{missing: ""}))
    assert not (tmp_path / "instance" / "keys.json").exists()


def test_production_refuses_sqlite_without_an_explicit_opt_in(tmp_path: Path) -> None:
    sqlite = f"sqlite:///{tmp_path / 'db.sqlite3'}"
    with pytest.raises(ConfigError, match="REFUGE_ALLOW_SQLITE"):
        load_config(production_env(tmp_path, REFUGE_DATABASE_URL=sqlite))
    allowed = load_config(
        production_env(tmp_path, REFUGE_DATABASE_URL=sqlite, REFUGE_ALLOW_SQLITE="true")
    )
    assert allowed.uses_sqlite


def test_production_refuses_the_console_sms_channel(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="REFUGE_SMS_BACKEND=console"):
        load_config(production_env(tmp_path, REFUGE_SMS_BACKEND="console"))


def test_production_needs_an_https_public_url(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="REFUGE_PUBLIC_URL must use https"):
        load_config(production_env(tmp_path, REFUGE_PUBLIC_URL="http://refuge.example.org"))


def test_twilio_needs_a_sender(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"REFUGE_TWILIO_FROM or REFUGE_TWILIO_MESSAGING"):
        load_config(production_env(tmp_path, REFUGE_TWILIO_FROM=""))


def test_a_misspelt_variable_is_named_with_a_suggestion(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"REFUGE_DATABSE_URL .*did you mean REFUGE_DATABASE_URL"):
        load_config({**refuge_env(tmp_path), "REFUGE_DATABSE_URL": "sqlite://"})


@pytest.mark.parametrize(
    ("name", "value", "complaint"),
    [
        ("REFUGE_ENV", "staging", "REFUGE_ENV='staging' is not one of: development, production"),
        ("REFUGE_SMS_BACKEND", "pigeon", "REFUGE_SMS_BACKEND='pigeon' is not one of"),
        ("REFUGE_DATABASE_URL", "not a url", "REFUGE_DATABASE_URL is not a database URL"),
        ("REFUGE_DATABASE_URL", "mysql://x@y/z", "REFUGE_DATABASE_URL uses 'mysql'"),
        ("REFUGE_LOG_LEVEL", "LOUD", "REFUGE_LOG_LEVEL='LOUD' is not one of"),
        ("REFUGE_PUBLIC_URL", "ftp://x", "REFUGE_PUBLIC_URL='ftp://x' must be an http"),
        ("REFUGE_ALLOW_SQLITE", "maybe", "REFUGE_ALLOW_SQLITE='maybe' must be true or false"),
        ("REFUGE_SECRET_KEY", "c2hvcnQ", "REFUGE_SECRET_KEY is 5 bytes long; at least 32"),
        ("REFUGE_INDEX_KEY", "***not base64***", "REFUGE_INDEX_KEY is not valid base64"),
        ("REFUGE_MASTER_KEYS", "nocolon", "REFUGE_MASTER_KEYS entry 1 must look like"),
        ("REFUGE_LOCALES", "en,klingon", "REFUGE_LOCALES: 'klingon' is not a language tag"),
        ("REFUGE_LOCALES", "ar,fr", "REFUGE_LOCALES must include en"),
        ("REFUGE_LOCALE_FALLBACKS", "rhg", "REFUGE_LOCALE_FALLBACKS: 'rhg' must look like"),
        ("REFUGE_LOCALE_SCRIPTS", "rhg=Latin", "REFUGE_LOCALE_SCRIPTS: 'Latin' is not an ISO"),
        ("REFUGE_STALE_TRANSLATIONS", "ar=hide", "ar='hide' is not one of: mark, fallback"),
        ("REFUGE_RETAIN_INACTIVE_DAYS", "forever", "REFUGE_RETAIN_INACTIVE_DAYS='forever' must"),
        ("REFUGE_ALERT_LATE_MINUTES", "0", "REFUGE_ALERT_LATE_MINUTES='0' must be between 1"),
    ],
)
def test_a_bad_value_is_refused_naming_its_variable(
    tmp_path: Path, name: str, value: str, complaint: str
) -> None:
    with pytest.raises(ConfigError) as refused:
        load_config({**refuge_env(tmp_path), name: value})
    assert str(refused.value).startswith(complaint)


def test_an_unwritable_instance_directory_is_a_startup_error(tmp_path: Path) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("not a directory")
    with pytest.raises(ConfigError, match="REFUGE_INSTANCE_PATH: cannot write to"):
        load_config({"REFUGE_INSTANCE_PATH": str(blocker / "instance")})


def test_settings_never_show_keys_or_secrets_in_their_repr(tmp_path: Path) -> None:
    env = production_env(tmp_path)
    settings = load_config(env)
    shown = repr(settings)
    for name in ("REFUGE_SECRET_KEY", "REFUGE_INDEX_KEY", "REFUGE_TWILIO_AUTH_TOKEN"):
        assert env[name] not in shown
    assert env["REFUGE_MASTER_KEYS"].split(":")[1] not in shown
    assert "refuge@db.internal" not in shown


def test_localization_settings_are_read(tmp_path: Path) -> None:
    settings = load_config(
        {
            **refuge_env(tmp_path),
            "REFUGE_LOCALES": "en,ar,fa",
            "REFUGE_LOCALE_FALLBACKS": "fa=ar,en",
            "REFUGE_STALE_TRANSLATIONS": "ar=fallback",
        }
    )
    localization = settings.localization
    assert localization.locales == ("en", "ar", "fa")
    assert localization.chain("fa") == ("fa", "ar", "en")
    assert localization.chain("rhg") == ("rhg", "en")  # never into Burmese script
    assert localization.script("rhg") == "Latn"
    assert localization.stale("ar").value == "fallback"
    assert localization.stale("fa").value == "mark"
