"""The one dispatcher: which handler answers a message, read from tables of commands and flows.

Every handler takes `(outcome, situation, said)`. A command's handler always answers; a
flow's handler answers the question last asked, or returns None when the message does not
answer it (then the message is read as a command). To add an SMS command: a keyword in
`vocabulary`, a handler, and a line in one of the tables below.

Precedence, whatever the state:
1. STOP, START and HELP (STOP CHECKIN is the check-in word, unless the carrier said STOP);
   an opted-out person gets nothing else but the words of a running plan (OK <PIN>, PAUSE,
   STATUS...), which keep working after STOP (DELETE YES still erases, silently);
2. MENU (or 0), MORE, DELETE and CHECK, wherever the conversation is;
3. the check-in words, and every answer while the check-in set-up asks its questions;
4. the answer to the question last asked;
5. a command word, or a number of the main menu; a number that is none of the open question's
   choices asks that question again;
6. free text (`flows.free_text`): a known rumour gets its note, a cry for help the emergency
   line, a word or two are searched for; anything else shows the menu.
A new number's first message, when it is no command but MENU (`hello`, `hi`, a number), is
answered by asking its language where its country's people read several
(`REFUGE_FIRST_CONTACT_LANGUAGES`).
An invitation's YES or NO (from someone asked to be a trusted contact) outranks 4 and 5.

STOP opts out of every message at once, as carriers require; since no reminder can reach the
person then, a running plan pauses until START resumes it, and both replies say so. Every
answer of 3, and an invitation's thanks, is marked `Outcome.checkin`: the turn sends it past
the per-number reply limits, since what it did must never go unconfirmed.
"""

from __future__ import annotations

from collections.abc import Callable

from server.content.text import fold
from server.conversation import (
    checkin_commands,
    checkin_decoy,
    checkin_setup,
    commands,
    distress,
    flows,
    languages,
)
from server.conversation.engine import OPT_OUT, Outcome, Said, Situation, reply, translate
from server.conversation.state import Flow, State
from server.conversation.vocabulary import Command, number, recognise

Handler = Callable[[Outcome, Situation, Said], Outcome]
Answer = Callable[[Outcome, Situation, Said], Outcome | None]

#: Answered in every state, even to an opted-out person.
ALWAYS: dict[Command, Handler] = {
    Command.STOP: commands.stop,
    Command.START: commands.start,
    Command.HELP: commands.help_,
}
#: Answered wherever the conversation is, before any question's answer.
ANYWHERE: dict[Command, Handler] = {
    Command.MENU: commands.menu,
    Command.MORE: commands.more,
    Command.DELETE: commands.delete,
    Command.CHECK: commands.check,
}
#: The words of a check-in plan (STOP only as STOP CHECKIN, OK only with a PIN).
CHECKIN: dict[Command, Handler] = {
    Command.STOP: checkin_commands.stop,
    Command.PAUSE: checkin_commands.pause,
    Command.OK: checkin_commands.check_in,
    Command.RESUME: checkin_commands.resume,
    Command.STATUS: checkin_commands.status,
    Command.NOTE: checkin_commands.note,
    Command.REMOVE: checkin_commands.remove,
    Command.WEB: checkin_commands.web,
}
#: The main menu's choices, by keyword.
TOP_LEVEL: dict[Command, Handler] = {
    Command.FIND: flows.find,
    Command.NEWS: flows.news,
    Command.SECURE: flows.secure,
    Command.CHECKIN: lambda outcome, situation, said: checkins(outcome, situation, said),  # below
    Command.LANG: commands.lang,
}
#: The main menu's numbers.
MENU = {1: Command.FIND, 2: Command.NEWS, 3: Command.SECURE, 4: Command.CHECKIN, 5: Command.LANG}
#: The answer to each question, by the flow that asked it.
FLOWS: dict[Flow, Answer] = {
    Flow.REGION: flows.pick_region,
    Flow.CATEGORY: flows.pick_category,
    Flow.SECURE: flows.pick_checklist,
    Flow.STEP: flows.step_move,
    Flow.LANG: commands.choose_language,
    Flow.CHECK: flows.answer_check,
    Flow.DELETE: commands.confirm_delete,
    Flow.PIN: checkin_setup.pin,
    Flow.DURESS: checkin_setup.duress,
    Flow.SCHEDULE: checkin_setup.schedule,
    Flow.ZONE: checkin_setup.zone,
    Flow.GRACE: checkin_setup.grace,
    Flow.NAME: checkin_setup.name,
    Flow.CONTACTS: checkin_setup.contacts,
    Flow.LATER: checkin_setup.later,
    Flow.MESSAGE: checkin_setup.message,
    Flow.NGO: checkin_setup.ngo,
}
#: Words that go to the check-in plan wherever the conversation is.
CHECKIN_WORDS = frozenset(CHECKIN) - {Command.STOP, Command.OK} | {Command.CHECKIN}
#: Questions whose YES or NO is the person's own answer, never an invitation's.
_KEEPS_YES_AND_NO = frozenset(flow for flow in Flow if flow.setting_up) | {Flow.DELETE}


def route(outcome: Outcome, situation: Situation, said: Said) -> Outcome:
    """Answer one message, starting from the state in `outcome`."""
    before = outcome.state
    answered = _route(outcome, situation, said)
    if _invitation(said, situation, answered) and before.flow not in _KEEPS_YES_AND_NO:
        port = situation.checkins
        agree = recognise(said.text, situation.locale) is Command.YES
        if port is not None and port.answer_invitations(agree):
            thanked = Outcome(state=before, checkin=True)
            t = translate(situation)
            return reply(thanked, situation, t.gettext("Thank you, your answer is noted."))
    return answered


def _invitation(said: Said, situation: Situation, answered: Outcome) -> bool:
    """A YES or NO that may answer an invitation to be a contact (a STOP never does)."""
    if any(effect.kind == OPT_OUT for effect in answered.effects):
        return False
    return recognise(said.text, situation.locale) in (Command.YES, Command.NO)


def _route(outcome: Outcome, situation: Situation, said: Said) -> Outcome:
    stop_word = said.command is Command.STOP and not said.carrier  # the carrier's STOP wins
    if stop_word and _stops_checkins_only(said.text, situation.locale):
        # STOP CHECKIN <PIN>: the check-in plan's word, not an opt-out.
        return checkins(outcome, situation, said)
    always = ALWAYS.get(said.command) if said.command else None
    if always is not None:
        return always(outcome, situation, said)
    if situation.opted_out:
        # The plan's words still work (an OK with the PIN must count, whatever else was
        # said). Otherwise silence: they asked for it. Erasure stays their right: DELETE YES
        # still erases, without a reply (a provider would not deliver one anyway).
        if _checkin_word(said, situation.locale) is not None:
            return checkins(outcome, situation, said)
        return commands.erase_silently(outcome, situation, said)
    return _converse(outcome, situation, said)


def _stops_checkins_only(text: str, locale: str) -> bool:
    words = text.split()
    return len(words) > 1 and recognise(words[1], locale) is Command.CHECKIN


def _converse(outcome: Outcome, situation: Situation, said: Said) -> Outcome:
    command = Command.MENU if fold(said.text) in {"0", ""} else said.command
    if _welcomes(outcome, situation, command) and not distress.looks_like_distress(said.text):
        return languages.welcome(outcome, situation, said)
    anywhere = ANYWHERE.get(command) if command else None
    if anywhere is not None:
        return anywhere(outcome, situation, said)
    flow = outcome.state.flow
    setting_up = flow is not None and flow.setting_up
    if setting_up or command in CHECKIN_WORDS or (command is Command.OK and said.words):
        return checkins(outcome, situation, said)
    if flow is not None and command not in TOP_LEVEL:
        answered = FLOWS[flow](outcome, situation, said)
        if answered is None and number(said.text) is not None:
            answered = commands.ask_again(outcome, situation)  # not one of its choices
        if answered is not None:
            return answered
    if command is None and flow is None:
        picked = number(said.text)
        command = MENU.get(picked) if picked is not None else None
    top = TOP_LEVEL.get(command) if command else None
    if top is None and command is None:
        top = _free_text  # no command: read for a rumour, a cry for help, or words to find
    return (top or commands.menu)(outcome, situation, said)


def answered_in(command: Command, state: State) -> bool:
    """Whether a command word is read as one in this state, rather than as an answer (LANG
    answers the check-in set-up's questions: a contact may be called Basha)."""
    setting_up = state.flow is not None and state.flow.setting_up
    return command in ALWAYS or command in ANYWHERE or not setting_up


def _welcomes(outcome: Outcome, situation: Situation, command: Command | None) -> bool:
    """A new number's first words (a greeting, anything but a command) where its country's
    people read several languages: asked which, before anything in a language it may not read.
    A cry for help is not asked anything: it gets the line to call (`flows.free_text`)."""
    first = situation.first_contact and outcome.state.flow is None
    return first and len(situation.offered) > 1 and command in (None, Command.MENU)


def _free_text(outcome: Outcome, situation: Situation, said: Said) -> Outcome:
    """A message that is no command: what it may mean (`flows.free_text`), else the menu."""
    return flows.free_text(outcome, situation, said.text) or commands.menu(outcome, situation, said)


def checkins(outcome: Outcome, situation: Situation, said: Said) -> Outcome:
    """A check-in word, a set-up answer, or the start: the plan is read (and locked) first."""
    port = situation.checkins
    if port is None:
        return outcome  # no way to the plan: no reply rather than a wrong one
    outcome.checkin = True  # answered past the reply limits (see `server.conversation.turn`)
    plan = port.plan()
    word = _checkin_word(said, situation.locale)
    if word is not None:
        return CHECKIN[word](outcome, situation, said)
    if checkin_decoy.pretending(situation):  # a plan runs: its set-up is only pretended
        situation = checkin_decoy.decoyed(situation, outcome)
    flow = outcome.state.flow
    if flow is not None and flow.setting_up and said.command is not Command.CHECKIN and plan:
        answered = FLOWS[flow](outcome, situation, said)
        if answered is not None:
            return answered
    return checkin_setup.begin(outcome, situation, said)


def _checkin_word(said: Said, locale: str) -> Command | None:
    """The plan's word a message starts with (CHECKIN STATUS is STATUS), if any."""
    words = said.text.split()
    command = said.command
    if command in (Command.STOP, Command.PAUSE, Command.RESUME):
        return command
    if command is Command.OK and len(words) > 1:
        return command
    second = recognise(words[1], locale) if len(words) > 1 else None
    if Command.STATUS in (command, second):
        return Command.STATUS
    if command in (Command.NOTE, Command.REMOVE, Command.WEB):
        return command
    return None
