"""The check-in conversation: set-up step by step, OK <PIN>, STATUS, PAUSE, RESUME, STOP, NOTE.

The engine hands over (`Effect(CHECKIN, text)`) because this part needs the database: PIN
hashes, the plan, contacts. `take_over` runs after the engine in the same turn and replaces its
(empty) answer; it also recognises a contact's YES or NO to an invitation, and makes a STOP
from a contact final. Replies go through the engine's `reply`, so they are measured and paged
like every other.

Whatever PIN a message carries, the reply never tells a right PIN from the duress PIN.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from server.checkins import contacts, plans, texts
from server.checkins.plans import Checked, Status
from server.models.checkins import CheckinPlan
from server.models.people import Consent, Subscriber
from server.sms import engine
from server.sms.checkin_setup import STEPS, SetUpSteps, ascii_digits
from server.sms.engine import Outcome, Situation, reply, translate
from server.sms.vocabulary import Command, recognise


def take_over(
    session: Session,
    subscriber: Subscriber,
    text: str,
    outcome: Outcome,
    situation: Situation,
    now: datetime,
) -> Outcome:
    """The outcome with the check-in flow's part done: the engine's, when it has none."""
    kinds = {effect.kind for effect in outcome.effects}
    if engine.OPT_OUT in kinds:
        contacts.refuse_everything(session, subscriber, now)
        return outcome
    handover = next((e for e in outcome.effects if e.kind == engine.CHECKIN), None)
    if handover is None:
        return _invitation_answer(session, subscriber, text, outcome, situation, now)
    outcome.effects.remove(handover)
    return Flow(session, subscriber, outcome, situation, now).run(engine.clean_input(text))


def _invitation_answer(
    session: Session,
    subscriber: Subscriber,
    text: str,
    outcome: Outcome,
    situation: Situation,
    now: datetime,
) -> Outcome:
    """A YES or NO from someone who was asked to be a contact (and is not mid-question)."""
    command = recognise(engine.clean_input(text), situation.locale)
    if command not in (Command.YES, Command.NO):
        return outcome
    before: dict[str, Any] = _state_before(subscriber)
    if before.get("flow") in ("delete", "checkin"):
        return outcome
    if not contacts.answer_invitations(session, subscriber, command is Command.YES, now):
        return outcome
    answered = Outcome(state=before)
    t = translate(situation)
    return reply(answered, situation, t.gettext("Thank you, your answer is noted."))


def _state_before(subscriber: Subscriber) -> dict[str, Any]:
    from server import people

    return people.load_state(subscriber)


@dataclass
class Flow(SetUpSteps):
    """One message of the check-in conversation."""

    session: Session
    subscriber: Subscriber
    outcome: Outcome
    situation: Situation
    now: datetime

    def run(self, text: str) -> Outcome:
        """Route the message: a management word, a set-up answer, or the start."""
        words = text.split()
        locale = self.situation.locale
        command = recognise(text, locale)
        second = recognise(words[1], locale) if len(words) > 1 else None
        plan = plans.plan_of(self.session, self.subscriber, lock=True)
        step = self.outcome.state.get("ck") if self.outcome.state.get("flow") == "checkin" else None
        if command is Command.STOP:
            return self.manage(plan, plans.stop, words[2:], "stopped")
        if command is Command.PAUSE:
            return self.manage(plan, plans.pause, words[1:], "paused")
        if command is Command.OK and len(words) > 1:
            return self.check_in(plan, words[1:])
        if command is Command.RESUME:
            return self.resume(plan)
        if command is Command.STATUS or second is Command.STATUS:
            return self.status(plan)
        if command is Command.NOTE:
            return self.note(text.split(maxsplit=1)[1] if len(words) > 1 else "")
        if command is Command.REMOVE:
            return self.remove(plan, words[1:])
        if step in STEPS and command is not Command.CHECKIN and plan is not None:
            return self.answer(plan, str(step), text)
        if plans.status_of(plan) in (Status.ACTIVE, Status.PAUSED):
            return self.status(plan)
        return self.begin()

    def _pin(self, words: list[str]) -> str:
        return ascii_digits("".join(words))

    def check_in(self, plan: CheckinPlan | None, words: list[str]) -> Outcome:
        """OK <PIN>: the same answer for the real and the duress PIN."""
        checked = plans.check_in(self.session, plan, self._pin(words), self.now)
        self._leave_flow()
        if checked is Checked.OK and plan is not None:
            return self.say(self._thanks(plan))
        return self.say(self._refusal(checked))

    def _thanks(self, plan: CheckinPlan) -> str:
        state = plans.state_of(plan)
        due = state.due_at
        if state.status == Status.ACTIVE.value and due is not None:
            when = texts.local_time(due, plans.settings_of(plan).zone, self.situation.locale)
            return str(self.t.gettext("Thank you. Next check-in: %(time)s.") % {"time": when})
        return str(self.t.gettext("Thank you."))

    def _refusal(self, checked: Checked) -> str:
        if checked is Checked.LIMITED:
            return str(self.t.gettext("Too many tries. Try again later."))
        if checked is Checked.NO_PLAN:
            return str(self.t.gettext("You have no check-ins. Reply CHECKIN to set them up."))
        return str(self.t.gettext("That PIN is not right. Try again."))

    def manage(self, plan: CheckinPlan | None, action: Any, words: list[str], done: str) -> Outcome:
        """PAUSE <PIN> and STOP CHECKIN <PIN>; the duress PIN seems to work too, and alerts."""
        self._leave_flow()
        if not words:
            word = self._word(Command.PAUSE)
            if done != "paused":
                word = f"{self._word(Command.STOP)} {self._word(Command.CHECKIN)}"
            return self.say(self.t.gettext("Send %(word)s and your PIN.") % {"word": word})
        checked = action(self.session, plan, self._pin(words), self.now)
        if checked is not Checked.OK:
            return self.say(self._refusal(checked))
        if done == "paused":
            return self.say(self.t.gettext("Check-ins paused. Reply RESUME to start again."))
        return self.say(self.t.gettext("Check-ins stopped. Reply CHECKIN to set them up again."))

    def resume(self, plan: CheckinPlan | None) -> Outcome:
        """RESUME: a paused plan starts a new period now."""
        self._leave_flow()
        due = plans.resume(plan, self.now) if plan is not None else None
        if plan is None or due is None:
            return self.status(plan)
        when = texts.local_time(due, plans.settings_of(plan).zone, self.situation.locale)
        return self.say(self.t.gettext("Check-ins resumed. Next: %(time)s.") % {"time": when})

    def status(self, plan: CheckinPlan | None) -> Outcome:
        """CHECKIN STATUS: on, paused or stopped, the next due time, contacts' answers."""
        self._leave_flow()
        status = plans.status_of(plan)
        if plan is None or status in (None, Status.SETUP):
            return self.say(self._refusal(Checked.NO_PLAN))
        state, settings = plans.state_of(plan), plans.settings_of(plan)
        mine = contacts.shown_contacts(plan)
        agreed = sum(1 for c in mine if c.consent is Consent.CONFIRMED)
        waiting = sum(1 for c in mine if c.consent is Consent.PENDING)
        names = {
            Status.ACTIVE: self.t.gettext("on"),
            Status.PAUSED: self.t.gettext("paused"),
            Status.STOPPED: self.t.gettext("stopped"),
        }
        due = state.due_at
        when = (
            texts.local_time(due, settings.zone, self.situation.locale)
            if due is not None and status is Status.ACTIVE
            else "-"
        )
        return self.say(
            self.t.gettext(
                "Check-ins: %(state)s. Next: %(time)s. Contacts: %(agreed)d agreed, "
                "%(waiting)d waiting. OK and your PIN to check in."
            )
            % {"state": names[status], "time": when, "agreed": agreed, "waiting": waiting}
        )

    def remove(self, plan: CheckinPlan | None, words: list[str]) -> Outcome:
        """REMOVE <name or number> <PIN>; with the duress PIN it only seems to (see hide)."""
        self._leave_flow()
        if len(words) < 2:
            return self.say(
                self.t.gettext("Send %(word)s, the contact's name or number, and your PIN.")
                % {"word": self._word(Command.REMOVE)}
            )
        if plans.status_of(plan) not in (Status.ACTIVE, Status.PAUSED):
            plan = None  # nothing to remove from: answered as a check-in without a plan
        # The PIN first, so that nobody without it learns whose names are on the list.
        checked, duress = plans.confirm(self.session, plan, self._pin(words[-1:]), self.now)
        if checked is not Checked.OK or plan is None:
            return self.say(self._refusal(checked))
        who = " ".join(words[:-1])
        contact = contacts.find_contact(self.session, plan, ascii_digits(who))
        if contact is None:
            return self.say(self.t.gettext("No contact by that name or number."))
        answer = self.t.gettext("%(name)s removed. Refuge will not text them again.") % {
            "name": contact.name or who
        }
        if duress:
            contacts.hide_contact(plan, contact)
        else:
            contacts.remove_contact(self.session, plan, contact, self.now)
        return self.say(answer)

    def note(self, text: str) -> Outcome:
        """NOTE <text>: sealed to the NGO's key at once; the text is never kept readable."""
        self._leave_flow()
        if not text.strip():
            return self.say(self.t.gettext("Send NOTE and your message."))
        if contacts.leave_note(self.session, self.subscriber, text.strip()) is None:
            return self.say(self.t.gettext("No caseworker takes notes here yet. Nothing was kept."))
        return self.say(
            self.t.gettext("Your note is sealed for your caseworker. Only they can read it.")
        )
