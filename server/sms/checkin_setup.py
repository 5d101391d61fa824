"""The check-in set-up, one question per message: PIN, duress PIN, schedule, grace, name,
contacts, who is alerted later, the contacts' message, the NGO. Every step is cancelled with
0 or MENU (the engine's), and STOP still opts out.

`SetUpSteps` holds the steps and the helpers every check-in answer uses; `checkin_flow.Flow`
adds checking in and managing a plan.
"""

from __future__ import annotations

import unicodedata
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from server.checkins import contacts, plans, sweep, texts
from server.checkins.contacts import Added
from server.checkins.schedule import MAX_HOURS, MIN_HOURS, parse_time
from server.models.checkins import CheckinPlan
from server.models.people import Subscriber
from server.phones import InvalidPhoneNumber, normalize_phone
from server.sms.engine import Outcome, Situation, reply, translate
from server.sms.vocabulary import CONTEXT, Command, keyword_source, recognise

MIN_GRACE, MAX_GRACE = 5, 1440
STEPS = ("pin", "duress", "schedule", "grace", "name", "contacts", "later", "message", "ngo")


def ascii_digits(text: str) -> str:
    """The text with digits of every script written as ASCII digits, nothing else changed."""
    return "".join(
        str(unicodedata.decimal(ch)) if ch.isdecimal() and not ch.isascii() else ch for ch in text
    )


class SetUpSteps:
    """The set-up questions and their answers, on one message of one person."""

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

    def _word(self, command: Command) -> str:
        """The first spelling of a keyword in the person's language."""
        return str(self.t.pgettext(CONTEXT, keyword_source(command))).split("|")[0]

    def _leave_flow(self) -> None:
        self.outcome.state.pop("ck", None)
        if self.outcome.state.get("flow") == "checkin":
            self.outcome.state["flow"] = None

    def begin(self) -> Outcome:
        """Start setting up (again)."""
        plan = plans.plan_of(self.session, self.subscriber)
        if plan is not None and plans.state_of(plan).escalate is not None:
            # The duress PIN (or too many wrong ones) raised an alert the sweep has not sent
            # yet; starting over would forget it, so it is queued now, in this turn.
            sweep.advance(self.session, plan, self.now, sweep.SweepReport())
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
            if not contacts.contacts_of(plan):
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
        added = contacts.add_contact(self.session, plan, phone, name, self.now)
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
        mine = contacts.contacts_of(plan)
        if len(mine) < 2:
            return self.ask_message(plan)
        lines = [f"{n} {c.name}" for n, c in enumerate(mine, start=1)]
        self.outcome.state.update(flow="checkin", ck="later")
        question = self.t.gettext(
            "Alert some contacts only 6 hours later? Reply their numbers, like 2 3, or NO:"
        )
        return self.say(question + "\n" + "\n".join(lines))

    def step_later(self, plan: CheckinPlan, text: str) -> Outcome:
        mine = contacts.contacts_of(plan)
        picked: list[str] = []
        if recognise(text, self.situation.locale) is not Command.NO:
            for word in ascii_digits(text).replace(",", " ").split():
                if not (word.isdigit() and 1 <= int(word) <= len(mine)):
                    return self.ask_later(plan)
                picked.append(mine[int(word) - 1].id.hex)
            if len(set(picked)) == len(mine):
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
        partner = contacts.partner_for(self.session, self.subscriber)
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
        partner = contacts.partner_for(self.session, self.subscriber)
        if command is Command.YES and partner is not None:
            contacts.include_ngo(self.session, plan, partner)
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
