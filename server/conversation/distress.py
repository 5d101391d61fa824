"""Messages that look like a cry for help, and the reply they get: the number to call, never
just a menu.

Refuge is automated and nobody reads what people send. Someone describing an emergency in
their own words must be told so at once, with where to call, instead of a menu. Two signs are
enough: a long message that is no command and answers no question, or a word asking for help
in any shipped language (a person may write in another language than the one they chose).
False alarms cost one short reply; a missed one can cost far more.
"""

from __future__ import annotations

import functools
import re
from dataclasses import replace

from server.content.text import fold
from server.conversation.engine import Outcome, Situation, reply, translate
from server.conversation.port import ResourceLine

#: At least this many words (or characters, for scripts written without spaces) of free text.
LONG_WORDS = 6
LONG_CHARACTERS = 60
#: Helplines of these kinds answer an emergency first, in this order.
EMERGENCY_CATEGORIES = ("protection", "medical", "evacuation")
#: A place's helplines looked at for the one to call (far above any place's count).
HELPLINES_LOOKED_AT = 20

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


def emergency(outcome: Outcome, situation: Situation) -> Outcome:
    """Someone who may be in danger: Refuge is automated, and the number to call is this one:
    the place's emergency number (its own or the nearest region's above it), else its helpline."""
    t = translate(situation)
    outcome.state = replace(outcome.state, flow=None)
    region = outcome.state.region or situation.region
    number = situation.content.emergency_number(region) if region is not None else None
    line = _emergency_line(situation, region) if number is None else None
    if number is not None:
        call = t.gettext("In an emergency, call the emergency services: %(phone)s.") % {
            "phone": number
        }
    elif line is not None:
        call = t.gettext("In an emergency, call %(name)s: %(phone)s.") % {
            "name": line.name,
            "phone": line.phone,
        }
    else:
        call = t.gettext("In an emergency, call your local emergency number.")
    automated = t.gettext("Refuge is automated: nobody reads these messages.")
    return reply(
        outcome,
        situation,
        f"{automated} {call}\n" + t.gettext("Reply 1 to find help, 0 for menu."),
    )


def _emergency_line(situation: Situation, region: str | None) -> ResourceLine | None:
    """The region's helpline to call in an emergency: one that is also a protection, medical
    or evacuation service before any other (a rumour line is a helpline too), open, with a
    phone."""
    if region is None:
        return None
    content, locale = situation.content, situation.locale
    helplines = [
        line
        for line in content.resources(region, "helpline", locale, 0, HELPLINES_LOOKED_AT)
        if line.phone and not line.closed
    ]
    for category in EMERGENCY_CATEGORIES:
        also = content.resources(region, category, locale, 0, HELPLINES_LOOKED_AT)
        found = next((line for line in helplines if line in also), None)
        if found is not None:
            return found
    return helplines[0] if helplines else None
