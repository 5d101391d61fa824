"""What the simulated people are owed, computed from what they did, never from Refuge's tables.

The model follows the issue's rules, not the code: a schedule is a property of the plan (a
daily time stays that local time in the person's zone; an hourly period counts from the due
time a check-in satisfied, never more than one period ahead); silence past the grace opens an
incident, as do the duress PIN and three wrong PINs in a row (at the worker's next pass; the
real PIN before it does not silence it, the incident ends at that pass); an incident alerts
every contact who agreed, once (one who agrees while it is open, when they agree); a real
check-in ends it, and everyone alerted hears that it ended (a removed contact too); nobody who
refused, stopped or never answered is texted an alert.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, time, timedelta
from enum import Enum
from zoneinfo import ZoneInfo

#: How long after its due time an alert or all-clear may take to reach the provider: the
#: worker's pass comes at most one tick (`driver.TICK`, an hour) later; a crash, an uncertain
#: answer or a temporary provider error leaves it to the pass after the backoff and the dead
#: worker's lease (`driver.RETRY_AFTER`). One tick, and a quarter of an hour to spare.
PACE_ALLOWANCE = timedelta(hours=1, minutes=15)
WRONG_PINS_MISS = 3


class Consent(Enum):
    """Where a contact stands, as the contact said it."""

    ASKED = "asked"
    AGREED = "agreed"
    REFUSED = "refused"
    STOPPED = "stopped"  # texted STOP: nothing may reach them again


class Standing(Enum):
    """Where a person's check-ins stand, as the person said it."""

    ACTIVE = "active"
    STOPPED = "stopped"  # STOP CHECKIN with the real PIN
    OPTED_OUT = "opted_out"  # texted STOP: what check-ins then do is the person's choice


@dataclass(frozen=True)
class Plan:
    """The schedule a person chose: every `hours` hours, or daily at `daily_at` in `zone`."""

    hours: int
    daily_at: time | None
    zone: str
    grace: timedelta

    @property
    def period(self) -> timedelta:
        return timedelta(hours=24 if self.daily_at else self.hours)

    def after(self, moment: datetime) -> datetime:
        """The first due time strictly after `moment` counted from nothing (activation)."""
        if self.daily_at is None:
            return moment + self.period
        return self.occurrence_after(moment)

    def occurrence_after(self, moment: datetime) -> datetime:
        """The first moment strictly after `moment` whose local time is `daily_at`."""
        assert self.daily_at is not None
        zone = ZoneInfo(self.zone)
        day = moment.astimezone(zone).date()
        for offset in range(3):
            local = datetime.combine(day + timedelta(days=offset), self.daily_at, tzinfo=zone)
            instant = local.astimezone(UTC)  # a skipped local time lands past the jump
            if instant > moment:
                return instant
        raise AssertionError("a daily time falls within three days")

    def next_period(self, due: datetime) -> datetime:
        """The due time one period after `due`."""
        return self.occurrence_after(due) if self.daily_at else due + self.period

    def satisfied(self, due: datetime, now: datetime) -> datetime:
        """The due time after a check-in at `now` while `due` was the next one (issue 15).

        Daily: the coming local time is satisfied only by a check-in on its own local day, or
        in the hour before it (its reminder); an earlier one leaves it standing, so a person
        who checks in on Sunday evening is still missed on Monday morning. Every N hours: the
        series counts from the due time the check-in satisfied, never more than one period
        ahead of now (an early check-in counts from now).
        """
        if self.daily_at is None:
            if due > now:
                return now + self.period
            following = due + self.period
            while following <= now:
                following += self.period
            return following
        coming = self.occurrence_after(now)
        zone = ZoneInfo(self.zone)
        same_day = coming.astimezone(zone).date() == now.astimezone(zone).date()
        if same_day or now >= coming - timedelta(hours=1):
            return self.occurrence_after(coming)
        return coming


@dataclass
class Owed:
    """One alert or all-clear a contact is owed (or may receive, when `optional`)."""

    kind: str  # "alert" or "clear"
    person: int
    contact: str
    incident: int
    due: datetime
    optional: bool = False
    sent_at: list[datetime] = field(default_factory=list)
    late_reported: bool = False
    #: Unsent by its deadline after a drill that pretended a later time: judged again then.
    drill_until: datetime | None = None

    @property
    def deadline(self) -> datetime:
        return self.due + PACE_ALLOWANCE


@dataclass
class Contact:
    """One of a person's contacts, by the name the person gave."""

    name: str
    number: str
    consent: Consent = Consent.ASKED
    removed: bool = False
    asked_seen: bool = False  # the request reached the fake provider

    @property
    def may_be_alerted(self) -> bool:
        return self.consent is Consent.AGREED and not self.removed


@dataclass
class Incident:
    """An open incident: who was alerted in it."""

    number: int
    opened_at: datetime
    alerted: list[str] = field(default_factory=list)


@dataclass
class Person:
    """One simulated person and what the model knows of them."""

    index: int
    number: str
    name: str
    alert_text: str
    region: str | None
    plan: Plan
    pin: int
    duress: int
    contacts: dict[str, Contact] = field(default_factory=dict)
    standing: Standing = Standing.ACTIVE
    active: bool = False  # set-up finished
    due: datetime | None = None
    incident: Incident | None = None
    #: When the duress PIN or the third wrong PIN came, until the worker's next pass opens
    #: its incident; and when the real PIN answered it before that pass (the incident still
    #: alerts, and ends at that pass).
    signalled: datetime | None = None
    answered: datetime | None = None
    wrong: int = 0
    stopped_at: datetime | None = None
    opted_out_at: datetime | None = None
    last_check: datetime | None = None
    #: The last check-in was the first of its period: the issue's rules give one next due time.
    exact: bool = True

    def contact_by_number(self, number: str) -> Contact | None:
        for contact in self.contacts.values():
            if contact.number == number:
                return contact
        return None


@dataclass
class Model:
    """Every person, every owed message, and the incidents, as the events made them."""

    people: list[Person] = field(default_factory=list)
    owed: list[Owed] = field(default_factory=list)
    incidents: int = 0
    drills: list[tuple[datetime, datetime]] = field(default_factory=list)  # (real, drill time)

    # --- time passing -----------------------------------------------------------------------

    def advance(self, now: datetime) -> None:
        """Open the incident of everyone whose grace ran out by `now`."""
        for person in self.people:
            if not person.active or person.standing is not Standing.ACTIVE:
                continue
            due = person.due
            if person.incident is None and due is not None and now >= due + person.plan.grace:
                self.open(person, due + person.plan.grace)

    def open(self, person: Person, at: datetime) -> None:
        """An incident starts at `at`: every contact who agreed is owed one alert."""
        if person.incident is None:
            self.incidents += 1
            person.incident = Incident(self.incidents, at)
        incident = person.incident
        for contact in person.contacts.values():
            if contact.may_be_alerted and contact.name not in incident.alerted:
                incident.alerted.append(contact.name)
                self.owed.append(
                    Owed(
                        "alert",
                        person.index,
                        contact.name,
                        incident.number,
                        at,
                        optional=person.standing is Standing.OPTED_OUT,
                    )
                )

    # --- what people do ---------------------------------------------------------------------

    def activated(self, person: Person, now: datetime) -> None:
        person.active, person.due = True, person.plan.after(now)

    def checked_in(self, person: Person, now: datetime, *, duress: bool) -> None:
        """A right PIN (or the duress PIN) at `now`."""
        self.advance(now)
        person.wrong = 0
        if not duress:
            if person.signalled is not None:
                person.answered = now
            if person.incident is not None:
                self.close(person, now)
        if person.due is not None:
            before = person.due - person.plan.period
            person.exact = person.last_check is None or person.last_check < before
            person.due = person.plan.satisfied(person.due, now)
        person.last_check = now
        if duress:
            self.signal(person, now)

    def signal(self, person: Person, now: datetime) -> None:
        """The duress PIN, or a third wrong PIN: an incident at the worker's next pass, unless
        one is open (it belongs to that one)."""
        if person.incident is None and (person.signalled is None or person.answered):
            person.signalled, person.answered = now, None

    def passed(self, now: datetime) -> None:
        """The worker's pass at `now` swept: signalled incidents open, as of their signal."""
        self.advance(now)
        for person in self.people:
            if person.signalled is not None and person.incident is None:
                self.open(person, person.signalled)
                if person.answered is not None:
                    self.close(person, now)
            person.signalled = person.answered = None

    def close(self, person: Person, now: datetime) -> None:
        """A real check-in ends the incident: everyone alerted in it is owed an all-clear."""
        assert person.incident is not None
        for name in person.incident.alerted:
            contact = person.contacts[name]
            if contact.consent is Consent.STOPPED:
                continue  # they asked for silence: nothing may reach them
            self.owed.append(
                Owed(
                    "clear",
                    person.index,
                    name,
                    person.incident.number,
                    now,
                    optional=person.standing is Standing.OPTED_OUT,
                )
            )
        person.incident = None

    def wrong_pin(self, person: Person, now: datetime) -> None:
        self.advance(now)
        person.wrong += 1
        if person.wrong == WRONG_PINS_MISS and person.incident is None:
            self.signal(person, now)

    def stopped_checkins(self, person: Person, now: datetime) -> None:
        """STOP CHECKIN with the real PIN: a check-in (ending any incident), then nothing."""
        self.checked_in(person, now, duress=False)
        person.standing, person.stopped_at, person.due = Standing.STOPPED, now, None

    def opted_out(self, person: Person, now: datetime) -> None:
        """STOP: what is owed from here on is the person's choice (neither owed nor barred)."""
        self.advance(now)
        person.standing, person.opted_out_at = Standing.OPTED_OUT, now
        for owed in self.owed:
            if owed.person == person.index and not owed.sent_at:
                owed.optional = True

    def answered(self, person: Person, contact: Contact, consent: Consent, now: datetime) -> None:
        contact.consent = consent
        incident = person.incident
        if (
            consent is Consent.AGREED
            and contact.may_be_alerted
            and incident is not None
            and contact.name not in incident.alerted
        ):
            # Agreed while an incident is open: told of it now, once, like the others.
            incident.alerted.append(contact.name)
            optional = person.standing is Standing.OPTED_OUT
            self.owed.append(
                Owed("alert", person.index, contact.name, incident.number, now, optional)
            )
        if consent is Consent.STOPPED:
            for owed in self.owed:
                if (owed.person, owed.contact) == (person.index, contact.name) and not owed.sent_at:
                    owed.optional = True  # barred now: `b` catches any that still leaves

    def removed(self, person: Person, contact: Contact) -> None:
        contact.removed = True

    def drill(self, real: datetime, pretended: datetime) -> None:
        self.drills.append((real, pretended))
