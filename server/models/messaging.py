"""Messages in and out: receipts that make every inbound message count once, and tallies."""

from __future__ import annotations

import uuid
from datetime import date

from sqlalchemy import Date, ForeignKey, Integer, LargeBinary, String, UniqueConstraint, func
from sqlalchemy.orm import Mapped, mapped_column, relationship

from server import vault
from server.db import Base
from server.models.people import Enveloped, Subscriber

DIGEST_BYTES = 32


class InboundReceipt(Enveloped, Base):
    """One inbound message, known by a keyed digest of the provider's id (never the id itself).

    The reply is kept, encrypted under the sender's data key, so that a retried or replayed
    request gets the same answer and causes nothing a second time.
    """

    __tablename__ = "inbound_receipts"

    digest: Mapped[bytes] = mapped_column(LargeBinary(DIGEST_BYTES), unique=True)
    subscriber_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("subscribers.id", ondelete="CASCADE"), index=True
    )
    reply_ct: Mapped[bytes | None] = mapped_column("reply", LargeBinary)
    # How it ended, for a replay: answered, silent (opted out, limited), erased (DELETE).
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
