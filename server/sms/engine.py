"""The conversation: a pure function of (state, inbound text, situation) -> replies, state, effects.

No Flask and no database here: content arrives through a `ContentPort`, the clock and locale in
the `Situation`, and everything the caller must change (opt-out, language, region, deletion)
leaves as `Effect` data that the webhook applies in one transaction. That keeps the engine
testable and fuzzable without a server.

Order of precedence, whatever the state: STOP, then START, then HELP; an opted-out person
gets nothing else. Every reply is prepared for SMS and paged under the segment budget.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from server import segments
from server.i18n.locales import catalogue
from server.sms.port import ContentPort
from server.sms.vocabulary import Command, number, recognise

#: Longer inbound texts are cut here before anything reads them.
MAX_INPUT = 1600
#: Pages kept for MORE; older content is re-fetched by asking again.
MAX_PAGES = 8
STATE_VERSION = 1


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
CONTEXT_CHECKED = "context_checked"  # value: the matched note's id, or None
CHECKIN = "checkin"  # hand-over to the check-in flow; value: the text as received


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


@dataclass
class Outcome:
    """Replies to send (in order), the new state, and effects to apply."""

    replies: list[str] = field(default_factory=list)
    state: dict[str, Any] = field(default_factory=dict)
    effects: list[Effect] = field(default_factory=list)


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


def handle(state: dict[str, Any], inbound: Inbound, situation: Situation) -> Outcome:
    """Answer one inbound message."""
    from server.sms import commands  # the handlers build on the engine's types

    text = clean_input(inbound.text)
    command = _command(inbound, text, situation.locale)
    state = dict(state) if state.get("v") == STATE_VERSION else {"v": STATE_VERSION}
    outcome = Outcome(state=state)
    stop_word = command is Command.STOP and not inbound.opt_out_type  # the carrier's STOP wins
    if stop_word and _stops_checkins_only(text, situation.locale):
        if not situation.opted_out:  # STOP CHECKIN <PIN>: the check-in flow, not an opt-out
            outcome.effects.append(Effect(CHECKIN, text))
        return outcome
    if command is Command.STOP:
        return commands.stop(outcome, situation)
    if command is Command.START:
        return commands.start(outcome, situation)
    if command is Command.HELP:
        return commands.help_(outcome, situation)
    if situation.opted_out:
        # Silence: they asked for it. Erasure stays their right: DELETE YES still erases,
        # without a reply (a provider would not deliver one to an opted-out number anyway).
        if command is Command.DELETE and _confirms(text, situation.locale):
            outcome.effects.append(Effect(DELETE_ME))
            outcome.state = {"v": STATE_VERSION}
        return outcome
    return commands.dispatch(outcome, situation, text, command)


def _stops_checkins_only(text: str, locale: str) -> bool:
    words = text.split()
    return len(words) > 1 and recognise(words[1], locale) is Command.CHECKIN


def _confirms(text: str, locale: str) -> bool:
    return any(recognise(word, locale) is Command.YES for word in text.split()[1:])


def _command(inbound: Inbound, text: str, locale: str) -> Command | None:
    provider = (inbound.opt_out_type or "").upper()
    if provider in {"STOP", "START", "HELP"}:
        return Command[provider]
    return recognise(text, locale)


# --- Replies ----------------------------------------------------------------------------------


def reply(outcome: Outcome, situation: Situation, text: str) -> Outcome:
    """Add a reply: prepared for SMS, paged under the budget, later pages kept for MORE."""
    prepared = segments.prepare(text, situation.accents)
    more = translate(situation).gettext("Reply MORE for more")
    pages = segments.paginate(
        prepared, situation.budget, "\n" + segments.prepare(more, situation.accents)
    )
    if not pages:
        return outcome  # nothing to say is said by saying nothing
    outcome.replies.append(pages[0])
    if len(pages) > 1:
        outcome.state["more"] = pages[1:MAX_PAGES]
    else:
        outcome.state.pop("more", None)
    return outcome


def translate(situation: Situation) -> Any:
    """The person's catalogue (gettext, ngettext, pgettext)."""
    return catalogue(situation.locale)


def chosen(text: str, count: int) -> int | None:
    """A menu answer: its 1-based number when it is one of `count` choices."""
    picked = number(text)
    return picked if picked is not None and 1 <= picked <= count else None
