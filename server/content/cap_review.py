"""CAP imports that wait for review: the live alert stays as it was until a reviewer approves.

An import without `--publish` that changes a published bulletin first notes the bulletin as
the public sees it (`hold`), lets the import work on the row as usual (so a chain of updates
in one feed resolves as before), then puts the public text back and keeps the new one as a
draft in the portal's review queue (`settle`). The CAP identity (identifier, sender,
references) stays with the newest message, so a later update still finds its bulletin. A new
alert, or one never published, waits as a row nobody sees, with its draft in the same queue.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from server.content import drafts
from server.content.kinds import BULLETIN
from server.content.records import Canonical
from server.models.bulletins import Bulletin, BulletinStatus
from server.models.translations import Translation, TranslationStatus

ORIGIN = "cap"

_Kept = tuple[str, str, TranslationStatus, datetime]


@dataclass
class Held:
    """A published bulletin as the public saw it before this import touched it."""

    form: Canonical
    updated_at: datetime
    translations: dict[tuple[str, str], _Kept]


def _translations(session: Session, bulletin_id: str) -> list[Translation]:
    query = select(Translation).where(
        Translation.entity == BULLETIN.name, Translation.entity_id == bulletin_id
    )
    return list(session.scalars(query))


def hold(session: Session, bulletin: Bulletin) -> Held:
    """Note a published bulletin's public form before an import changes it."""
    kept = {
        (row.locale, row.field): (row.text, row.source_digest, row.status, row.updated_at)
        for row in _translations(session, bulletin.id)
    }
    return Held(BULLETIN.canonical(bulletin), bulletin.updated_at, kept)


def _published(form: Canonical) -> Canonical:
    return {**form, "status": BulletinStatus.PUBLISHED.value}


def _same_as_waiting(session: Session, bulletin_id: str, form: Canonical) -> bool:
    waiting = [v for v in drafts.pending(session, BULLETIN, bulletin_id) if v.origin == ORIGIN]
    return bool(waiting) and waiting[-1].form == drafts.stored(form)


def settle(session: Session, bulletin: Bulletin, held: Held | None, now: datetime) -> bool:
    """Queue what the import made of `bulletin` for review; a held one goes back to its form.

    False when the same change already waits (the same feed read again).
    """
    form = _published(BULLETIN.canonical(bulletin))
    if held is not None:
        form["translations"] = restore(session, bulletin, held, now)
    if _same_as_waiting(session, bulletin.id, form):
        return False
    drafts.propose(session, BULLETIN, form, author=None, now=now, origin=ORIGIN, review=True)
    return True


def restore(
    session: Session, bulletin: Bulletin, held: Held, now: datetime
) -> dict[str, dict[str, str]]:
    """Put back the public form and translations; return the import's translations."""
    imported: dict[str, dict[str, str]] = {}
    for row in _translations(session, bulletin.id):
        if row.status is TranslationStatus.REVIEWED and row.updated_at == now:
            imported.setdefault(row.locale, {})[row.field] = row.text
        kept = held.translations.get((row.locale, row.field))
        if kept is None:
            session.delete(row)
        else:
            row.text, row.source_digest, row.status, row.updated_at = kept
    with session.no_autoflush:
        BULLETIN.apply(session, held.form, bulletin, held.updated_at)
    session.flush()
    return {locale: dict(sorted(fields.items())) for locale, fields in sorted(imported.items())}
