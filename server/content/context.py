"""Matching forwarded text against context notes: which verified answer fits this rumour?

Text is folded (case, accents, digit scripts), then compared with each note's match phrases by
word overlap and by character trigrams, which also works for scripts written without spaces.
The SMS `CHECK` command and the web use this to answer a rumour with what is verified.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.orm import Session

from server.content.queries import current_bulletins
from server.content.text import fold, trigrams
from server.models.bulletins import Bulletin, BulletinKind
from server.models.content import Region

#: Below this score a note is not offered: a wrong "fact check" does more harm than none.
MIN_SCORE = 0.35
MAX_TEXT = 2000


@dataclass(frozen=True)
class ContextMatch:
    """A context note and how closely the text matched one of its phrases (0 to 1)."""

    bulletin: Bulletin
    score: float
    phrase: str


def similarity(text: str, phrase: str) -> float:
    """How much of the phrase the text contains: words and trigrams, from 0 to 1."""
    folded_text, folded_phrase = fold(text[:MAX_TEXT]), fold(phrase)
    if not folded_text or not folded_phrase:
        return 0.0
    phrase_words = set(folded_phrase.split())
    words = len(phrase_words & set(folded_text.split())) / len(phrase_words)
    phrase_grams = trigrams(folded_phrase)
    grams = len(phrase_grams & trigrams(folded_text)) / len(phrase_grams) if phrase_grams else 0.0
    # Containment, not symmetric similarity: a long forwarded message that carries the rumour
    # should still match its short typical wording. Trigrams alone carry scripts written
    # without spaces; words and trigrams together keep common words from matching alone.
    return round(max(grams, (words + grams) / 2), 4)


def match_context_notes(
    session: Session,
    text: str,
    now: datetime,
    region: Region | None = None,
    limit: int = 3,
) -> list[ContextMatch]:
    """Current context notes whose rumour wording best matches the text, best first."""
    matches = []
    for note in current_bulletins(session, region, now, kinds=(BulletinKind.CONTEXT,)):
        scored = [(similarity(text, p.phrase), p.phrase) for p in note.match_phrases]
        if not scored:
            continue
        score, phrase = max(scored)
        if score >= MIN_SCORE:
            matches.append(ContextMatch(note, score, phrase))
    matches.sort(key=lambda match: (-match.score, match.bulletin.id))
    return matches[:limit]
