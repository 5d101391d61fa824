"""Recording what the provider said: the answers to a batch, refusals, and status callbacks.

Statuses apply in any order and never backwards; a number the provider reports as having
asked for no more messages (the channel says so) is opted out here too.
"""

from __future__ import annotations

import random
import uuid
from datetime import datetime, timedelta

from sqlalchemy import Table, bindparam, select, text, update
from sqlalchemy.orm import Session

from server.config import Settings
from server.db import vault_of
from server.delivery.channels import (
    ChannelError,
    SentMessage,
    TemporaryFailure,
    UncertainOutcome,
    Unsubscribed,
)
from server.delivery.claims import Job
from server.delivery.outbox import Reason, tally
from server.models.messaging import Outbox, OutboxStatus
from server.models.people import Consent

#: Retry delays: BACKOFF_BASE doubled per attempt, at most BACKOFF_CAP, with jitter.
BACKOFF_BASE = timedelta(seconds=2)
BACKOFF_CAP = timedelta(minutes=15)
#: How long after hand-over a message without a final status is looked up at the provider
#: (`provider_copies.GIVE_UP_STATUS_AFTER` says when its record is deleted regardless).
STATUS_CHECK_AFTER = timedelta(hours=6)


def backoff(attempts: int, rng: random.Random | None = None) -> timedelta:
    """How long to wait before attempt `attempts + 1`: doubling, capped, with jitter."""
    doubled = BACKOFF_BASE.total_seconds() * 2.0 ** min(max(attempts - 1, 0), 30)
    delay = min(doubled, BACKOFF_CAP.total_seconds())
    jitter = (rng or random).uniform(0.5, 1.0)  # timing, not secrecy
    return timedelta(seconds=delay * jitter)


#: Provider statuses in the order they may follow each other; a lower one never overwrites.
PROVIDER_RANK: dict[str, int] = {
    "accepted": 0,
    "scheduled": 0,
    "queued": 0,
    "sending": 1,
    "sent": 2,
    "delivered": 3,
    "undelivered": 3,
    "failed": 3,
    "canceled": 3,
    "partially_delivered": 3,
    "read": 4,
}
#: The outbox status each provider status means.
FROM_PROVIDER: dict[str, OutboxStatus] = {
    "delivered": OutboxStatus.DELIVERED,
    "read": OutboxStatus.DELIVERED,
    "partially_delivered": OutboxStatus.DELIVERED,
    "undelivered": OutboxStatus.UNDELIVERED,
    "failed": OutboxStatus.FAILED,
    "canceled": OutboxStatus.FAILED,
}


def record_sent(session: Session, taken: list[tuple[Job, SentMessage]], now: datetime) -> None:
    """The provider took these messages: keep each one's id (sealed) and its first status.

    One statement for the batch. A row a status callback already settled, or one erased
    meanwhile, is left as it is. On PostgreSQL this commit need not wait for the disk: if it
    is lost in a crash, the rows are still `sending` and reconciliation finds them at the
    provider, so nothing is sent twice.
    """
    if not taken:
        return
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("SET LOCAL synchronous_commit = off"))
    keys = vault_of(session)
    table = Outbox.__table__
    assert isinstance(table, Table)
    session.execute(
        update(table)
        .where(
            table.c.id == bindparam("b_id"),
            table.c.status == OutboxStatus.SENDING,
            table.c.attempt_started_at == bindparam("b_started"),
        )
        .values(
            status=OutboxStatus.SENT,
            provider_sid=bindparam("b_sid"),
            provider_sid_digest=bindparam("b_digest"),
            provider_status=bindparam("b_status"),
            sent_at=now,
            lease_until=None,
            cleanup_due_at=now + STATUS_CHECK_AFTER,
        ),
        [
            {
                "b_id": job.row_id,
                "b_started": job.attempt_started_at,
                "b_sid": Outbox.provider_sid.seal(job.data_key, job.row_id.hex, sent.provider_id),
                "b_digest": keys.keyed_digest("outbound-sid", sent.provider_id),
                "b_status": sent.status if sent.status in PROVIDER_RANK else None,
            }
            for job, sent in taken
        ],
    )


def remember_provider_id(session: Session, row: Outbox, provider_id: str, now: datetime) -> None:
    """Keep the provider's id of a row that had none (a report that beat the worker's record)."""
    if row.provider_sid_digest is None:
        row.provider_sid_digest = vault_of(session).keyed_digest("outbound-sid", provider_id)
        row.provider_sid = provider_id
        row.sent_at = row.sent_at or now
        row.cleanup_due_at = now + STATUS_CHECK_AFTER


def record_failure(
    session: Session, settings: Settings, job: Job, error: ChannelError, now: datetime
) -> Reason | None:
    """The provider did not take the message: retry later, stop, or look it up first. Why
    it stopped, when it did (refused, given up, unsubscribed)."""
    row = session.get(Outbox, job.row_id, with_for_update=True)
    if row is None or row.status is not OutboxStatus.SENDING:
        return None
    if row.attempt_started_at != job.attempt_started_at:
        return None  # reconciled and claimed again meanwhile: that attempt owns the row
    if isinstance(error, UncertainOutcome):
        row.lease_until = now  # looked up at the provider by the next reconciliation
        return None
    row.error_code = error.code
    row.lease_until = None
    if isinstance(error, TemporaryFailure):
        if row.attempts < settings.delivery.max_attempts:
            row.status = OutboxStatus.PENDING
            row.next_attempt_at = now + backoff(row.attempts)
            return None
        reason = Reason.GAVE_UP
    else:
        reason = Reason.UNSUBSCRIBED if isinstance(error, Unsubscribed) else Reason.REFUSED
    finish(row, OutboxStatus.FAILED, now)
    tally(session, "outbound_failed", str(error.code or "unknown"), now.date(), region=_region(row))
    if isinstance(error, Unsubscribed):
        _unsubscribed(row)
    return reason


def _unsubscribed(row: Outbox) -> None:
    """The number told the provider STOP: honour it here too."""
    if row.contact is not None:
        row.contact.consent = Consent.REVOKED
    else:
        row.subscriber.opted_out = True


def finish(row: Outbox, status: OutboxStatus, now: datetime) -> None:
    """Settle a row: nothing is left to send, and its provider copy is deleted next."""
    row.status = status
    row.final_on = row.final_on or now.date()
    row.body_ct = None  # nothing left to send: the text is not kept
    if row.provider_sid_ct is not None:
        row.cleanup_due_at = now


def apply_provider_status(
    session: Session,
    row: Outbox,
    status: str,
    error_code: int | None,
    now: datetime,
    *,
    unsubscribed: bool,
) -> bool:
    """Apply a status the provider reported, in any order: never backwards. True if applied.

    `unsubscribed` is the channel's word that the number asked for no more messages.
    """
    rank = PROVIDER_RANK.get(status)
    if rank is None:
        return False
    current = PROVIDER_RANK.get(row.provider_status or "", -1)
    if rank <= current or row.status in (OutboxStatus.EXPIRED, OutboxStatus.DROPPED):
        return False
    row.provider_status = status
    if row.status in (OutboxStatus.PENDING, OutboxStatus.SENDING):
        row.status = OutboxStatus.SENT  # the provider has it: it will not be sent again
        row.lease_until = None
    final = FROM_PROVIDER.get(status)
    if final is not None:
        if error_code is not None:
            row.error_code = error_code
        finish(row, final, now)
        if final is not OutboxStatus.DELIVERED:
            code = str(error_code or "unknown")
            tally(session, "outbound_undelivered", code, now.date(), region=_region(row))
        if unsubscribed:
            _unsubscribed(row)
    return True


def _region(row: Outbox) -> str:
    """The region of the person a message was for (or whose contact it was for): partners'
    signals count delivery failures per region."""
    return row.subscriber.region_slug or ""


def status_reported(
    session: Session,
    row_hint: str | None,
    provider_id: str,
    status: str,
    error_code: int | None,
    now: datetime,
    *,
    unsubscribed: bool,
) -> bool:
    """A status callback: find the row (by the id in its URL, else by the provider's id)."""
    # Every index key version: a message sent before a rotation is still found.
    digests = vault_of(session).keyed_digests("outbound-sid", provider_id)
    row = None
    if row_hint:
        try:
            row = session.get(Outbox, uuid.UUID(hex=row_hint), with_for_update=True)
        except ValueError:
            row = None
        if row is not None and row.provider_sid_digest not in (None, *digests):
            row = None  # a callback for another message cannot touch this one
    if row is None:
        row = session.scalar(
            select(Outbox).where(Outbox.provider_sid_digest.in_(digests)).with_for_update()
        )
    if row is None:
        return False
    remember_provider_id(session, row, provider_id, now)
    return apply_provider_status(session, row, status, error_code, now, unsubscribed=unsubscribed)
