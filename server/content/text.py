"""Text folding shared by search and the rumour matcher: case, accents, digits, punctuation."""

from __future__ import annotations

import re
import unicodedata

# Marks that only decorate a letter (Latin and Cyrillic accents, Arabic short vowels and
# tatweel). Marks that are letters' vowels in Brahmic scripts (Burmese, Bengali) are kept.
_STRIPPABLE_BASE_MAX = 0x052F  # Latin, Greek, Cyrillic
_ARABIC_MARKS = re.compile("[\u064b-\u065f\u0670\u06d6-\u06ed\u0640]")
# Letters people write interchangeably in Arabic: teh marbuta and heh, alef maksura and yeh.
# (Hamza and madda on alef decompose to a plain alef plus a mark, removed above.)
_ARABIC_LETTERS = {"\u0629": "\u0647", "\u0649": "\u064a"}


def fold(text: str) -> str:
    """Case-folded, accent-free, ASCII-digit text with single spaces; stable for matching."""
    decomposed = unicodedata.normalize("NFKD", text)
    kept: list[str] = []
    base = 0
    for character in decomposed:
        if unicodedata.combining(character):
            if base <= _STRIPPABLE_BASE_MAX or _ARABIC_MARKS.match(character):
                continue
        else:
            base = ord(character)
        kept.append(_ARABIC_LETTERS.get(character, character))
    folded = unicodedata.normalize("NFKC", "".join(kept)).casefold()
    folded = _ARABIC_MARKS.sub("", folded)
    folded = "".join(
        str(unicodedata.decimal(ch)) if ch.isdecimal() and not ch.isascii() else ch for ch in folded
    )
    # Letters, digits and marks (Burmese vowel signs are marks) stay; the rest separates words.
    spaced = "".join(ch if unicodedata.category(ch)[0] in "LNM" else " " for ch in folded)
    return " ".join(spaced.split())


def trigrams(text: str) -> set[str]:
    """Character trigrams of folded text, padded at word edges; works without word spaces."""
    grams: set[str] = set()
    for word in text.split():
        padded = f" {word} "
        grams.update(padded[i : i + 3] for i in range(len(padded) - 2))
    return grams
