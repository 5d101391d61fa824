"""Operator commands for the schema: `refuge db upgrade|downgrade|current|revision|check`."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import click
from flask.cli import AppGroup
from sqlalchemy import inspect
from sqlalchemy.exc import OperationalError, SQLAlchemyError

from server import schema
from server.db import Database, create_sqlite_file, get_database


@contextmanager
def database_errors(database: Database) -> Iterator[None]:
    """Turn an unreachable database or a database error into one line naming the database."""
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
    create_sqlite_file(database.engine.url)
    with database_errors(database):
        schema.upgrade(database.engine, revision, database.vault)
        click.echo(f"database at revision {schema.current_revision(database.engine)}")


@db_group.command("downgrade")
@click.argument("revision")
def db_downgrade(revision: str) -> None:
    """Revert the database to REVISION ('base' removes every table)."""
    database = get_database()
    with database_errors(database):
        schema.downgrade(database.engine, revision, database.vault)
        click.echo(f"database at revision {schema.current_revision(database.engine)}")


@db_group.command("current")
def db_current() -> None:
    """Show the database's revision and the newest one available."""
    database = get_database()
    with database_errors(database):
        click.echo(f"database: {schema.current_revision(database.engine) or 'empty'}")
    click.echo(f"newest:   {schema.head_revision()}")


@db_group.command("revision")
@click.option("-m", "--message", required=True, help="What the migration changes.")
def db_revision(message: str) -> None:
    """Write a migration for the difference between the models and the database (developers)."""
    database = get_database()
    with database_errors(database):
        schema.new_revision(database.engine, message)


@db_group.command("check")
def db_check() -> None:
    """Exit 1, listing each difference, when the models and the migrations differ (developers).

    Run it on a scratch database: an empty one is first migrated to the newest revision.
    """
    database = get_database()
    engine = database.engine
    create_sqlite_file(engine.url)
    with database_errors(database):
        current, newest = schema.current_revision(engine), schema.head_revision()
        if current is None and not inspect(engine).get_table_names():
            schema.upgrade(engine)
        elif current != newest:
            raise click.ClickException(
                f"the database is at revision {current or 'none'}, not {newest}: "
                "check on an empty database, or run `refuge db upgrade` first"
            )
        differences = schema.model_differences(engine)
    for line in differences:
        click.echo(line)
    if differences:
        raise click.ClickException(f"the models and the migrations differ ({len(differences)})")
    click.echo(f"the models and the migrations agree (revision {newest})")


COMMANDS: tuple[click.Command, ...] = (db_group,)
