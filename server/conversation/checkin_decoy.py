"""A pretended set-up over a running plan: CHECKIN (or 4) is answered as for a person without
check-ins, so whoever holds the phone cannot tell that a plan runs.

The set-up's questions are asked as ever, through a `Decoy` port that changes nothing: the
running plan keeps its PIN, schedule and contacts, and goes on sweeping and alerting. What the
questions after need (the name, the contacts' names, the schedule) is kept in the conversation
state, sealed with it, never in the plan; no contact is asked. The duress PIN, typed as the new
PIN or the new duress PIN, raises its alert as OK with it would. Completing the pretence says
that check-ins are on; the running plan stays in force (to change it, STOP CHECKIN with the PIN
first, then CHECKIN).
"""

from __future__ import annotations

import hashlib
from dataclasses import replace
from datetime import datetime

from server.checkins.kinds import MAX_NAME, Added, Checked, Status
from server.checkins.schedule import Schedule
from server.conversation.checkin_port import CheckinPort, ContactLine, PlanView
from server.conversation.engine import Outcome, Situation
from server.delivery import admission
from server.phones import PhoneNumber, can_receive_texts

#: As many contacts as a real set-up takes.
MAX_CONTACTS = 5
#: The state's `decoy`: the name, the hours, the daily time, the zone named, then one
#: "tag name" per contact.
_NAME, _HOURS, _DAILY, _ZONE, _FIRST_CONTACT = 0, 1, 2, 3, 4


def pretending(situation: Situation) -> bool:
    """Whether check-ins run (on, or paused): a set-up now is only pretended."""
    port = situation.checkins
    plan = port.plan() if port is not None else None
    return plan is not None and plan.status in (Status.ACTIVE, Status.PAUSED)


def decoyed(situation: Situation, outcome: Outcome) -> Situation:
    """The situation with the pretending port in place of the plan's."""
    assert situation.checkins is not None, "a pretended set-up needs the real plan"
    return replace(situation, checkins=Decoy(situation.checkins, outcome, situation.now))


def _tag(phone: PhoneNumber) -> str:
    """A short mark telling one number from another within one pretence, not the number."""
    return hashlib.blake2b(phone.e164.encode(), digest_size=6).hexdigest()


class Decoy:
    """A `CheckinPort` for a pretended set-up: it answers as a new set-up would and writes only
    to the conversation state (and, for the duress PIN, the running plan's alert)."""

    def __init__(self, real: CheckinPort, outcome: Outcome, now: datetime) -> None:
        self.real, self.outcome, self.now = real, outcome, now

    @property
    def _kept(self) -> list[str]:
        kept = list(self.outcome.state.decoy)
        return kept + [""] * (_FIRST_CONTACT - len(kept))

    def _keep(self, kept: list[str]) -> None:
        self.outcome.state = replace(self.outcome.state, decoy=tuple(kept))

    def plan(self) -> PlanView | None:
        """A plan being set up, as a newcomer's would be."""
        kept = self._kept
        return PlanView(Status.SETUP, None, kept[_ZONE] or self.first_zone(), kept[_NAME], None)

    def first_zone(self) -> str:
        return self.real.first_zone()

    def begin(self) -> None:
        self._keep([])

    def set_pin(self, pin: str) -> None:
        self.real.alert_if_duress(pin)

    def set_duress(self, pin: str | None) -> bool:
        if pin is not None:
            self.real.alert_if_duress(pin)
        return True

    def set_schedule(self, hours: int, daily_at: str | None) -> None:
        kept = self._kept
        kept[_HOURS], kept[_DAILY] = str(hours), daily_at or ""
        self._keep(kept)

    def set_zone(self, zone: str) -> None:
        kept = self._kept
        kept[_ZONE] = zone
        self._keep(kept)

    def set_grace(self, minutes: int) -> None:
        return None

    def set_name(self, name: str) -> None:
        kept = self._kept
        kept[_NAME] = name[:MAX_NAME]
        self._keep(kept)

    def set_later(self, contacts: list[str]) -> None:
        return None

    def set_message(self, message: str | None) -> None:
        return None

    def contacts(self) -> list[ContactLine]:
        lines = self._kept[_FIRST_CONTACT:]
        return [ContactLine(str(n), line.split(" ", 1)[1]) for n, line in enumerate(lines)]

    def countries(self) -> frozenset[str]:
        return self.real.countries()

    def add_contact(self, phone: PhoneNumber, name: str) -> Added:
        """Answered as a new set-up would answer a number nobody was asked about."""
        kept = self._kept
        tag = _tag(phone)
        if any(line.split(" ", 1)[0] == tag for line in kept[_FIRST_CONTACT:]):
            return Added.ALREADY
        if not can_receive_texts(phone.e164):
            return Added.NOT_MOBILE
        if not admission.destination_allowed(self.countries(), phone.e164):
            return Added.ABROAD
        if len(kept) - _FIRST_CONTACT >= MAX_CONTACTS:
            return Added.FULL
        self._keep([*kept, f"{tag} {name[:MAX_NAME]}"])
        return Added.ADDED

    def partner(self) -> str | None:
        return self.real.partner()

    def include_partner(self) -> None:
        return None

    def activate(self) -> datetime:
        """The due time the pretended schedule would give; the running plan is untouched."""
        kept = self._kept
        zone = kept[_ZONE] or self.first_zone() or "UTC"
        hours = int(kept[_HOURS]) if kept[_HOURS].isdigit() else 24
        self._keep(["", "", "", kept[_ZONE]])  # only the zone, for the reply's due time
        return Schedule(hours, kept[_DAILY] or None, zone).next_due(self.now)

    # --- A running plan: never reached from the set-up's questions, passed on as they are ---

    def check_in(self, pin: str) -> Checked:
        return self.real.check_in(pin)

    def pause(self, pin: str) -> Checked:
        return self.real.pause(pin)

    def stop(self, pin: str) -> Checked:
        return self.real.stop(pin)

    def resume(self) -> datetime | None:
        return self.real.resume()

    def hold(self) -> bool:
        return self.real.hold()

    def release(self) -> datetime | None:
        return self.real.release()

    def confirm(self, pin: str) -> tuple[Checked, bool]:
        return self.real.confirm(pin)

    def alert_if_duress(self, pin: str) -> bool:
        return self.real.alert_if_duress(pin)

    def shown_contacts(self) -> list[ContactLine]:
        return self.real.shown_contacts()

    def find_contact(self, who: str) -> ContactLine | None:
        return self.real.find_contact(who)

    def remove_contact(self, contact: ContactLine, *, seeming: bool) -> None:
        self.real.remove_contact(contact, seeming=seeming)

    def web_on(self, pin: str) -> tuple[Checked, str | None]:
        return self.real.web_on(pin)

    def web_off(self) -> bool:
        return self.real.web_off()

    def leave_note(self, text: str) -> bool:
        return self.real.leave_note(text)

    def answer_invitations(self, agree: bool) -> bool:
        return self.real.answer_invitations(agree)
