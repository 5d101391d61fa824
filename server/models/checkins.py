"""Check-ins: plans, their history, the partners alerted, and sealed notes for caseworkers.

A plan keeps in the clear only what the sweep must query: when it next needs looking at
(`next_due_at`, indexed). Its PINs (argon2id hashes), its settings (schedule, contacts' roles,
the message contacts receive) and its state (due time, escalation stage, wrong PINs) are
envelopes under the person's data key, so erasing the person erases the plan with them.
"""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import TYPE_CHECKING

from sqlalchemy import Date, ForeignKey, Integer, LargeBinary, String, UniqueConstraint, func
from sqlalchemy.orm import Mapped, mapped_column, relationship

from server import vault
from server.db import Base, UTCDateTime
from server.models.people import Enveloped
from server.vault import Ciphertext

if TYPE_CHECKING:
    from server.models.people import Subscriber

FINGERPRINT_LENGTH = 32
REGION_SLUG_LENGTH = 64
NAME_LENGTH = 200


class CheckinPlan(Enveloped, Base):
    """One person's check-in plan; found by the sweep through `next_due_at` only."""

    __tablename__ = "checkin_plans"
    # Every write of a sealed field bumps it: an older state rolled back into the row fails.
    seal_counter_attribute = "seal_version"

    subscriber_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("subscribers.id", ondelete="CASCADE"), unique=True
    )
    # When the sweep must next look at the plan (a reminder, an alert, a second stage);
    # NULL while the plan is being set up, paused or stopped.
    next_due_at: Mapped[datetime | None] = mapped_column(UTCDateTime, index=True)
    pin_ct: Mapped[bytes | None] = mapped_column("pin", Ciphertext)
    duress_ct: Mapped[bytes | None] = mapped_column("duress", Ciphertext)
    settings_ct: Mapped[bytes | None] = mapped_column("settings", Ciphertext)
    state_ct: Mapped[bytes | None] = mapped_column("state", Ciphertext)
    created_on: Mapped[date] = mapped_column(Date, server_default=func.current_date())
    seal_version: Mapped[int] = mapped_column(Integer, default=0, server_default="0")

    subscriber: Mapped[Subscriber] = relationship()

    pin = vault.EncryptedField("pin_ct")  # an argon2id hash, itself sealed
    duress = vault.EncryptedField("duress_ct")
    settings = vault.EncryptedField("settings_ct")  # JSON: see server.checkins.plans.Settings
    state = vault.EncryptedField("state_ct")  # JSON: see server.checkins.plans.State

    def data_key(self) -> bytes:
        """The data key of the person whose plan this is."""
        return self.subscriber.data_key()


class CheckinEvent(Enveloped, Base):
    """Something that happened to a plan (confirmed, missed, alerted, all clear), sealed.

    What happened is inside the envelope: a copied database shows that something happened
    and roughly when, never whether it was a check-in, a duress PIN or an alert.
    """

    __tablename__ = "checkin_events"

    plan_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("checkin_plans.id", ondelete="CASCADE"), index=True
    )
    happened_on: Mapped[date] = mapped_column(Date)
    detail_ct: Mapped[bytes] = mapped_column("detail", Ciphertext)

    plan: Mapped[CheckinPlan] = relationship()

    detail = vault.EncryptedField("detail_ct")  # JSON: {"kind": ..., ...}

    def data_key(self) -> bytes:
        """The data key of the person whose plan this is."""
        return self.plan.subscriber.data_key()


class CheckinPartner(Enveloped, Base):
    """The NGO that takes check-in escalations and sealed notes for a country or area.

    What the organisation gives: its alert line (an office number, never a person's; sealed,
    see `server.checkins.contacts.partner_line`) and the public key its notes are sealed to.
    """

    __tablename__ = "checkin_partners"

    region_slug: Mapped[str] = mapped_column(String(REGION_SLUG_LENGTH), unique=True)
    name: Mapped[str] = mapped_column(String(NAME_LENGTH))
    # The office line, sealed under the master keyring (it is no person's, but a copied
    # database should not say which NGO answers escalations on which number).
    alert_phone_ct: Mapped[bytes | None] = mapped_column("alert_phone", Ciphertext)
    note_key: Mapped[bytes | None] = mapped_column(LargeBinary(32))

    alert_phone = vault.EncryptedField("alert_phone_ct", under=vault.Under.MASTER)


class PartnerNoteKey(Base):
    """A note key an NGO has had (its current one too): notes sealed to any of them are its.

    Only the public key's fingerprint is kept; when the NGO rotates its key, the portal still
    lists the notes sealed to the earlier ones and says which key each needs.
    """

    __tablename__ = "checkin_partner_keys"
    __table_args__ = (UniqueConstraint("partner_id", "fingerprint"),)

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    partner_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("checkin_partners.id", ondelete="CASCADE"), index=True
    )
    fingerprint: Mapped[str] = mapped_column(String(FINGERPRINT_LENGTH))
    added_on: Mapped[date] = mapped_column(Date, server_default=func.current_date())


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
    # Days only, as `created_on`: when the NGO first took a copy, and when a caseworker marked
    # it handled (who did is in the audit log). The purge counts retention from these.
    downloaded_on: Mapped[date | None] = mapped_column(Date)
    handled_on: Mapped[date | None] = mapped_column(Date)

    subscriber: Mapped[Subscriber] = relationship(back_populates="notes")


vault.index_rotation.register_peppered(CheckinPlan, "pin", "duress")
