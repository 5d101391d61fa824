"""The check-in conversation: set-up step by step, OK <PIN>, STATUS, PAUSE, RESUME, STOP, NOTE.

The engine hands over (`Effect(CHECKIN, text)`) because this part needs the database: PIN
hashes, the plan, contacts. `take_over` runs after the engine in the same turn and replaces its
(empty) answer; it also recognises a contact's YES or NO to an invitation, and makes a STOP
from a contact final. Replies go through the engine's `reply`, so they are measured and paged
like every other.

Whatever PIN a message carries, the reply never tells a right PIN from the duress PIN.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from server.checkins import plans, texts
from server.checkins.plans import Added, Checked, Status
from server.checkins.schedule import MAX_HOURS, MIN_HOURS, parse_time
from server.models.checkins import CheckinPlan
from server.models.people import Consent, Subscriber
from server.phones import InvalidPhoneNumber, normalize_phone
from server.sms import engine
from server.sms.engine import Outcome, Situation, reply, translate
from server.sms.vocabulary import CONTEXT, Command, keyword_source, recognise

MIN_GRACE, MAX_GRACE = 5, 1440
STEPS = ("pin", "duress", "schedule", "grace", "name", "contacts", "later", "message", "ngo")


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
        plans.refuse_everything(session, subscriber, now)
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
    before: dict[str, Any] = _state_before(subscriber)
    if command not in (Command.YES, Command.NO) or before.get("flow") in ("delete", "checkin"):
        return outcome
    if not plans.answer_invitations(session, subscriber, command is Command.YES, now):
        return outcome
    answered = Outcome(state=before)
    t = translate(situation)
    return reply(answered, situation, t.gettext("Thank you, your answer is noted."))


def _state_before(subscriber: Subscriber) -> dict[str, Any]:
    from server import people

    return people.load_state(subscriber)


def ascii_digits(text: str) -> str:
    """The text with digits of every script written as ASCII digits, nothing else changed."""
    return "".join(
        str(unicodedata.decimal(ch)) if ch.isdecimal() and not ch.isascii() else ch for ch in text
    )


@dataclass
class Flow:
    """One message of the check-in conversation."""

    session: Session
    subscriber: Subscriber
    outcome: Outcome
    situation: Situation
    now: datetime

    @property
    def t(self) -> Any:
        """The person's catalogue."""
        return translate(self.situation)

    def say(self, text: str) -> Outcome:
        """Answer with one text (paged when long)."""
        return reply(self.outcome, self.situation, text)

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
        if step in STEPS and command is not Command.CHECKIN and plan is not None:
            return self.answer(plan, str(step), text)
        if plans.status_of(plan) in (Status.ACTIVE, Status.PAUSED):
            return self.status(plan)
        return self.begin()

    # --- Managing -----------------------------------------------------------------------------

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

    def _word(self, command: Command) -> str:
        """The first spelling of a keyword in the person's language."""
        return str(self.t.pgettext(CONTEXT, keyword_source(command))).split("|")[0]

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
        contacts = plans.contacts_of(plan)
        agreed = sum(1 for c in contacts if c.consent is Consent.CONFIRMED)
        waiting = sum(1 for c in contacts if c.consent is Consent.PENDING)
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

    def note(self, text: str) -> Outcome:
        """NOTE <text>: sealed to the NGO's key at once; the text is never kept readable."""
        self._leave_flow()
        if not text.strip():
            return self.say(self.t.gettext("Send NOTE and your message."))
        if plans.leave_note(self.session, self.subscriber, text.strip()) is None:
            return self.say(self.t.gettext("No caseworker takes notes here yet. Nothing was kept."))
        return self.say(
            self.t.gettext("Your note is sealed for your caseworker. Only they can read it.")
        )

    def _leave_flow(self) -> None:
        self.outcome.state.pop("ck", None)
        if self.outcome.state.get("flow") == "checkin":
            self.outcome.state["flow"] = None

    # --- Setting up ---------------------------------------------------------------------------

    def begin(self) -> Outcome:
        """Start setting up (again)."""
        plans.begin(self.session, self.subscriber, plans.zone_for(self.session, self.subscriber))
        return self.ask("pin")

    def ask(self, step: str, prefix: str = "") -> Outcome:
        """Ask a set-up question and remember which one was asked."""
        self.outcome.state.update(flow="checkin", ck=step)
        return self.say(prefix + self._question(step))

    def _question(self, step: str) -> str:
        t = self.t
        questions = {
            "pin": t.gettext(
                "Check-in set-up. Choose a PIN of 4 to 8 digits that only you know. "
                "Reply 0 at any step to cancel."
            ),
            "duress": t.gettext(
                "Optional: a second, duress PIN. If you are ever forced to check in, use it: "
                "all looks normal but your contacts are alerted. Reply it, or NO to skip."
            ),
            "schedule": t.gettext(
                "How often will you check in? Reply hours (1 to 168), like 12, or a daily "
                "time, like 9:00."
            ),
            "grace": t.gettext(
                "If you miss one, how many minutes should we wait before alerting? "
                "Reply 5 to 1440, like 60."
            ),
            "name": t.gettext(
                "What name do your contacts know you by? They will see it in texts about you."
            ),
            "contacts": t.gettext(
                "Add up to 5 trusted contacts: ADD +number Name. Each gets one text asking "
                "if they agree. Reply DONE when finished."
            ),
        }
        return str(questions[step])

    def answer(self, plan: CheckinPlan, step: str, text: str) -> Outcome:
        """The answer to the set-up question last asked."""
        handler = getattr(self, f"step_{step}")
        result: Outcome = handler(plan, text)
        return result

    def step_pin(self, plan: CheckinPlan, text: str) -> Outcome:
        pin = plans.valid_pin(ascii_digits(text))
        if pin is None:
            return self.ask("pin", self.t.gettext("A PIN is 4 to 8 digits.") + " ")
        plans.set_pin(self.session, plan, pin)
        return self.ask("duress")

    def step_duress(self, plan: CheckinPlan, text: str) -> Outcome:
        if recognise(text, self.situation.locale) is Command.NO:
            plans.set_duress(self.session, plan, None)
            return self.ask("schedule")
        pin = plans.valid_pin(ascii_digits(text))
        if pin is None:
            return self.ask("duress", self.t.gettext("A PIN is 4 to 8 digits.") + " ")
        if not plans.set_duress(self.session, plan, pin):
            prefix = self.t.gettext("The duress PIN must differ from your PIN.") + " "
            return self.ask("duress", prefix)
        return self.ask("schedule")

    def step_schedule(self, plan: CheckinPlan, text: str) -> Outcome:
        written = ascii_digits(text).strip()
        settings = plans.settings_of(plan)
        if any(mark in written for mark in ":.h"):
            at = parse_time(written)
            if at is None:
                return self.ask("schedule", self.t.gettext("That is not a time.") + " ")
            settings.daily_at, settings.hours = at.strftime("%H:%M"), 24
        elif written.isascii() and written.isdigit() and MIN_HOURS <= int(written) <= MAX_HOURS:
            settings.daily_at, settings.hours = None, int(written)
        else:
            return self.ask("schedule", self.t.gettext("That is not a number of hours.") + " ")
        plans.save(plan, settings)
        return self.ask("grace")

    def step_grace(self, plan: CheckinPlan, text: str) -> Outcome:
        written = ascii_digits(text).strip()
        if not (written.isascii() and written.isdigit() and MIN_GRACE <= int(written) <= MAX_GRACE):
            return self.ask("grace", self.t.gettext("That is not a number of minutes.") + " ")
        settings = plans.settings_of(plan)
        settings.grace_minutes = int(written)
        plans.save(plan, settings)
        return self.ask("name")

    def step_name(self, plan: CheckinPlan, text: str) -> Outcome:
        name = " ".join(text.split())[: plans.MAX_NAME]
        if not name:
            return self.ask("name")
        settings = plans.settings_of(plan)
        settings.name = name
        plans.save(plan, settings)
        return self.ask("contacts")

    def step_contacts(self, plan: CheckinPlan, text: str) -> Outcome:
        command = recognise(text, self.situation.locale)
        if command is Command.DONE:
            if not plans.contacts_of(plan):
                return self.ask("contacts", self.t.gettext("Add at least one contact first.") + " ")
            return self.ask_later(plan)
        if command is not Command.ADD:
            return self.ask("contacts")
        return self._add(plan, text.split()[1:])

    def _add(self, plan: CheckinPlan, words: list[str]) -> Outcome:
        number_words = [w for w in words if any(ch.isdecimal() for ch in w) or w.startswith("+")]
        name = " ".join(w for w in words if w not in number_words)
        try:
            phone = normalize_phone(ascii_digits("".join(number_words)))
        except InvalidPhoneNumber:
            phone = None
        t = self.t
        if phone is None or not name:
            return self.say(
                t.gettext(
                    "Send ADD, the number with its country code, and a name. "
                    "Like: ADD +44 7700 900123 Sara"
                )
            )
        added = plans.add_contact(self.session, plan, phone, name, self.now)
        answers = {
            Added.ADDED: t.gettext("%(name)s added and asked. Add another, or reply DONE."),
            Added.FULL: t.gettext("You have 5 contacts already. Reply DONE."),
            Added.ALREADY: t.gettext("That number is already one of your contacts."),
            Added.REFUSED: t.gettext("That number cannot be asked. Try another, or reply DONE."),
            Added.CAPPED: t.gettext("Too many requests today. Add more tomorrow. Reply DONE."),
        }
        return self.say(str(answers[added]) % {"name": name[: plans.MAX_NAME]})

    def ask_later(self, plan: CheckinPlan) -> Outcome:
        """With two contacts or more: who is alerted only at the second stage?"""
        contacts = plans.contacts_of(plan)
        if len(contacts) < 2:
            return self.ask_message(plan)
        lines = [f"{n} {c.name}" for n, c in enumerate(contacts, start=1)]
        self.outcome.state.update(flow="checkin", ck="later")
        question = self.t.gettext(
            "Alert some contacts only 6 hours later? Reply their numbers, like 2 3, or NO:"
        )
        return self.say(question + "\n" + "\n".join(lines))

    def step_later(self, plan: CheckinPlan, text: str) -> Outcome:
        contacts = plans.contacts_of(plan)
        picked: list[str] = []
        if recognise(text, self.situation.locale) is not Command.NO:
            for word in ascii_digits(text).replace(",", " ").split():
                if not (word.isdigit() and 1 <= int(word) <= len(contacts)):
                    return self.ask_later(plan)
                picked.append(contacts[int(word) - 1].id.hex)
            if len(set(picked)) == len(contacts):
                return self.ask_later(plan)  # somebody has to be alerted first
        settings = plans.settings_of(plan)
        settings.stage_two = sorted(set(picked))
        plans.save(plan, settings)
        return self.ask_message(plan)

    def ask_message(self, plan: CheckinPlan) -> Outcome:
        """Show the message contacts will get; YES keeps it, any other text replaces it."""
        settings = plans.settings_of(plan)
        shown = texts.alert(self.situation.locale, settings.name, settings.message)
        self.outcome.state.update(flow="checkin", ck="message")
        question = self.t.gettext(
            'Your contacts will get: "%(text)s" Reply YES to keep it, or write your own.'
        )
        return self.say(question % {"text": shown})

    def step_message(self, plan: CheckinPlan, text: str) -> Outcome:
        if recognise(text, self.situation.locale) is not Command.YES:
            own = " ".join(text.split())
            if not texts.fits_one_text(own):
                self.outcome.state.update(flow="checkin", ck="message")
                return self.say(self.t.gettext("That is too long for one text. Write less."))
            settings = plans.settings_of(plan)
            settings.message = own or None
            plans.save(plan, settings)
        partner = plans.partner_for(self.session, self.subscriber)
        if partner is None:
            return self.finish(plan)
        self.outcome.state.update(flow="checkin", ck="ngo")
        question = self.t.gettext(
            "Also alert %(ngo)s, and tell them if you left a note? Reply YES or NO."
        )
        return self.say(question % {"ngo": partner.name})

    def step_ngo(self, plan: CheckinPlan, text: str) -> Outcome:
        command = recognise(text, self.situation.locale)
        if command not in (Command.YES, Command.NO):
            return self.step_message_again(plan)
        partner = plans.partner_for(self.session, self.subscriber)
        if command is Command.YES and partner is not None:
            plans.include_ngo(self.session, plan, partner)
        return self.finish(plan)

    def step_message_again(self, plan: CheckinPlan) -> Outcome:
        self.outcome.state.update(flow="checkin", ck="ngo")
        return self.say(self.t.gettext("Reply YES or NO."))

    def finish(self, plan: CheckinPlan) -> Outcome:
        """Set-up done: the schedule starts now."""
        due = plans.activate(plan, self.now)
        self._leave_flow()
        when = texts.local_time(due, plans.settings_of(plan).zone, self.situation.locale)
        return self.say(
            self.t.gettext(
                "Check-ins are on. Next: %(time)s. To check in, reply OK and your PIN. "
                "CHECKIN STATUS to see them; PAUSE or STOP CHECKIN with your PIN."
            )
            % {"time": when}
        )
