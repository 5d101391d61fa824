"""Loading the portal's saved UI translations into this process, and writing them out as .po.

Each process looks at the content version token (`server.models.versions`) at most once every
`REFUGE_UI_RELOAD_SECONDS`: saving a UI translation writes a `ContentModel` row, which replaces
the token, so every web process and worker sees the change within that time and reloads the
overrides, without a restart. Between checks nothing is read.
"""

from __future__ import annotations

import time
from collections.abc import Iterable
from datetime import datetime

from babel.messages.catalog import Catalog
from sqlalchemy import select
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from server.i18n.live import LIVE, Override
from server.models.translations import TranslationStatus
from server.models.ui_translations import UiTranslation
from server.models.versions import current as current_version

#: The draft flag of the shipped catalogues (a machine draft or an unreviewed translation).
DRAFT_FLAG = "draft"


def as_override(row: UiTranslation) -> Override:
    """A stored row as the live layer keeps it."""
    return Override(row.locale, row.msgctxt, row.msgid, row.msgid_plural, tuple(row.forms))


def load(session: Session) -> list[Override]:
    """Every saved UI translation."""
    return [as_override(row) for row in session.scalars(select(UiTranslation))]


def refresh(session: Session, source: str, every: float, *, now: float | None = None) -> bool:
    """Reload the overrides when the content version changed (looked at most every `every` s).

    `source` names the database, so that a process pointed at another one reloads at once.
    True when they were reloaded. A database without the table yet keeps the compiled texts.
    """
    moment = time.monotonic() if now is None else now
    if not LIVE.due(source, moment, every):
        return False
    try:
        token = current_version(session)
        if source == LIVE.source and token is not None and token == LIVE.token:
            LIVE.checked(moment)
            return False
        rows = load(session)
    except SQLAlchemyError:  # not migrated yet, or the database away: try again next time
        session.rollback()
        LIVE.checked(moment)
        return False
    LIVE.install(source, token, rows, moment)
    return True


def export_catalog(session: Session, locale: str, *, now: datetime) -> Catalog:
    """The locale's saved UI translations as a catalogue (draft ones flagged `draft`)."""
    catalog = Catalog(
        locale=locale,
        project="Refuge",
        version="ui",
        msgid_bugs_address="translators@refuge.invalid",
        creation_date=now,
        revision_date=now,
        charset="utf-8",
        fuzzy=False,
    )
    rows: Iterable[UiTranslation] = session.scalars(
        select(UiTranslation)
        .where(UiTranslation.locale == locale)
        .order_by(UiTranslation.msgctxt, UiTranslation.msgid)
    )
    for row in rows:
        flags = [DRAFT_FLAG] if row.status is TranslationStatus.DRAFT else []
        msgid: str | tuple[str, str] = (
            (row.msgid, row.msgid_plural) if row.msgid_plural else row.msgid
        )
        string: str | tuple[str, ...] = tuple(row.forms) if row.msgid_plural else row.text
        catalog.add(msgid, string, flags=flags, context=row.msgctxt or None)
    return catalog
