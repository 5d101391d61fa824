"""Operator commands for content: `refuge content load|export`."""

from __future__ import annotations

from pathlib import Path

import click
from flask.cli import AppGroup

from server.config import app_settings
from server.content import loader
from server.content.schema import ContentError
from server.db import get_database
from server.resources import shipped

#: The content shipped with Refuge: the demo regions, resources, bulletins and checklists.
CONTENT_DIR = shipped("demo")


@click.group("content", cls=AppGroup)
def content_group() -> None:
    """Load content files into the database, or write the database back to files."""


def origin_of(path: Path) -> str:
    """Whose records a folder's files are: the shipped demo samples', or an operator's."""
    return loader.DEMO_ORIGIN if path.resolve() == CONTENT_DIR.resolve() else loader.ORIGIN


def load_content(path: Path, *, prune: bool = False, dry_run: bool = False) -> loader.LoadReport:
    """Load a content directory in one transaction (all or nothing); a dry run rolls it back."""
    with get_database().session() as session:
        report = loader.load(session, path, origin=origin_of(path), prune=prune)
        if dry_run:
            session.rollback()
        return report


def echo_report(report: loader.LoadReport) -> None:
    """Print each change a load made, then its counts by kind."""
    for change in report.changes:
        click.echo(str(change))
    for kind, outcomes in report.counts.items():
        summary = ", ".join(f"{count} {outcome}" for outcome, count in sorted(outcomes.items()))
        click.echo(f"{kind}: {summary}")


@content_group.command("load")
@click.argument("path", required=False, type=click.Path(file_okay=False, path_type=Path))
@click.option(
    "--prune",
    is_flag=True,
    help="Also retract every record of the folder's origin that the folder does not hold, "
    "whatever its region (without it, only records the folder covers are retracted).",
)
@click.option(
    "--dry-run", is_flag=True, help="Check and print what the load would do; change nothing."
)
def content_load(path: Path | None, prune: bool, dry_run: bool) -> None:
    """Check every file under PATH, then load them all or none.

    Without --prune a load retracts only what the folder covers: records of its kinds whose
    regions are all regions it defines and whose organisation, if any, it defines
    (docs/content-format.md). Every create, update and retraction is printed. In development
    PATH defaults to the demo samples; elsewhere it is required.
    """
    if path is None:
        if app_settings().production:
            raise click.UsageError(
                "give the path of the content folder to load: `refuge content load PATH` "
                "(the demo samples are loaded by default only in development)"
            )
        click.echo(f"No PATH given: loading the demo samples from {CONTENT_DIR}")
        path = CONTENT_DIR
    try:
        report = load_content(path, prune=prune, dry_run=dry_run)
    except ContentError as exc:
        for problem in exc.problems:
            click.echo(str(problem), err=True)
        raise click.ClickException(
            f"{len(exc.problems)} problem(s) found; nothing was loaded"
        ) from None
    echo_report(report)
    if dry_run:
        click.echo("Dry run: nothing was changed.")


@content_group.command("export")
@click.argument("path", type=click.Path(file_okay=False, path_type=Path))
def content_export(path: Path) -> None:
    """Write every current record to PATH in the content file format."""
    with get_database().session() as session:
        written = loader.export(session, path)
    click.echo(f"{written} files written to {path}")


COMMANDS: tuple[click.Command, ...] = (content_group,)
