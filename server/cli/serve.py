"""Operator commands that run Refuge: `refuge demo` (development) and `refuge worker`."""

from __future__ import annotations

import dataclasses
import threading
import uuid
from datetime import UTC, datetime

import click
from flask.cli import with_appcontext
from werkzeug.serving import WSGIRequestHandler, run_simple

from server import people, schema, upkeep
from server.checkins.plans import plan_of
from server.cli import content
from server.cli.db import database_errors
from server.cli.loading import serving_app
from server.config import app_settings
from server.content import loader
from server.content.schema import ContentError
from server.db import Database, create_sqlite_file, get_database
from server.delivery import admission, worker
from server.delivery.channels import CHANNEL_EXTENSION
from server.phones import InvalidPhoneNumber, normalize_phone


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
        "A drill (with --once and --person): sweep the named people's check-ins as if it were "
        "this time, to rehearse an escalation. What it queues leaves now; pace, caps and "
        "expiry keep the real time."
    ),
)
@click.option(
    "--person",
    "people_numbers",
    metavar="NUMBER",
    multiple=True,
    help="A test phone whose check-in plan the drill sweeps (repeat for each); no other plan "
    "is touched.",
)
def worker_command(once: bool, now_text: str | None, people_numbers: tuple[str, ...]) -> None:
    """Send the outbox, settle lost attempts, sweep check-ins and purge, until stopped."""
    drill = _moment(now_text) if now_text else None
    if drill is not None and not once:
        raise click.UsageError("--now runs one pass as if at that time; add --once")
    if people_numbers and drill is None:
        raise click.UsageError("--person names the test phones of a drill; add --now")
    if drill is not None and not people_numbers:
        raise click.UsageError(
            "a drill sweeps only the check-ins of the test phones it names, never a real "
            "person's: add --person NUMBER for each"
        )
    settings = app_settings()
    database = get_database()
    runner = upkeep.worker(database, settings, worker.make_channel(settings))
    with database_errors(database):
        if drill is not None:
            plans = _drill_plans(database, people_numbers)
            runner = dataclasses.replace(runner, sweeps=upkeep.drill_sweeps(plans))
        report = worker.run(runner, once=once, drill=drill)
    if report is not None:
        for line in report.lines():
            click.echo(line)


def _drill_plans(database: Database, numbers: tuple[str, ...]) -> list[uuid.UUID]:
    """The check-in plans of a drill's test phones; refused, naming which one by its place on
    the command line (never the number), when a phone is not a number or has no plan."""
    found = []
    with database.session() as session:
        for place, raw in enumerate(numbers, start=1):
            try:
                subscriber = people.find_subscriber(session, normalize_phone(raw))
            except InvalidPhoneNumber as exc:
                raise click.BadParameter(
                    f"{_ordinal(place)} number: {exc}", param_hint="--person"
                ) from None
            plan = plan_of(session, subscriber) if subscriber is not None else None
            if plan is None:
                raise click.BadParameter(
                    f"the {_ordinal(place)} test phone has no check-in plan", param_hint="--person"
                )
            found.append(plan.id)
    return found


def _ordinal(place: int) -> str:
    return {1: "1st", 2: "2nd", 3: "3rd"}.get(place, f"{place}th")


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
    """Load the demo samples as their own origin: what another origin keeps is left as it is."""
    try:
        report = content.load_content(content.CONTENT_DIR)
    except ContentError as exc:
        raise click.ClickException(f"the demo content does not load:\n{exc}") from None
    for change in report.changes:
        if change.outcome != loader.KEPT:
            click.echo(str(change))
    click.echo(
        f"Demo content: {report.total(loader.CREATED)} created, "
        f"{report.total(loader.UPDATED)} updated, {report.total(loader.UNCHANGED)} unchanged, "
        f"{report.total(loader.RETRACTED)} retracted, "
        f"{report.total(loader.KEPT)} left as another origin keeps them"
    )
    if report.total(loader.KEPT):
        click.echo(
            "  (a record another origin keeps under a sample's id is never changed by the demo: "
            "a database made before the samples had their own origin keeps them all; start "
            "from a new database to have the demo update them)"
        )


COMMANDS: tuple[click.Command, ...] = (demo, worker_command)
