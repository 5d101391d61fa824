"""Operator commands for content: `refuge content load|export`."""

from __future__ import annotations

from pathlib import Path

import click
from flask.cli import AppGroup

from server.content import loader
from server.content.schema import ContentError
from server.db import get_database
from server.resources import shipped

#: The content shipped with Refuge: the demo regions, resources, bulletins and checklists.
CONTENT_DIR = shipped("demo")


@click.group("content", cls=AppGroup)
def content_group() -> None:
    """Load content files into the database, or write the database back to files."""


def load_content(path: Path) -> loader.LoadReport:
    """Load a content directory in one transaction (all or nothing)."""
    with get_database().session() as session:
        return loader.load(session, path)


@content_group.command("load")
@click.argument(
    "path", required=False, type=click.Path(file_okay=False, path_type=Path), default=CONTENT_DIR
)
def content_load(path: Path) -> None:
    """Check every file under PATH (default: the demo content), then load them all or none."""
    try:
        report = load_content(path)
    except ContentError as exc:
        for problem in exc.problems:
            click.echo(str(problem), err=True)
        raise click.ClickException(
            f"{len(exc.problems)} problem(s) found; nothing was loaded"
        ) from None
    for kind, outcomes in report.counts.items():
        summary = ", ".join(f"{count} {outcome}" for outcome, count in sorted(outcomes.items()))
        click.echo(f"{kind}: {summary}")


@content_group.command("export")
@click.argument("path", type=click.Path(file_okay=False, path_type=Path))
def content_export(path: Path) -> None:
    """Write every current record to PATH in the content file format."""
    with get_database().session() as session:
        written = loader.export(session, path)
    click.echo(f"{written} files written to {path}")


COMMANDS: tuple[click.Command, ...] = (content_group,)
