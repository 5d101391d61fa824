"""A person's own erasure, in an order that never drops an alert already owed.

An alert a duress PIN or a missed check-in raised must leave even when the person (or whoever
holds their phone) erases everything at once: the queued alert is sealed under the person's
data key and addressed to their contact's row, so shredding them would shred it too. So
`erase` first brings the plan up to now (what the sweep would queue at this moment is queued),
and when alerts or all-clears are still unsent it erases only what they do not need and leaves
the rest to the sweep, which shreds the person as soon as they have left (or expired).

Meanwhile nothing finds the person any more: their blind index is replaced by random bytes (a
new text from the number is a newcomer's), they are opted out, their conversation is gone, no
reminder, request or reply of theirs is left, and their plan is stopped. The second stage of
an incident, not yet due, is not sent.
"""

from __future__ import annotations

import secrets
from datetime import datetime, timedelta

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from server import people
from server.checkins import plans
from server.checkins.plans import Status
from server.models.checkins import CheckinPlan
from server.models.messaging import Outbox, OutboxKind, OutboxStatus
from server.models.people import Subscriber

#: How often the sweep looks whether a leaving person's alerts have gone.
LOOK_AGAIN = timedelta(minutes=5)
#: Messages that must leave before the person who caused them is shredded.
OWED = (OutboxKind.ALERT, OutboxKind.ALL_CLEAR)
UNSENT = (OutboxStatus.PENDING, OutboxStatus.SENDING)


def erase(session: Session, subscriber: Subscriber, now: datetime) -> bool:
    """Erase a person who asked for it, after every alert already owed: True when shredded
    now, False when the sweep will once their alerts have gone."""
    from server.checkins import sweep  # the sweep calls `finish`: imported when erasing

    plan = plans.plan_of(session, subscriber, lock=True)
    if plan is not None and not plans.state_of(plan).erasing:
        sweep.advance(session, plan, now, sweep.SweepReport())
        session.flush()
    if plan is None or not alerts_unsent(session, subscriber):
        people.delete_subscriber(session, subscriber)
        return True
    _wait(session, plan, now)
    return False


def alerts_unsent(session: Session, subscriber: Subscriber) -> bool:
    """Whether an alert or all-clear the person caused has still to leave."""
    waiting = session.scalar(
        select(func.count())
        .select_from(Outbox)
        .where(
            Outbox.subscriber_id == subscriber.id,
            Outbox.kind.in_(OWED),
            Outbox.status.in_(UNSENT),
        )
    )
    return bool(waiting)


def _wait(session: Session, plan: CheckinPlan, now: datetime) -> None:
    """Keep only what the owed alerts need, out of everyone's sight, until they have left."""
    person = plan.subscriber
    person.phone_index = secrets.token_bytes(len(person.phone_index))
    person.opted_out = True
    person.state = None
    person.whatsapp_window_until = None
    session.execute(
        delete(Outbox).where(
            Outbox.subscriber_id == person.id,
            Outbox.kind.not_in(OWED),
            Outbox.status == OutboxStatus.PENDING,
            Outbox.provider_sid_ct.is_(None),  # never tried: no copy at the provider
        ),
        execution_options={"synchronize_session": False},
    )
    state = plans.state_of(plan)
    state.status, state.erasing, state.escalate = Status.STOPPED.value, True, None
    plans.save(plan, state=state)
    plan.next_due_at = now + LOOK_AGAIN


def finish(session: Session, plan: CheckinPlan, now: datetime) -> None:
    """The sweep's part: shred the leaving person once their alerts have gone, else look later."""
    if alerts_unsent(session, plan.subscriber):
        plan.next_due_at = now + LOOK_AGAIN
        return
    people.delete_subscriber(session, plan.subscriber)
