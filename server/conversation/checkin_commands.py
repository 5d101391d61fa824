"""The words of a running check-in plan: OK <PIN>, STATUS <PIN>, PAUSE, RESUME <PIN>, STOP CHECKIN,
NOTE, REMOVE, WEB. They are answered wherever the conversation is (OK only with a PIN after
it), and after STOP too.

Whatever PIN a message carries, the reply never tells a right PIN from the duress PIN; without
the PIN, STATUS answers as if there were no plan.
"""

from __future__ import annotations

from server.checkins import texts
from server.checkins.kinds import valid_pin
from server.conversation.checkin_port import Checked, PlanView, Status
from server.conversation.checkin_setup import leave_flow, port_of, say, when_where, word
from server.conversation.engine import Outcome, Said, Situation, translate
from server.conversation.vocabulary import Command, recognise
from server.i18n.locales import ascii_digits


def _pin(words: list[str]) -> str:
    return ascii_digits("".join(words))


def check_in(outcome: Outcome, situation: Situation, said: Said) -> Outcome:
    """OK <PIN>: the same answer for the real and the duress PIN."""
    port = port_of(situation)
    checked = port.check_in(_pin(said.text.split()[1:]))
    leave_flow(outcome)
    plan = port.plan()
    if checked is Checked.OK and plan is not None:
        return say(outcome, situation, _thanks(situation, plan))
    return say(outcome, situation, refusal(situation, checked))


def _thanks(situation: Situation, plan: PlanView) -> str:
    t = translate(situation)
    if plan.status is Status.STOPPED:
        return str(t.gettext("Check-ins stopped. Reply CHECKIN to set them up again."))
    if plan.status is Status.ACTIVE and plan.due is not None:
        when = texts.local_time(plan.due, plan.zone, situation.locale)
        return str(t.gettext("Thank you. Next check-in: %(time)s.") % {"time": when})
    return str(t.gettext("Thank you."))


def refusal(situation: Situation, checked: Checked) -> str:
    """What a PIN that did nothing is told."""
    t = translate(situation)
    if checked is Checked.LIMITED:
        return str(t.gettext("Too many tries. Try again later."))
    if checked is Checked.NO_PLAN:
        return str(t.gettext("You have no check-ins. Reply CHECKIN to set them up."))
    return str(t.gettext("That PIN is not right. Try again."))


def pause(outcome: Outcome, situation: Situation, said: Said) -> Outcome:
    """PAUSE <PIN>; the duress PIN seems to work too, and alerts."""
    leave_flow(outcome)
    words = said.text.split()[1:]
    t = translate(situation)
    if not words:
        asked = word(situation, Command.PAUSE)
        return say(outcome, situation, t.gettext("Send %(word)s and your PIN.") % {"word": asked})
    checked = port_of(situation).pause(_pin(words))
    if checked is not Checked.OK:
        return say(outcome, situation, refusal(situation, checked))
    return say(
        outcome, situation, t.gettext("Check-ins paused. Reply RESUME and your PIN to start again.")
    )


def stop(outcome: Outcome, situation: Situation, said: Said) -> Outcome:
    """STOP CHECKIN <PIN>; the duress PIN seems to work too, and alerts."""
    leave_flow(outcome)
    words = said.text.split()[2:]
    t = translate(situation)
    if not words:
        asked = f"{word(situation, Command.STOP)} {word(situation, Command.CHECKIN)}"
        return say(outcome, situation, t.gettext("Send %(word)s and your PIN.") % {"word": asked})
    checked = port_of(situation).stop(_pin(words))
    if checked is not Checked.OK:
        return say(outcome, situation, refusal(situation, checked))
    return say(
        outcome, situation, t.gettext("Check-ins stopped. Reply CHECKIN to set them up again.")
    )


def resume(outcome: Outcome, situation: Situation, said: Said) -> Outcome:
    """RESUME <PIN>: a paused plan starts a new period now; the duress PIN seems to work too,
    and alerts. Without the PIN, or with a wrong one, the answer is the one a person without
    check-ins gets, word for word (as for CHECKIN STATUS)."""
    leave_flow(outcome)
    port = port_of(situation)
    no_plan = refusal(situation, Checked.NO_PLAN)
    words = said.text.split()[1:]
    pin = valid_pin(_pin(words)) if words else None
    if pin is None:
        return say(outcome, situation, no_plan)
    checked, _duress = port.confirm(pin)
    plan = port.plan()
    due = port.resume() if checked is Checked.OK and plan is not None else None
    if plan is None or due is None:
        return say(outcome, situation, no_plan)
    when = texts.local_time(due, plan.zone, situation.locale)
    t = translate(situation)
    return say(outcome, situation, t.gettext("Check-ins resumed. Next: %(time)s.") % {"time": when})


def status(outcome: Outcome, situation: Situation, said: Said) -> Outcome:
    """CHECKIN STATUS <PIN>: on or paused, the next due time, contacts' answers.

    Without the PIN, or with a wrong one, the answer is the one a person without check-ins
    gets, word for word: whoever holds the phone learns nothing. The PIN counts as a check-in,
    as with PAUSE or REMOVE; the duress PIN shows the same and alerts.
    """
    leave_flow(outcome)
    port = port_of(situation)
    no_plan = refusal(situation, Checked.NO_PLAN)
    pin = _status_pin(said, situation)
    if pin is None:
        return say(outcome, situation, no_plan)
    checked, _duress = port.confirm(pin)
    plan = port.plan()
    if checked is not Checked.OK or plan is None or plan.status is Status.SETUP:
        return say(outcome, situation, no_plan)
    mine = port.shown_contacts()
    agreed = sum(1 for c in mine if c.agreed)
    waiting = sum(1 for c in mine if c.waiting)
    t = translate(situation)
    names = {
        Status.ACTIVE: t.gettext("on"),
        Status.PAUSED: t.gettext("paused"),
        Status.STOPPED: t.gettext("stopped"),
    }
    when = (
        when_where(situation, plan.due, plan.zone)
        if plan.due is not None and plan.status is Status.ACTIVE
        else "-"
    )
    return say(
        outcome,
        situation,
        t.gettext(
            "Check-ins: %(state)s. Next: %(time)s. Contacts: %(agreed)d agreed, "
            "%(waiting)d waiting. OK and your PIN to check in."
        )
        % {"state": names[plan.status], "time": when, "agreed": agreed, "waiting": waiting},
    )


def _status_pin(said: Said, situation: Situation) -> str | None:
    """The PIN after CHECKIN STATUS (or STATUS), or None."""
    asked = (Command.CHECKIN, Command.STATUS)
    rest = [w for w in said.text.split() if recognise(w, situation.locale) not in asked]
    return valid_pin(_pin(rest)) if rest else None


def remove(outcome: Outcome, situation: Situation, said: Said) -> Outcome:
    """REMOVE <name or number> <PIN>; with the duress PIN it only seems to."""
    leave_flow(outcome)
    words = said.text.split()[1:]
    t = translate(situation)
    if len(words) < 2:
        return say(
            outcome,
            situation,
            t.gettext("Send %(word)s, the contact's name or number, and your PIN.")
            % {"word": word(situation, Command.REMOVE)},
        )
    port = port_of(situation)
    # The PIN first, so that nobody without it learns whose names are on the list.
    checked, duress = port.confirm(_pin(words[-1:]))
    if checked is not Checked.OK:
        return say(outcome, situation, refusal(situation, checked))
    who = " ".join(words[:-1])
    contact = port.find_contact(ascii_digits(who))
    if contact is None:
        return say(outcome, situation, t.gettext("No contact by that name or number."))
    answer = t.gettext("Contact removed: %(name)s. Refuge will send them no more alerts.") % {
        "name": contact.name or who
    }
    port.remove_contact(contact, seeming=duress)
    return say(outcome, situation, answer)


def note(outcome: Outcome, situation: Situation, said: Said) -> Outcome:
    """NOTE <text>: sealed to the NGO's key at once; the text is never kept readable."""
    leave_flow(outcome)
    parts = said.text.split(maxsplit=1)
    text = parts[1] if len(parts) > 1 else ""
    t = translate(situation)
    if not text.strip():
        return say(outcome, situation, t.gettext("Send NOTE and your message."))
    if not port_of(situation).leave_note(text.strip()):
        return say(
            outcome, situation, t.gettext("No caseworker takes notes here yet. Nothing was kept.")
        )
    return say(
        outcome,
        situation,
        t.gettext("Your note is sealed for your caseworker. Only they can read it."),
    )


def web(outcome: Outcome, situation: Situation, said: Said) -> Outcome:
    """WEB <PIN>: web check-in on, with a new web code in the reply; WEB NO: off again."""
    leave_flow(outcome)
    words = said.text.split()[1:]
    t = translate(situation)
    port = port_of(situation)
    if len(words) == 1 and recognise(words[0], situation.locale) is Command.NO:
        port.web_off()  # the same answer whether or not it was on
        return say(
            outcome, situation, t.gettext("Web check-in is off. SMS check-in works as before.")
        )
    if not words:
        asked = word(situation, Command.WEB)
        return say(outcome, situation, t.gettext("Send %(word)s and your PIN.") % {"word": asked})
    checked, code = port.web_on(_pin(words))
    if checked is not Checked.OK or code is None:
        return say(outcome, situation, refusal(situation, checked))
    # Translators: %(code)s is the web code (two groups of four digits); %(off)s is the
    # keyword for WEB then the one for NO, which turn web check-in off.
    answer = t.gettext(
        "Web check-in is on. Your web code: %(code)s. On the check-in page, enter it with your "
        "number and PIN. Delete this text. %(off)s turns it off."
    ) % {
        "code": f"{code[:4]} {code[4:]}",
        "off": f"{word(situation, Command.WEB)} {word(situation, Command.NO)}",
    }
    return say(outcome, situation, answer)
