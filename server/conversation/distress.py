"""Messages that look like a cry for help: they get the emergency line, never just a menu.

Refuge is automated and nobody reads what people send. Someone describing an emergency in
their own words must be told so at once, with where to call, instead of a menu. Two signs are
enough: a long message that is no command and answers no question, or a word asking for help
in any shipped language (a person may write in another language than the one they chose).
False alarms cost one short reply; a missed one can cost far more.
"""

from __future__ import annotations

import functools
import re

from server.content.text import fold

#: At least this many words (or characters, for scripts written without spaces) of free text.
LONG_WORDS = 6
LONG_CHARACTERS = 60

# Translators do not edit these: they are what people write, not what Refuge says. Drafts for
# review by native speakers, like the keywords in `vocabulary.py` (see docs/translating.md).
DISTRESS_WORDS: dict[str, tuple[str, ...]] = {
    "en": ("help", "urgent", "emergency", "sos", "danger", "save me"),
    "ar": ("مساعدة", "ساعدني", "ساعدوني", "النجدة", "نجدة", "عاجل", "طوارئ", "خطر", "انقذوني"),
    "fr": ("aide", "aidez", "urgent", "urgence", "secours", "danger"),
    "uk": ("допомога", "допоможіть", "допоможи", "терміново", "рятуйте", "небезпека"),
    "ru": ("помогите", "помощь", "срочно", "спасите", "опасность"),
    "my": ("ကူညီ", "အရေးပေါ်", "ကယ်ပါ", "အန္တရာယ်"),
    "bn": ("সাহায্য", "বাঁচাও", "জরুরি", "বিপদ"),
    "rhg": ("madot", "modot", "zoruri", "bifod", "bipod"),
}


@functools.cache
def _pattern() -> re.Pattern[str]:
    """Every distress word, folded: whole words in spaced scripts, anywhere in Burmese."""
    spaced: set[str] = set()
    unspaced: set[str] = set()
    for words in DISTRESS_WORDS.values():
        for word in words:
            folded = fold(word)
            (unspaced if _unspaced(folded) else spaced).add(re.escape(folded))
    parts = []
    if spaced:
        parts.append(r"(?<!\w)(?:" + "|".join(sorted(spaced)) + r")(?!\w)")
    if unspaced:
        parts.append("(?:" + "|".join(sorted(unspaced)) + ")")
    return re.compile("|".join(parts))


def _unspaced(text: str) -> bool:
    """Burmese is written without spaces between words."""
    return any("\u1000" <= character <= "\u109f" for character in text)


def looks_like_distress(text: str) -> bool:
    """True when a message that is no command may be somebody asking for help right now."""
    folded = fold(text)
    if not folded:
        return False
    if len(folded.split()) >= LONG_WORDS or len(folded) >= LONG_CHARACTERS:
        return True
    return _pattern().search(folded) is not None
