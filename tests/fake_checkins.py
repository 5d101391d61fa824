"""A `CheckinPort` in memory, for driving the engine's check-in conversation without a database.

It keeps one person's plan as plain attributes and follows the rules of `server.checkins`
closely enough for the engine's tests: PINs compared in plain (no vault), the duress PIN
accepted like the PIN (and remembered in `alerts`), ten PIN attempts per turn-object.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from server.content.text import fold
from server.conversation.checkin_port import (
    Added,
    Checked,
    CheckinPort,
    ContactLine,
    PlanView,
    Status,
)
from server.delivery.admission import destination_allowed
from server.phones import InvalidPhoneNumber, PhoneNumber, can_receive_texts, normalize_phone

PIN = "482193"
DURESS = "111111"
ATTEMPTS = 10


class FakeCheckins:
    """One person's plan in memory (None: no plan yet)."""

    def __init__(
        self,
        now: datetime,
        status: Status | None = None,
        *,
        contacts: int = 0,
        partner: str | None = None,
        notes: bool = False,
        invited: bool = False,
        texted: frozenset[str] = frozenset({"GB", "UA"}),
    ) -> None:
        self.now = now
        self.status = status
        running = status not in (None, Status.SETUP)
        self.pin: str | None = PIN if running else None
        self.duress: str | None = DURESS if running else None
        self.hours, self.grace = 24, 60
        self.daily_at: str | None = None
        self.zone = "UTC"
        self.name = "Amina" if running else ""
        self.message: str | None = None
        self.later: list[str] = []
        self.due = now + timedelta(hours=24) if status is Status.ACTIVE else None
        self.mine = [
            ContactLine(f"c{n}", f"Contact {n}", agreed=n % 2 == 0, waiting=n % 2 == 1)
            for n in range(contacts)
        ]
        self.phones = {line.id: f"+4477009001{n:02d}" for n, line in enumerate(self.mine)}
        self.hidden: set[str] = set()
        self.partner_name, self.ngo = partner, False
        self.takes_notes, self.notes = notes, 0
        self.invited = invited
        self.texted = texted  # the countries Refuge texts
        self.alerts = 0  # incidents a duress PIN raised
        self.attempts = 0
        self.held = False  # paused by STOP
        self.web: str | None = None  # the web code, when web check-in is on

    def plan(self) -> PlanView | None:
        if self.status is None:
            return None
        return PlanView(self.status, self.due, self.zone, self.name, self.message)

    # --- Set-up ---

    def begin(self) -> None:
        self.status, self.pin, self.duress, self.due = Status.SETUP, None, None, None

    def set_pin(self, pin: str) -> None:
        self.pin = pin

    def set_duress(self, pin: str | None) -> bool:
        if pin is not None and pin == self.pin:
            return False
        self.duress = pin
        return True

    def set_schedule(self, hours: int, daily_at: str | None) -> None:
        self.hours, self.daily_at = hours, daily_at

    def set_zone(self, zone: str) -> None:
        self.zone = zone

    def set_grace(self, minutes: int) -> None:
        self.grace = minutes

    def set_name(self, name: str) -> None:
        self.name = name

    def set_later(self, contacts: list[str]) -> None:
        self.later = contacts

    def set_message(self, message: str | None) -> None:
        self.message = message

    def contacts(self) -> list[ContactLine]:
        return list(self.mine)

    def countries(self) -> frozenset[str]:
        return self.texted

    def add_contact(self, phone: PhoneNumber, name: str) -> Added:
        for line in self.mine:
            if self.phones[line.id] == phone.e164:
                if line.id in self.hidden:
                    self.hidden.discard(line.id)
                    return Added.ADDED
                return Added.ALREADY
        if not can_receive_texts(phone.e164):
            return Added.NOT_MOBILE
        if not destination_allowed(self.texted, phone.e164):
            return Added.ABROAD
        if len(self.mine) >= 5:
            return Added.FULL
        line = ContactLine(f"c{len(self.mine)}-{phone.e164[-3:]}", name[:40], waiting=True)
        self.mine.append(line)
        self.phones[line.id] = phone.e164
        return Added.ADDED

    def partner(self) -> str | None:
        return self.partner_name

    def include_partner(self) -> None:
        self.ngo = self.partner_name is not None

    def activate(self) -> datetime:
        self.status = Status.ACTIVE
        self.due = self.now + timedelta(hours=self.hours)
        return self.due

    # --- A running plan ---

    def _confirm(self, pin: str, running: bool) -> tuple[Checked, bool]:
        if self.status is None or self.pin is None or not running:
            return Checked.NO_PLAN, False
        self.attempts += 1
        if self.attempts > ATTEMPTS:
            return Checked.LIMITED, False
        duress = pin == self.duress
        if not (pin == self.pin or duress) or self.status is Status.SETUP:
            return Checked.WRONG, False
        if duress:
            self.alerts += 1
        else:
            self.hidden.clear()
        if self.status is Status.ACTIVE:
            self.due = self.now + timedelta(hours=self.hours)
        return Checked.OK, duress

    def check_in(self, pin: str) -> Checked:
        return self._confirm(pin, running=True)[0]

    def _with_pin(self, pin: str, status: Status) -> Checked:
        running = self.status not in (None, Status.SETUP, Status.STOPPED)
        checked = self._confirm(pin, running)[0]
        if checked is Checked.OK:
            self.status = status
        return checked

    def pause(self, pin: str) -> Checked:
        return self._with_pin(pin, Status.PAUSED)

    def stop(self, pin: str) -> Checked:
        return self._with_pin(pin, Status.STOPPED)

    def resume(self) -> datetime | None:
        if self.status is not Status.PAUSED:
            return None
        return self.activate()

    def hold(self) -> bool:
        if self.status is not Status.ACTIVE:
            return False
        self.status, self.held = Status.PAUSED, True
        return True

    def release(self) -> datetime | None:
        if not self.held:
            return None
        self.held = False
        return self.resume()

    def confirm(self, pin: str) -> tuple[Checked, bool]:
        return self._confirm(pin, self.status in (Status.ACTIVE, Status.PAUSED))

    def first_zone(self) -> str:
        return self.zone

    def alert_if_duress(self, pin: str) -> bool:
        running = self.status in (Status.ACTIVE, Status.PAUSED)
        return running and pin == self.duress and self.confirm(pin) == (Checked.OK, True)

    def shown_contacts(self) -> list[ContactLine]:
        return [line for line in self.mine if line.id not in self.hidden]

    def find_contact(self, who: str) -> ContactLine | None:
        try:
            phone: str | None = normalize_phone(who).e164
        except InvalidPhoneNumber:
            phone = None
        for line in self.shown_contacts():
            if self.phones[line.id] == phone or (fold(who) and fold(line.name) == fold(who)):
                return line
        return None

    def remove_contact(self, contact: ContactLine, *, seeming: bool) -> None:
        if seeming:
            self.hidden.add(contact.id)
        else:
            self.mine.remove(contact)

    def web_on(self, pin: str) -> tuple[Checked, str | None]:
        checked, duress = self.confirm(pin)
        if checked is not Checked.OK:
            return checked, None
        code = "12345678"
        if not duress:
            self.web = code
        return checked, code

    def web_off(self) -> bool:
        was, self.web = self.web, None
        return was is not None

    def leave_note(self, text: str) -> bool:
        self.notes += self.takes_notes
        return self.takes_notes

    # --- Someone asked to be a contact ---

    def answer_invitations(self, agree: bool) -> bool:
        answered, self.invited = self.invited, False
        return answered


def _follows_the_port(fake: FakeCheckins) -> CheckinPort:
    return fake  # mypy checks that the fake has every method of the port
