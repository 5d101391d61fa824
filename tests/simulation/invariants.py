"""The invariants of issue 15, each a named check with a failure message that says what a person
would notice; checked after every step of the simulation.

a. `sent_once_within_deadline`: every owed alert and all-clear reaches every consenting
   recipient exactly once, by its due time plus `model.PACE_ALLOWANCE`.
b. `only_to_consenting`: no alert or all-clear reaches anyone who did not agree (never
   answered, refused, stopped, or was removed before the incident).
c. `nothing_after_stop`: after STOP CHECKIN no alert about the person and no reminder; after
   STOP no reminder.
d. `drills_leave_real_time_alone`: a drill (`worker --once --now T`) neither delays a real
   message nor sends one that real time does not owe.
e. `next_due_within_one_period`: after a check-in, the next due time lies after it and at most
   one period past the first due time after it (no drift); a daily one falls at its local time
   in the person's zone (the region's, else the number's country's), and after the first
   check-in of a period (where the issue's rules give one answer) it is that answer.

`ENFORCED` names the invariants a violation fails the test for (every one, now that issue
15's cases are fixed); a run also prints each invariant's count and first violation.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from tests.simulation.model import PACE_ALLOWANCE, Consent, Model, Owed, Person, Standing

#: Invariants whose violation fails the test: all of them. "d" holds since a drill sweeps only
#: the test phones it names (`upkeep.drill_sweeps`); "a" holds within `model.PACE_ALLOWANCE`,
#: the worker passing again `driver.RETRY_AFTER` after a provider fault or a crash, as the real
#: worker's loop does within seconds.
ENFORCED: frozenset[str] = frozenset({"a", "b", "c", "d", "e"})

NAMES = {
    "a": "sent_once_within_deadline",
    "b": "only_to_consenting",
    "c": "nothing_after_stop",
    "d": "drills_leave_real_time_alone",
    "e": "next_due_within_one_period",
}
#: How long after a drill the alerts it queued may still leave (the outbox's alert lifetime).
DRILL_REACH = timedelta(days=3)


@dataclass(frozen=True)
class Violation:
    """One broken invariant: which, when (virtual time), and what a person would notice."""

    invariant: str
    at: datetime
    what: str

    def __str__(self) -> str:
        return f"[{self.invariant}: {NAMES[self.invariant]}] {self.at:%Y-%m-%d %H:%M}Z {self.what}"


@dataclass(frozen=True)
class Observed:
    """One message the fake provider took: when, to whom, and what kind it reads as."""

    at: datetime
    kind: str  # "alert", "clear", "opt_in", "reminder", "other"
    person: Person
    contact: str | None  # None: to the person


@dataclass
class Ledger:
    """Violations found so far, by invariant."""

    found: list[Violation] = field(default_factory=list)

    def add(self, invariant: str, at: datetime, what: str) -> None:
        self.found.append(Violation(invariant, at, what))

    def first(self, invariant: str) -> Violation | None:
        return next((v for v in self.found if v.invariant == invariant), None)

    def enforced(self) -> list[Violation]:
        return [v for v in self.found if v.invariant in ENFORCED]


def _who(person: Person, contact: str | None = None) -> str:
    plan = person.plan
    kind = f"daily {plan.daily_at:%H:%M}" if plan.daily_at else f"every {plan.hours} h"
    about = f"{person.name} ({kind}, {plan.zone})"
    return f"{contact}, contact of {about}" if contact else about


def _a(kind: str) -> str:
    return "an alert" if kind == "alert" else "an all-clear"


def _drill_between(model: Model, start: datetime, end: datetime) -> tuple[datetime, datetime]:
    """A drill run (real time) within [start - DRILL_REACH, end] pretending a time past start."""
    for real, pretended in model.drills:
        if start - DRILL_REACH <= real <= end and pretended > start:
            return real, pretended
    return (start, start)


# --- checks on each message the provider took ---------------------------------------------


def only_to_consenting(ledger: Ledger, message: Observed) -> bool:
    """(b) An alert or all-clear goes only to someone who agreed (an alerted contact removed
    later still hears the end). True when the message passed."""
    if message.kind not in ("alert", "clear") or message.contact is None:
        return True
    contact = message.person.contacts[message.contact]
    if message.kind == "clear" and contact.removed and contact.consent is Consent.AGREED:
        return True
    if contact.consent is Consent.AGREED and not contact.removed:
        return True
    why = "was removed" if contact.removed else f"consent is {contact.consent.value}"
    ledger.add(
        "b",
        message.at,
        f"{_who(message.person, message.contact)} got {_a(message.kind)} but {why}",
    )
    return False


def nothing_after_stop(ledger: Ledger, message: Observed) -> bool:
    """(c) Nothing about a person who stopped check-ins, no reminder after STOP."""
    person = message.person
    stopped = person.stopped_at is not None and message.at > person.stopped_at
    opted_out = person.opted_out_at is not None and message.at > person.opted_out_at
    if message.kind == "reminder" and (stopped or opted_out):
        how = "STOP CHECKIN" if stopped else "STOP"
        ledger.add("c", message.at, f"{_who(person)} got a reminder after {how}")
        return False
    if message.kind == "alert" and stopped:
        ledger.add(
            "c",
            message.at,
            f"{_who(person, message.contact)} was alerted after STOP CHECKIN "
            f"at {person.stopped_at:%Y-%m-%d %H:%M}Z",
        )
        return False
    return True


def sent_once_within_deadline(model: Model, ledger: Ledger, message: Observed) -> None:
    """(a) Match an alert or all-clear to what is owed: a second one for the same incident, or
    one nothing owes, is a violation (of `d` when a drill explains it)."""
    if message.kind not in ("alert", "clear") or message.contact is None:
        return
    person = message.person
    if person.opted_out_at is not None and message.at > person.opted_out_at:
        return  # after STOP, what check-ins do is the person's choice (issue 15, case 9)
    mine = [
        owed
        for owed in model.owed
        if (owed.kind, owed.person, owed.contact) == (message.kind, person.index, message.contact)
    ]
    waiting = [owed for owed in mine if not owed.sent_at]
    if waiting:
        owed = waiting[0]
        owed.sent_at.append(message.at)
        if owed.drill_until is not None and message.at > owed.deadline:
            ledger.add(
                "d",
                message.at,
                f"{_who(person, message.contact)} got {_a(message.kind)} owed since "
                f"{owed.due:%m-%d %H:%M}Z only now, after a drill (deadline "
                f"{owed.deadline:%m-%d %H:%M}Z)",
            )
        elif message.at > owed.deadline and not owed.late_reported:
            owed.late_reported = True
            ledger.add(
                "a",
                message.at,
                f"{_who(person, message.contact)} got {_a(message.kind)} owed since "
                f"{owed.due:%m-%d %H:%M}Z late (deadline {owed.deadline:%m-%d %H:%M}Z)",
            )
        return
    incident = person.incident
    if message.kind == "alert" and incident is not None and message.contact not in incident.alerted:
        # Agreed between the model's incident and the worker's pass: owed as well.
        incident.alerted.append(message.contact)
        model.owed.append(
            Owed("alert", person.index, message.contact, incident.number, message.at, True)
        )
        model.owed[-1].sent_at.append(message.at)
        return
    real, pretended = _drill_between(model, message.at - DRILL_REACH, message.at)
    if pretended > real:
        ledger.add(
            "d",
            message.at,
            f"{_who(person, message.contact)} got {_a(message.kind)} real time does not owe, "
            f"after a drill at {real:%m-%d %H:%M}Z pretending {pretended:%m-%d %H:%M}Z",
        )
        return
    if mine:
        last = mine[-1]
        ledger.add(
            "a",
            message.at,
            f"{_who(person, message.contact)} got a second {message.kind} in incident "
            f"{last.incident} (first at {last.sent_at[0]:%m-%d %H:%M}Z)",
        )
        return
    ledger.add(
        "a", message.at, f"{_who(person, message.contact)} got {_a(message.kind)} nothing owes"
    )


def account(model: Model, ledger: Ledger, message: Observed) -> None:
    """Run every per-message check on one message the provider took."""
    consenting = only_to_consenting(ledger, message)
    after_stop = nothing_after_stop(ledger, message)
    if consenting and after_stop:
        sent_once_within_deadline(model, ledger, message)


# --- checks on the passing of time ----------------------------------------------------------


def owed_by_deadline(model: Model, ledger: Ledger, now: datetime) -> None:
    """(a), and (d) when a drill pushed it: everything owed whose deadline passed has left."""
    for owed in model.owed:
        if owed.sent_at or owed.optional or owed.late_reported or owed.deadline >= now:
            continue
        if owed.drill_until is None:
            real, pretended = _drill_between(model, owed.due, owed.deadline)
            if pretended > real:
                # A drill may hold it until its pretended time: late then is the drill's doing
                # (reported as `d` when it leaves), never leaving at all is not.
                owed.drill_until = pretended + PACE_ALLOWANCE
        if owed.drill_until is not None and now <= owed.drill_until:
            continue
        owed.late_reported = True
        person = model.people[owed.person]
        contact = person.contacts[owed.contact]
        standing = "removed" if contact.removed else contact.consent.value
        ledger.add(
            "a",
            now,
            f"{_who(person, owed.contact)} ({standing}) is owed {_a(owed.kind)} since "
            f"{owed.due:%m-%d %H:%M}Z (incident {owed.incident}); none by "
            f"{(owed.drill_until or owed.deadline):%m-%d %H:%M}Z",
        )


def next_due_within_one_period(
    ledger: Ledger, person: Person, now: datetime, due: datetime | None, expected: datetime | None
) -> bool:
    """(e) After a check-in at `now`: the plan's next due time `due` against the model's
    `expected` and the no-drift bound. True when it passed."""
    if person.standing is not Standing.ACTIVE or expected is None:
        return True
    plan = person.plan
    problem = None
    if due is None:
        problem = "no next due time"
    else:
        first = plan.after(now) if plan.daily_at else now
        bound = plan.next_period(first) if plan.daily_at else now + 2 * plan.period
        local = due.astimezone(ZoneInfo(plan.zone))
        if not now < due <= bound:
            problem = (
                f"next due {due:%m-%d %H:%M}Z is not within one period (by {bound:%m-%d %H:%M}Z)"
            )
        elif plan.daily_at and (local.hour, local.minute) != (
            plan.daily_at.hour,
            plan.daily_at.minute,
        ):
            problem = f"next due is {local:%H:%M} local, not {plan.daily_at:%H:%M}"
        elif person.exact and due != expected:
            problem = f"next due {due:%m-%d %H:%M}Z where the schedule says {expected:%m-%d %H:%M}Z"
    if problem is None:
        return True
    ledger.add("e", now, f"{_who(person)} checked in at {now:%m-%d %H:%M}Z: {problem}")
    return False
