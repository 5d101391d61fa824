"""The check-in set-up, one question per message: PIN, duress PIN, schedule, time zone (only
when neither the region nor the number tells it), grace, name, contacts, who is alerted later,
the contacts' message, the NGO. Every step is cancelled with 0 or MENU (the dispatcher's), and
STOP still opts out.

Each question is a `Flow`; each answer is a handler in `server.conversation.dispatch`'s table, which
reaches the plan through the situation's `CheckinPort`. The helpers here (`say`, `ask`,
`leave_flow`) serve `checkin_commands` too.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime
from typing import Any

from babel import Locale, UnknownLocaleError
from babel.lists import format_list

from server.checkins import texts, zones
from server.checkins.kinds import MAX_NAME, new_pin
from server.checkins.schedule import MAX_HOURS, MIN_HOURS, parse_time
from server.conversation.checkin_port import Added, CheckinPort
from server.conversation.engine import Outcome, Said, Situation, reply, translate
from server.conversation.state import Flow
from server.conversation.vocabulary import (
    CONTEXT,
    Command,
    first_word,
    in_any_language,
    keyword_source,
)
from server.i18n.locales import ascii_digits
from server.phones import InvalidPhoneNumber, normalize_phone

MIN_GRACE, MAX_GRACE = 5, 1440


def port_of(situation: Situation) -> CheckinPort:
    """The check-in port (the dispatcher routes here only when there is one)."""
    port = situation.checkins
    assert port is not None, "check-in handlers need a CheckinPort"
    return port


def say(outcome: Outcome, situation: Situation, text: str) -> Outcome:
    """Answer with one text (paged when long)."""
    return reply(outcome, situation, text)


def word(situation: Situation, command: Command) -> str:
    """The first spelling of a keyword in the person's language."""
    return str(translate(situation).pgettext(CONTEXT, keyword_source(command))).split("|")[0]


def leave_flow(outcome: Outcome) -> None:
    """Forget the set-up question, if one was asked."""
    if outcome.state.flow is not None and outcome.state.flow.setting_up:
        outcome.state = replace(outcome.state, flow=None)


def begin(outcome: Outcome, situation: Situation, said: Said) -> Outcome:
    """Start setting up (again)."""
    port_of(situation).begin()
    return ask(outcome, situation, Flow.PIN)


def ask(outcome: Outcome, situation: Situation, step: Flow, prefix: str = "") -> Outcome:
    """Ask a set-up question and remember which one was asked."""
    outcome.state = replace(outcome.state, flow=step)
    return say(outcome, situation, prefix + _question(situation, step))


def _question(situation: Situation, step: Flow) -> str:
    t = translate(situation)
    questions: dict[Flow, Any] = {
        Flow.PIN: t.gettext(
            "Check-in set-up. Choose a PIN of 6 to 8 digits that only you know: shorter "
            "ones are easy to guess. Reply 0 at any step to cancel."
        ),
        Flow.DURESS: t.gettext(
            "Optional: a second, duress PIN of 6 to 8 digits. If you are ever forced to "
            "check in, use it: all looks normal but your contacts are alerted. Reply it, "
            "or NO to skip."
        ),
        Flow.SCHEDULE: t.gettext(
            "How often will you check in? Reply hours (1 to 168), like 12, or a daily "
            "time, like 9:00."
        ),
        Flow.ZONE: t.gettext(
            "Which time zone are you in? Reply your city, or hours from UTC like UTC+3 or -5."
        ),
        Flow.GRACE: t.gettext(
            "If you miss one, how many minutes should we wait before alerting? "
            "Reply 5 to 1440, like 60."
        ),
        Flow.NAME: t.gettext(
            "What name do your contacts know you by? They will see it in texts about you."
        ),
        Flow.CONTACTS: t.gettext(
            "Add up to 5 trusted contacts: ADD +number Name. Each gets one text asking "
            "if they agree. Reply DONE when finished."
        ),
    }
    return str(questions[step])


def pin(outcome: Outcome, situation: Situation, said: Said) -> Outcome:
    """The PIN."""
    chosen = new_pin(ascii_digits(said.text))
    if chosen is None:
        return ask(outcome, situation, Flow.PIN, _pin_rule(situation))
    port_of(situation).set_pin(chosen)
    return ask(outcome, situation, Flow.DURESS)


def _pin_rule(situation: Situation) -> str:
    # Translators: a short PIN falls to guessing; the reason is in the question that follows.
    return str(translate(situation).gettext("A PIN is 6 to 8 digits.")) + " "


def duress(outcome: Outcome, situation: Situation, said: Said) -> Outcome:
    """The duress PIN, or NO."""
    port = port_of(situation)
    if said.command is Command.NO:
        port.set_duress(None)
        return ask(outcome, situation, Flow.SCHEDULE)
    chosen = new_pin(ascii_digits(said.text))
    if chosen is None:
        return ask(outcome, situation, Flow.DURESS, _pin_rule(situation))
    if not port.set_duress(chosen):
        t = translate(situation)
        prefix = t.gettext("The duress PIN must differ from your PIN.") + " "
        return ask(outcome, situation, Flow.DURESS, prefix)
    return ask(outcome, situation, Flow.SCHEDULE)


def schedule(outcome: Outcome, situation: Situation, said: Said) -> Outcome:
    """Every so many hours, or a daily time."""
    written = ascii_digits(said.text).strip()
    t = translate(situation)
    if any(mark in written for mark in ":.h"):
        at = parse_time(written)
        if at is None:
            return ask(outcome, situation, Flow.SCHEDULE, t.gettext("That is not a time.") + " ")
        port_of(situation).set_schedule(24, at.strftime("%H:%M"))
    elif written.isascii() and written.isdigit() and MIN_HOURS <= int(written) <= MAX_HOURS:
        port_of(situation).set_schedule(int(written), None)
    else:
        prefix = t.gettext("That is not a number of hours.") + " "
        return ask(outcome, situation, Flow.SCHEDULE, prefix)
    plan = port_of(situation).plan()
    if plan is not None and not plan.zone:  # neither the region nor the number tells it
        return ask(outcome, situation, Flow.ZONE)
    return ask(outcome, situation, Flow.GRACE)


def zone(outcome: Outcome, situation: Situation, said: Said) -> Outcome:
    """The person's time zone: a city or zone name, or an offset from UTC."""
    found = zones.parse_zone(ascii_digits(said.text), situation.locale)
    if found is None:
        prefix = translate(situation).gettext("That is not a time zone.") + " "
        return ask(outcome, situation, Flow.ZONE, prefix)
    port_of(situation).set_zone(found)
    return ask(outcome, situation, Flow.GRACE)


def when_where(situation: Situation, due: datetime, zone: str) -> str:
    """A due time with the zone it is in, as the person reads them: "Tue 09:00 (Kyiv Time)"."""
    # Translators: a due time and the time zone it is in, like "Tue 09:00 (Kyiv Time)".
    text = translate(situation).gettext("%(time)s (%(zone)s)")
    return str(text) % {
        "time": texts.local_time(due, zone, situation.locale),
        "zone": zones.zone_label(zone, situation.locale),
    }


def grace(outcome: Outcome, situation: Situation, said: Said) -> Outcome:
    """The minutes an alert waits after a missed check-in."""
    written = ascii_digits(said.text).strip()
    if not (written.isascii() and written.isdigit() and MIN_GRACE <= int(written) <= MAX_GRACE):
        prefix = translate(situation).gettext("That is not a number of minutes.") + " "
        return ask(outcome, situation, Flow.GRACE, prefix)
    port_of(situation).set_grace(int(written))
    return ask(outcome, situation, Flow.NAME)


def name(outcome: Outcome, situation: Situation, said: Said) -> Outcome:
    """The name contacts know the person by; a lone keyword or number is not taken for one."""
    chosen = " ".join(said.text.split())[:MAX_NAME]
    if not chosen:
        return ask(outcome, situation, Flow.NAME)
    if _an_answer(chosen, (situation.locale,)):
        prefix = translate(situation).gettext("That is not a name.") + " "
        return ask(outcome, situation, Flow.NAME, prefix)
    port_of(situation).set_name(chosen)
    return ask(outcome, situation, Flow.CONTACTS)


def contacts(outcome: Outcome, situation: Situation, said: Said) -> Outcome:
    """ADD +number Name, as often as needed, then DONE."""
    if said.command is Command.DONE:
        if not port_of(situation).contacts():
            prefix = translate(situation).gettext("Add at least one contact first.") + " "
            return ask(outcome, situation, Flow.CONTACTS, prefix)
        return ask_later(outcome, situation)
    if said.command is not Command.ADD:
        return ask(outcome, situation, Flow.CONTACTS)
    return _add(outcome, situation, said.text.split()[1:])


def _add(outcome: Outcome, situation: Situation, words: list[str]) -> Outcome:
    number_words = [w for w in words if any(ch.isdecimal() for ch in w) or w.startswith("+")]
    called = " ".join(w for w in words if w not in number_words)
    try:
        phone = normalize_phone(ascii_digits("".join(number_words)))
    except InvalidPhoneNumber:
        phone = None
    t = translate(situation)
    if phone is None or not called:
        return say(
            outcome,
            situation,
            t.gettext(
                "Send ADD, the number with its country code, and a name. "
                "Like: ADD +44 7700 900123 Sara"
            ),
        )
    port = port_of(situation)
    added = port.add_contact(phone, called)
    if added is Added.ABROAD:
        return say(outcome, situation, _abroad(situation, port.countries()))
    answers = {
        Added.ADDED: t.gettext("%(name)s added and asked. Add another, or reply DONE."),
        Added.FULL: t.gettext("You have 5 contacts already. Reply DONE."),
        Added.ALREADY: t.gettext("That number is already one of your contacts."),
        Added.REFUSED: t.gettext("That number cannot be asked. Try another, or reply DONE."),
        Added.CAPPED: t.gettext("Too many requests today. Add more tomorrow. Reply DONE."),
        Added.NOT_MOBILE: t.gettext(
            "That number cannot get texts. Add a mobile number, or reply DONE."
        ),
    }
    return say(outcome, situation, str(answers[added]) % {"name": called[:MAX_NAME]})


def _abroad(situation: Situation, countries: frozenset[str]) -> str:
    """Why a contact abroad is refused, and the countries whose numbers may be added."""
    t = translate(situation)
    if not countries:
        return str(
            t.gettext("We cannot text numbers in that country. Ask your NGO, or reply DONE.")
        )
    return str(
        # Translators: %(countries)s is a list of country names, like "Sudan and Ukraine".
        t.gettext(
            "We cannot text numbers in that country. Add someone in %(countries)s, "
            "or ask your NGO. Or reply DONE."
        )
        % {"countries": country_names(countries, situation.locale)}
    )


def country_names(codes: frozenset[str], locale: str) -> str:
    """Countries as a list in the person's language ("Bangladesh, Sudan and Ukraine")."""
    english = Locale.parse("en")
    try:
        own: Locale | None = Locale.parse(locale)
    except (ValueError, UnknownLocaleError):
        own = None
    names = sorted(
        (own.territories.get(code) if own else None) or english.territories.get(code) or code
        for code in codes
    )
    try:
        return str(format_list(names, locale=locale))
    except (ValueError, UnknownLocaleError):
        return ", ".join(names)


def _an_answer(text: str, languages: tuple[str, ...]) -> bool:
    """A lone keyword in one of these languages, or a number: never a name or a message."""
    digits = ascii_digits(text).replace(" ", "")
    return in_any_language(text, languages) is not None or digits.isdigit()


def ask_later(outcome: Outcome, situation: Situation) -> Outcome:
    """With two contacts or more: who is alerted only at the second stage?"""
    mine = port_of(situation).contacts()
    if len(mine) < 2:
        return ask_message(outcome, situation)
    lines = [f"{n} {c.name}" for n, c in enumerate(mine, start=1)]
    outcome.state = replace(outcome.state, flow=Flow.LATER)
    question = translate(situation).gettext(
        "Alert some contacts only 6 hours later? Reply their numbers, like 2 3, or NO:"
    )
    return say(outcome, situation, question + "\n" + "\n".join(lines))


def later(outcome: Outcome, situation: Situation, said: Said) -> Outcome:
    """The contacts alerted only at the second stage, by number, or NO."""
    port = port_of(situation)
    mine = port.contacts()
    picked: list[str] = []
    if said.command is not Command.NO:
        for written in ascii_digits(said.text).replace(",", " ").split():
            if not (written.isdigit() and 1 <= int(written) <= len(mine)):
                return ask_later(outcome, situation)
            picked.append(mine[int(written) - 1].id)
        if len(set(picked)) == len(mine):
            return ask_later(outcome, situation)  # somebody has to be alerted first
    port.set_later(sorted(set(picked)))
    return ask_message(outcome, situation)


def ask_message(outcome: Outcome, situation: Situation, prefix: str = "") -> Outcome:
    """Show the message contacts will get; YES keeps it, a message of one's own replaces it."""
    plan = port_of(situation).plan()
    called, own = (plan.name, plan.message) if plan is not None else ("", None)
    shown = texts.alert(situation.locale, called, own)
    outcome.state = replace(outcome.state, flow=Flow.MESSAGE)
    question = translate(situation).gettext(
        'Your contacts will get: "%(text)s" Reply YES to keep it, or write your own.'
    )
    return say(outcome, situation, prefix + question % {"text": shown})


#: Shorter than this, and one word, a reply is an answer rather than a message of one's own.
MIN_OWN_MESSAGE = 12
#: A reply of at most this many words that starts with YES or NO is that answer ("No thanks").
MAX_ANSWER_WORDS = 3


def message(outcome: Outcome, situation: Situation, said: Said) -> Outcome:
    """YES (in any served language) keeps the contacts' message; a real message of one's own
    replaces it; anything else (NO, a keyword, a number, one short word) asks again."""
    port = port_of(situation)
    t = translate(situation)
    languages = (situation.locale, *situation.locales)
    own = " ".join(said.text.split())
    if in_any_language(own, languages) is not Command.YES:
        # "Yes please" or "No thanks" is an answer, unclear or not: asked again, not kept.
        answer = first_word(own, languages) if len(own.split()) <= MAX_ANSWER_WORDS else None
        short = len(own) < MIN_OWN_MESSAGE and len(own.split()) < 2
        if short or answer in (Command.YES, Command.NO) or _an_answer(own, languages):
            prefix = t.gettext("That looks like an answer, not a message for your contacts.")
            return ask_message(outcome, situation, prefix + " ")
        if not texts.fits_one_text(own):
            outcome.state = replace(outcome.state, flow=Flow.MESSAGE)
            return say(outcome, situation, t.gettext("That is too long for one text. Write less."))
        port.set_message(own)
    partner = port.partner()
    if partner is None:
        return finish(outcome, situation)
    outcome.state = replace(outcome.state, flow=Flow.NGO)
    question = t.gettext("Also alert %(ngo)s, and tell them if you left a note? Reply YES or NO.")
    return say(outcome, situation, question % {"ngo": partner})


def ngo(outcome: Outcome, situation: Situation, said: Said) -> Outcome:
    """YES or NO: alert the NGO too."""
    if said.command not in (Command.YES, Command.NO):
        outcome.state = replace(outcome.state, flow=Flow.NGO)
        return say(outcome, situation, translate(situation).gettext("Reply YES or NO."))
    if said.command is Command.YES:
        port_of(situation).include_partner()
    return finish(outcome, situation)


def finish(outcome: Outcome, situation: Situation) -> Outcome:
    """Set-up done: the schedule starts now."""
    port = port_of(situation)
    due = port.activate()
    leave_flow(outcome)
    plan = port.plan()
    when = when_where(situation, due, plan.zone if plan else "UTC")
    return say(
        outcome,
        situation,
        translate(situation).gettext(
            "Check-ins are on. Next: %(time)s. To check in, reply OK and your PIN. "
            "CHECKIN STATUS to see them; PAUSE or STOP CHECKIN with your PIN."
        )
        % {"time": when},
    )
