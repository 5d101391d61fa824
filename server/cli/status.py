"""`refuge status`: whether every alert and all-clear left in time (exit 1 when not).

The same check as `GET /healthz?deep=1` (`server.delivery.missed`), for monitors that run a
command rather than fetch a URL: counts by kind and reason, never a person.
"""

from __future__ import annotations

from datetime import UTC, datetime

import click
from flask.cli import with_appcontext

from server.cli.db import database_errors
from server.config import app_settings
from server.db import get_database
from server.delivery import missed


@click.command("status")
@with_appcontext
def status() -> None:
    """Say whether every alert and all-clear left in time; exit 1 when one did not."""
    settings = app_settings()
    database = get_database()
    with database_errors(database), database.session() as session:
        counts = missed.missed(session, settings, datetime.now(UTC))
    hours = int(missed.WINDOW.total_seconds() // 3600)
    if not counts:
        click.echo(f"ok: every alert and all-clear of the last {hours} hours left in time")
        return
    click.echo(
        f"failing: alerts or all-clears did not leave in time (the last {hours} hours; late "
        f"means unsent {settings.delivery.alert_late_minutes} minutes past their time)"
    )
    for line in missed.lines(counts):
        click.echo(line)
    raise SystemExit(1)


COMMANDS: tuple[click.Command, ...] = (status,)
