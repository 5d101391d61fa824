"""Matching forwarded text against context notes: which verified answer fits this rumour?

Text is folded (case, accents, digit scripts), then compared with each note's match phrases by
word overlap and by character trigrams, which also works for scripts written without spaces.
The SMS `CHECK` command and the web use this to answer a rumour with what is verified.

A rumour is answered from the notes of the person's place and the regions above it (the best
match among them); only when none of those matches do the notes of the places within it
answer (someone who chose a whole country hears the verdict given for one of its areas).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from server.content.queries import placed_bulletins
from server.content.store import PHRASE_ENTITY
from server.content.text import fold, trigrams
from server.models.bulletins import Bulletin, BulletinKind, ContextPhrase, in_force
from server.models.content import Region
from server.models.translations import Translation

#: Below this score a note is not offered: a wrong "fact check" does more harm than none.
MIN_SCORE = 0.35
MAX_TEXT = 2000


@dataclass(frozen=True)
class ContextMatch:
    """A context note and how closely the text matched one of its phrases (0 to 1)."""

    bulletin: Bulletin
    score: float
    phrase: str


@dataclass(frozen=True)
class Wording:
    """A text folded once, as words and trigrams: a rumour's phrase, or what was forwarded."""

    text: str
    words: frozenset[str]
    grams: frozenset[str]

    @classmethod
    def of(cls, text: str) -> Wording:
        """The text folded (case, accents, digit scripts) and cut into words and trigrams."""
        folded = fold(text[:MAX_TEXT])
        return cls(text, frozenset(folded.split()), frozenset(trigrams(folded)))


@dataclass(frozen=True)
class NoteWordings:
    """A published context note's time in force and its rumour phrases, prepared for matching."""

    bulletin_id: str
    issued_at: datetime
    expires_at: datetime | None
    phrases: tuple[Wording, ...]
    within: bool = False  # a note of a place within the person's, asked only when others fail

    def in_force(self, now: datetime) -> bool:
        """Already issued and not yet expired (it was read as published)."""
        return in_force(self.issued_at, self.expires_at, now)


def similarity(text: str, phrase: str) -> float:
    """How much of the phrase the text contains: words and trigrams, from 0 to 1."""
    return _containment(Wording.of(text), Wording.of(phrase))


def _containment(text: Wording, phrase: Wording) -> float:
    if not text.words or not phrase.words:
        return 0.0
    words = len(phrase.words & text.words) / len(phrase.words)
    grams = len(phrase.grams & text.grams) / len(phrase.grams) if phrase.grams else 0.0
    # Containment, not symmetric similarity: a long forwarded message that carries the rumour
    # should still match its short typical wording. Trigrams alone carry scripts written
    # without spaces; words and trigrams together keep common words from matching alone.
    return round(max(grams, (words + grams) / 2), 4)


def phrase_ids(note: Bulletin) -> dict[str, ContextPhrase]:
    """The translation ids of a note's rumour wordings written in its own language (those in
    another language stay as written): `note-id/position`, as `kinds.BULLETIN` names them."""
    return {
        f"{note.id}/{position}": phrase
        for position, phrase in enumerate(note.match_phrases, start=1)
        if phrase.locale == note.source_locale
    }


def translated_phrases(session: Session, notes: Iterable[Bulletin]) -> dict[str, list[str]]:
    """Per note id, the translations of its rumour wordings made from their current text.

    A stale translation is left out whatever the locale's policy: it was made from another
    wording, and a rumour matched on the wrong wording gets the wrong verdict.
    """
    sources = {key: (note.id, phrase) for note in notes for key, phrase in phrase_ids(note).items()}
    if not sources:
        return {}
    rows = session.scalars(
        select(Translation)
        .where(
            Translation.entity == PHRASE_ENTITY,
            Translation.entity_id.in_(list(sources)),
        )
        .order_by(Translation.locale)
    )
    found: dict[str, list[str]] = {}
    for row in rows:
        note_id, phrase = sources[row.entity_id]
        if row.text and not row.is_stale(phrase.phrase):
            found.setdefault(note_id, []).append(row.text)
    return found


def note_wordings(session: Session, region: Region | None, now: datetime) -> list[NoteWordings]:
    """The context notes for a place, the regions above and the places within it, in force at
    `now` or later (not expired by then), phrases prepared: each as written, and each current
    translation of it, so a rumour forwarded in any language with a translation matches."""
    placed = placed_bulletins(session, region, now, kinds=(BulletinKind.CONTEXT,), within=True)
    translated = translated_phrases(session, [note for note, _scope in placed])
    return [
        NoteWordings(
            note.id,
            note.issued_at,
            note.expires_at,
            tuple(
                Wording.of(text)
                for text in [*(p.phrase for p in note.match_phrases), *translated.get(note.id, [])]
            ),
            within=scope is not None and scope.distance < 0,
        )
        for note, scope in placed
    ]


def best_matches(
    text: str, notes: Iterable[NoteWordings], now: datetime, limit: int = 3
) -> list[tuple[str, float, str]]:
    """(note id, score, phrase) of the notes in force whose phrases the text matches best:
    those of the place and above it first, then those of the places within it."""
    forwarded = Wording.of(text)
    found = []
    for note in notes:
        if not note.phrases or not note.in_force(now):
            continue
        score, phrase = max((_containment(forwarded, p), p.text) for p in note.phrases)
        if score >= MIN_SCORE:
            found.append((note.within, note.bulletin_id, score, phrase))
    found.sort(key=lambda match: (match[0], -match[2], match[1]))
    return [(note_id, score, phrase) for _within, note_id, score, phrase in found[:limit]]


def match_context_notes(
    session: Session,
    text: str,
    now: datetime,
    region: Region | None = None,
    limit: int = 3,
) -> list[ContextMatch]:
    """Current context notes whose rumour wording best matches the text, best first."""
    matches = best_matches(text, note_wordings(session, region, now), now, limit)
    return [
        ContextMatch(session.get_one(Bulletin, note_id), score, phrase)
        for note_id, score, phrase in matches
    ]
