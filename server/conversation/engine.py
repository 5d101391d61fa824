"""The conversation: a pure function of (state, inbound text, situation) -> replies, state, effects.

No Flask and no database here: content arrives through a `ContentPort`, the person's check-in
plan through a `CheckinPort`, the clock and locale in the `Situation`, and everything else the
caller must change (opt-out, language, region, deletion) leaves as `Effect` data that the
webhook applies in one transaction. That keeps the engine testable and fuzzable without a
server. Which handler answers is decided in one place, `server.conversation.dispatch`.

Order of precedence, whatever the state: STOP, then START, then HELP; an opted-out person
gets nothing else. Every reply is prepared for SMS and paged under the segment budget.

A global keyword in another shipped language than the person's (`vocabulary.GLOBAL`) is
answered in that language, which becomes theirs (a `SET_LOCALE` effect): whoever texts
`CURU` reads Rohingya, whatever their number's country suggested.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass, field, replace
from datetime import date, datetime
from typing import Any

from babel.dates import format_date

from server import segments
from server.conversation.checkin_port import CheckinPort
from server.conversation.port import ContentPort
from server.conversation.state import State
from server.conversation.vocabulary import Command, Heard, heard, number, words_of
from server.i18n.locales import catalogue
from server.scripts import DEFAULT_SCRIPTS, date_locale

#: Longer inbound texts are cut here before anything reads them.
MAX_INPUT = 1600
#: Pages kept for MORE: enough for a dozen resources or a region's news, read to the end.
MAX_PAGES = 32


@dataclass(frozen=True)
class Effect:
    """Something the caller must do: kind is one of the EFFECT_* names, with its value."""

    kind: str
    value: str | None = field(default=None, repr=False)  # may hold a PIN: kept out of logs


OPT_OUT = "opt_out"
OPT_IN = "opt_in"
SET_LOCALE = "set_locale"
SET_REGION = "set_region"
DELETE_ME = "delete_me"
#: A pretended erasure (the duress PIN): the person's language becomes a newcomer's.
SEEM_ERASED = "seem_erased"
CONTEXT_CHECKED = "context_checked"  # value: the matched note's id, or None
#: An unmatched rumour check's countable words (`signals.words`), space-separated; never the text.
RUMOUR_WORDS = "rumour_words"
#: Resources were listed: value the category, "all" (every category) or "search" (own words).
REQUESTED = "requested"


@dataclass(frozen=True)
class Inbound:
    """One message as it arrived."""

    text: str
    opt_out_type: str | None = None  # Twilio's OptOutType: STOP, START or HELP


@dataclass(frozen=True)
class Situation:
    """Everything about the person and the moment that the engine may read."""

    locale: str
    region: str | None
    opted_out: bool
    now: datetime
    content: ContentPort
    locales: tuple[str, ...] = ("en",)
    accents: segments.AccentPolicy = segments.AccentPolicy.TRANSLITERATE
    budget: int | None = None  # segments per reply; None: the default for its encoding
    checkins: CheckinPort | None = None  # None: check-in words get no answer, not a wrong one
    #: How replies in another language than `locale` are prepared (a keyword in another
    #: language is answered in it): the languages whose accents are kept, and segment budgets.
    keep_accents: frozenset[str] = frozenset()
    budgets: tuple[tuple[str, int], ...] = ()
    #: Per locale, the script its people read when it is not CLDR's (dates follow it).
    scripts: tuple[tuple[str, str], ...] = DEFAULT_SCRIPTS
    #: The languages offered first to the person's country, in order (its peoples' languages),
    #: and whether this is the number's first message: then a greeting asks the language.
    offered: tuple[str, ...] = ()
    first_contact: bool = False

    def speaking(self, locale: str) -> Situation:
        """The same moment, answered in another language."""
        if locale == self.locale:
            return self
        keep = locale in self.keep_accents
        return replace(
            self,
            locale=locale,
            accents=segments.AccentPolicy.KEEP if keep else segments.AccentPolicy.TRANSLITERATE,
            budget=dict(self.budgets).get(locale),
        )

    # Characters a message may hold on a channel that counts characters (WhatsApp: 4,096):
    # a reply goes whole, without MORE. None: SMS, paged under the segment budget.
    message_limit: int | None = None


@dataclass(frozen=True)
class Said:
    """One message as the handlers read it: its cleaned text and the command it asks for."""

    text: str
    command: Command | None
    carrier: str | None = None  # the provider's OptOutType, when it sent one

    @property
    def words(self) -> list[str]:
        """The folded words after the first (the command's arguments)."""
        return words_of(self.text)


@dataclass
class Outcome:
    """Replies to send (in order), the new state, and effects to apply: built up by a turn."""

    replies: list[str] = field(default_factory=list)
    state: State = field(default_factory=State)
    effects: list[Effect] = field(default_factory=list)
    # Answers a check-in command (or a contact's YES or NO): sent whatever the reply limits,
    # since what it did (a check-in counted, a plan resumed) must never go unconfirmed.
    checkin: bool = False


def clean_input(text: str) -> str:
    """The inbound text without control characters or lone surrogates, and not too long."""
    kept = []
    for character in text[:MAX_INPUT]:
        category = unicodedata.category(character)
        if character == "\n" or category not in {"Cc", "Cs", "Cf"}:
            kept.append(character)
        elif category == "Cc":
            kept.append(" ")
    return "".join(kept).strip()


def handle(state: State, inbound: Inbound, situation: Situation) -> Outcome:
    """Answer one inbound message."""
    from server.conversation import dispatch  # the handlers build on the engine's types

    text = clean_input(inbound.text)
    found = _heard(inbound, text, situation, state)
    outcome = Outcome(state=state)
    if found is not None and found.locale != situation.locale:
        # A keyword in another language: answered in it, and that language kept for them.
        outcome.effects.append(Effect(SET_LOCALE, found.locale))
        situation = situation.speaking(found.locale)
    said = Said(text, found.command if found else None, inbound.opt_out_type)
    answered = dispatch.route(outcome, situation, said)
    if answered.effects == [Effect(SET_LOCALE, situation.locale)] and not answered.replies:
        answered.effects = []  # unanswered (an opted-out person's MENU): nothing changes
    return answered


def _heard(inbound: Inbound, text: str, situation: Situation, state: State) -> Heard | None:
    from server.conversation import dispatch

    provider = (inbound.opt_out_type or "").upper()
    if provider in {"STOP", "START", "HELP"}:
        return Heard(Command[provider], situation.locale)
    found = heard(text, situation.locale, situation.locales)
    if found is None or found.locale == situation.locale:
        return found
    # Another language's word counts where the state reads it as a command, not as the
    # answer to the question asked (a contact may be called Basha, Rohingya for LANG).
    return found if dispatch.answered_in(found.command, state) else None


# --- Replies ----------------------------------------------------------------------------------


def reply(outcome: Outcome, situation: Situation, text: str) -> Outcome:
    """Add a reply: prepared for SMS, paged under the budget, later pages kept for MORE.

    On a channel that counts characters (WhatsApp) the reply goes whole in one message, or in
    as few as its limit allows, all at once: nothing is left for MORE.
    """
    prepared = segments.prepare(text, situation.accents)
    if situation.message_limit is not None:
        outcome.replies.extend(segments.split_characters(prepared, situation.message_limit))
        outcome.state = replace(outcome.state, more=())
        return outcome
    more = translate(situation).gettext("Reply MORE for more")
    pages = segments.paginate(
        prepared, situation.budget, "\n" + segments.prepare(more, situation.accents)
    )
    if not pages:
        return outcome  # nothing to say is said by saying nothing
    outcome.replies.append(pages[0])
    outcome.state = replace(outcome.state, more=tuple(pages[1:MAX_PAGES]))
    return outcome


def translate(situation: Situation) -> Any:
    """The person's catalogue (gettext, ngettext, pgettext)."""
    return catalogue(situation.locale)


def dated(situation: Situation, value: date) -> str:
    """A date as the person reads it ("3 Nov 2026"), in the script they read."""
    try:
        locale = date_locale(situation.locale, dict(situation.scripts))
        return str(format_date(value, format="d MMM yyyy", locale=locale))
    except (ValueError, LookupError):
        return value.isoformat()


def chosen(text: str, count: int) -> int | None:
    """A menu answer: its 1-based number when it is one of `count` choices."""
    picked = number(text)
    return picked if picked is not None and 1 <= picked <= count else None
