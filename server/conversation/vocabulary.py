"""The words people text: command keywords in every locale, and numbers in any digit script.

Keywords are gettext messages (context "sms keyword"), so translators handle them in the same
catalogue as everything else. A translation may list several spellings separated by "|".
English keywords are always understood too, whatever the person's language.

The words of `GLOBAL` are understood in every shipped language whatever the person's own (a
Bengali-default number texting `СТОП` stops, in Ukrainian): `heard` says which command a
message asks for and in which language. No spelling may mean two commands in any two
languages (`tests/test_vocabulary.py` checks every pair), so the language of a keyword is never
a guess.
"""

from __future__ import annotations

import enum
import functools
from collections.abc import Iterable
from dataclasses import dataclass

from server.content.text import fold
from server.i18n.locales import catalogue


class Command(enum.Enum):
    """What a person can ask for by keyword."""

    HELP = "help"
    STOP = "stop"
    START = "start"
    MENU = "menu"
    FIND = "find"
    NEWS = "news"
    SECURE = "secure"
    CHECKIN = "checkin"
    OK = "ok"
    MORE = "more"
    NEXT = "next"
    BACK = "back"
    YES = "yes"
    NO = "no"
    LANG = "lang"
    DELETE = "delete"
    CHECK = "check"
    ADD = "add"
    DONE = "done"
    PAUSE = "pause"
    RESUME = "resume"
    STATUS = "status"
    NOTE = "note"
    REMOVE = "remove"
    WEB = "web"


def lazy_pgettext(context: str, message: str) -> str:
    """Mark a keyword for the catalogue (`keywords` looks each one up in the person's)."""
    return message


# The English keyword of each command, marked for translation with a note for translators.
KEYWORDS = {
    # Translators: an SMS command word people type on a basic phone. Give every spelling
    # people would text, separated by "|" (for example "AIDE|AIDEZ"), in the script they
    # text with (Rohingya in Latin letters). Short words, no spaces if possible.
    Command.HELP: lazy_pgettext("sms keyword", "HELP"),
    # Translators: SMS command word (stop all messages); see HELP.
    Command.STOP: lazy_pgettext("sms keyword", "STOP"),
    # Translators: SMS command word (receive messages again); see HELP.
    Command.START: lazy_pgettext("sms keyword", "START"),
    # Translators: SMS command word (show the main menu); see HELP.
    Command.MENU: lazy_pgettext("sms keyword", "MENU"),
    # Translators: SMS command word (find help nearby); see HELP.
    Command.FIND: lazy_pgettext("sms keyword", "FIND"),
    # Translators: SMS command word (current information); see HELP.
    Command.NEWS: lazy_pgettext("sms keyword", "NEWS"),
    # Translators: SMS command word (account-security checklists); see HELP.
    Command.SECURE: lazy_pgettext("sms keyword", "SECURE"),
    # Translators: SMS command word (set up or confirm a check-in); see HELP.
    Command.CHECKIN: lazy_pgettext("sms keyword", "CHECKIN"),
    # Translators: SMS command word (confirm); see HELP.
    Command.OK: lazy_pgettext("sms keyword", "OK"),
    # Translators: SMS command word (show the next page); see HELP.
    Command.MORE: lazy_pgettext("sms keyword", "MORE"),
    # Translators: SMS command word (next step); see HELP.
    Command.NEXT: lazy_pgettext("sms keyword", "NEXT"),
    # Translators: SMS command word (previous step); see HELP.
    Command.BACK: lazy_pgettext("sms keyword", "BACK"),
    # Translators: SMS command word (agree); see HELP.
    Command.YES: lazy_pgettext("sms keyword", "YES"),
    # Translators: SMS command word (decline); see HELP.
    Command.NO: lazy_pgettext("sms keyword", "NO"),
    # Translators: SMS command word (change language); see HELP.
    Command.LANG: lazy_pgettext("sms keyword", "LANG"),
    # Translators: SMS command word (delete everything about me); see HELP.
    Command.DELETE: lazy_pgettext("sms keyword", "DELETE"),
    # Translators: SMS command word (check a rumour); see HELP.
    Command.CHECK: lazy_pgettext("sms keyword", "CHECK"),
    # Translators: SMS command word (add a trusted contact: ADD +number Name); see HELP.
    Command.ADD: lazy_pgettext("sms keyword", "ADD"),
    # Translators: SMS command word (finished adding); see HELP.
    Command.DONE: lazy_pgettext("sms keyword", "DONE"),
    # Translators: SMS command word (pause check-ins); see HELP.
    Command.PAUSE: lazy_pgettext("sms keyword", "PAUSE"),
    # Translators: SMS command word (resume check-ins); see HELP.
    Command.RESUME: lazy_pgettext("sms keyword", "RESUME"),
    # Translators: SMS command word (how are my check-ins set); see HELP.
    Command.STATUS: lazy_pgettext("sms keyword", "STATUS"),
    # Translators: SMS command word (leave a sealed note for my NGO caseworker); see HELP.
    Command.NOTE: lazy_pgettext("sms keyword", "NOTE"),
    # Translators: SMS command word (remove one trusted contact: REMOVE Name PIN). It must
    # not be the word for DELETE, which erases everything; see HELP.
    Command.REMOVE: lazy_pgettext("sms keyword", "REMOVE"),
    # Translators: SMS command word (turn check-ins on the website on: WEB PIN, or off:
    # WEB NO; "WEB" stays understood too); see HELP.
    Command.WEB: lazy_pgettext("sms keyword", "WEB"),
}
#: English spellings understood in every locale, beside the keyword itself.
ENGLISH_SYNONYMS = {
    Command.HELP: ("INFO",),
    Command.STOP: ("UNSUBSCRIBE", "END", "QUIT", "CANCEL", "STOPALL"),
    Command.START: ("UNSTOP", "SUBSCRIBE"),
    Command.MENU: ("HI", "HELLO"),
    Command.CHECKIN: ("CHECK-IN", "SAFE"),
    Command.LANG: ("LANGUAGE",),
}
CONTEXT = "sms keyword"
#: Commands understood in every shipped language, from any state: leaving, coming back, what
#: this is, erasing, the menu, the next page, checking a rumour, and choosing a language (the
#: way out for somebody who cannot read the language they were given).
GLOBAL = frozenset(
    {
        Command.STOP,
        Command.START,
        Command.HELP,
        Command.MENU,
        Command.MORE,
        Command.DELETE,
        Command.CHECK,
        Command.LANG,
    }
)
#: Global commands whose first word is enough in another language: what follows is free text
#: (a rumour to check, a language's name). Others count there only as a whole message of that
#: language's keywords (`ВИДАЛИТИ ЗГОДЕН`, `BONDO SALAMOT`), so free text starting with a word
#: that happens to be a keyword elsewhere ("Plus, ...") is not read as one.
TAKES_TEXT = frozenset({Command.CHECK, Command.LANG})


def keyword_source(command: Command) -> str:
    """The English keyword (the msgid) of a command."""
    return command.name


@functools.lru_cache(maxsize=64)
def keywords(locale: str) -> dict[str, Command]:
    """Every folded spelling that means a command in this locale (English ones included)."""
    found: dict[str, Command] = {}
    translations = catalogue(locale)
    for command in Command:
        spellings = [keyword_source(command), *ENGLISH_SYNONYMS.get(command, ())]
        translated = str(translations.pgettext(CONTEXT, keyword_source(command))).split("|")
        for spelling in [*spellings, *translated]:
            folded = fold(spelling)
            # The person's own language wins over an English word spelt the same.
            if folded and (folded not in found or spelling in translated):
                found[folded] = command
    return found


def recognise(text: str, locale: str) -> Command | None:
    """The command a message asks for: its whole text, or its first word, as a keyword."""
    folded = fold(text)
    if not folded:
        return None
    known = keywords(locale)
    if folded in known:
        return known[folded]
    first = folded.split()[0]
    return known.get(first)


@dataclass(frozen=True)
class Heard:
    """The command a message asks for, and the language its keyword is in."""

    command: Command
    locale: str


def heard(text: str, locale: str, locales: Iterable[str]) -> Heard | None:
    """The command a message asks for: in the person's language (or English) first, as
    `recognise` reads it; else a global command in another of `locales`, answered in it."""
    own = recognise(text, locale)
    if own is not None:
        return Heard(own, locale)
    words = fold(text).split()
    if not words:
        return None
    for other in locales:
        if other == locale:
            continue
        known = keywords(other)
        command = known.get(" ".join(words)) or known.get(words[0])
        if command not in GLOBAL:
            continue
        # A PIN may follow (`BONDO SALAMOT 1234`: the check-in plan's STOP).
        whole = " ".join(words) in known or all(
            word in known or word.isdigit() for word in words[1:]
        )
        if whole or command in TAKES_TEXT:
            return Heard(command, other)
    return None


def in_any_language(text: str, locales: Iterable[str]) -> Command | None:
    """The keyword a whole message is in any of these languages (the first that knows it)."""
    folded = fold(text)
    for locale in locales:
        found = keywords(locale).get(folded)
        if found is not None:
            return found
    return None


def first_word(text: str, locales: Iterable[str]) -> Command | None:
    """The keyword a message starts with in any of these languages ("Non merci": NO)."""
    first = fold(text).split()[:1]
    return in_any_language(first[0], locales) if first else None


def number(text: str) -> int | None:
    """A menu number in any digit script ("2", "٢", "၂"), or None when the text is not one."""
    folded = fold(text)
    # fold() turns decimal digits of every script into ASCII; other "digits" (superscripts,
    # Ethiopic numerals) are not menu numbers.
    return int(folded) if folded.isascii() and folded.isdigit() and len(folded) <= 3 else None


def words_of(text: str) -> list[str]:
    """The folded words of a message after its first (the command's arguments)."""
    return fold(text).split()[1:]
