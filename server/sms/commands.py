"""One small handler per command: what a person gets for each word or number they text."""

from __future__ import annotations

from server.content.text import fold
from server.sms import flows
from server.sms.engine import (
    CHECKIN,
    DELETE_ME,
    OPT_IN,
    OPT_OUT,
    SET_LOCALE,
    Effect,
    Outcome,
    Situation,
    chosen,
    reply,
    translate,
)
from server.sms.vocabulary import Command, number, recognise, words_of

#: The main menu's numbers.
MENU = {1: Command.FIND, 2: Command.NEWS, 3: Command.SECURE, 4: Command.CHECKIN, 5: Command.LANG}


def menu_text(situation: Situation) -> str:
    """The main menu, numbered: one segment in GSM-7 languages."""
    t = translate(situation)
    return str(
        t.gettext(
            "Refuge. Reply a number:\n1 Find help\n2 News\n3 Secure your phone\n4 Check-in\n"
            "5 Language\nOr CHECK and a message to check a rumour"
        )
    )


def menu(outcome: Outcome, situation: Situation, prefix: str = "") -> Outcome:
    """Show the main menu and forget any unfinished choice."""
    progress = outcome.state.get("progress")
    outcome.state = {"v": outcome.state.get("v", 1)}
    if progress:
        outcome.state["progress"] = progress  # checklists resume where they were left
    return reply(outcome, situation, prefix + menu_text(situation))


def stop(outcome: Outcome, situation: Situation) -> Outcome:
    """Opt out: one confirmation, then silence (a second STOP gets nothing)."""
    if situation.opted_out:
        return outcome
    outcome.effects.append(Effect(OPT_OUT))
    outcome.state = {"v": outcome.state.get("v", 1)}
    t = translate(situation)
    return reply(
        outcome,
        situation,
        t.gettext("You will get no more messages from Refuge. Reply START to come back."),
    )


def start(outcome: Outcome, situation: Situation) -> Outcome:
    """Opt back in and show the menu."""
    if situation.opted_out:
        outcome.effects.append(Effect(OPT_IN))
    return menu(outcome, situation, translate(situation).gettext("Welcome back.") + "\n")


def help_(outcome: Outcome, situation: Situation) -> Outcome:
    """What Refuge is and the words that always work; answered even when opted out."""
    t = translate(situation)
    return reply(
        outcome,
        situation,
        t.gettext(
            "Refuge gives verified help and news for your safety. Reply MENU for choices, "
            "STOP to end all messages, DELETE to erase what we keep about you."
        ),
    )


def dispatch(outcome: Outcome, situation: Situation, text: str, command: Command | None) -> Outcome:
    """Route a message by its command, or as an answer to the question last asked."""
    flow = outcome.state.get("flow")
    if command is Command.MENU or fold(text) in {"0", ""}:
        return menu(outcome, situation)
    if command is Command.MORE:
        return more(outcome, situation)
    if command is Command.DELETE:
        return delete(outcome, situation, text)
    if command is Command.CHECK:
        return check(outcome, situation, text)
    if flow == "delete" and command is Command.YES:
        return _erase(outcome, situation)
    if flow == "checkin" or command in CHECKIN_WORDS or (command is Command.OK and words_of(text)):
        return checkin(outcome, situation, text)
    if flow and command not in _TOP_LEVEL:
        answered = flows.answer(outcome, situation, flow, text, command)
        if answered is not None:
            return answered
    picked = number(text) if command is None and not flow else None
    if picked is not None:
        command = MENU.get(picked)
    return _run(outcome, situation, command, text)


_TOP_LEVEL = {Command.FIND, Command.NEWS, Command.SECURE, Command.CHECKIN, Command.LANG}
#: Words the check-in flow answers wherever the conversation is (OK only with a PIN after it).
CHECKIN_WORDS = {
    Command.CHECKIN,
    Command.PAUSE,
    Command.RESUME,
    Command.STATUS,
    Command.NOTE,
    Command.REMOVE,
}


def _run(outcome: Outcome, situation: Situation, command: Command | None, text: str) -> Outcome:
    if command is Command.FIND:
        return flows.find(outcome, situation, words_of(text))
    if command is Command.NEWS:
        return flows.news(outcome, situation)
    if command is Command.SECURE:
        return flows.secure(outcome, situation)
    if command is Command.CHECKIN:
        return checkin(outcome, situation, text)
    if command is Command.LANG:
        return lang(outcome, situation, words_of(text))
    return menu(outcome, situation)


def more(outcome: Outcome, situation: Situation) -> Outcome:
    """The next page of the last long answer."""
    pages = list(outcome.state.get("more") or [])
    if not pages:
        t = translate(situation)
        return menu(outcome, situation, t.gettext("There is nothing more.") + "\n")
    outcome.replies.append(pages.pop(0))
    if pages:
        outcome.state["more"] = pages
    else:
        outcome.state.pop("more", None)
    return outcome


def checkin(outcome: Outcome, situation: Situation, text: str) -> Outcome:
    """Hand over to the check-in flow, which needs the database (PINs, plans, contacts).

    The caller (`server.sms.checkin_flow`) answers instead of the engine; a caller without
    it gets no reply rather than a wrong one.
    """
    outcome.effects.append(Effect(CHECKIN, text))
    return outcome


def lang(outcome: Outcome, situation: Situation, words: list[str]) -> Outcome:
    """List the languages, or switch to the one named or numbered."""
    names = situation.content.language_names()
    if words:
        wanted = words[0]
        for position, (code, name) in enumerate(names, start=1):
            if wanted in {fold(code), fold(name), str(position)}:
                return _switch(outcome, situation, code)
    outcome.state["flow"] = "lang"
    lines = [f"{position} {name}" for position, (_code, name) in enumerate(names, start=1)]
    t = translate(situation)
    return reply(outcome, situation, t.gettext("Reply a number:") + "\n" + "\n".join(lines))


def choose_language(outcome: Outcome, situation: Situation, text: str) -> Outcome | None:
    """The answer to the language list."""
    names = situation.content.language_names()
    picked = chosen(text, len(names))
    if picked is None:
        for code, name in names:
            if fold(text) in {fold(code), fold(name)}:
                return _switch(outcome, situation, code)
        return None
    return _switch(outcome, situation, names[picked - 1][0])


def _switch(outcome: Outcome, situation: Situation, code: str) -> Outcome:
    outcome.effects.append(Effect(SET_LOCALE, code))
    switched = Situation(**{**situation.__dict__, "locale": code})
    t = translate(switched)
    return menu(outcome, switched, t.gettext("Language saved.") + "\n")


def delete(outcome: Outcome, situation: Situation, text: str) -> Outcome:
    """Ask to confirm; DELETE YES (in one message or two) erases everything."""
    if any(recognise(word, situation.locale) is Command.YES for word in words_of(text)):
        return _erase(outcome, situation)
    outcome.state["flow"] = "delete"
    t = translate(situation)
    return reply(
        outcome,
        situation,
        t.gettext(
            "This erases everything Refuge keeps about you, check-ins and trusted contacts "
            "too. Reply DELETE YES to confirm, or MENU to keep it."
        ),
    )


def _erase(outcome: Outcome, situation: Situation) -> Outcome:
    outcome.effects.append(Effect(DELETE_ME))
    outcome.state = {"v": outcome.state.get("v", 1)}
    return reply(outcome, situation, translate(situation).gettext("Done. Nothing is kept."))


def check(outcome: Outcome, situation: Situation, text: str) -> Outcome:
    """Answer a forwarded rumour with what is verified, or say that it is not."""
    forwarded = " ".join(text.split()[1:])
    t = translate(situation)
    if not forwarded:
        outcome.state["flow"] = "check"
        return reply(outcome, situation, t.gettext("Send CHECK and the message you want checked."))
    return flows.check_text(outcome, situation, forwarded)


__all__ = ["check", "dispatch", "help_", "menu", "start", "stop"]
