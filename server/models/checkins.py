"""Check-ins: for now the sealed notes a person leaves for their NGO caseworker."""

from __future__ import annotations

import uuid
from datetime import date
from typing import TYPE_CHECKING

from sqlalchemy import Date, ForeignKey, LargeBinary, String, func
from sqlalchemy.orm import Mapped, mapped_column, relationship

from server.db import Base

if TYPE_CHECKING:
    from server.models.people import Subscriber

FINGERPRINT_LENGTH = 32


class SealedNote(Base):
    """A note encrypted to an NGO's public key (HPKE): the server can write it, never read it."""

    __tablename__ = "sealed_notes"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    subscriber_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("subscribers.id", ondelete="CASCADE"), index=True
    )
    recipient: Mapped[str] = mapped_column(String(FINGERPRINT_LENGTH), index=True)
    sealed: Mapped[bytes] = mapped_column(LargeBinary)
    created_on: Mapped[date] = mapped_column(Date, server_default=func.current_date())

    subscriber: Mapped[Subscriber] = relationship(back_populates="notes")
