"""The words of an unmatched rumour check that may be counted: folded, never a number.

Pure (the conversation engine calls it): what leaves here is a set of folded words, never the
message. Punctuation and symbols separate words (so an address or a link falls apart into
common pieces), and a token holding a digit is dropped, since it may be part of a phone
number or a PIN; so are very short and very long ones.
"""

from __future__ import annotations

import re
import unicodedata

from server.content.text import fold

#: Shorter words ("is", "a") say nothing about a rumour.
MIN_LETTERS = 3
#: Longer tokens are pasted links or codes, not words.
MAX_LETTERS = 32
#: A message gives at most this many words (its first, in order).
MAX_WORDS = 40
#: Unicode categories that separate words: punctuation, symbols, spaces, controls.
_SEPARATORS = frozenset("PSZC")
_NEVER = re.compile(r"\d")


def rumour_words(text: str) -> tuple[str, ...]:
    """The distinct folded words of a forwarded text that may be counted, in order."""
    kept: dict[str, None] = {}
    spaced = "".join(
        " " if unicodedata.category(character)[0] in _SEPARATORS else character
        for character in fold(text)
    )
    for token in spaced.split():
        if len(kept) >= MAX_WORDS:
            break
        if MIN_LETTERS <= len(token) <= MAX_LETTERS and not _NEVER.search(token):
            kept[token] = None
    return tuple(kept)
