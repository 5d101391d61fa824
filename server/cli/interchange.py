"""Operator commands for interchange: `refuge hsds import|export`, `refuge cap import|export`."""

from __future__ import annotations

import urllib.error
import urllib.request
from datetime import UTC, datetime
from pathlib import Path

import click
from flask.cli import AppGroup
from sqlalchemy import select

from server.content import cap, cap_export, hsds, hsds_export, search
from server.content.cap_import import import_cap
from server.content.hsds_regions import read_region_map
from server.db import get_database
from server.models.bulletins import Bulletin
from server.models.content import Region, Resource

#: A CAP feed larger than this is refused before parsing (parse_cap has the same limit).
MAX_FEED_BYTES = 2 * 1024 * 1024
FEED_TIMEOUT_SECONDS = 20


def _now() -> datetime:
    return datetime.now(UTC)


def _regions(session: object, slugs: tuple[str, ...]) -> list[Region]:
    found = []
    for slug in slugs:
        region = session.scalar(select(Region).where(Region.slug == slug))  # type: ignore[attr-defined]
        if region is None:
            raise click.ClickException(f"no region '{slug}' (see regions/ in the content)")
        found.append(region)
    return found


@click.group("hsds", cls=AppGroup)
def hsds_group() -> None:
    """Exchange resources with directories in the Human Services Data Specification 3.0."""


@hsds_group.command("import")
@click.argument("path", type=click.Path(exists=True, path_type=Path))
@click.option(
    "--region-map",
    "region_map_path",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="YAML or CSV mapping HSDS location ids or address areas to region slugs.",
)
@click.option(
    "--region", "region_slug", help="Region of the services whose places match no region."
)
def hsds_import(path: Path, region_map_path: Path | None, region_slug: str | None) -> None:
    """Import PATH: an HSDS JSON file, or a tabular datapackage (directory or datapackage.json).

    Each service goes to the region its places name: by --region-map, else by a region named
    as its service area or its address's locality, region/state or country, else --region.
    Records already in Refuge (its own export included) are matched by id: nothing doubles.
    All or nothing: a broken record stops the import and nothing is written.
    """
    database = get_database()
    try:
        region_map = read_region_map(region_map_path) if region_map_path else None
        with database.session() as session:
            region = _regions(session, (region_slug,))[0] if region_slug else None
            with click.progressbar(length=0, label="importing", show_pos=True) as bar:
                report = hsds.import_hsds(
                    session, path, region=region, region_map=region_map, on_progress=bar.update
                )
            imported = session.scalars(select(Resource).where(Resource.origin == hsds.ORIGIN))
            search.reindex_all(session, imported)
    except hsds.HsdsError as exc:
        raise click.ClickException(f"{exc}; nothing was imported") from None
    for kind, outcomes in sorted(report.counts.items()):
        summary = ", ".join(f"{n} {outcome}" for outcome, n in sorted(outcomes.items()))
        click.echo(f"{kind}: {summary}")
    for warning in report.warnings:
        click.echo(f"warning: {warning}", err=True)
    for name, count in sorted(report.unknown_fields.items()):
        click.echo(f"not imported (unknown to HSDS 3.0): {name} in {count} record(s)", err=True)


@hsds_group.command("export")
@click.argument("directory", type=click.Path(file_okay=False, path_type=Path))
@click.option("--include-samples", is_flag=True, help="Also export demo (sample) records.")
def hsds_export_command(directory: Path, include_samples: bool) -> None:
    """Write services.json and a tabular datapackage to DIRECTORY; confidential places stay so."""
    with get_database().session() as session:
        try:
            report = hsds_export.export_hsds(
                session, directory, now=_now(), include_samples=include_samples
            )
        except hsds.HsdsError as exc:
            raise click.ClickException(str(exc)) from None
    click.echo(f"exported to {report.directory}")


@click.group("cap", cls=AppGroup)
def cap_group() -> None:
    """Import and export alerts in the Common Alerting Protocol 1.2."""


def _read_source(source: str) -> bytes:
    if source.startswith(("https://", "http://")):
        request = urllib.request.Request(source, headers={"Accept": "application/xml"})  # noqa: S310
        try:
            with urllib.request.urlopen(request, timeout=FEED_TIMEOUT_SECONDS) as response:  # noqa: S310
                data: bytes = response.read(MAX_FEED_BYTES + 1)
        except (urllib.error.URLError, TimeoutError, OSError) as exc:
            raise click.ClickException(f"cannot fetch the feed: {exc}") from None
    else:
        path = Path(source)
        if not path.is_file():
            raise click.ClickException(f"{source} is neither a file nor an http(s) URL")
        data = path.read_bytes()[: MAX_FEED_BYTES + 1]
    if len(data) > MAX_FEED_BYTES:
        raise click.ClickException(f"the CAP document is larger than {MAX_FEED_BYTES} bytes")
    return data


@cap_group.command("import")
@click.argument("source")
@click.option("--region", "region_slugs", multiple=True, help="Region(s); default: by areaDesc.")
@click.option("--publish", is_flag=True, help="Publish at once instead of waiting for review.")
def cap_import(source: str, region_slugs: tuple[str, ...], publish: bool) -> None:
    """Import CAP 1.2 alerts from SOURCE, a file or an http(s) feed URL."""
    data = _read_source(source)
    try:
        alerts = cap.parse_cap(data)
    except cap.CapError as exc:
        raise click.ClickException(f"{exc}; nothing was imported") from None
    with get_database().session() as session:
        regions = _regions(session, region_slugs) if region_slugs else None
        report = import_cap(session, alerts, regions=regions, publish=publish, now=_now())
    click.echo(
        f"{report.created} created, {report.updated} updated, {report.cancelled} cancelled, "
        f"{report.unchanged} unchanged, {len(report.skipped)} skipped"
    )
    if report.queued:
        click.echo(
            f"{report.queued} waiting for review at /portal/review "
            "(published alerts stay as they were until approved)"
        )
    for skipped in report.skipped:
        click.echo(f"skipped {skipped.identifier}: {skipped.reason}", err=True)


@cap_group.command("export")
@click.argument("directory", type=click.Path(file_okay=False, path_type=Path))
@click.option("--sender", required=True, help="This instance's CAP sender id (e.g. an email).")
def cap_export_command(directory: Path, sender: str) -> None:
    """Write every published alert as a CAP 1.2 file in DIRECTORY (retractions as Cancel)."""
    with get_database().session() as session:
        bulletins = list(session.scalars(select(Bulletin).order_by(Bulletin.id)))
        translations = cap_export.reviewed_translations(session, bulletins)
        documents = cap_export.export_cap_many(
            bulletins, sender=sender, now=_now(), translations=translations
        )
    directory.mkdir(parents=True, exist_ok=True)
    for bulletin_id, document in documents:
        (directory / f"{bulletin_id}.xml").write_bytes(document)
    click.echo(f"{len(documents)} CAP alerts written to {directory}")


COMMANDS: tuple[click.Command, ...] = (hsds_group, cap_group)
