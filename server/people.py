"""People's records: register, find, trust a contact, leave a sealed note, shred, purge, rotate.

Every function takes the session it works in; the caller owns the transaction. Numbers arrive
as `PhoneNumber` (already normalised) and are only ever looked up by blind index.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, and_, bindparam, delete, or_, select, update
from sqlalchemy.orm import Session

from server import vault
from server.config import Retention
from server.db import Database, note_erasure, vault_of
from server.delivery import admission, provider_copies
from server.models.checkins import SealedNote
from server.models.messaging import FORGOTTEN, RECEIPT_DIGEST_DAYS, InboundReceipt
from server.models.people import Channel, Subscriber, TrustedContact
from server.phones import PhoneNumber
from server.vault import rotation


class ContactAlreadyTrusted(ValueError):
    """The subscriber already trusts this number."""


#: Built once: every inbound message looks its sender up (under every index key version,
#: so a person is found while `refuge keys rotate-index` moves rows to a new one).
_BY_INDEX = select(Subscriber).where(
    Subscriber.phone_index.in_(bindparam("indexes", expanding=True))
)


def find_subscriber(session: Session, phone: PhoneNumber) -> Subscriber | None:
    """The subscriber with this number, found through the blind index."""
    indexes = vault_of(session).blind_indexes(phone.e164)
    return session.scalar(_BY_INDEX, {"indexes": list(indexes)})


def register_subscriber(
    session: Session,
    phone: PhoneNumber,
    *,
    locale: str = "en",
    region_slug: str | None = None,
    today: date | None = None,
) -> Subscriber:
    """A new subscriber with its own data key; the number stored only blind-indexed and sealed."""
    subscriber = Subscriber(
        phone_index=vault_of(session).blind_index(phone.e164),
        locale=locale,
        region_slug=region_slug,
        channel=Channel.WHATSAPP if phone.whatsapp else Channel.SMS,
        opted_out=False,
        created_on=today or date.today(),
        last_seen_on=today or date.today(),
    )
    session.add(subscriber)
    subscriber.issue_data_key()
    subscriber.phone = phone.e164
    return subscriber


def find_or_register(session: Session, phone: PhoneNumber, **details: Any) -> Subscriber:
    """The existing subscriber with this number, or a new one."""
    return find_subscriber(session, phone) or register_subscriber(session, phone, **details)


def save_state(subscriber: Subscriber, state: dict[str, Any]) -> None:
    """Store the conversation state, encrypted under the person's data key."""
    subscriber.state = json.dumps(state, separators=(",", ":"), sort_keys=True)


def load_state(subscriber: Subscriber) -> dict[str, Any]:
    """The conversation state, or an empty one."""
    raw = subscriber.state
    state: dict[str, Any] = json.loads(raw) if raw else {}
    return state


def add_trusted_contact(
    session: Session, subscriber: Subscriber, phone: PhoneNumber, name: str | None = None
) -> TrustedContact:
    """A contact the subscriber trusts, pending their consent; refused when already there."""
    indexes = vault_of(session).blind_indexes(phone.e164)
    if any(contact.phone_index in indexes for contact in subscriber.contacts):
        raise ContactAlreadyTrusted("this number is already one of your trusted contacts")
    contact = TrustedContact(phone_index=indexes[0])
    contact.subscriber = subscriber
    session.add(contact)
    contact.phone = phone.e164
    contact.name = name
    return contact


def leave_note(
    session: Session, subscriber: Subscriber, org_public_key: bytes, text: str
) -> SealedNote:
    """Seal a note to an NGO's public key; from here on the server cannot read it."""
    note = SealedNote(id=uuid.uuid4(), subscriber=subscriber)
    note.recipient = vault.key_fingerprint(org_public_key)
    note.sealed = vault.seal(org_public_key, text, note_context(note))
    session.add(note)
    return note


def note_context(note: SealedNote) -> str:
    """What a sealed note is bound to: its own id, so it cannot pass for another note."""
    return f"note:{note.id.hex}"


def export_notes(session: Session, recipient: str | None = None) -> Iterator[dict[str, str]]:
    """Sealed notes as JSON-ready records for the NGO to open offline (still encrypted)."""
    query = select(SealedNote).order_by(SealedNote.created_on, SealedNote.id)
    if recipient:
        query = query.where(SealedNote.recipient == recipient)
    for note in session.scalars(query):
        yield {
            "id": note.id.hex,
            "recipient": note.recipient,
            "created_on": note.created_on.isoformat(),
            "context": note_context(note),
            "sealed": note.sealed.hex(),
        }


def export_note_lines(session: Session, recipient: str | None = None) -> Iterator[str]:
    """The export file's lines, one JSON record each: `refuge notes export` and the portal."""
    for record in export_notes(session, recipient):
        yield json.dumps(record, sort_keys=True)


def delete_subscriber(session: Session, subscriber: Subscriber) -> None:
    """Crypto-shred a person: destroy their data key first, then every row of theirs.

    The provider's copies of messages sent to them are handed to the worker to delete first.
    """
    provider_copies.hand_over_provider_copies(session, subscriber, datetime.now(UTC))
    # Their receipts stay as bare digests, so a replay of their messages is still refused.
    _forget_receipts(session, InboundReceipt.subscriber_id == subscriber.id)
    subscriber.forget_data_key()
    session.flush()  # the key is overwritten before any row goes
    session.delete(subscriber)  # contacts and notes follow through the cascade
    session.flush()
    note_erasure(session)  # once committed, SQLite's log is emptied of what was deleted


@dataclass
class PurgeReport:
    """How many records `purge` deleted, by kind."""

    inactive_subscribers: int = 0
    receipts: int = 0  # reduced to their digest
    receipt_digests: int = 0
    sent_messages: int = 0
    outbound_counts: int = 0

    def as_dict(self) -> dict[str, int]:
        """The counts by kind."""
        return {
            "inactive_subscribers": self.inactive_subscribers,
            "receipts": self.receipts,
            "receipt_digests": self.receipt_digests,
            "sent_messages": self.sent_messages,
            "outbound_counts": self.outbound_counts,
        }


def purge(session: Session, retention: Retention, today: date | None = None) -> PurgeReport:
    """Delete everything kept past its retention period; the worker calls this too."""
    today = today or date.today()
    report = PurgeReport()
    cutoff = today - timedelta(days=retention.inactive_subscriber_days)
    stale = session.scalars(select(Subscriber).where(Subscriber.last_seen_on < cutoff)).all()
    for subscriber in stale:
        delete_subscriber(session, subscriber)
    report.inactive_subscribers = len(stale)
    report.receipts, report.receipt_digests = _purge_receipts(session, retention, today)
    report.sent_messages = provider_copies.purge(session, retention.sent_message_days, today)
    report.outbound_counts = admission.purge_counts(session, today)
    return report


def _purge_receipts(session: Session, retention: Retention, today: date) -> tuple[int, int]:
    """Reduce receipts past retention (or whose sender is gone) to their digest, and delete
    digests past a year: how many of each.

    The digest alone still refuses a replay of a captured webhook (`OK <PIN>` for a missing
    person) and names no one: no sender, reply, language or outcome stays beside it.
    """
    receipt = InboundReceipt
    forgotten = _forget_receipts(
        session,
        or_(
            receipt.received_on < today - timedelta(days=retention.receipt_days),
            and_(receipt.subscriber_id.is_(None), receipt.reply_ct.is_not(None)),
        ),
    )
    removed = session.execute(
        delete(receipt).where(receipt.received_on < today - timedelta(days=RECEIPT_DIGEST_DAYS)),
        execution_options={"synchronize_session": False},
    )
    return forgotten, _rowcount(removed)


def _forget_receipts(session: Session, which: ColumnElement[bool]) -> int:
    """Keep only the digest of these receipts (sender, reply, language and outcome go)."""
    receipt = InboundReceipt
    result = session.execute(
        update(receipt)
        .where(receipt.outcome != FORGOTTEN, which)
        .values(subscriber_id=None, reply_ct=None, outcome=FORGOTTEN, locale="en"),
        execution_options={"synchronize_session": False},
    )
    return _rowcount(result)


def _rowcount(result: object) -> int:
    return int(getattr(result, "rowcount", 0) or 0)


def rotate_data_keys(
    database: Database, batch_size: int = 500, on_batch: Callable[[int], None] | None = None
) -> int:
    """Move every wrapped key and master-sealed field under the current master key.

    The whole registry is walked (`server.vault.rotation`), not only people's keys; each batch
    commits on its own, so an interrupted run resumes where it stopped. Raises the first
    failure, if any, once every row that could be moved has been.
    """
    report = rotation.rotate(database, batch_size, on_batch)
    for kind in report.kinds:
        if kind.error is not None:
            raise kind.error
    return report.moved


def count_keys_to_rotate(database: Database) -> int:
    """How many rows are not yet under the current master key, every kind together."""
    return sum(rotation.pending(database).values())
