"""Operator commands for the schema: `refuge db upgrade|downgrade|current|revision`."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import click
from flask.cli import AppGroup
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
        schema.upgrade(database.engine, revision)
        click.echo(f"database at revision {schema.current_revision(database.engine)}")


@db_group.command("downgrade")
@click.argument("revision")
def db_downgrade(revision: str) -> None:
    """Revert the database to REVISION ('base' removes every table)."""
    database = get_database()
    with database_errors(database):
        schema.downgrade(database.engine, revision)
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


COMMANDS: tuple[click.Command, ...] = (db_group,)
