"""Messages in and out: receipts that make every inbound message count once, tallies, and
the outbox every outbound message waits in until a worker sends it."""

from __future__ import annotations

import enum
import uuid
from datetime import date, datetime

from sqlalchemy import (
    Boolean,
    Date,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    SmallInteger,
    String,
    UniqueConstraint,
    false,
    func,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from server import vault
from server.db import Base, HourlyDateTime, UTCDateTime, enum_column
from server.models.people import Enveloped, Subscriber, TrustedContact
from server.vault import Ciphertext, WrappedKey

DIGEST_BYTES = 32
DEDUPE_KEY_LENGTH = 200
SENDER_KEY_LENGTH = 64


#: What a receipt says once only its digest is kept (`people.purge`): replayed, it is silent.
FORGOTTEN = "forgotten"
#: How long a receipt's digest is kept, so that a captured webhook replayed within it is refused.
RECEIPT_DIGEST_DAYS = 366


class InboundReceipt(Enveloped, Base):
    """One inbound message, known by a keyed digest of the provider's id (never the id itself).

    The reply is kept, encrypted under the sender's data key, so that a retried or replayed
    request gets the same answer and causes nothing a second time. After the receipt retention
    the sender, reply and language go and the digest alone stays, for RECEIPT_DIGEST_DAYS: a
    replay is then answered with silence and changes nothing. Erasing the sender keeps it too.
    """

    __tablename__ = "inbound_receipts"

    digest: Mapped[bytes] = mapped_column(LargeBinary(DIGEST_BYTES), unique=True)
    subscriber_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("subscribers.id", ondelete="SET NULL"), index=True
    )
    reply_ct: Mapped[bytes | None] = mapped_column("reply", Ciphertext)
    # How it ended, for a replay: answered, silent (opted out, limited), erased (DELETE), or
    # forgotten (only the digest is kept).
    outcome: Mapped[str] = mapped_column(String(16), server_default="answered")
    locale: Mapped[str] = mapped_column(String(16), server_default="en")
    received_on: Mapped[date] = mapped_column(Date, server_default=func.current_date(), index=True)

    subscriber: Mapped[Subscriber | None] = relationship()

    reply = vault.EncryptedField("reply_ct")

    def data_key(self) -> bytes:
        """The sender's data key (a receipt without a sender keeps no reply)."""
        if self.subscriber is None:
            raise vault.DecryptionFailed("this receipt has no sender, so no reply is kept")
        return self.subscriber.data_key()


class Tally(Base):
    """An anonymous daily count for partners: rumours checked per note and region, refusals."""

    __tablename__ = "tallies"
    __table_args__ = (UniqueConstraint("kind", "subject", "region_slug", "day"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(32))  # e.g. "context_check", "refused_rate"
    subject: Mapped[str] = mapped_column(String(64), default="")  # e.g. a bulletin id
    region_slug: Mapped[str] = mapped_column(String(64), default="")
    day: Mapped[date] = mapped_column(Date)
    count: Mapped[int] = mapped_column(Integer, server_default="0")


class OutboxKind(enum.Enum):
    """Why a message goes out; the kind sets its priority and what a cap does to it."""

    ALERT = "alert"  # a missed check-in or a duress PIN: before anything else
    ALL_CLEAR = "all_clear"  # the person checked in again after an alert
    OPT_IN = "opt_in"  # a contact is asked whether they agree to receive alerts
    REMINDER = "reminder"  # a check-in is due soon
    REPLY = "reply"  # an answer or a menu sent outside the webhook's own reply


#: Lower goes first: a backlog of reminders can never hold an alert back.
PRIORITY: dict[OutboxKind, int] = {
    OutboxKind.ALERT: 0,
    OutboxKind.ALL_CLEAR: 0,
    OutboxKind.OPT_IN: 1,
    OutboxKind.REMINDER: 2,
    OutboxKind.REPLY: 3,
}
#: Kinds that wait for tomorrow when over an outbound cap; the others are dropped and counted.
WAITS_WHEN_CAPPED = frozenset({OutboxKind.ALERT, OutboxKind.ALL_CLEAR, OutboxKind.REMINDER})


class OutboxStatus(enum.Enum):
    """pending -> sending -> sent -> delivered / undelivered / failed; or expired, dropped."""

    PENDING = "pending"
    SENDING = "sending"
    SENT = "sent"
    DELIVERED = "delivered"
    UNDELIVERED = "undelivered"
    FAILED = "failed"
    EXPIRED = "expired"
    DROPPED = "dropped"


FINAL_STATUSES = frozenset(
    {
        OutboxStatus.DELIVERED,
        OutboxStatus.UNDELIVERED,
        OutboxStatus.FAILED,
        OutboxStatus.EXPIRED,
        OutboxStatus.DROPPED,
    }
)


class Outbox(Enveloped, Base):
    """One outbound message: written with the change that caused it, sent once by a worker.

    The recipient is a reference (the subscriber, or one of their trusted contacts), never a
    number; the body is sealed under the subscriber's data key, so erasing the person erases
    their queued messages with everything else. The provider's message id is kept sealed too,
    beside a keyed digest that status callbacks find the row by.
    """

    __tablename__ = "outbox"
    __table_args__ = (
        Index("ix_outbox_due", "status", "sender", "priority", "next_attempt_at"),
        Index("ix_outbox_cleanup", "cleanup_due_at"),
        Index("ix_outbox_expiry", "status", "expires_at"),
    )

    subscriber_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("subscribers.id", ondelete="CASCADE"), index=True
    )
    contact_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("trusted_contacts.id", ondelete="CASCADE"), index=True
    )
    kind: Mapped[OutboxKind] = mapped_column(enum_column(OutboxKind, 16))
    priority: Mapped[int] = mapped_column(SmallInteger)
    status: Mapped[OutboxStatus] = mapped_column(
        enum_column(OutboxStatus, 16), server_default=OutboxStatus.PENDING.value
    )
    # One row per cause (a plan, a due time, a stage, a recipient): a second is never written.
    dedupe_key: Mapped[str] = mapped_column(String(DEDUPE_KEY_LENGTH), unique=True)
    body_ct: Mapped[bytes | None] = mapped_column("body", Ciphertext)
    not_before: Mapped[datetime] = mapped_column(UTCDateTime)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime)
    attempts: Mapped[int] = mapped_column(Integer, server_default="0")
    # While `sending`: which attempt, since when, and until when the claim holds.
    attempt_started_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    claim_id: Mapped[uuid.UUID | None] = mapped_column()
    lease_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Which sender paces it: "sms" or "whatsapp" (the numbers themselves are settings).
    sender: Mapped[str] = mapped_column(String(SENDER_KEY_LENGTH))
    provider_sid_ct: Mapped[bytes | None] = mapped_column("provider_sid", Ciphertext)
    provider_sid_digest: Mapped[bytes | None] = mapped_column(
        LargeBinary(DIGEST_BYTES), unique=True
    )
    provider_status: Mapped[str | None] = mapped_column(String(16))
    error_code: Mapped[int | None] = mapped_column(Integer)
    template: Mapped[bool] = mapped_column(Boolean, server_default=false())
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    final_on: Mapped[date | None] = mapped_column(Date, index=True)
    # The provider's copy is deleted once the status is final; retried until it is gone.
    cleanup_due_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_on: Mapped[date] = mapped_column(Date, server_default=func.current_date())

    subscriber: Mapped[Subscriber] = relationship()
    contact: Mapped[TrustedContact | None] = relationship()

    # The body covers its recipient: a contact_id edited by hand leaves a body that fails.
    body = vault.EncryptedField("body_ct", binds=("contact_id",))
    provider_sid = vault.EncryptedField("provider_sid_ct")

    def data_key(self) -> bytes:
        """The data key of the subscriber the message is for, or whose contact it is for."""
        return self.subscriber.data_key()


class SenderPace(Base):
    """The next free sending slot of one sender number, shared by every worker."""

    __tablename__ = "sender_pace"

    sender: Mapped[str] = mapped_column(String(SENDER_KEY_LENGTH), primary_key=True)
    next_slot_at: Mapped[datetime] = mapped_column(UTCDateTime)


class OutboundCount(Base):
    """Messages sent today per destination, prefix, region and in all (keyed digests only)."""

    __tablename__ = "outbound_counts"
    __table_args__ = (UniqueConstraint("scope", "subject", "day"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    scope: Mapped[str] = mapped_column(String(16))  # number, prefix, region, total
    subject: Mapped[bytes] = mapped_column(LargeBinary(DIGEST_BYTES))
    day: Mapped[date] = mapped_column(Date, index=True)
    count: Mapped[int] = mapped_column(Integer, server_default="0")


class ProviderDeletion(Enveloped, vault.OwnsDataKey, Base):
    """A message record to delete at the provider after its owner was erased.

    The outbox rows that held the provider's ids go with the person; their ids are moved here
    first, sealed under a data key of this row's own, and deleted at the provider by the
    worker (then this row too).
    """

    __tablename__ = "provider_deletions"

    wrapped_data_key: Mapped[bytes] = mapped_column(WrappedKey)
    provider_sid_ct: Mapped[bytes] = mapped_column("provider_sid", Ciphertext)
    # Due from the hour of the erasure: when someone was erased, to the second, serves no one.
    due_at: Mapped[datetime] = mapped_column(HourlyDateTime, index=True)
    attempts: Mapped[int] = mapped_column(Integer, server_default="0")

    provider_sid = vault.EncryptedField("provider_sid_ct")


class WordSighting(Base):
    """One number's use of one word in unmatched rumour checks, for a week and region.

    Both the word and the number are keyed digests (`server.signals.counting`): a word is
    written out, into a `Tally`, only once ten different numbers sent it in the same week and
    region, and then every sighting of it is deleted. The purge deletes past weeks' sightings,
    so the digests of who sent what are forgotten within a week whatever happens.
    """

    __tablename__ = "word_sightings"
    __table_args__ = (UniqueConstraint("week", "region_slug", "word_digest", "sender_digest"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    week: Mapped[date] = mapped_column(Date, index=True)  # the Monday the week begins on
    region_slug: Mapped[str] = mapped_column(String(64), default="")
    word_digest: Mapped[bytes] = mapped_column(LargeBinary(DIGEST_BYTES))
    sender_digest: Mapped[bytes] = mapped_column(LargeBinary(DIGEST_BYTES))
    # Unmatched checks this number sent with the word this week (added to the word's tally).
    checks: Mapped[int] = mapped_column(Integer, server_default="1")
