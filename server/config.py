"""Settings: read once from REFUGE_* variables, validated, frozen.

`load_config` is the only reader of the environment; everything else receives a `Settings`.
Each setting has a small loader that raises `ConfigError` naming the variable, so a
misconfigured server refuses to start with one clear line instead of failing later.
`load_config` writes nothing: a development instance's keys file is made by
`ensure_development_keys`, which only the commands that serve call (`refuge demo`).
"""

from __future__ import annotations

import difflib
import enum
import json
import logging
import os
from collections.abc import Callable, Mapping
from contextlib import suppress
from dataclasses import dataclass, field
from pathlib import Path
from typing import TypeVar
from urllib.parse import urlsplit

from babel import Locale, UnknownLocaleError
from flask import Flask, current_app
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError

from server import vault
from server.scripts import DEFAULT_SCRIPTS, script_of

log = logging.getLogger(__name__)

#: Variables the application reads. Anything else starting with REFUGE_ is a typo.
KNOWN = frozenset(
    {
        "REFUGE_ENV",
        "REFUGE_INSTANCE_PATH",
        "REFUGE_DATABASE_URL",
        "REFUGE_ALLOW_SQLITE",
        "REFUGE_SECRET_KEY",
        "REFUGE_MASTER_KEYS",
        "REFUGE_INDEX_KEY",
        "REFUGE_SMS_BACKEND",
        "REFUGE_TWILIO_ACCOUNT_SID",
        "REFUGE_TWILIO_AUTH_TOKEN",
        "REFUGE_TWILIO_FROM",
        "REFUGE_TWILIO_MESSAGING_SERVICE_SID",
        "REFUGE_TWILIO_API_BASE",
        "REFUGE_PUBLIC_URL",
        "REFUGE_LOG_LEVEL",
        "REFUGE_RETAIN_INACTIVE_DAYS",
        "REFUGE_RETAIN_RECEIPTS_DAYS",
        "REFUGE_RETAIN_SENT_DAYS",
        "REFUGE_NOTE_RETENTION_DAYS",
        "REFUGE_LOCALES",
        "REFUGE_LOCALE_FALLBACKS",
        "REFUGE_LOCALE_SCRIPTS",
        "REFUGE_FIRST_CONTACT_LANGUAGES",
        "REFUGE_STALE_TRANSLATIONS",
        "REFUGE_UI_RELOAD_SECONDS",
        "REFUGE_SMS_REPLIES_PER_HOUR",
        "REFUGE_SMS_REPLIES_PER_DAY",
        "REFUGE_SMS_SEGMENT_BUDGETS",
        "REFUGE_SMS_KEEP_ACCENTS",
        "REFUGE_SMS_RATE",
        "REFUGE_SMS_PROVIDER_BACKLOG_SECONDS",
        "REFUGE_SMS_MAX_ATTEMPTS",
        "REFUGE_SMS_CAP_PER_NUMBER",
        "REFUGE_SMS_CAP_PER_PREFIX",
        "REFUGE_SMS_CAP_PER_REGION",
        "REFUGE_SMS_CAP_PER_DAY",
        "REFUGE_SMS_COUNTRIES",
        "REFUGE_ALERT_LATE_MINUTES",
        "REFUGE_TWILIO_TIMEOUT_SECONDS",
        "REFUGE_TWILIO_WHATSAPP_FROM",
        "REFUGE_TWILIO_WHATSAPP_TEMPLATE_SID",
        "REFUGE_PORTAL_SESSION_MINUTES",
        "REFUGE_INVITE_HOURS",
        "REFUGE_OPERATOR_NAME",
    }
)
#: Variables read by the test suite and tooling, not by the application.
TOOLING = frozenset({"REFUGE_TEST_DATABASE_URL", "REFUGE_REQUIRE_BROWSER", "REFUGE_CHROMIUM"})

KEY_VARIABLES = ("REFUGE_SECRET_KEY", "REFUGE_MASTER_KEYS", "REFUGE_INDEX_KEY")
#: Signs webhooks; in development generated with the keys so the simulator can sign too.
WEBHOOK_TOKEN_VARIABLE = "REFUGE_TWILIO_AUTH_TOKEN"  # noqa: S105 (a variable name)
DEV_KEYS_FILE = "keys.json"
TWILIO_API_BASE = "https://api.twilio.com"
LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR")


class ConfigError(Exception):
    """A setting is missing, malformed or unsafe; the message names the variable."""


@dataclass(frozen=True)
class Retention:
    """How many days Refuge keeps what it no longer needs; `refuge purge` deletes the rest."""

    inactive_subscriber_days: int = 180
    receipt_days: int = 7
    sent_message_days: int = 7
    # Sealed notes: counted from the day a caseworker marked the note handled, or from the day
    # it was written while nobody has (`server.people.purge_notes` says why).
    note_days: int = 90


DEFAULT_LOCALES = ("en", "ar", "fr", "uk", "my", "bn", "rhg")
#: The language content is written in, the end of every fallback chain.
DEFAULT_SOURCE_LOCALE = "en"


class StalePolicy(enum.Enum):
    """What a page does with a translation whose source text changed since."""

    MARK = "mark"  # show it, marked as possibly out of date
    FALLBACK = "fallback"  # show the next language in the fallback chain instead


@dataclass(frozen=True)
class Localization:
    """Which languages Refuge speaks and how it falls back between them."""

    locales: tuple[str, ...] = DEFAULT_LOCALES
    #: Per locale, the languages to try when a text is missing, before English (the language
    #: content is written in, always last). Each must be written in the locale's own script
    #: (`check_fallback_scripts`): Rohingya, texted in Latin letters, falls back to English,
    #: never to Burmese, whose script most Rohingya readers in the camps do not read.
    fallbacks: tuple[tuple[str, tuple[str, ...]], ...] = ()
    #: Per locale, the script its people write in when CLDR's default is not theirs.
    scripts: tuple[tuple[str, str], ...] = DEFAULT_SCRIPTS
    stale_policy: tuple[tuple[str, StalePolicy], ...] = ()
    #: Per country (ISO 3166), the languages a new number from there is offered, in order:
    #: its first message is answered with a greeting in the first two and a menu of them all.
    #: Cox's Bazar's camps: most people read Rohingya (in Latin letters), not Bengali.
    first_contact: tuple[tuple[str, tuple[str, ...]], ...] = (("BD", ("rhg", "bn", "en")),)
    #: How often (seconds) a process looks for UI translations saved in the portal.
    ui_reload_seconds: int = 30

    def chain(self, locale: str) -> tuple[str, ...]:
        """The locale, then its fallbacks, ending with the default language."""
        chain = [locale, *dict(self.fallbacks).get(locale, ())]
        if "en" not in chain:
            chain.append("en")
        return tuple(dict.fromkeys(chain))

    def script(self, locale: str) -> str | None:
        """The script override for a locale, if any."""
        return dict(self.scripts).get(locale)

    def script_of(self, locale: str) -> str | None:
        """The script a locale's people read: the override, else CLDR's likely script."""
        return script_of(locale, dict(self.scripts))

    def stale(self, locale: str) -> StalePolicy:
        """What to do with a stale translation in this locale."""
        return dict(self.stale_policy).get(locale, StalePolicy.MARK)

    def offered(self, country: str | None) -> tuple[str, ...]:
        """The languages a new number from this country is offered first (served ones only)."""
        wanted = dict(self.first_contact).get(country or "", ())
        return tuple(locale for locale in wanted if locale in self.locales)


def check_fallback_scripts(localization: Localization) -> None:
    """Refuse a fallback into another script (a Latin-script locale falling back to Burmese).

    Text in a script the reader does not read is worse than English, the last resort of
    every chain: it costs UCS-2 segments and shows as boxes on phones without the font.
    """
    for locale, chain in localization.fallbacks:
        own = localization.script_of(locale)
        for fallback in chain:
            theirs = localization.script_of(fallback)
            if fallback != DEFAULT_SOURCE_LOCALE and own and theirs != own:
                raise ConfigError(
                    f"REFUGE_LOCALE_FALLBACKS: {locale} ({own} script) cannot fall back to "
                    f"{fallback} ({theirs or 'unknown'} script); its readers may not read it. "
                    "Name a language in the same script, or none (English comes last anyway)"
                )


@dataclass(frozen=True)
class Messaging:
    """Limits and costs of the SMS conversation."""

    replies_per_hour: int = 30
    replies_per_day: int = 100
    #: Per locale, how many segments one reply may take (default: 2 GSM-7, 3 UCS-2).
    segment_budgets: tuple[tuple[str, int], ...] = ()
    #: Locales whose accented letters are kept even when that makes a message UCS-2.
    keep_accents: tuple[str, ...] = ()

    def budget(self, locale: str) -> int | None:
        """The segment budget set for a locale, or None for the encoding's default."""
        return dict(self.segment_budgets).get(locale)


@dataclass(frozen=True)
class Delivery:
    """How outbound messages leave: pace, retries, caps against SMS pumping, WhatsApp."""

    #: Messages per second each sender number may hand to the provider.
    rate_per_second: float = 1.0
    #: How far ahead of the pace the provider's own queue may be filled (seconds).
    provider_backlog_seconds: int = 60
    #: Attempts before a message that keeps meeting temporary errors is marked failed.
    max_attempts: int = 8
    #: Per day: messages to one number, to one number prefix, in one region, in all.
    cap_per_number: int = 20
    cap_per_prefix: int = 200
    cap_per_region: int = 5_000
    cap_per_day: int = 20_000
    #: ISO 3166 countries messages may go to; empty: the countries of the regions served.
    countries: tuple[str, ...] = ()
    #: Seconds the provider's API gets to answer one request.
    timeout_seconds: float = 10.0
    #: The WhatsApp sender (default: `whatsapp:` and REFUGE_TWILIO_FROM).
    whatsapp_from: str | None = None
    #: An approved WhatsApp template (Content SID) for messages outside the 24-hour window.
    whatsapp_template_sid: str | None = None
    #: Minutes an alert or all-clear may wait past its time before operators are told.
    alert_late_minutes: int = 15


class Environment(enum.Enum):
    """Where Refuge runs: development relaxes nothing that protects people, only set-up."""

    DEVELOPMENT = "development"
    PRODUCTION = "production"


class SmsBackend(enum.Enum):
    """How outbound messages leave: printed to the console (development) or through Twilio."""

    CONSOLE = "console"
    TWILIO = "twilio"


E = TypeVar("E", bound=enum.Enum)


def parse_enum(kind: type[E], name: str, raw: str) -> E:
    """Parse an enum value case-insensitively, listing the choices when it is unknown."""
    try:
        return kind(raw.strip().lower())
    except ValueError:
        choices = ", ".join(str(member.value) for member in kind)
        raise ConfigError(f"{name}={raw!r} is not one of: {choices}") from None


def parse_bool(name: str, raw: str) -> bool:
    """Parse a yes/no setting."""
    value = raw.strip().lower()
    if value in {"1", "true", "yes", "on"}:
        return True
    if value in {"0", "false", "no", "off", ""}:
        return False
    raise ConfigError(f"{name}={raw!r} must be true or false")


@dataclass(frozen=True)
class Settings:
    """Everything Refuge is configured with; built by `load_config` and never changed."""

    env: Environment
    instance_path: Path
    database_url: URL = field(repr=False)
    secret_key: bytes = field(repr=False)
    master_keys: vault.Keyring = field(repr=False)
    #: Index key versions, current first (`REFUGE_INDEX_KEY`; a bare key is version i1).
    index_keys: vault.Keyring = field(repr=False)
    sms_backend: SmsBackend = SmsBackend.CONSOLE
    twilio_account_sid: str | None = None
    twilio_auth_token: str | None = field(default=None, repr=False)
    twilio_from: str | None = None
    twilio_messaging_service_sid: str | None = None
    twilio_api_base: str = TWILIO_API_BASE
    public_url: str = "http://127.0.0.1:5000"
    log_level: str = "INFO"
    retention: Retention = field(default_factory=Retention)
    localization: Localization = field(default_factory=Localization)
    messaging: Messaging = field(default_factory=Messaging)
    delivery: Delivery = field(default_factory=Delivery)
    #: Minutes a portal session lives without activity.
    portal_session_minutes: int = 30
    #: Hours an invitation link to the portal stays usable.
    invite_hours: int = 72
    #: Who runs this instance, as the about page names them ("" : the public address's host).
    operator_name: str = ""

    @property
    def production(self) -> bool:
        """True when running for real people."""
        return self.env is Environment.PRODUCTION

    @property
    def index_key(self) -> bytes:
        """The current index key version's key."""
        return self.index_keys.keys[0][1]

    @property
    def https(self) -> bool:
        """True when people reach Refuge over https: cookies are then marked Secure."""
        return self.public_url.startswith("https://")

    @property
    def uses_sqlite(self) -> bool:
        """True when the database is an embedded SQLite file."""
        return self.database_url.get_backend_name() == "sqlite"


def load_config(env: Mapping[str, str]) -> Settings:
    """Build validated Settings from a mapping of REFUGE_* variables."""
    _refuse_unknown(env)
    get = _reader(env)
    environment = _environment(get)
    production = environment is Environment.PRODUCTION
    instance = _instance(get)

    database_url = _database_url(get("REFUGE_DATABASE_URL"), instance, production)
    allow_sqlite = parse_bool("REFUGE_ALLOW_SQLITE", get("REFUGE_ALLOW_SQLITE") or "")
    if database_url.get_backend_name() == "sqlite" and production and not allow_sqlite:
        raise ConfigError(
            "REFUGE_DATABASE_URL is SQLite in production; use PostgreSQL, "
            "or set REFUGE_ALLOW_SQLITE=true for a single-machine deployment"
        )

    keys = {name: get(name) for name in KEY_VARIABLES}
    missing = [name for name, value in keys.items() if value is None]
    if missing and production:
        raise ConfigError(
            f"{missing[0]} is required in production (`refuge keys generate` prints a fresh set)"
        )
    webhook_token = get(WEBHOOK_TOKEN_VARIABLE)
    if not production and (missing or webhook_token is None):
        stored = _read_development_keys(instance)
        keys = {name: value or stored.get(name) for name, value in keys.items()}
        webhook_token = webhook_token or stored.get(WEBHOOK_TOKEN_VARIABLE)
        missing = [name for name, value in keys.items() if value is None]
        if missing:
            raise ConfigError(
                f"{missing[0]} is not set and {instance / DEV_KEYS_FILE} does not exist: "
                "`refuge demo` makes development keys there, or set the keys that "
                "`refuge keys generate` prints"
            )

    sms_backend = parse_enum(
        SmsBackend, "REFUGE_SMS_BACKEND", get("REFUGE_SMS_BACKEND") or "console"
    )
    if production and sms_backend is SmsBackend.CONSOLE:
        raise ConfigError(
            "REFUGE_SMS_BACKEND=console prints messages instead of sending them; "
            "production needs twilio"
        )
    settings = Settings(
        env=environment,
        instance_path=instance,
        database_url=database_url,
        secret_key=_key("REFUGE_SECRET_KEY", keys, vault.decode_key),
        master_keys=_key("REFUGE_MASTER_KEYS", keys, vault.parse_keyring),
        index_keys=_key("REFUGE_INDEX_KEY", keys, vault.parse_index_keyring),
        sms_backend=sms_backend,
        twilio_account_sid=get("REFUGE_TWILIO_ACCOUNT_SID"),
        twilio_auth_token=webhook_token,
        twilio_from=get("REFUGE_TWILIO_FROM"),
        twilio_messaging_service_sid=get("REFUGE_TWILIO_MESSAGING_SERVICE_SID"),
        twilio_api_base=_http_url(
            "REFUGE_TWILIO_API_BASE", get("REFUGE_TWILIO_API_BASE") or TWILIO_API_BASE
        ),
        public_url=_public_url(get("REFUGE_PUBLIC_URL"), production),
        log_level=_log_level(get("REFUGE_LOG_LEVEL") or "INFO"),
        retention=Retention(
            inactive_subscriber_days=_days(
                "REFUGE_RETAIN_INACTIVE_DAYS", get("REFUGE_RETAIN_INACTIVE_DAYS"), 180
            ),
            receipt_days=_days(
                "REFUGE_RETAIN_RECEIPTS_DAYS", get("REFUGE_RETAIN_RECEIPTS_DAYS"), 7
            ),
            sent_message_days=_days("REFUGE_RETAIN_SENT_DAYS", get("REFUGE_RETAIN_SENT_DAYS"), 7),
            note_days=_days("REFUGE_NOTE_RETENTION_DAYS", get("REFUGE_NOTE_RETENTION_DAYS"), 90),
        ),
        localization=_localization(get),
        messaging=_messaging(get),
        delivery=_delivery(get),
        portal_session_minutes=_count(
            "REFUGE_PORTAL_SESSION_MINUTES",
            get("REFUGE_PORTAL_SESSION_MINUTES"),
            30,
            MAX_PORTAL_SESSION_MINUTES,
        ),
        invite_hours=_count(
            "REFUGE_INVITE_HOURS", get("REFUGE_INVITE_HOURS"), 72, MAX_INVITE_HOURS
        ),
        operator_name=" ".join((get("REFUGE_OPERATOR_NAME") or "").split())[:MAX_OPERATOR_NAME],
    )
    _check_twilio(settings)
    return settings


#: Longest operator name kept (characters); a longer one is cut.
MAX_OPERATOR_NAME = 120

#: Where an app keeps its Settings (`app.extensions[SETTINGS_EXTENSION]`).
SETTINGS_EXTENSION = "refuge.settings"


def app_settings(app: Flask | None = None) -> Settings:
    """The Settings of an app built by `create_app` (the current one by default)."""
    settings: Settings = (app or current_app).extensions[SETTINGS_EXTENSION]
    return settings


def from_environment() -> Settings:
    """Settings from this process's environment: the one place that reads os.environ."""
    return load_config(os.environ)


def ensure_development_keys(env: Mapping[str, str] | None = None) -> None:
    """In development, write the keys the environment does not set into instance/keys.json.

    Made once (0600) and never replaced; production and fully configured instances are left
    alone. Only commands that serve call this, before `load_config` reads the file.
    """
    env = os.environ if env is None else env
    _refuse_unknown(env)
    get = _reader(env)
    if _environment(get) is Environment.PRODUCTION:
        return
    instance = _instance(get)
    unset = [name for name in (*KEY_VARIABLES, WEBHOOK_TOKEN_VARIABLE) if get(name) is None]
    stored = _read_development_keys(instance)
    if all(name in stored for name in unset):
        return
    _write_development_keys(instance, stored)


def _reader(env: Mapping[str, str]) -> Callable[[str], str | None]:
    def get(name: str) -> str | None:
        value = env.get(name)
        return value.strip() if value is not None and value.strip() else None

    return get


def _environment(get: Callable[[str], str | None]) -> Environment:
    return parse_enum(Environment, "REFUGE_ENV", get("REFUGE_ENV") or "development")


def _instance(get: Callable[[str], str | None]) -> Path:
    return Path(get("REFUGE_INSTANCE_PATH") or "instance").expanduser().absolute()


T = TypeVar("T")


def _key(name: str, keys: Mapping[str, str | None], parse: Callable[[str], T]) -> T:
    try:
        return parse(keys[name] or "")
    except vault.KeyFormatError as exc:
        raise ConfigError(f"{name} {exc}") from None


def _refuse_unknown(env: Mapping[str, str]) -> None:
    for name in sorted(env):
        if name.startswith("REFUGE_") and name not in KNOWN and name not in TOOLING:
            close = difflib.get_close_matches(name, sorted(KNOWN), n=1)
            hint = f"; did you mean {close[0]}?" if close else ""
            raise ConfigError(f"{name} is not a Refuge setting{hint}")


def _database_url(raw: str | None, instance: Path, production: bool) -> URL:
    if raw is None:
        if production:
            raise ConfigError("REFUGE_DATABASE_URL is required in production")
        _check_writable(instance)
        return make_url(f"sqlite:///{instance / 'refuge.sqlite3'}")
    try:
        url = make_url(raw)
    except ArgumentError:
        raise ConfigError(
            "REFUGE_DATABASE_URL is not a database URL "
            "(expected postgresql://user@host/db or sqlite:///path)"
        ) from None
    backend = url.get_backend_name()
    if backend == "postgresql":
        # psycopg 3 is the one PostgreSQL driver Refuge ships with.
        return url.set(drivername="postgresql+psycopg")
    if backend == "sqlite":
        if url.database and url.database != ":memory:":
            _check_writable(Path(url.database).expanduser().absolute().parent)
        return url
    raise ConfigError(
        f"REFUGE_DATABASE_URL uses {backend!r}; Refuge supports postgresql and sqlite"
    )


def _check_writable(directory: Path) -> None:
    """Refuse a directory that cannot be made or written to, without writing anything."""
    existing = directory
    while not existing.exists() and existing != existing.parent:
        existing = existing.parent
    if not existing.is_dir():
        reason = "Not a directory"
    elif not os.access(existing, os.W_OK | os.X_OK):
        reason = "Permission denied"
    else:
        return
    raise ConfigError(f"REFUGE_INSTANCE_PATH: cannot write to {directory} ({reason})")


def _ensure_writable(directory: Path) -> None:
    try:
        directory.mkdir(mode=0o700, parents=True, exist_ok=True)
        probe = directory / ".refuge-write-test"
        probe.write_bytes(b"")
        probe.unlink()
    except OSError as exc:
        raise ConfigError(
            f"REFUGE_INSTANCE_PATH: cannot write to {directory} ({exc.strerror})"
        ) from None


def _read_development_keys(instance: Path) -> dict[str, str]:
    """The keys a development instance keeps in instance/keys.json; none when it has no file."""
    path = instance / DEV_KEYS_FILE
    if not path.exists():
        return {}
    try:
        loaded = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        raise ConfigError(f"REFUGE_INSTANCE_PATH: {path} is unreadable or not JSON") from None
    if not isinstance(loaded, dict) or not all(
        isinstance(loaded.get(k), str) for k in KEY_VARIABLES
    ):
        raise ConfigError(f"REFUGE_INSTANCE_PATH: {path} lacks one of {', '.join(KEY_VARIABLES)}")
    wanted = (*KEY_VARIABLES, WEBHOOK_TOKEN_VARIABLE)
    return {k: v for k, v in loaded.items() if k in wanted and isinstance(v, str)}


def _write_development_keys(instance: Path, stored: Mapping[str, str]) -> None:
    """Generate the keys a development instance lacks into instance/keys.json (0600)."""
    path = instance / DEV_KEYS_FILE
    _ensure_writable(instance)
    generated = {**vault.new_key_settings(), WEBHOOK_TOKEN_VARIABLE: vault.new_webhook_token()}
    keys = {**generated, **stored}  # keys already in use are never replaced
    temporary = path.with_suffix(".tmp")
    # A temporary file left by an interrupted run keeps whatever mode it was made with:
    # opening it again would write keys into a file others may read. It goes, and the new
    # one is made private from its first byte (O_EXCL: never an existing file).
    with suppress(FileNotFoundError):
        temporary.unlink()
    descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "w", encoding="utf-8") as handle:
        json.dump(keys, handle, indent=2)
    temporary.replace(path)
    if not stored:
        log.warning(
            "DEVELOPMENT KEYS generated into %s: fine for a laptop, never for real people. "
            "Production reads keys from REFUGE_* variables (`refuge keys generate`).",
            path,
        )


def _http_url(name: str, raw: str) -> str:
    parts = urlsplit(raw)
    if parts.scheme not in {"http", "https"} or not parts.netloc:
        raise ConfigError(f"{name}={raw!r} must be an http(s) URL")
    return raw.rstrip("/")


def _public_url(raw: str | None, production: bool) -> str:
    if raw is None:
        if production:
            raise ConfigError("REFUGE_PUBLIC_URL is required in production (https://...)")
        return "http://127.0.0.1:5000"
    url = _http_url("REFUGE_PUBLIC_URL", raw)
    if production and not url.startswith("https://"):
        raise ConfigError("REFUGE_PUBLIC_URL must use https in production")
    return url


def _locale_tag(name: str, raw: str) -> str:
    tag = raw.strip().replace("-", "_")
    try:
        Locale.parse(tag)
    except (ValueError, UnknownLocaleError):
        raise ConfigError(f"{name}: {raw!r} is not a language tag CLDR knows") from None
    return tag


def _pairs(name: str, raw: str | None) -> list[tuple[str, str]]:
    """Parse "a=x,y;b=z" into [(a, "x,y"), (b, "z")]."""
    if raw is None:
        return []
    pairs = []
    for item in raw.split(";"):
        key, sep, value = item.partition("=")
        if not sep or not key.strip() or not value.strip():
            raise ConfigError(f"{name}: {item!r} must look like locale=value")
        pairs.append((key.strip(), value.strip()))
    return pairs


def _localization(get: Callable[[str], str | None]) -> Localization:
    raw_locales = get("REFUGE_LOCALES")
    locales = (
        tuple(_locale_tag("REFUGE_LOCALES", tag) for tag in raw_locales.split(","))
        if raw_locales
        else DEFAULT_LOCALES
    )
    if "en" not in locales:
        raise ConfigError("REFUGE_LOCALES must include en, the language content is written in")
    defaults = Localization()
    fallbacks = dict(defaults.fallbacks)
    for key, value in _pairs("REFUGE_LOCALE_FALLBACKS", get("REFUGE_LOCALE_FALLBACKS")):
        chain = tuple(_locale_tag("REFUGE_LOCALE_FALLBACKS", tag) for tag in value.split(","))
        fallbacks[_locale_tag("REFUGE_LOCALE_FALLBACKS", key)] = chain
    scripts = dict(defaults.scripts)
    for key, value in _pairs("REFUGE_LOCALE_SCRIPTS", get("REFUGE_LOCALE_SCRIPTS")):
        if not (len(value) == 4 and value.isalpha()):
            raise ConfigError(f"REFUGE_LOCALE_SCRIPTS: {value!r} is not an ISO 15924 script code")
        scripts[_locale_tag("REFUGE_LOCALE_SCRIPTS", key)] = value.title()
    stale = [
        (_locale_tag("REFUGE_STALE_TRANSLATIONS", key), parse_enum(StalePolicy, key, value))
        for key, value in _pairs("REFUGE_STALE_TRANSLATIONS", get("REFUGE_STALE_TRANSLATIONS"))
    ]
    localization = Localization(
        locales=locales,
        fallbacks=tuple(sorted(fallbacks.items())),
        scripts=tuple(sorted(scripts.items())),
        stale_policy=tuple(stale),
        first_contact=_first_contact(get("REFUGE_FIRST_CONTACT_LANGUAGES"), locales),
        ui_reload_seconds=_count(
            "REFUGE_UI_RELOAD_SECONDS", get("REFUGE_UI_RELOAD_SECONDS"), 30, MAX_UI_RELOAD_SECONDS
        ),
    )
    check_fallback_scripts(localization)
    return localization


def _first_contact(
    raw: str | None, locales: tuple[str, ...]
) -> tuple[tuple[str, tuple[str, ...]], ...]:
    """Parse "BD=rhg,bn,en;SD=ar,en"; unset: the default (Bangladesh offers Rohingya first)."""
    name = "REFUGE_FIRST_CONTACT_LANGUAGES"
    if raw is None:
        return tuple(
            (country, tuple(tag for tag in tags if tag in locales))
            for country, tags in Localization().first_contact
        )
    offered = {}
    for country, value in _pairs(name, raw):
        code = country.upper()
        if not (len(code) == 2 and code.isascii() and code.isalpha()):
            raise ConfigError(f"{name}: {country!r} is not an ISO 3166 country code")
        tags = tuple(_locale_tag(name, tag) for tag in value.split(","))
        unserved = [tag for tag in tags if tag not in locales]
        if unserved:
            raise ConfigError(f"{name}: {unserved[0]} is not one of REFUGE_LOCALES")
        if len(set(tags)) != len(tags) or code in offered:
            raise ConfigError(f"{name}: {country}={value} names a country or language twice")
        offered[code] = tags
    return tuple(sorted(offered.items()))


MAX_SEGMENT_BUDGET = 10
#: Saved UI translations must reach every process within a minute.
MAX_UI_RELOAD_SECONDS = 60
MAX_PORTAL_SESSION_MINUTES = 240
#: An invitation link lives at most two weeks: an unused one should not wait in a mailbox.
MAX_INVITE_HOURS = 24 * 14


def _count(name: str, raw: str | None, default: int, most: int) -> int:
    if raw is None:
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ConfigError(f"{name}={raw!r} must be a whole number") from None
    if not 1 <= value <= most:
        raise ConfigError(f"{name}={raw!r} must be between 1 and {most}")
    return value


def _messaging(get: Callable[[str], str | None]) -> Messaging:
    budgets = [
        (
            _locale_tag("REFUGE_SMS_SEGMENT_BUDGETS", key),
            _count("REFUGE_SMS_SEGMENT_BUDGETS", value, 2, MAX_SEGMENT_BUDGET),
        )
        for key, value in _pairs("REFUGE_SMS_SEGMENT_BUDGETS", get("REFUGE_SMS_SEGMENT_BUDGETS"))
    ]
    keep = get("REFUGE_SMS_KEEP_ACCENTS")
    return Messaging(
        replies_per_hour=_count(
            "REFUGE_SMS_REPLIES_PER_HOUR", get("REFUGE_SMS_REPLIES_PER_HOUR"), 30, 10_000
        ),
        replies_per_day=_count(
            "REFUGE_SMS_REPLIES_PER_DAY", get("REFUGE_SMS_REPLIES_PER_DAY"), 100, 100_000
        ),
        segment_budgets=tuple(budgets),
        keep_accents=tuple(_locale_tag("REFUGE_SMS_KEEP_ACCENTS", tag) for tag in keep.split(","))
        if keep
        else (),
    )


MAX_SEND_RATE = 1_000.0
MAX_TIMEOUT_SECONDS = 120.0


def _number(name: str, raw: str | None, default: float, most: float) -> float:
    if raw is None:
        return default
    try:
        value = float(raw)
    except ValueError:
        raise ConfigError(f"{name}={raw!r} must be a number") from None
    if not 0 < value <= most:  # also refuses nan and inf
        raise ConfigError(f"{name}={raw!r} must be above 0 and at most {most:g}")
    return value


def _countries(raw: str | None) -> tuple[str, ...]:
    if raw is None:
        return ()
    codes = tuple(code.strip().upper() for code in raw.split(",") if code.strip())
    for code in codes:
        if not (len(code) == 2 and code.isascii() and code.isalpha()):
            raise ConfigError(f"REFUGE_SMS_COUNTRIES: {code!r} is not an ISO 3166 country code")
    return codes


def _delivery(get: Callable[[str], str | None]) -> Delivery:
    return Delivery(
        rate_per_second=_number("REFUGE_SMS_RATE", get("REFUGE_SMS_RATE"), 1.0, MAX_SEND_RATE),
        provider_backlog_seconds=_count(
            "REFUGE_SMS_PROVIDER_BACKLOG_SECONDS",
            get("REFUGE_SMS_PROVIDER_BACKLOG_SECONDS"),
            60,
            3_600,
        ),
        max_attempts=_count("REFUGE_SMS_MAX_ATTEMPTS", get("REFUGE_SMS_MAX_ATTEMPTS"), 8, 50),
        cap_per_number=_count(
            "REFUGE_SMS_CAP_PER_NUMBER", get("REFUGE_SMS_CAP_PER_NUMBER"), 20, 10_000
        ),
        cap_per_prefix=_count(
            "REFUGE_SMS_CAP_PER_PREFIX", get("REFUGE_SMS_CAP_PER_PREFIX"), 200, 1_000_000
        ),
        cap_per_region=_count(
            "REFUGE_SMS_CAP_PER_REGION", get("REFUGE_SMS_CAP_PER_REGION"), 5_000, 10_000_000
        ),
        cap_per_day=_count(
            "REFUGE_SMS_CAP_PER_DAY", get("REFUGE_SMS_CAP_PER_DAY"), 20_000, 100_000_000
        ),
        countries=_countries(get("REFUGE_SMS_COUNTRIES")),
        timeout_seconds=_number(
            "REFUGE_TWILIO_TIMEOUT_SECONDS",
            get("REFUGE_TWILIO_TIMEOUT_SECONDS"),
            10.0,
            MAX_TIMEOUT_SECONDS,
        ),
        whatsapp_from=get("REFUGE_TWILIO_WHATSAPP_FROM"),
        whatsapp_template_sid=get("REFUGE_TWILIO_WHATSAPP_TEMPLATE_SID"),
        alert_late_minutes=_count(
            "REFUGE_ALERT_LATE_MINUTES", get("REFUGE_ALERT_LATE_MINUTES"), 15, 1_440
        ),
    )


MAX_RETENTION_DAYS = 3650


def _days(name: str, raw: str | None, default: int) -> int:
    if raw is None:
        return default
    try:
        days = int(raw)
    except ValueError:
        raise ConfigError(f"{name}={raw!r} must be a whole number of days") from None
    if not 1 <= days <= MAX_RETENTION_DAYS:
        raise ConfigError(f"{name}={raw!r} must be between 1 and {MAX_RETENTION_DAYS} days")
    return days


def _log_level(raw: str) -> str:
    level = raw.upper()
    if level not in LOG_LEVELS:
        raise ConfigError(f"REFUGE_LOG_LEVEL={raw!r} is not one of: {', '.join(LOG_LEVELS)}")
    return level


def _check_twilio(settings: Settings) -> None:
    if settings.sms_backend is not SmsBackend.TWILIO:
        return
    for name, value in (
        ("REFUGE_TWILIO_ACCOUNT_SID", settings.twilio_account_sid),
        ("REFUGE_TWILIO_AUTH_TOKEN", settings.twilio_auth_token),
    ):
        if value is None:
            raise ConfigError(f"{name} is required when REFUGE_SMS_BACKEND=twilio")
    if settings.twilio_from is None and settings.twilio_messaging_service_sid is None:
        raise ConfigError(
            "REFUGE_TWILIO_FROM or REFUGE_TWILIO_MESSAGING_SERVICE_SID is required "
            "when REFUGE_SMS_BACKEND=twilio"
        )
