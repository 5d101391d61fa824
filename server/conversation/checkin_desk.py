"""The check-in port on the database: one person's plan, PINs and contacts, for one turn.

The engine parses the check-in conversation (`server.conversation.dispatch`, `checkin_commands`,
`checkin_setup`) and reaches the database only through this `CheckinPort`, built by
`server.conversation.turn` for each message and working in its transaction. The plan is read,
and locked for the turn on PostgreSQL, the first time the engine asks for it.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from server.checkins import contacts, plans, sweep, web_code
from server.checkins.kinds import Added, Checked, Status
from server.config import Settings
from server.conversation.checkin_port import ContactLine, PlanView
from server.db import vault_of
from server.delivery import admission
from server.models.checkins import CheckinPlan
from server.models.people import Consent, Subscriber, TrustedContact
from server.phones import PhoneNumber


class PlanDesk:
    """The `CheckinPort` of one person at one moment, in the caller's session."""

    def __init__(
        self, session: Session, subscriber: Subscriber, now: datetime, settings: Settings
    ) -> None:
        self.session, self.subscriber, self.now = session, subscriber, now
        self.settings = settings
        self._countries: frozenset[str] | None = None
        self._row: CheckinPlan | None = None
        self._read = False
        self._found: dict[str, TrustedContact] = {}

    def _plan(self) -> CheckinPlan | None:
        if not self._read:
            self._row = plans.plan_of(self.session, self.subscriber, lock=True)
            self._read = True
        return self._row

    def _needed(self) -> CheckinPlan:
        plan = self._plan()
        if plan is None:
            raise LookupError("the set-up was answered without a plan")
        return plan

    def plan(self) -> PlanView | None:
        """The plan as the conversation shows it, None without one."""
        plan = self._plan()
        if plan is None:
            return None
        state, settings = plans.state_of(plan), plans.settings_of(plan)
        return PlanView(
            status=Status(state.status),
            due=state.due_at,
            zone=settings.zone,
            name=settings.name,
            message=settings.message,
        )

    # --- Set-up ---

    def begin(self) -> None:
        """Start setting up (again)."""
        plan = plans.plan_of(self.session, self.subscriber)
        if plan is not None and plans.state_of(plan).escalate is not None:
            # The duress PIN (or too many wrong ones) raised an alert the sweep has not sent
            # yet; starting over would forget it, so it is queued now, in this turn.
            sweep.advance(self.session, plan, self.now, sweep.SweepReport())
        zone = plans.zone_for(self.session, self.subscriber)
        self._row, self._read = plans.begin(self.session, self.subscriber, zone), True

    def first_zone(self) -> str:
        """The zone a set-up starts with; "" when the set-up must ask."""
        return plans.zone_for(self.session, self.subscriber)

    def set_pin(self, pin: str) -> None:
        """Keep the PIN's slow hash."""
        plans.set_pin(self.session, self._needed(), pin)

    def set_duress(self, pin: str | None) -> bool:
        """Keep (or drop) the duress PIN; False when it is the check-in PIN."""
        return plans.set_duress(self.session, self._needed(), pin)

    def _choose(self, **chosen: Any) -> None:
        """Set-up answers written into the plan's sealed settings."""
        plan = self._needed()
        plans.save(plan, replace(plans.settings_of(plan), **chosen))

    def set_schedule(self, hours: int, daily_at: str | None) -> None:
        """Every `hours`, or daily at a time (24 hours)."""
        self._choose(daily_at=daily_at, hours=hours)

    def set_zone(self, zone: str) -> None:
        """The zone the person named."""
        self._choose(zone=zone)

    def set_grace(self, minutes: int) -> None:
        """The minutes an alert waits."""
        self._choose(grace_minutes=minutes)

    def set_name(self, name: str) -> None:
        """What contacts know the person by."""
        self._choose(name=name)

    def set_later(self, contacts: list[str]) -> None:
        """The contacts alerted at the second stage."""
        self._choose(stage_two=contacts)

    def set_message(self, message: str | None) -> None:
        """The contacts' alert in the person's words (None: the default)."""
        self._choose(message=message)

    def contacts(self) -> list[ContactLine]:
        """The person's own contacts, oldest first."""
        return [_line(contact) for contact in contacts.contacts_of(self._needed())]

    def countries(self) -> frozenset[str]:
        """The countries whose numbers Refuge texts (the worker's own allow-list)."""
        if self._countries is None:
            self._countries = admission.allowed_countries(self.session, self.settings)
        return self._countries

    def add_contact(self, phone: PhoneNumber, name: str) -> Added:
        """Trust a new contact and ask them, unless a rule forbids it."""
        plan = self._needed()
        return contacts.add_contact(self.session, plan, phone, name, self.now, self.countries())

    def partner(self) -> str | None:
        """The NGO's name, where one takes alerts on a line Refuge can text."""
        partner = contacts.alert_partner_for(self.session, self.subscriber, self.countries())
        return partner.name if partner is not None else None

    def include_partner(self) -> None:
        """Alert the NGO too."""
        partner = contacts.alert_partner_for(self.session, self.subscriber, self.countries())
        if partner is not None:
            contacts.include_ngo(self.session, self._needed(), partner)

    def activate(self) -> datetime:
        """Start the schedule."""
        return plans.activate(self._needed(), self.now)

    # --- A running plan ---

    def check_in(self, pin: str) -> Checked:
        """OK <PIN>."""
        return plans.check_in(self.session, self._plan(), pin, self.now)

    def pause(self, pin: str) -> Checked:
        """PAUSE <PIN>."""
        return plans.pause(self.session, self._plan(), pin, self.now)

    def stop(self, pin: str) -> Checked:
        """STOP CHECKIN <PIN>."""
        return plans.stop(self.session, self._plan(), pin, self.now)

    def resume(self) -> datetime | None:
        """RESUME: the next due time, None when the plan was not paused."""
        plan = self._plan()
        return plans.resume(plan, self.now) if plan is not None else None

    def hold(self) -> bool:
        """STOP: pause an active plan until START."""
        plan = self._plan()
        return plans.hold(plan, self.now) if plan is not None else False

    def release(self) -> datetime | None:
        """START: resume the plan STOP paused; its next due time."""
        plan = self._plan()
        return plans.release(plan, self.now) if plan is not None else None

    def confirm(self, pin: str) -> tuple[Checked, bool]:
        """A PIN against a running plan (any other is answered as none), and if duress."""
        plan = self._plan()
        if plans.status_of(plan) not in (Status.ACTIVE, Status.PAUSED):
            plan = None
        return plans.confirm(self.session, plan, pin, self.now)

    def alert_if_duress(self, pin: str) -> bool:
        """The duress PIN typed into a pretended set-up: alerts; any other PIN: nothing."""
        plan = self._plan()
        running = plan is not None and plans.status_of(plan) in (Status.ACTIVE, Status.PAUSED)
        hashed = plan.duress if plan is not None and running else None
        if not vault_of(self.session).verify_pin(hashed, pin):  # hashed even when None
            return False
        return plans.confirm(self.session, plan, pin, self.now) == (Checked.OK, True)

    def shown_contacts(self) -> list[ContactLine]:
        """The contacts the person is shown."""
        plan = self._plan()
        return [_line(contact) for contact in contacts.shown_contacts(plan)] if plan else []

    def find_contact(self, who: str) -> ContactLine | None:
        """The shown contact with this number or name."""
        found = contacts.find_contact(self.session, self._needed(), who)
        if found is None:
            return None
        self._found[found.id.hex] = found
        return _line(found)

    def remove_contact(self, contact: ContactLine, *, seeming: bool) -> None:
        """Forget a contact found by `find_contact`; or, under duress, only hide it."""
        plan, found = self._needed(), self._found[contact.id]
        if seeming:
            contacts.hide_contact(plan, found)
        else:
            contacts.remove_contact(self.session, plan, found, self.now)

    def web_on(self, pin: str) -> tuple[Checked, str | None]:
        """WEB <PIN>: a new web code (one that works nowhere for the duress PIN)."""
        checked, duress = self.confirm(pin)
        if checked is not Checked.OK:
            return checked, None
        return checked, web_code.turn_on(self.session, self._needed(), seeming=duress)

    def web_off(self) -> bool:
        """WEB NO: web check-in off."""
        plan = self._plan()
        return web_code.turn_off(plan) if plan is not None else False

    def leave_note(self, text: str) -> bool:
        """Seal a note for the NGO; False when none takes notes here."""
        return contacts.leave_note(self.session, self.subscriber, text) is not None

    def answer_invitations(self, agree: bool) -> bool:
        """A YES or NO to being somebody's contact; False when nobody asked."""
        return contacts.answer_invitations(self.session, self.subscriber, agree, self.now)


def _line(contact: TrustedContact) -> ContactLine:
    return ContactLine(
        id=contact.id.hex,
        name=contact.name or "",
        agreed=contact.consent is Consent.CONFIRMED,
        waiting=contact.consent is Consent.PENDING,
    )
