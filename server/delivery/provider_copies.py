"""The provider's copies: deleting its record of each settled message, and of every message
of a person (or contact) being erased; then purging settled rows past retention.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy import delete, select
from sqlalchemy.orm import Session, selectinload

from server.delivery.channels import ProviderMessage
from server.delivery.records import STATUS_CHECK_AFTER, apply_provider_status
from server.models.messaging import FINAL_STATUSES, Outbox, ProviderDeletion
from server.models.people import Subscriber, TrustedContact

#: How long after hand-over a provider record is deleted even without a final status.
GIVE_UP_STATUS_AFTER = timedelta(hours=72)
#: Cleanup retries when the provider refuses to delete.
CLEANUP_RETRY = timedelta(hours=1)


@dataclass(frozen=True, repr=False)
class Cleanup:
    """A provider record to delete, or to look up first when no final status came."""

    row_id: uuid.UUID
    provider_id: str
    final: bool

    def __repr__(self) -> str:
        return f"Cleanup({self.row_id}, final={self.final})"


def cleanups_due(session: Session, now: datetime, limit: int) -> list[Cleanup]:
    """Rows whose provider copy should now be deleted (or whose status should be checked)."""
    rows = session.scalars(
        select(Outbox)
        .where(Outbox.cleanup_due_at <= now, Outbox.provider_sid_ct.is_not(None))
        .order_by(Outbox.cleanup_due_at)
        .limit(limit)
        .with_for_update(skip_locked=True, of=Outbox)
        .options(selectinload(Outbox.subscriber))
    ).all()
    due = []
    for row in rows:
        row.cleanup_due_at = now + CLEANUP_RETRY  # another worker leaves it alone meanwhile
        final = row.status in FINAL_STATUSES or (
            row.sent_at is not None and row.sent_at + GIVE_UP_STATUS_AFTER <= now
        )
        due.append(Cleanup(row.id, row.provider_sid or "", final))
    return due


def provider_copy_deleted(session: Session, cleanup: Cleanup, now: datetime) -> None:
    """The provider no longer has the message: forget its id too."""
    row = session.get(Outbox, cleanup.row_id, with_for_update=True)
    if row is None:
        return
    row.provider_sid_ct = None
    row.cleanup_due_at = None
    row.final_on = row.final_on or now.date()
    row.body_ct = None


def provider_status_checked(
    session: Session, cleanup: Cleanup, message: ProviderMessage, now: datetime
) -> bool:
    """A status looked up at the provider; True when the row is now final (delete next)."""
    row = session.get(Outbox, cleanup.row_id, with_for_update=True)
    if row is None:
        return False
    apply_provider_status(
        session, row, message.status, message.error_code, now, unsubscribed=message.unsubscribed
    )
    if row.status in FINAL_STATUSES:
        return True
    row.cleanup_due_at = now + STATUS_CHECK_AFTER
    return False


def purge(session: Session, retention_days: int, today: date) -> int:
    """Delete settled rows past retention whose provider copy is gone; returns how many."""
    removed = session.execute(
        delete(Outbox)
        .where(
            Outbox.final_on < today - timedelta(days=retention_days),
            Outbox.provider_sid_ct.is_(None),
        )
        .execution_options(synchronize_session=False)
    )
    return int(getattr(removed, "rowcount", 0) or 0)


#: Attempts at deleting an erased person's message at the provider before giving up.
MAX_DELETION_ATTEMPTS = 72


def hand_over_provider_copies(
    session: Session, subscriber: Subscriber, now: datetime, contact: TrustedContact | None = None
) -> int:
    """Before a person (or one of their contacts) is erased: move the provider ids of their
    messages to deletion rows of their own (the outbox rows, and the person's data key, are
    about to go)."""
    statement = select(Outbox).where(
        Outbox.subscriber_id == subscriber.id, Outbox.provider_sid_ct.is_not(None)
    )
    if contact is not None:
        statement = statement.where(Outbox.contact_id == contact.id)
    rows = session.scalars(statement).all()
    for row in rows:
        provider_id = row.provider_sid
        if not provider_id:
            continue
        deletion = ProviderDeletion(id=uuid.uuid4(), due_at=now)
        session.add(deletion)
        deletion.issue_data_key()  # its own: the person's data key is about to go
        deletion.provider_sid = provider_id
    return len(rows)


@dataclass(frozen=True, repr=False)
class PendingDeletion:
    """A provider record of an erased person's message, to delete (held in memory only)."""

    deletion_id: uuid.UUID
    provider_id: str

    def __repr__(self) -> str:
        return f"PendingDeletion({self.deletion_id})"


def deletions_due(session: Session, now: datetime, limit: int) -> list[PendingDeletion]:
    """Provider deletions due now, each put an hour ahead so another worker leaves it alone."""
    rows = session.scalars(
        select(ProviderDeletion)
        .where(ProviderDeletion.due_at <= now)
        .order_by(ProviderDeletion.due_at)
        .limit(limit)
        .with_for_update(skip_locked=True)
    ).all()
    due = []
    for row in rows:
        row.due_at = now + CLEANUP_RETRY
        row.attempts += 1
        provider_id = row.provider_sid
        assert provider_id is not None  # the column is not nullable
        due.append(PendingDeletion(row.id, provider_id))
        if row.attempts >= MAX_DELETION_ATTEMPTS:
            session.delete(row)  # this was the last try
    return due


def deletion_done(session: Session, pending: PendingDeletion) -> None:
    """The provider no longer has the record: forget that it existed."""
    session.execute(delete(ProviderDeletion).where(ProviderDeletion.id == pending.deletion_id))
