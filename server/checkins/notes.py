"""An NGO's sealed notes as its caseworkers handle them: by key, downloaded, handled, purged.

The server never reads a note; what it keeps about one is when it arrived, which key it was
sealed to, and two days a caseworker's actions set: when the NGO first downloaded it, and when
someone marked it handled. Notes sealed to every key the NGO has had are its own
(`PartnerNoteKey`), so rotating the key hides none of them; each key's notes download on their
own, because only that key's private half opens them (`refuge notes open` fails on the others).

Retention (`REFUGE_NOTE_RETENTION_DAYS`, `Retention.note_days`) counts from the day a note was
handled, or from the day it was written while nobody has handled it. Waiting for a handling
that may never come would keep, with no end, the notes of an NGO that stopped looking, and
a seized server would hand over who wrote to their caseworker and when; the first promise
(do no harm) wins over keeping a note nobody opened. The portal shows each note's last day, so
a caseworker sees it coming, and downloading a note does not stop the clock: the NGO's copy is
its own to keep.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date, timedelta

from sqlalchemy import and_, delete, or_, select
from sqlalchemy.orm import Session

from server import people, vault
from server.db import note_erasure
from server.models.checkins import CheckinPartner, PartnerNoteKey, SealedNote


@dataclass(frozen=True)
class ListedNote:
    """One note as the portal lists it: never its text, which the server cannot read."""

    id: uuid.UUID
    created_on: date
    downloaded_on: date | None
    handled_on: date | None
    kept_until: date  # the purge deletes it the day after


@dataclass(frozen=True)
class KeyNotes:
    """The notes sealed to one of the NGO's keys: the current one, or one it had before."""

    fingerprint: str
    current: bool
    notes: list[ListedNote]


def fingerprints(session: Session, partner: CheckinPartner) -> list[str]:
    """Every key the NGO has had, the current one first, then the newest earlier ones."""
    current = vault.key_fingerprint(partner.note_key) if partner.note_key else None
    earlier = session.scalars(
        select(PartnerNoteKey.fingerprint)
        .where(PartnerNoteKey.partner_id == partner.id)
        .order_by(PartnerNoteKey.added_on.desc(), PartnerNoteKey.fingerprint)
    )
    return [*([current] if current else []), *(key for key in earlier if key != current)]


def kept_until(created_on: date, handled_on: date | None, days: int) -> date:
    """The last day a note is kept: `days` after it was handled, else after it was written."""
    return (handled_on or created_on) + timedelta(days=days)


def by_key(session: Session, partner: CheckinPartner, days: int) -> list[KeyNotes]:
    """The NGO's notes grouped by the key each is sealed to (current key first; keys without
    a note left out), oldest note first within each."""
    keys = fingerprints(session, partner)
    if not keys:
        return []
    current = vault.key_fingerprint(partner.note_key) if partner.note_key else None
    found: dict[str, list[ListedNote]] = {key: [] for key in keys}
    # The columns the list shows, not the sealed bodies: a long list stays light.
    rows = session.execute(
        select(
            SealedNote.id,
            SealedNote.recipient,
            SealedNote.created_on,
            SealedNote.downloaded_on,
            SealedNote.handled_on,
        )
        .where(SealedNote.recipient.in_(keys))
        .order_by(SealedNote.created_on, SealedNote.id)
    )
    for note_id, recipient, created_on, downloaded_on, handled_on in rows:
        last = kept_until(created_on, handled_on, days)
        found[recipient].append(ListedNote(note_id, created_on, downloaded_on, handled_on, last))
    return [KeyNotes(key, key == current, found[key]) for key in keys if found[key]]


def export_lines(
    session: Session, partner: CheckinPartner, fingerprint: str, today: date
) -> list[str] | None:
    """The download of one key's notes (the lines `refuge notes export --recipient` writes),
    each marked downloaded the first time; None when the key was never the NGO's."""
    if fingerprint not in fingerprints(session, partner):
        return None
    lines = list(people.export_note_lines(session, fingerprint))
    for note in session.scalars(
        select(SealedNote).where(
            SealedNote.recipient == fingerprint, SealedNote.downloaded_on.is_(None)
        )
    ):
        note.downloaded_on = today
    return lines


def note_of(session: Session, partner: CheckinPartner, note_id: uuid.UUID) -> SealedNote | None:
    """One of the NGO's notes by id; None for another NGO's note or none at all."""
    note = session.get(SealedNote, note_id)
    if note is None or note.recipient not in fingerprints(session, partner):
        return None
    return note


def mark_handled(note: SealedNote, today: date) -> bool:
    """Mark a note handled (its retention counts from today); False when it already was."""
    if note.handled_on is not None:
        return False
    note.handled_on = today
    return True


def purge(session: Session, days: int, today: date) -> int:
    """Delete the notes past retention (see the module's docstring): how many went."""
    cutoff = today - timedelta(days=days)
    result = session.execute(
        delete(SealedNote).where(
            or_(
                SealedNote.handled_on < cutoff,
                and_(SealedNote.handled_on.is_(None), SealedNote.created_on < cutoff),
            )
        ),
        execution_options={"synchronize_session": False},
    )
    deleted = int(getattr(result, "rowcount", 0) or 0)
    if deleted:
        note_erasure(session)  # once committed, SQLite's log is emptied of them too
    return deleted


def parse_id(raw: str) -> uuid.UUID | None:
    """A note id as the portal writes it (32 hex digits); None for anything else."""
    try:
        return uuid.UUID(hex=raw) if len(raw) == 32 else None
    except ValueError:
        return None
