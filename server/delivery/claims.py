"""Claiming: which due messages of a sender a worker may hand over now, at the sender's pace.

A claim is two transactions: `claim` marks due rows `sending` under a claim id while the
sender's pace row is locked; `admission.admit` then decides which of them may really go. A
worker that dies in between leaves rows `sending` until their lease runs out, when
`reconciliation` looks them up at the provider before anything is sent again.

Everything here is shared by every worker and follows the real clock, drills included: a
drill's messages are brought to the real time (`bring_drill_forward`) rather than the pace,
leases and expiry moved to the drill's.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from server.config import Settings
from server.db import insert_for
from server.delivery.channels import Outbound
from server.delivery.outbox import tally
from server.models.messaging import Outbox, OutboxKind, OutboxStatus, SenderPace
from server.models.people import Subscriber

#: While a message is being sent, its claim holds for the provider's timeout times this, at
#: least LEASE_MINIMUM; a worker that dies leaves the row to be reconciled after that.
LEASE_FACTOR = 3
LEASE_MINIMUM = timedelta(seconds=60)


@dataclass(frozen=True, repr=False)
class Job:
    """One claimed message, ready to hand to the channel (held in memory only)."""

    row_id: uuid.UUID
    attempt_started_at: datetime
    message: Outbound
    kind: OutboxKind
    #: The data key the row's sealed fields are under (to seal the provider's id on return).
    data_key: bytes

    def __repr__(self) -> str:
        return f"Job({self.row_id}, {self.kind.value})"


def lease_for(settings: Settings) -> timedelta:
    """How long a claim holds before the row is reconciled."""
    return max(LEASE_MINIMUM, timedelta(seconds=settings.delivery.timeout_seconds * LEASE_FACTOR))


def claim(
    session: Session, settings: Settings, sender: str, now: datetime, limit: int
) -> uuid.UUID | None:
    """Claim the most urgent due messages of one sender that its pace allows: the claim's id,
    or None when nothing is due or the pace is full.

    Quick on purpose: the sender's pace row is locked (workers take turns here), due rows are
    marked `sending` (on PostgreSQL rows another worker holds are skipped) and their slots
    reserved. Which of them may really go is decided by `admission.admit`, in the next
    transaction.
    """
    pace = _lock_pace(session, sender, now)
    rate = settings.delivery.rate_per_second
    start = max(pace.next_slot_at, now)
    horizon = now + timedelta(seconds=settings.delivery.provider_backlog_seconds)
    room = min(limit, int((horizon - start).total_seconds() * rate + 1e-9))
    if room <= 0:
        return None
    due = (
        select(Outbox.id)
        .where(
            Outbox.status == OutboxStatus.PENDING,
            Outbox.sender == sender,
            Outbox.next_attempt_at <= now,
        )
        .order_by(Outbox.priority, Outbox.next_attempt_at)
        .limit(room)
        .with_for_update(skip_locked=True)
    )
    ids = list(session.scalars(due))
    if not ids:
        return None
    claim_id = uuid.uuid4()
    session.execute(
        update(Outbox)
        .where(Outbox.id.in_(ids))
        .values(
            status=OutboxStatus.SENDING,
            attempts=Outbox.attempts + 1,
            attempt_started_at=now,
            lease_until=now + lease_for(settings),
            claim_id=claim_id,
        )
        .execution_options(synchronize_session=False)
    )
    pace.next_slot_at = start + timedelta(seconds=len(ids) / rate)
    return claim_id


def _lock_pace(session: Session, sender: str, now: datetime) -> SenderPace:
    """The sender's pace row, locked for this transaction (created on first use)."""
    # An upsert that changes nothing still takes the row's write lock (SQLite: the database's).
    session.execute(
        insert_for(session)(SenderPace)
        .values(sender=sender, next_slot_at=now)
        .on_conflict_do_update(
            index_elements=["sender"], set_={"next_slot_at": SenderPace.next_slot_at}
        )
    )
    pace = session.scalars(
        select(SenderPace)
        .where(SenderPace.sender == sender)
        .with_for_update()
        .execution_options(populate_existing=True)
    ).one()
    return pace


def expire(session: Session, now: datetime) -> list[OutboxKind]:
    """Settle pending messages that are past their use: counted by kind, never sent. The
    kind of each one expired."""
    expired = session.execute(
        update(Outbox)
        .where(Outbox.status == OutboxStatus.PENDING, Outbox.expires_at <= now)
        .values(status=OutboxStatus.EXPIRED, final_on=now.date(), body_ct=None)
        .returning(Outbox.kind, Outbox.subscriber_id)
        .execution_options(synchronize_session=False)
    ).all()
    # Partners' signals count expired messages per region: the region of whom each was for.
    people = {subscriber_id for _kind, subscriber_id in expired}
    regions: dict[uuid.UUID, str | None] = {}
    if people:
        found = session.execute(
            select(Subscriber.id, Subscriber.region_slug).where(Subscriber.id.in_(people))
        )
        regions = dict(found.all())
    for kind, subscriber_id in expired:
        region = regions.get(subscriber_id) or ""
        tally(session, "outbound_expired", kind.value, now.date(), region=region)
    return [kind for kind, _subscriber_id in expired]


def queued_for(session: Session, moment: datetime) -> set[uuid.UUID]:
    """The pending messages that may first leave at `moment` (before a drill's sweep runs)."""
    return set(
        session.scalars(
            select(Outbox.id).where(
                Outbox.status == OutboxStatus.PENDING, Outbox.not_before == moment
            )
        )
    )


def bring_drill_forward(
    session: Session, moment: datetime, now: datetime, earlier: set[uuid.UUID]
) -> int:
    """Messages a drill's sweep queued as if at `moment` leave at `now` instead, each keeping
    its lifetime; how many.

    A sweep stamps what it queues with the time it runs as: the drill's messages are the
    pending rows, never tried, that may first leave at `moment` and were not there before the
    sweep (`earlier`, from `queued_for`). The people rehearsing watch for them now: left at
    `moment`, a drill ahead would keep them for a day, and one behind would let them expire.
    """
    rows = session.scalars(
        select(Outbox).where(
            Outbox.status == OutboxStatus.PENDING,
            Outbox.attempts == 0,
            Outbox.not_before == moment,
            Outbox.next_attempt_at == moment,
        )
    ).all()
    drilled = [row for row in rows if row.id not in earlier]
    for row in drilled:
        row.expires_at += now - moment
        row.not_before = row.next_attempt_at = now
        row.created_on = now.date()
    return len(drilled)


def release(session: Session, jobs: list[Job]) -> None:
    """Give back claimed messages that were never handed over (a worker shutting down)."""
    for job in jobs:
        row = session.get(Outbox, job.row_id, with_for_update=True)
        if (
            row is not None
            and row.status is OutboxStatus.SENDING
            and row.attempt_started_at == job.attempt_started_at
        ):
            row.status = OutboxStatus.PENDING
            row.attempts = max(row.attempts - 1, 0)
            row.lease_until = None
            row.attempt_started_at = None
