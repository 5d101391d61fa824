"""Operator commands that run Refuge: `refuge demo` (development) and `refuge worker`."""

from __future__ import annotations

import threading
from datetime import UTC, datetime

import click
from flask.cli import with_appcontext
from werkzeug.serving import WSGIRequestHandler, run_simple

from server import schema, upkeep
from server.cli import content
from server.cli.db import database_errors
from server.cli.loading import serving_app
from server.config import app_settings
from server.content.schema import ContentError
from server.db import create_sqlite_file, get_database
from server.delivery import admission, worker
from server.delivery.channels import CHANNEL_EXTENSION


class _QuietRequestHandler(WSGIRequestHandler):
    """The development server's access log, without the visitor's IP address."""

    def address_string(self) -> str:
        return "-"


@click.command("demo")
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--port", default=5000, show_default=True, type=click.IntRange(1, 65535))
def demo(host: str, port: int) -> None:
    """Migrate, load the demo content and serve Refuge for a look around (development only)."""
    app = serving_app()
    with app.app_context():
        settings = app_settings()
        if settings.production:
            raise click.ClickException("`refuge demo` is for development; serve with gunicorn")
        database = get_database()
        create_sqlite_file(database.engine.url)
        with database_errors(database):
            schema.upgrade(database.engine, keys=database.vault)
            _load_demo_content()
        base = f"http://{host}:{port}"
        click.echo(f"Refuge is running at {base}/  (health: {base}/healthz)")
        click.echo(f"Database: {database.engine.url.render_as_string(hide_password=True)}")
        click.echo(f"SMS channel: {settings.sms_backend.value}. Stop with Ctrl+C.")
        with database.session() as session:  # the console applies production's allow-list
            countries = ", ".join(sorted(admission.allowed_countries(session, settings)))
        click.echo(f"Texts go only to numbers in: {countries or '-'} (REFUGE_SMS_COUNTRIES).")
        # The outbox is sent by a worker thread through the app's channel, so the simulator
        # shows what would have gone out (check-in reminders and alerts included).
        sender = upkeep.worker(database, settings, app.extensions[CHANNEL_EXTENSION])
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
    help=(
        "A drill (with --once): sweep check-ins as if it were this time, to rehearse an "
        "escalation. What it queues leaves now; pace, caps and expiry keep the real time."
    ),
)
def worker_command(once: bool, now_text: str | None) -> None:
    """Send the outbox, settle lost attempts, sweep check-ins and purge, until stopped."""
    drill = _moment(now_text) if now_text else None
    if drill is not None and not once:
        raise click.UsageError("--now runs one pass as if at that time; add --once")
    settings = app_settings()
    database = get_database()
    runner = upkeep.worker(database, settings, worker.make_channel(settings))
    with database_errors(database):
        report = worker.run(runner, once=once, drill=drill)
    if report is not None:
        for line in report.lines():
            click.echo(line)


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
        report = content.load_content(content.CONTENT_DIR)
    except ContentError as exc:
        raise click.ClickException(f"the demo content does not load:\n{exc}") from None
    click.echo(
        f"Demo content: {report.total('created')} created, {report.total('updated')} updated, "
        f"{report.total('unchanged')} unchanged"
    )


COMMANDS: tuple[click.Command, ...] = (demo, worker_command)
