"""Operator commands for translations: `refuge i18n status`, `export-content`, `import-content`,
`export-ui`.
"""

from __future__ import annotations

from pathlib import Path

import click
from flask.cli import AppGroup

from server.config import app_settings
from server.content import store
from server.content.translation_files import (
    FUZZY_FLAG,
    ImportReport,
    TranslationFileError,
    export_po,
    import_po,
    po_bytes,
    read_catalog,
)
from server.db import get_database
from server.i18n import status as i18n_status
from server.i18n import ui_catalogue


def _configured(locale: str) -> str:
    """The locale as stored, refused unless this instance serves it."""
    locales = app_settings().localization.locales
    normal = locale.replace("-", "_")
    if normal not in locales:
        raise click.ClickException(
            f"locale {locale!r} is not one of the configured locales ({', '.join(locales)})"
        )
    return normal


class _Rollback(Exception):
    """Raised inside the session to undo an import that had refusals (--all-or-nothing)."""

    def __init__(self, report: ImportReport) -> None:
        super().__init__("rolled back")
        self.report = report


@click.group("i18n", cls=AppGroup)
def i18n_group() -> None:
    """Translation coverage, and content translations as .po files for translators."""


@i18n_group.command("status")
@click.option("--json", "json_output", is_flag=True, help="Print JSON instead of a table.")
def status_command(json_output: bool) -> None:
    """Show per locale: UI and content coverage, draft and reviewed translations apart, stale
    ones, and what every text that can go out by SMS costs, the costliest named."""
    with get_database().session() as session:
        rows = i18n_status.status(session, app_settings())
    click.echo(i18n_status.as_json(rows) if json_output else i18n_status.format_table(rows))


@i18n_group.command("export-content")
@click.option("--locale", required=True, help="The language to translate into, e.g. ar.")
@click.option(
    "--out",
    type=click.Path(dir_okay=False, allow_dash=True, path_type=Path),
    help="The .po file to write ('-' for standard output); default <locale>.po here.",
)
def export_content(locale: str, out: Path | None) -> None:
    """Write every content field not written in LOCALE to a .po file for translators."""
    locale = _configured(locale)
    with get_database().session() as session:
        try:
            catalog = export_po(session, locale)
        except TranslationFileError as exc:
            raise click.ClickException(str(exc)) from None
    data = po_bytes(catalog)
    messages = [m for m in catalog if m.id]
    done = sum(1 for m in messages if m.string and FUZZY_FLAG not in m.flags)
    stale = sum(1 for m in messages if FUZZY_FLAG in m.flags)
    summary = f"{len(messages)} messages ({done} translated, {stale} stale)"
    _write_po(data, out, locale, summary, "written to")


@i18n_group.command("import-content")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--locale", help="The file's language (default: its Language header).")
@click.option(
    "--all-or-nothing", "strict", is_flag=True, help="Apply nothing when any entry is refused."
)
def import_content(file: Path, locale: str | None, strict: bool) -> None:
    """Apply a translated .po file; refused entries are listed as FILE:LINE: reason."""
    try:
        named = locale or read_catalog(file).locale_identifier
        if not named:
            raise click.ClickException(f"{file} names no language: give --locale")
        target = _configured(named)
        try:
            with get_database().session() as session:
                report = import_po(session, file, locale=target, now=store.utcnow())
                if strict and report.refused:
                    raise _Rollback(report)
        except _Rollback as rollback:
            report = rollback.report
            strict_failure = True
        else:
            strict_failure = False
    except TranslationFileError as exc:
        where = f"{file}:{exc.line}" if exc.line else str(file)
        raise click.ClickException(f"{where}: {exc.reason}; nothing was imported") from None
    for refusal in report.refused:
        click.echo(f"{file}:{refusal.line}: {refusal.reason}", err=True)
    if strict_failure:
        click.echo(f"{len(report.refused)} refused; nothing was imported (--all-or-nothing)")
    else:
        click.echo(f"{report.locale}: {report.summary()}")
    if report.refused:
        raise SystemExit(1)


@i18n_group.command("export-ui")
@click.argument("locale")
@click.option(
    "--out",
    type=click.Path(dir_okay=False, allow_dash=True, path_type=Path),
    help="The .po file to write ('-' for standard output); default <locale>.po here.",
)
def export_ui(locale: str, out: Path | None) -> None:
    """Write LOCALE's UI catalogue with the translations saved in the portal merged in.

    Copied over server/locales/LOCALE/LC_MESSAGES/messages.po, it ships them in the next
    release: the shipped .po files stay the source of truth.
    """
    locale = _configured(locale)
    if locale == "en":
        raise click.ClickException("en is the source language: there is no UI catalogue to write")
    with get_database().session() as session:
        try:
            catalog = ui_catalogue.merged_catalog(session, locale)
        except TranslationFileError as exc:
            raise click.ClickException(f"the shipped {locale} catalogue: {exc}") from None
        saved = len(ui_catalogue.saved(session, locale))
    data = po_bytes(catalog)
    summary = f"{saved} saved translations merged"
    _write_po(data, out, locale, summary, "into")


def _write_po(data: bytes, out: Path | None, locale: str, summary: str, joined: str) -> None:
    """Write a catalogue to `out` (`-`: stdout, the summary to stderr; none: `<locale>.po`)."""
    if out is not None and str(out) == "-":
        click.echo(data, nl=False)  # bytes go out unchanged
        click.echo(summary, err=True)
        return
    target = out or Path.cwd() / f"{locale}.po"
    try:
        target.write_bytes(data)
    except OSError as exc:
        raise click.ClickException(f"cannot write {target}: {exc.strerror}") from None
    click.echo(f"{summary} {joined} {target}")


COMMANDS: tuple[click.Command, ...] = (i18n_group,)
