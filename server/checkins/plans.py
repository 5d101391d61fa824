"""A person's check-in plan: set-up, PINs, checking in, pausing (contacts: `contacts`).

Every function takes the session it works in; the caller owns the transaction. Nothing here
sends a message directly: messages are queued in the outbox with a cause that names why, so
that deciding twice never sends twice. What a plan must do next (remind, alert, clear) is the
sweep's work (`server.checkins.sweep`); a check-in only records itself and asks the sweep to
look at the plan now, so that a check-in with the duress PIN does exactly the same work, and
writes exactly the same columns, as one with the real PIN.
"""

from __future__ import annotations

import json
import uuid
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from server.checkins import zones

# Re-exported: the sweep and the web page read them from here.
from server.checkins.kinds import Checked as Checked
from server.checkins.kinds import Status as Status
from server.checkins.kinds import valid_pin as valid_pin
from server.checkins.schedule import Schedule
from server.db import vault_of
from server.models.checkins import CheckinEvent, CheckinPlan
from server.models.content import Region
from server.models.people import Subscriber

#: Wrong PINs in one period after which the period counts as missed.
WRONG_PINS_MISS = 3
#: PIN attempts (right or wrong) one plan accepts by SMS per hour. The web check-in has its
#: own limits (`server.web.checkin`): a stranger's tries there must never spend this budget.
ATTEMPTS_PER_HOUR = 10
STAGE_TWO_DELAY = timedelta(hours=6)
ALERT_LIFETIME = timedelta(days=3)


@dataclass
class PlanSettings:
    """What the person chose; sealed in `CheckinPlan.settings`."""

    hours: int = 24
    daily_at: str | None = None
    zone: str = "UTC"  # "" while set-up has still to ask for it
    grace_minutes: int = 60
    name: str = ""
    message: str | None = None  # None: the neutral default text
    stage_two: list[str] = field(default_factory=list)  # contact ids alerted later
    ngo: bool = False
    ngo_contact: str | None = None
    # The slow hash of the web code; None: web check-in is off (the default, and after every
    # new set-up). See `server.checkins.web_code`.
    web: str | None = None

    @property
    def schedule(self) -> Schedule:
        """The schedule these settings describe."""
        return Schedule(self.hours, self.daily_at, self.zone)

    @property
    def grace(self) -> timedelta:
        """How long after the due time the alert waits."""
        return timedelta(minutes=self.grace_minutes)


@dataclass
class PlanState:
    """Where the plan is now; sealed in `CheckinPlan.state`."""

    status: str = Status.SETUP.value
    due: str | None = None  # ISO time the current period ends
    reminded: bool = False
    incident: str | None = None  # the open escalation's key, until the all-clear
    stage: int = 0  # stages of the open incident already sent (1, 2)
    alerted_at: str | None = None
    alerted: list[str] = field(default_factory=list)  # contact ids alerted in the incident
    # Closed incidents still owed an all-clear: {"incident": key, "to": [contact ids]}.
    clear: list[dict[str, Any]] = field(default_factory=list)
    escalate: str | None = None  # an incident to open at the next sweep (duress, wrong PINs)
    # The real PIN came after `escalate`, before a sweep opened it: the alert still leaves (a
    # signal is never lost), and the incident ends at once, its all-clear at the next pass.
    answered: bool = False
    wrong: int = 0
    attempts_hour: str | None = None
    attempts: int = 0
    last_checkin: str | None = None
    note: str | None = None  # older states: the id of the last sealed note (now in `notes`)
    # Ids of the sealed notes left since the last incident ended: the NGO's alert names them.
    notes: list[str] = field(default_factory=list)
    # How many of `notes` the NGO's alert of the open incident named: its all-clear names the
    # ones left after it.
    named: int = 0
    # Contacts "removed" with the duress PIN: shown as gone, still alerted, back after a real
    # check-in (a forced removal must not silence the alert it raised).
    hidden: list[str] = field(default_factory=list)
    # Contacts removed after an alert reached them: out of sight and never alerted again, kept
    # only until the closing text they are owed has gone (the sweep forgets them then).
    leaving: list[str] = field(default_factory=list)
    held: bool = False  # paused by the person's STOP (no reminder can reach them); START resumes
    # Contacts who said NO (or STOP) and were then removed: kept, out of sight and never asked
    # again, so that removing and adding them back (or a new set-up) cannot ask them twice.
    refused: list[str] = field(default_factory=list)
    # Opt-in requests (and additions that seemed to send one) on the day `asked_on`: the daily
    # cap counts here, so that removing a contact does not give a request back.
    asked_on: str | None = None
    asked: int = 0
    # The person asked to be erased while alerts were still owed: shredded once they have left
    # (`server.checkins.erasure`).
    erasing: bool = False

    def __post_init__(self) -> None:
        if self.note is not None:  # a state sealed before notes were listed
            self.notes, self.note = [*self.notes, self.note], None

    def end_incident(self) -> None:
        """Close the open incident: everyone alerted in it is owed an all-clear (the NGO's
        names the notes left after its alert), and the next incident names its own notes."""
        closed: dict[str, Any] = {"incident": self.incident, "to": self.alerted}
        if self.notes[self.named :]:
            closed["notes"] = self.notes[self.named :]
        self.clear.append(closed)
        self.incident, self.stage, self.alerted, self.alerted_at = None, 0, [], None
        self.notes, self.named = [], 0

    @property
    def due_at(self) -> datetime | None:
        """The end of the current period."""
        return instant(self.due)


def instant(text: str | None) -> datetime | None:
    """An instant stored in plan state."""
    return datetime.fromisoformat(text) if text else None


def iso(moment: datetime) -> str:
    """A UTC instant to the minute, as stored in plan state."""
    return moment.astimezone(UTC).replace(second=0, microsecond=0).isoformat()


def settings_of(plan: CheckinPlan) -> PlanSettings:
    """The plan's settings, unsealed."""
    raw = plan.settings
    return PlanSettings(**json.loads(raw)) if raw else PlanSettings()


def state_of(plan: CheckinPlan) -> PlanState:
    """The plan's state, unsealed."""
    raw = plan.state
    return PlanState(**json.loads(raw)) if raw else PlanState()


def save(
    plan: CheckinPlan, settings: PlanSettings | None = None, state: PlanState | None = None
) -> None:
    """Seal changed settings and state back into the plan."""
    if settings is not None:
        plan.settings = _json(asdict(settings))
    if state is not None:
        plan.state = _json(asdict(state))


def _json(value: dict[str, Any]) -> str:
    return json.dumps(value, separators=(",", ":"), sort_keys=True, ensure_ascii=False)


def plan_of(session: Session, subscriber: Subscriber, *, lock: bool = False) -> CheckinPlan | None:
    """The person's plan (locked for update on PostgreSQL when asked)."""
    query = select(CheckinPlan).where(CheckinPlan.subscriber_id == subscriber.id)
    if lock:
        query = query.with_for_update()
    plan = session.scalar(query)
    if plan is not None:
        plan.subscriber = subscriber
    return plan


def status_of(plan: CheckinPlan | None) -> Status | None:
    """The plan's status, None without a plan."""
    return Status(state_of(plan).status) if plan is not None else None


# --- Set-up -----------------------------------------------------------------------------------


def begin(session: Session, subscriber: Subscriber, zone: str) -> CheckinPlan:
    """Start (or restart) setting up: a plan that does nothing until it is activated."""
    plan = plan_of(session, subscriber)
    if plan is None:
        plan = CheckinPlan(id=uuid.uuid4(), subscriber=subscriber)
        session.add(plan)
    plan.next_due_at = None
    plan.pin = None
    plan.duress = None
    kept = settings_of(plan)
    # Contacts "removed" under duress stay out of sight through a new set-up as well, removed
    # ones are still owed their closing text, and notes still wait for the next incident.
    was = state_of(plan)
    state = PlanState(hidden=was.hidden, leaving=was.leaving, notes=was.notes)
    # Refusals and the day's requests outlast a new set-up too (`server.checkins.contacts`).
    state.refused, state.asked_on, state.asked = was.refused, was.asked_on, was.asked
    save(plan, PlanSettings(zone=zone, name=kept.name), state)
    return plan


def zone_for(session: Session, subscriber: Subscriber) -> str:
    """The person's time zone: their region's, else their number's when it has only one;
    "" when neither says (set-up then asks)."""
    if subscriber.region_slug:
        zone = session.scalar(select(Region.timezone).where(Region.slug == subscriber.region_slug))
        if zone:
            return zone
    return zones.zone_of_number(subscriber.phone or "") or ""


def set_pin(session: Session, plan: CheckinPlan, pin: str) -> None:
    """Keep a slow hash of the check-in PIN (sealed as well)."""
    plan.pin = vault_of(session).hash_pin(pin)


def set_duress(session: Session, plan: CheckinPlan, pin: str | None) -> bool:
    """Keep the duress PIN's hash; False (nothing kept) when it is the check-in PIN."""
    keys = vault_of(session)
    if pin is None:
        plan.duress = None
        return True
    if keys.verify_pin(plan.pin, pin):
        return False
    plan.duress = keys.hash_pin(pin)
    return True


def activate(plan: CheckinPlan, now: datetime) -> datetime:
    """Start the schedule: the first period ends at the next due time, which is returned."""
    settings, state = settings_of(plan), state_of(plan)
    due = settings.schedule.next_due(now)
    state.status = Status.ACTIVE.value
    state.due, state.reminded, state.wrong = iso(due), False, 0
    save(plan, state=state)
    plan.next_due_at = now  # the sweep schedules the reminder on its next pass
    return due


# --- Checking in ------------------------------------------------------------------------------


def check_in(session: Session, plan: CheckinPlan | None, pin: str, now: datetime) -> Checked:
    """Confirm the current period with a PIN.

    Both hashes are always checked, and a right PIN and the duress PIN write the same event
    and the same columns: what differs is sealed inside them. The sweep, told to look now,
    clears an open alert after a real check-in and escalates after a duress one.
    """
    return confirm(session, plan, pin, now)[0]


def confirm(
    session: Session, plan: CheckinPlan | None, pin: str, now: datetime
) -> tuple[Checked, bool]:
    """`check_in`, and whether it was the duress PIN: for a caller that must pretend to obey
    (never to tell anyone)."""
    keys = vault_of(session)
    if plan is None or plan.pin is None:
        keys.verify_pin(None, pin)
        keys.verify_pin(None, pin)
        return Checked.NO_PLAN, False
    state = state_of(plan)
    if not _attempt(state, now):
        save(plan, state=state)
        return Checked.LIMITED, False
    real = keys.verify_pin(plan.pin, pin)
    duress = keys.verify_pin(plan.duress, pin)
    # A right PIN on a stopped plan still counts (it may end an incident); the caller says
    # the plan is stopped, which the right PIN already proves one may know.
    if not (real or duress) or state.status == Status.SETUP.value:
        state.wrong += 1
        missed = state.wrong == WRONG_PINS_MISS and state.incident is None
        if missed and state.status == Status.ACTIVE.value:
            state.escalate, state.answered = f"w{_stamp(now)}", False
            plan.next_due_at = now
        save(plan, state=state)
        return Checked.WRONG, False
    accept(session, plan, state, duress, now)
    return Checked.OK, duress


def accept(
    session: Session, plan: CheckinPlan, state: PlanState, duress: bool, now: datetime
) -> None:
    """Record a check-in the PIN (or the duress PIN) proved, by SMS or on the web
    (`server.checkins.web_code`)."""
    settings = settings_of(plan)
    if duress:
        state.escalate, state.answered = f"d{_stamp(now)}", False
    else:
        state.hidden = []
        # What the duress PIN or wrong PINs raised still alerts, and ends at the sweep: left
        # open after this check-in, it would swallow the next missed one (nobody alerted).
        state.answered = state.escalate is not None and state.incident is None
    if not duress and state.incident is not None:
        state.end_incident()
        state.escalate = None
    state.wrong = 0
    state.last_checkin = iso(now)
    if state.status == Status.ACTIVE.value:
        due = iso(settings.schedule.confirmed(state.due_at, now))
        if due != state.due:  # an extra check-in keeps the due time, and its reminder
            state.due, state.reminded = due, False
    save(plan, state=state)
    record(session, plan, "duress" if duress else "confirmed", now)
    plan.next_due_at = now


def _stamp(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y%m%dT%H%M%S")


def _attempt(state: PlanState, now: datetime) -> bool:
    hour = iso(now.replace(minute=0))
    if state.attempts_hour != hour:
        state.attempts_hour, state.attempts = hour, 0
    state.attempts += 1
    return state.attempts <= ATTEMPTS_PER_HOUR


def record(session: Session, plan: CheckinPlan, kind: str, now: datetime, **detail: Any) -> None:
    """Add a sealed event to the plan's history."""
    event = CheckinEvent(id=uuid.uuid4(), plan=plan, happened_on=now.date())
    session.add(event)
    event.detail = _json({"kind": kind, "at": iso(now), **detail})


def events_of(session: Session, plan: CheckinPlan) -> list[dict[str, Any]]:
    """The plan's history, unsealed, oldest first."""
    rows = session.scalars(
        select(CheckinEvent)
        .where(CheckinEvent.plan_id == plan.id)
        .order_by(CheckinEvent.happened_on)
    ).all()
    found = [json.loads(row.detail or "{}") for row in rows]
    return sorted(found, key=lambda event: str(event.get("at")))


def pause(session: Session, plan: CheckinPlan | None, pin: str, now: datetime) -> Checked:
    """Pause with the PIN (the duress PIN seems to pause too, and alerts)."""
    return _with_pin(session, plan, pin, now, Status.PAUSED)


def stop(session: Session, plan: CheckinPlan | None, pin: str, now: datetime) -> Checked:
    """Stop check-ins with the PIN (the duress PIN seems to stop them too, and alerts)."""
    return _with_pin(session, plan, pin, now, Status.STOPPED)


def _with_pin(
    session: Session, plan: CheckinPlan | None, pin: str, now: datetime, status: Status
) -> Checked:
    if plan is None or status_of(plan) in (Status.SETUP, Status.STOPPED):
        return check_in(session, None, pin, now)
    checked = check_in(session, plan, pin, now)
    if checked is Checked.OK:
        state = state_of(plan)
        state.status = status.value
        save(plan, state=state)
    return checked


def resume(plan: CheckinPlan, now: datetime) -> datetime | None:
    """Resume a paused plan: a new period starts now; None when it was not paused."""
    if status_of(plan) is not Status.PAUSED:
        return None
    return activate(plan, now)


def hold(plan: CheckinPlan, now: datetime) -> bool:
    """The person opted out (STOP): an active plan pauses until they opt back in; False when
    it was not active. What a duress PIN or an earlier miss raised is still sent."""
    state = state_of(plan)
    if state.status != Status.ACTIVE.value:
        return False
    state.status, state.held = Status.PAUSED.value, True
    save(plan, state=state)
    plan.next_due_at = now  # the sweep still sends what is owed, and then looks no further
    return True


def release(plan: CheckinPlan, now: datetime) -> datetime | None:
    """The person opted back in (START): a plan their STOP paused starts a new period now;
    its next due time, None when their STOP had not paused it."""
    state = state_of(plan)
    if not state.held:
        return None
    state.held = False
    save(plan, state=state)
    return resume(plan, now)
