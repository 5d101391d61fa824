"""The `refuge` command: every operator task, on top of Flask's CLI.

`refuge ...` and `flask --app server ...` run the same commands. Configuration problems and an
unreachable database end the command with one line that names the problem.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any

import click
from flask import Flask, current_app
from flask.cli import AppGroup, FlaskGroup, routes_command, shell_command, with_appcontext
from sqlalchemy.exc import OperationalError, SQLAlchemyError
from werkzeug.serving import WSGIRequestHandler, run_simple

from server import (
    cli_checkins,
    cli_content,
    cli_i18n,
    cli_interchange,
    cli_staff,
    cli_vault,
    schema,
    worker,
)
from server.config import ConfigError, app_settings, from_environment
from server.content.schema import ContentError
from server.db import Database, get_database
from server.sms import channels


class _QuietRequestHandler(WSGIRequestHandler):
    """The development server's access log, without the visitor's IP address."""

    def address_string(self) -> str:
        return "-"


@contextmanager
def _database_errors(database: Database) -> Iterator[None]:
    url = database.engine.url.render_as_string(hide_password=True)
    try:
        yield
    except OperationalError as exc:
        reason = str(exc.orig or exc).strip().splitlines()[0] if str(exc.orig or exc) else ""
        raise click.ClickException(f"cannot reach the database at {url}: {reason}") from None
    except SQLAlchemyError as exc:
        raise click.ClickException(f"database error at {url}: {type(exc).__name__}") from None


@click.group("db", cls=AppGroup)
def db_group() -> None:
    """Create and migrate the database schema."""


@db_group.command("upgrade")
@click.argument("revision", default="head")
def db_upgrade(revision: str) -> None:
    """Migrate the database up to REVISION (default: the newest)."""
    database = get_database()
    with _database_errors(database):
        schema.upgrade(database.engine, revision, database.vault)
        click.echo(f"database at revision {schema.current_revision(database.engine)}")


@db_group.command("downgrade")
@click.argument("revision")
def db_downgrade(revision: str) -> None:
    """Revert the database to REVISION ('base' removes every table)."""
    database = get_database()
    with _database_errors(database):
        schema.downgrade(database.engine, revision, database.vault)
        click.echo(f"database at revision {schema.current_revision(database.engine)}")


@db_group.command("current")
def db_current() -> None:
    """Show the database's revision and the newest one available."""
    database = get_database()
    with _database_errors(database):
        click.echo(f"database: {schema.current_revision(database.engine) or 'empty'}")
    click.echo(f"newest:   {schema.head_revision()}")


@db_group.command("revision")
@click.option("-m", "--message", required=True, help="What the migration changes.")
def db_revision(message: str) -> None:
    """Write a migration for the difference between the models and the database (developers)."""
    database = get_database()
    with _database_errors(database):
        schema.new_revision(database.engine, message)


@click.command("demo")
@with_appcontext
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--port", default=5000, show_default=True, type=click.IntRange(1, 65535))
def demo(host: str, port: int) -> None:
    """Migrate, load the demo content and serve Refuge for a look around (development only)."""
    settings = app_settings()
    if settings.production:
        raise click.ClickException("`refuge demo` is for development; serve with gunicorn")
    database = get_database()
    with _database_errors(database):
        schema.upgrade(database.engine, keys=database.vault)
        _load_demo_content()
    base = f"http://{host}:{port}"
    click.echo(f"Refuge is running at {base}/  (health: {base}/healthz)")
    click.echo(f"Database: {database.engine.url.render_as_string(hide_password=True)}")
    click.echo(f"SMS channel: {settings.sms_backend.value}. Stop with Ctrl+C.")
    app: Flask = current_app._get_current_object()  # type: ignore[attr-defined]
    # The outbox is sent by a worker thread through the app's channel, so the simulator shows
    # what would have gone out (check-in reminders and alerts included).
    sender = worker.Worker(
        database,
        settings,
        app.extensions[channels.CHANNEL_EXTENSION],
        sweeps=worker.default_sweeps(),
    )
    threading.Thread(target=sender.run_forever, name="refuge-worker", daemon=True).start()
    try:
        run_simple(host, port, app, request_handler=_QuietRequestHandler, threaded=True)
    except OSError as exc:
        raise click.ClickException(f"cannot listen on {host}:{port}: {exc.strerror}") from None


@click.command("worker")
@with_appcontext
@click.option("--once", is_flag=True, help="Run one pass and exit (for cron, drills, tests).")
@click.option(
    "--now",
    "now_text",
    metavar="ISO-8601",
    help="Run the pass as if it were this time (with --once): rehearse an escalation.",
)
def worker_command(once: bool, now_text: str | None) -> None:
    """Send the outbox, settle lost attempts, sweep check-ins and purge, until stopped."""
    now = _moment(now_text) if now_text else None
    if now is not None and not once:
        raise click.UsageError("--now runs one pass as if at that time; add --once")
    settings = app_settings()
    database = get_database()
    runner = worker.Worker(
        database, settings, channels.make_channel(settings), sweeps=worker.default_sweeps()
    )
    with _database_errors(database):
        report = worker.run(runner, once=once, now=now)
    if report is not None:
        for outcome, count in report.as_dict().items():
            click.echo(f"{outcome}: {count}")


def _moment(text: str) -> datetime:
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise click.BadParameter(
            f"{text!r} is not an ISO 8601 time (e.g. 2026-12-01T09:00+06:00)", param_hint="--now"
        ) from None
    if moment.tzinfo is None:
        raise click.BadParameter("give a time zone offset (e.g. +00:00)", param_hint="--now")
    return moment.astimezone(UTC)


def _load_demo_content() -> None:
    try:
        report = cli_content.load_content(cli_content.CONTENT_DIR)
    except ContentError as exc:
        raise click.ClickException(f"the demo content does not load:\n{exc}") from None
    click.echo(
        f"Demo content: {report.total('created')} created, {report.total('updated')} updated, "
        f"{report.total('unchanged')} unchanged"
    )


def init_app(app: Flask) -> None:
    """Register every operator command on the app's CLI."""
    app.cli.add_command(db_group)
    app.cli.add_command(demo)
    app.cli.add_command(worker_command)
    cli_vault.init_app(app)
    cli_content.init_app(app)
    cli_interchange.init_app(app)
    cli_i18n.init_app(app)
    cli_checkins.init_app(app)
    cli_staff.init_app(app)


def main(argv: Sequence[str] | None = None) -> Any:
    """Entry point of the `refuge` console script."""
    try:
        settings = from_environment()
    except ConfigError as exc:
        click.echo(f"refuge: {exc}", err=True)
        raise SystemExit(2) from None

    from server import create_app

    group = FlaskGroup(
        name="refuge",
        help="Refuge: verified crisis resources, credible information and check-ins over SMS "
        "and the web. Settings come from REFUGE_* environment variables (see README).",
        create_app=lambda: create_app(settings),
        add_default_commands=False,
        load_dotenv=False,
        set_debug_flag=False,
    )
    # Flask's --app/--env-file/--debug have no place here: the app and its settings are fixed.
    group.params = [p for p in group.params if p.name not in {"app", "env_file", "debug"}]
    group.add_command(shell_command)
    group.add_command(routes_command)
    return group.main(args=argv, prog_name="refuge")
