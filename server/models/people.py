"""People: subscribers and the contacts they trust. No plaintext phone number, ever.

A number is stored twice: a keyed blind index to find the row, and an envelope under the
person's own data key to send to it. Every other personal field is an envelope too.
"""

from __future__ import annotations

import enum
import uuid
from datetime import date, datetime
from typing import TYPE_CHECKING, ClassVar

from sqlalchemy import (
    Boolean,
    Date,
    ForeignKey,
    Integer,
    LargeBinary,
    String,
    UniqueConstraint,
    false,
    func,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from server import vault
from server.db import Base, HourlyDateTime, enum_column
from server.vault import Ciphertext, WrappedKey
from server.vault.fields import VaultUnavailable as VaultUnavailable

if TYPE_CHECKING:
    from server.models.checkins import SealedNote

BLIND_INDEX_BYTES = 32
LOCALE_LENGTH = 16
REGION_SLUG_LENGTH = 64
KEY_ID_LENGTH = 16


class Channel(enum.Enum):
    """The channel a person reaches Refuge on."""

    SMS = "sms"
    WHATSAPP = "whatsapp"


class Consent(enum.Enum):
    """Whether a trusted contact agreed to receive alerts (only CONFIRMED ones ever do)."""

    PENDING = "pending"
    CONFIRMED = "confirmed"
    DECLINED = "declined"
    REVOKED = "revoked"


class Enveloped:
    """A row whose id is bound into its envelopes, so the id exists before the first write."""

    #: The column counting the row's writes of sealed fields, when it keeps one (see
    #: `server.vault.fields`: an older ciphertext rolled back into the row fails to open).
    seal_counter_attribute: ClassVar[str | None] = None

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)

    @property
    def envelope_row_id(self) -> str:
        """The id bound into every envelope of this row."""
        if self.id is None:
            self.id = uuid.uuid4()
        return self.id.hex


class Subscriber(Enveloped, vault.OwnsDataKey, Base):
    """A person who texted Refuge or opened a check-in; found by blind index only."""

    __tablename__ = "subscribers"
    key_id_attribute = "data_key_id"
    destroyed_message = "this person's data key has been destroyed"

    phone_index: Mapped[bytes] = mapped_column(LargeBinary(BLIND_INDEX_BYTES), unique=True)
    # The index key version `phone_index` was computed under (`refuge keys rotate-index`).
    phone_index_key: Mapped[str] = mapped_column(
        String(KEY_ID_LENGTH), server_default=vault.FIRST_INDEX_KEY_ID, index=True
    )
    phone_ct: Mapped[bytes] = mapped_column("phone", Ciphertext)
    # The person's data key wrapped by a master key; NULL once shredded.
    wrapped_data_key: Mapped[bytes | None] = mapped_column(WrappedKey)
    data_key_id: Mapped[str] = mapped_column(String(KEY_ID_LENGTH), index=True)
    locale: Mapped[str] = mapped_column(String(LOCALE_LENGTH), server_default="en")
    region_slug: Mapped[str | None] = mapped_column(String(REGION_SLUG_LENGTH))
    channel: Mapped[Channel] = mapped_column(
        enum_column(Channel, 16),
        server_default=Channel.SMS.value,
    )
    opted_out: Mapped[bool] = mapped_column(Boolean, server_default=false())
    state_ct: Mapped[bytes | None] = mapped_column("state", Ciphertext)
    # Dates, not times: when someone was last active serves retention; the hour serves no one.
    created_on: Mapped[date] = mapped_column(Date, server_default=func.current_date())
    last_seen_on: Mapped[date] = mapped_column(Date, server_default=func.current_date(), index=True)
    # WhatsApp allows free-form replies for 24 hours after the person's last message; kept to
    # the hour before it (the last message's time, to the second, would serve no one).
    whatsapp_window_until: Mapped[datetime | None] = mapped_column(HourlyDateTime)
    # Reply limits: the hour a count started (to the hour, no finer) and the day's count.
    replies_hour: Mapped[datetime | None] = mapped_column(HourlyDateTime)
    replies_in_hour: Mapped[int] = mapped_column(Integer, server_default="0")
    replies_day: Mapped[date | None] = mapped_column(Date)
    replies_in_day: Mapped[int] = mapped_column(Integer, server_default="0")

    contacts: Mapped[list[TrustedContact]] = relationship(
        back_populates="subscriber", cascade="all, delete-orphan", passive_deletes=True
    )
    notes: Mapped[list[SealedNote]] = relationship(
        back_populates="subscriber", cascade="all, delete-orphan", passive_deletes=True
    )

    phone = vault.EncryptedField("phone_ct")
    state = vault.EncryptedField("state_ct")


class TrustedContact(Enveloped, Base):
    """Someone a subscriber trusts to be alerted; encrypted under the subscriber's data key.

    The number's envelope covers the consent (`binds`), so a consent edited by hand leaves a
    number that fails to open and a contact `vault.seal_holds` refuses to alert.
    """

    __tablename__ = "trusted_contacts"
    __table_args__ = (UniqueConstraint("subscriber_id", "phone_index"),)
    seal_counter_attribute = "seal_version"

    subscriber_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("subscribers.id", ondelete="CASCADE"), index=True
    )
    phone_index: Mapped[bytes] = mapped_column(LargeBinary(BLIND_INDEX_BYTES), index=True)
    phone_index_key: Mapped[str] = mapped_column(
        String(KEY_ID_LENGTH), server_default=vault.FIRST_INDEX_KEY_ID, index=True
    )
    phone_ct: Mapped[bytes] = mapped_column("phone", Ciphertext)
    name_ct: Mapped[bytes | None] = mapped_column("name", Ciphertext)
    consent: Mapped[Consent] = mapped_column(
        enum_column(Consent, 16),
        default=Consent.PENDING,
        server_default=Consent.PENDING.value,
    )
    consent_changed_on: Mapped[date] = mapped_column(Date, server_default=func.current_date())
    seal_version: Mapped[int] = mapped_column(Integer, default=0, server_default="0")

    subscriber: Mapped[Subscriber] = relationship(back_populates="contacts")

    phone = vault.EncryptedField("phone_ct", binds=("consent",))
    name = vault.EncryptedField("name_ct")

    def data_key(self) -> bytes:
        """The data key of the subscriber who trusts this contact."""
        return self.subscriber.data_key()


vault.index_rotation.register_blind_index(Subscriber)
vault.index_rotation.register_blind_index(TrustedContact)
