"""Reconciling attempts whose outcome is unknown: rows left `sending` past their lease.

Each is looked up at the provider before anything is sent again: sent if the provider has the
message, due again (or expired) if it has not.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from server.config import Settings
from server.db import vault_of
from server.delivery import twilio
from server.delivery.channels import ProviderMessage
from server.delivery.claims import Job, lease_for
from server.delivery.outbox import WHATSAPP_SENDER, tally
from server.delivery.records import apply_provider_status, backoff, finish, remember_provider_id
from server.models.messaging import Outbox, OutboxStatus


def stuck(session: Session, settings: Settings, now: datetime, limit: int) -> list[Job]:
    """Claim rows left in `sending` past their lease, for a lookup at the provider."""
    rows = session.scalars(
        select(Outbox)
        .where(Outbox.status == OutboxStatus.SENDING, Outbox.lease_until <= now)
        .order_by(Outbox.priority, Outbox.lease_until)
        .limit(limit)
        .with_for_update(skip_locked=True, of=Outbox)
        .options(selectinload(Outbox.subscriber), selectinload(Outbox.contact))
    ).all()
    jobs = []
    for row in rows:
        started = row.attempt_started_at or now
        row.lease_until = now + lease_for(settings)
        address = (row.contact.phone if row.contact else row.subscriber.phone) or ""
        whatsapp = row.sender == WHATSAPP_SENDER
        message = twilio.outbound(settings, address, row.body or "", whatsapp=whatsapp)
        jobs.append(Job(row.id, started, message, row.kind, row.data_key()))
    return jobs


def reconciled(
    session: Session, job: Job, found: list[ProviderMessage], now: datetime
) -> OutboxStatus | None:
    """Settle a stuck row with what the provider has: sent if it has the message, else due
    again (or expired). Returns the new status, or None when the row moved on meanwhile."""
    row = session.get(Outbox, job.row_id, with_for_update=True)
    if row is None or row.status is not OutboxStatus.SENDING:
        return None
    keys = vault_of(session)
    fresh = [
        message
        for message in found
        if session.scalar(
            select(Outbox.id).where(
                Outbox.provider_sid_digest.in_(
                    keys.keyed_digests("outbound-sid", message.provider_id)
                )
            )
        )
        is None
    ]
    # The text decides when the provider shows it; only when it hides every text (Message
    # Redaction) does a single unclaimed message to the number stand for this attempt.
    exact = [message for message in fresh if message.body == job.message.body]
    redacted = all(not message.body for message in fresh)
    match = exact[0] if exact else (fresh[0] if redacted and len(fresh) == 1 else None)
    if match is not None:
        remember_provider_id(session, row, match.provider_id, now)
        row.status = OutboxStatus.SENT
        row.lease_until = None
        apply_provider_status(
            session, row, match.status, match.error_code, now, unsubscribed=match.unsubscribed
        )
        return row.status
    row.lease_until = None
    row.attempt_started_at = None
    if row.expires_at <= now:
        finish(row, OutboxStatus.EXPIRED, now)
        tally(
            session,
            "outbound_expired",
            row.kind.value,
            now.date(),
            region=row.subscriber.region_slug or "",
        )
    else:
        row.status = OutboxStatus.PENDING
        row.next_attempt_at = now
    return row.status


def lookup_failed(session: Session, job: Job, now: datetime) -> None:
    """The provider could not be asked: leave the row stuck and ask again later."""
    row = session.get(Outbox, job.row_id, with_for_update=True)
    if row is not None and row.status is OutboxStatus.SENDING:
        row.lease_until = now + backoff(row.attempts + 1)
