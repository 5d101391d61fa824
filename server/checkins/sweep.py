"""One pass over the check-in plans that need attention: reminders, alerts, all-clears.

`sweep(session, settings, now)` reads only plans whose `next_due_at` has come (an indexed
range), so its cost follows the number of due plans, not how many exist. It is level-triggered:
it looks at where each plan is at `now` and queues what is owed then, with a cause per
(plan, due time or incident, stage, recipient), so that any number of passes, concurrent or
late, queue each message once. Causes are opaque keyed digests (`outbox.cause`): the outbox
says neither what kind of incident it was, nor when, nor whose plan or which contact. A pass
that runs days late still sends the alert (and the second stage) that were owed; a reminder
whose due time has passed is no longer owed.

The worker calls it once per loop in its own transaction, and `refuge worker --once --now T`
runs one pass as if the time were T.
"""

from __future__ import annotations

import uuid
from collections.abc import Collection
from dataclasses import asdict, dataclass
from datetime import datetime, timedelta

from sqlalchemy import false, select, update
from sqlalchemy.orm import Session, selectinload

from server.checkins import contacts, erasure, plans, texts
from server.checkins.plans import PlanSettings, PlanState, Status
from server.config import Settings
from server.delivery import outbox
from server.models.checkins import CheckinPlan
from server.models.messaging import OutboxKind
from server.models.people import Consent, Subscriber, TrustedContact

#: Plans read per query; a pass reads batches until no due plan is left.
BATCH = 1000
#: How soon after an alert the all-clear of an incident the real PIN already ended is queued
#: (at a later pass than the alert, so that it can never arrive first).
ALL_CLEAR_AFTER = timedelta(minutes=1)


@dataclass
class SweepReport:
    """What one pass did: plans looked at, and messages queued by kind."""

    plans: int = 0
    reminders: int = 0
    alerts: int = 0
    all_clears: int = 0

    def as_dict(self) -> dict[str, int]:
        """The counts by name."""
        return asdict(self)

    @property
    def queued(self) -> int:
        """Messages this pass queued."""
        return self.reminders + self.alerts + self.all_clears


def due_plans(
    session: Session, now: datetime, limit: int = BATCH, only: Collection[uuid.UUID] | None = None
) -> list[CheckinPlan]:
    """Plans whose next moment has come, earliest first; locked (skipping locked) on PostgreSQL.
    With `only`, those plans alone (a drill's)."""
    query = (
        select(CheckinPlan)
        .where(CheckinPlan.next_due_at <= now)
        .order_by(CheckinPlan.next_due_at)
        .limit(limit)
        .options(selectinload(CheckinPlan.subscriber).selectinload(Subscriber.contacts))
    )
    if only is not None:
        query = query.where(CheckinPlan.id.in_(list(only)))
    if session.get_bind().dialect.name == "postgresql":
        # Another worker's pass takes the plans it locked; this one takes the rest.
        query = query.with_for_update(skip_locked=True, of=CheckinPlan)
    return list(session.scalars(query))


def sweep(
    session: Session,
    settings: Settings | None,
    now: datetime,
    *,
    only: Collection[uuid.UUID] | None = None,
) -> SweepReport:
    """Queue everything owed at `now` for every due plan (or those of `only`, a drill's);
    the caller commits."""
    del settings  # the pass needs none today; the signature is the worker's contract
    report = SweepReport()
    if session.get_bind().dialect.name == "sqlite":
        # Take SQLite's write lock before reading, so a concurrent pass waits for this one
        # and then reads what it wrote, instead of failing on a stale snapshot.
        session.execute(update(CheckinPlan).where(false()).values(next_due_at=None))
    while True:
        batch = due_plans(session, now, only=only)
        # One flush per batch: each queued message would otherwise flush every change made
        # since the one before (an event, a plan's state) in a unit of work of its own.
        with session.no_autoflush:
            for plan in batch:
                advance(session, plan, now, report)
        report.plans += len(batch)
        session.flush()
        if len(batch) < BATCH:
            return report


def advance(session: Session, plan: CheckinPlan, now: datetime, report: SweepReport) -> None:
    """Bring one plan up to `now`: queue what is owed, then set when to look again."""
    if plans.state_of(plan).erasing:
        erasure.finish(session, plan, now)  # the person asked to go once their alerts left
        return
    if plan.subscriber.opted_out:
        # Opted out where the turn did not see it (the provider's refusal): no reminder can
        # reach them, so the plan waits for their START as after a STOP.
        plans.hold(plan, now)
    settings, state = plans.settings_of(plan), plans.state_of(plan)
    _all_clears(session, plan, settings, state, now, report)
    ended = False
    if state.escalate is not None and state.incident is None:
        _open(session, plan, settings, state, state.escalate, now, now, report)
        if state.answered:  # the real PIN followed: its all-clear goes at the next pass
            state.end_incident()
            ended = True
    # A duress PIN (or wrong PINs) while an incident is open belongs to that incident: its
    # recipients were told once and hear its end once, so nothing new is queued.
    state.escalate, state.answered = None, False
    due = state.due_at
    active = state.status == Status.ACTIVE.value
    if active and due is not None and state.incident is None:
        remind_at = settings.schedule.reminder_at(due)
        if not state.reminded and remind_at <= now < due:
            _remind(session, plan, settings, due, now, report)
        if now >= due:
            state.reminded = True  # a reminder past its due time is no longer owed
        if now >= due + settings.grace:
            key = f"m{due.strftime('%Y%m%dT%H%M')}"
            _open(session, plan, settings, state, key, due + settings.grace, now, report)
    if state.incident is not None:
        _alert_newcomers(session, plan, settings, state, now, report)
    if state.incident is not None and state.stage == 1 and settings.stage_two:
        alerted_at = plans.instant(state.alerted_at)
        if alerted_at is not None and now >= alerted_at + plans.STAGE_TWO_DELAY:
            _alert(session, plan, settings, state, 2, now, report)
    if state.leaving:
        contacts.forget_left(session, plan, state, now)
    plans.save(plan, state=state)
    plan.next_due_at = _next_look(settings, state, now)
    if ended:  # the all-clear after the alert, never before it
        soon = now + ALL_CLEAR_AFTER
        plan.next_due_at = soon if plan.next_due_at is None else min(plan.next_due_at, soon)
    if state.leaving:  # a removed contact's closing text has not gone yet: look again
        soon = now + contacts.LEAVING_LOOK
        plan.next_due_at = soon if plan.next_due_at is None else min(plan.next_due_at, soon)


def _next_look(settings: PlanSettings, state: PlanState, now: datetime) -> datetime | None:
    """When the plan next needs a pass: its reminder, its alert, or its second stage."""
    if state.incident is not None:
        alerted_at = plans.instant(state.alerted_at)
        if state.stage == 1 and settings.stage_two and alerted_at is not None:
            return alerted_at + plans.STAGE_TWO_DELAY
        return None  # everything owed is sent; the next check-in starts a new period
    due = state.due_at
    if state.status != Status.ACTIVE.value or due is None:
        return None
    remind_at = settings.schedule.reminder_at(due)
    if not state.reminded and remind_at > now:
        return remind_at
    return due + settings.grace


def _remind(
    session: Session,
    plan: CheckinPlan,
    settings: PlanSettings,
    due: datetime,
    now: datetime,
    report: SweepReport,
) -> None:
    person = plan.subscriber
    if person.opted_out:
        return
    queued = outbox.enqueue(
        session,
        outbox.Outgoing(
            subscriber=person,
            body=texts.reminder(person.locale, due, settings.zone),
            kind=OutboxKind.REMINDER,
            cause=outbox.cause(person, "remind", plan.id.hex, due.strftime("%Y%m%dT%H%M")),
            not_before=now,
            expires_at=due,
        ),
    )
    report.reminders += int(queued)


def _open(
    session: Session,
    plan: CheckinPlan,
    settings: PlanSettings,
    state: PlanState,
    incident: str,
    since: datetime,
    now: datetime,
    report: SweepReport,
) -> None:
    """Open an incident (none is open) and send its first stage."""
    state.alerted = []
    state.incident, state.stage = incident, 0
    state.alerted_at = plans.iso(since)
    _alert(session, plan, settings, state, 1, now, report)


def _recipients(
    plan: CheckinPlan, settings: PlanSettings, state: PlanState, stage: int
) -> list[TrustedContact]:
    """Contacts who agreed, are not removed, and belong to a stage (the NGO's is the first)."""
    later, leaving = set(settings.stage_two), set(state.leaving)
    return [
        contact
        for contact in plan.subscriber.contacts
        if contact.consent is Consent.CONFIRMED
        and contact.id.hex not in leaving
        and (contact.id.hex in later) == (stage == 2)
        and (settings.ngo or contact.id.hex != settings.ngo_contact)
    ]


def _alert(
    session: Session,
    plan: CheckinPlan,
    settings: PlanSettings,
    state: PlanState,
    stage: int,
    now: datetime,
    report: SweepReport,
) -> None:
    person = plan.subscriber
    assert state.incident is not None
    for contact in _recipients(plan, settings, state, stage):
        if contact.id.hex == settings.ngo_contact:
            body = texts.partner_alert(
                person.locale, settings.name, person.phone or "", state.notes
            )
        else:
            body = texts.alert(person.locale, settings.name, settings.message)
        queued = outbox.enqueue(
            session,
            outbox.Outgoing(
                subscriber=person,
                contact=contact,
                body=body,
                kind=OutboxKind.ALERT,
                cause=outbox.cause(
                    person,
                    "alert",
                    plan.id.hex,
                    state.incident,
                    str(stage),
                    contact.id.hex,
                    incident=outbox.incident_tag(person, plan.id.hex, state.incident),
                ),
                not_before=now,
                expires_at=now + plans.ALERT_LIFETIME,
            ),
        )
        report.alerts += int(queued)
        if queued and contact.id.hex == settings.ngo_contact:
            state.named = len(state.notes)
        if contact.id.hex not in state.alerted:
            state.alerted.append(contact.id.hex)
    state.stage = stage
    plans.record(session, plan, "alerted", now, stage=stage)


def _alert_newcomers(
    session: Session,
    plan: CheckinPlan,
    settings: PlanSettings,
    state: PlanState,
    now: datetime,
    report: SweepReport,
) -> None:
    """A contact who agreed while the incident is open (after its stage was sent) is told of
    it too, once: someone who used the duress PIN before anyone had agreed is not left with
    nobody alerted."""
    reached = state.stage
    for stage in range(1, reached + 1):
        recipients = _recipients(plan, settings, state, stage)
        if any(contact.id.hex not in state.alerted for contact in recipients):
            _alert(session, plan, settings, state, stage, now, report)
    state.stage = reached


def _all_clears(
    session: Session,
    plan: CheckinPlan,
    settings: PlanSettings,
    state: PlanState,
    now: datetime,
    report: SweepReport,
) -> None:
    person = plan.subscriber
    by_id = {contact.id.hex: contact for contact in person.contacts}
    for closed in state.clear:
        for contact_id in closed.get("to", []):
            contact = by_id.get(contact_id)
            if contact is None or contact.consent is not Consent.CONFIRMED:
                continue  # gone, or asked to hear nothing more
            if contact_id == settings.ngo_contact:
                body = texts.partner_all_clear(
                    person.locale, settings.name, closed.get("notes", [])
                )
            else:
                body = texts.all_clear(person.locale, settings.name)
            queued = outbox.enqueue(
                session,
                outbox.Outgoing(
                    subscriber=person,
                    contact=contact,
                    body=body,
                    kind=OutboxKind.ALL_CLEAR,
                    cause=outbox.cause(
                        person,
                        "clear",
                        plan.id.hex,
                        str(closed.get("incident")),
                        contact_id,
                        incident=outbox.incident_tag(
                            person, plan.id.hex, str(closed.get("incident"))
                        ),
                    ),
                    not_before=now,
                    expires_at=now + plans.ALERT_LIFETIME,
                ),
            )
            report.all_clears += int(queued)
    if state.clear:
        plans.record(session, plan, "all_clear", now)
    state.clear = []
