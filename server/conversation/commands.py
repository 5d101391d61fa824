"""One small handler per command: what a person gets for each word or number they text.

Which handler answers which message is `server.conversation.dispatch`'s table.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace

from server.checkins import texts
from server.checkins.kinds import valid_pin
from server.content.text import fold
from server.conversation import (
    checkin_commands,
    checkin_decoy,
    checkin_setup,
    distress,
    flows,
    languages,
)
from server.conversation.checkin_port import Checked, Status
from server.conversation.engine import (
    DELETE_ME,
    OPT_IN,
    OPT_OUT,
    SEEM_ERASED,
    SET_LOCALE,
    Effect,
    Outcome,
    Said,
    Situation,
    chosen,
    reply,
    translate,
)
from server.conversation.state import Flow, State
from server.conversation.vocabulary import Command, recognise
from server.i18n.locales import ascii_digits


def menu_text(situation: Situation) -> str:
    """The main menu, numbered: one segment in GSM-7 languages."""
    t = translate(situation)
    return str(
        t.gettext(
            "Refuge. Reply a number:\n1 Find help\n2 News\n3 Secure your phone\n4 Check-in\n"
            "5 Language\nOr CHECK and a message to check a rumour"
        )
    )


def menu(outcome: Outcome, situation: Situation, said: Said) -> Outcome:
    """Show the main menu and forget any unfinished choice."""
    return _menu(outcome, situation)


def _menu(outcome: Outcome, situation: Situation, prefix: str = "") -> Outcome:
    # Checklists resume where they were left: their progress outlives the menu.
    outcome.state = State(progress=outcome.state.progress)
    return reply(outcome, situation, prefix + menu_text(situation))


def stop(outcome: Outcome, situation: Situation, said: Said) -> Outcome:
    """Opt out: one confirmation, then silence (a second STOP gets nothing).

    No reminder can reach an opted-out person, so a running plan pauses until START, and the
    confirmation says so (the same words whatever PIN was last used).
    """
    if situation.opted_out:
        return outcome
    outcome.effects.append(Effect(OPT_OUT))
    outcome.state = State()
    t = translate(situation)
    port = situation.checkins
    plan = port.plan() if port is not None else None
    if port is not None and port.hold():
        text = t.gettext(
            "You will get no more messages from Refuge. Check-ins are paused: no alert if "
            "you miss one. Reply START to turn both back on."
        )
    elif plan is not None and plan.status is Status.PAUSED:
        text = t.gettext(
            "You will get no more messages from Refuge. Check-ins stay paused. Reply START "
            "to come back."
        )
    else:
        text = t.gettext("You will get no more messages from Refuge. Reply START to come back.")
    return reply(outcome, situation, text)


def start(outcome: Outcome, situation: Situation, said: Said) -> Outcome:
    """Opt back in and show the menu, or the check-ins that STOP paused, resumed."""
    t = translate(situation)
    if situation.opted_out:
        outcome.effects.append(Effect(OPT_IN))
    port = situation.checkins
    plan = port.plan() if port is not None else None
    due = port.release() if port is not None else None
    if plan is not None and due is not None:
        outcome.state = State(progress=outcome.state.progress)
        resumed = t.gettext("Check-ins resumed. Next: %(time)s.") % {
            "time": texts.local_time(due, plan.zone, situation.locale)
        }
        return reply(outcome, situation, t.gettext("Welcome back.") + "\n" + resumed)
    return _menu(outcome, situation, t.gettext("Welcome back.") + "\n")


def help_(outcome: Outcome, situation: Situation, said: Said) -> Outcome:
    """What Refuge is and the words that always work; answered even when opted out.

    HELP followed by words ("help me please") is somebody asking for help, not for the
    commands: they are told Refuge is automated, and where to call.
    """
    if said.words and not situation.opted_out and said.carrier is None:
        return distress.emergency(outcome, situation)
    t = translate(situation)
    return reply(
        outcome,
        situation,
        t.gettext(
            "Refuge gives verified help and news for your safety. Reply MENU for choices, "
            "STOP to end all messages, DELETE to erase what we keep about you."
        ),
    )


def more(outcome: Outcome, situation: Situation, said: Said) -> Outcome:
    """The next page of the last long answer; with none left, the open question again."""
    pages = outcome.state.more
    if not pages:
        asked = ask_again(outcome, situation)
        if asked is not None:
            return asked
        t = translate(situation)
        return _menu(outcome, situation, t.gettext("There is nothing more.") + "\n")
    outcome.replies.append(pages[0])
    outcome.state = replace(outcome.state, more=pages[1:])
    return outcome


def ask_again(outcome: Outcome, situation: Situation) -> Outcome | None:
    """The question last asked, asked again (None when none is open): for MORE inside a
    question and for a number that is not one of its choices, instead of leaving it."""
    flow = outcome.state.flow
    nothing = Said("", None)
    if flow is None:
        return None
    if flow.setting_up:
        if situation.checkins is None:
            return None
        outcome.checkin = True  # a set-up answer: sent past the reply limits, as the others
        if checkin_decoy.pretending(situation):
            situation = checkin_decoy.decoyed(situation, outcome)
        if flow is Flow.LATER:
            return checkin_setup.ask_later(outcome, situation)
        if flow is Flow.MESSAGE:
            return checkin_setup.ask_message(outcome, situation)
        if flow is Flow.NGO:
            return checkin_setup.ngo(outcome, situation, nothing)
        return checkin_setup.ask(outcome, situation, flow)
    askers: dict[Flow, Callable[[], Outcome]] = {
        Flow.REGION: lambda: flows.ask_region(outcome, situation, outcome.state.then),
        Flow.CATEGORY: lambda: flows.ask_category(outcome, situation),
        Flow.SECURE: lambda: flows.secure(outcome, situation, nothing),
        Flow.STEP: lambda: flows.show_step(outcome, situation),
        Flow.LANG: lambda: lang(outcome, situation, nothing),
        Flow.CHECK: lambda: check(outcome, situation, nothing),
        Flow.DELETE: lambda: delete(outcome, situation, nothing),
    }
    asker = askers.get(flow)
    return asker() if asker is not None else None


def lang(outcome: Outcome, situation: Situation, said: Said) -> Outcome:
    """List the languages, or switch to the one named or numbered."""
    names = languages.choices(situation)
    words = said.words
    if words:
        wanted = words[0]
        for position, (code, name) in enumerate(names, start=1):
            if wanted in {fold(code), fold(name), str(position)}:
                return _switch(outcome, situation, code)
    outcome.state = replace(outcome.state, flow=Flow.LANG)
    lines = [f"{position} {name}" for position, (_code, name) in enumerate(names, start=1)]
    t = translate(situation)
    return reply(outcome, situation, t.gettext("Reply a number:") + "\n" + "\n".join(lines))


def choose_language(outcome: Outcome, situation: Situation, said: Said) -> Outcome | None:
    """The answer to the language list."""
    names = languages.choices(situation)
    picked = chosen(said.text, len(names))
    if picked is None:
        for code, name in names:
            if fold(said.text) in {fold(code), fold(name)}:
                return _switch(outcome, situation, code)
        return None
    return _switch(outcome, situation, names[picked - 1][0])


def _switch(outcome: Outcome, situation: Situation, code: str) -> Outcome:
    outcome.effects.append(Effect(SET_LOCALE, code))
    switched = replace(situation, locale=code)
    t = translate(switched)
    return _menu(outcome, switched, t.gettext("Language saved.") + "\n")


def delete(outcome: Outcome, situation: Situation, said: Said) -> Outcome:
    """Ask to confirm; DELETE YES (in one message or two) erases everything.

    While check-ins run, only DELETE and the PIN erases (whoever holds the phone must not
    disarm them with two words); the duress PIN seems to erase, and alerts.
    """
    words = said.text.split()[1:]
    pin = _pin_in(words, situation)
    if _guarded(situation):
        if pin is not None:
            return _erase_with_pin(outcome, situation, pin)
        return _ask_pin(outcome, situation)
    if any(recognise(word, situation.locale) is Command.YES for word in said.words):
        return _erase(outcome, situation)
    outcome.state = replace(outcome.state, flow=Flow.DELETE)
    t = translate(situation)
    return reply(
        outcome,
        situation,
        t.gettext(
            "This erases everything Refuge keeps about you, check-ins and trusted contacts "
            "too. Reply DELETE YES to confirm, or MENU to keep it."
        ),
    )


def confirm_delete(outcome: Outcome, situation: Situation, said: Said) -> Outcome | None:
    """The answer to 'reply DELETE YES to confirm': a YES alone confirms too (the PIN, while
    check-ins run)."""
    if _guarded(situation):
        pin = _pin_in(said.text.split(), situation)
        if pin is not None:
            return _erase_with_pin(outcome, situation, pin)
        return _ask_pin(outcome, situation) if said.command is Command.YES else None
    if said.command is not Command.YES:
        return None
    return _erase(outcome, situation)


def _guarded(situation: Situation) -> bool:
    """Check-ins run (on, or paused): erasing them needs the PIN."""
    port = situation.checkins
    plan = port.plan() if port is not None else None
    return plan is not None and plan.status in (Status.ACTIVE, Status.PAUSED)


def _pin_in(words: list[str], situation: Situation) -> str | None:
    """The PIN among a DELETE's words (a YES beside it is allowed), or None."""
    kept = [word for word in words if recognise(word, situation.locale) is not Command.YES]
    return valid_pin(ascii_digits("".join(kept))) if kept else None


def _ask_pin(outcome: Outcome, situation: Situation) -> Outcome:
    outcome.state = replace(outcome.state, flow=Flow.DELETE)
    t = translate(situation)
    return reply(
        outcome,
        situation,
        t.gettext(
            "This erases everything Refuge keeps about you, check-ins and trusted contacts "
            "too. Reply DELETE and your PIN to confirm, or MENU to keep it."
        ),
    )


def _erase_with_pin(outcome: Outcome, situation: Situation, pin: str) -> Outcome:
    """The right PIN erases; the duress PIN only seems to (and alerts); any other refuses."""
    assert situation.checkins is not None  # guarded: there is a plan
    checked, duress = situation.checkins.confirm(pin)
    if checked is not Checked.OK:
        outcome.state = replace(outcome.state, flow=Flow.DELETE)
        return reply(outcome, situation, checkin_commands.refusal(situation, checked))
    if duress:
        # What the captor sees is an erasure; the plan runs on and the sweep alerts. The next
        # message is answered as a newcomer's, in a newcomer's language (`turn`).
        outcome.effects.append(Effect(SEEM_ERASED))
        outcome.state = State(newcomer=True)
        return reply(outcome, situation, erased_text(situation))
    return _erase(outcome, situation)


def _erase(outcome: Outcome, situation: Situation) -> Outcome:
    outcome.effects.append(Effect(DELETE_ME))
    outcome.state = State()
    return reply(outcome, situation, erased_text(situation))


def erased_text(situation: Situation) -> str:
    """The one answer to an erasure, real or pretended."""
    return str(translate(situation).gettext("Done. Nothing is kept."))


def erase_silently(outcome: Outcome, situation: Situation, said: Said) -> Outcome:
    """DELETE YES from an opted-out person: erased, without a reply (nothing else is heard).
    While check-ins run (STOP paused them), DELETE and the PIN: the duress PIN erases nothing."""
    if said.command is not Command.DELETE:
        return outcome
    words = said.text.split()[1:]
    if _guarded(situation):
        pin = _pin_in(words, situation)
        if pin is None or situation.checkins is None:
            return outcome
        checked, duress = situation.checkins.confirm(pin)
        if checked is not Checked.OK or duress:
            return outcome
    elif not any(recognise(word, situation.locale) is Command.YES for word in words):
        return outcome
    outcome.effects.append(Effect(DELETE_ME))
    outcome.state = State()
    return outcome


def check(outcome: Outcome, situation: Situation, said: Said) -> Outcome:
    """Answer a forwarded rumour with what is verified, or say that it is not."""
    forwarded = " ".join(said.text.split()[1:])
    t = translate(situation)
    if not forwarded:
        outcome.state = replace(outcome.state, flow=Flow.CHECK)
        return reply(outcome, situation, t.gettext("Send CHECK and the message you want checked."))
    return flows.check_text(outcome, situation, forwarded)


__all__ = ["check", "help_", "menu", "start", "stop"]
