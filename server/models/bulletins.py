"""Credible information: alerts, advisories and context notes from named sources."""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import Boolean, Column, ForeignKey, String, Table, Text, UniqueConstraint, false
from sqlalchemy.orm import Mapped, mapped_column, relationship

from server.db import Base, UTCDateTime, enum_column
from server.models.content import ENUM_LENGTH, ID_LENGTH, NAME_LENGTH, URL_LENGTH, Region
from server.models.versions import ContentModel


class BulletinKind(enum.Enum):
    """An alert (act now), an advisory (know this), or a context note answering a rumour."""

    ALERT = "alert"
    ADVISORY = "advisory"
    CONTEXT = "context"


class Severity(enum.Enum):
    """CAP 1.2 severity."""

    EXTREME = "extreme"
    SEVERE = "severe"
    MODERATE = "moderate"
    MINOR = "minor"
    UNKNOWN = "unknown"


class BulletinStatus(enum.Enum):
    """Only published, unexpired bulletins are ever shown as current."""

    DRAFT = "draft"
    IN_REVIEW = "in_review"
    PUBLISHED = "published"
    RETRACTED = "retracted"


#: CAP 1.2's words for an alert's <category>, <urgency> and <certainty>, as CAP spells them.
CAP_CATEGORIES = frozenset(
    [
        "Geo",
        "Met",
        "Safety",
        "Security",
        "Rescue",
        "Fire",
        "Health",
        "Env",
        "Transport",
        "Infra",
        "CBRNE",
        "Other",
    ]
)
CAP_URGENCIES = frozenset(["Immediate", "Expected", "Future", "Past", "Unknown"])
CAP_CERTAINTIES = frozenset(["Observed", "Likely", "Possible", "Unlikely", "Unknown"])


bulletin_regions = Table(
    "bulletin_regions",
    Base.metadata,
    Column("bulletin_id", ForeignKey("bulletins.id", ondelete="CASCADE"), primary_key=True),
    Column("region_id", ForeignKey("regions.id", ondelete="CASCADE"), primary_key=True),
)


def in_force(issued_at: datetime, expires_at: datetime | None, now: datetime) -> bool:
    """Already issued and not yet expired at `now`."""
    return issued_at <= now and (expires_at is None or expires_at > now)


class Bulletin(ContentModel, Base):
    """One piece of credible information, attributable to its source, with an expiry."""

    __tablename__ = "bulletins"
    # CAP identifiers are unique per sender only.
    __table_args__ = (UniqueConstraint("cap_sender", "cap_identifier"),)

    id: Mapped[str] = mapped_column(String(ID_LENGTH), primary_key=True)
    kind: Mapped[BulletinKind] = mapped_column(enum_column(BulletinKind, ENUM_LENGTH))
    status: Mapped[BulletinStatus] = mapped_column(
        enum_column(BulletinStatus, ENUM_LENGTH), server_default=BulletinStatus.DRAFT.value
    )
    severity: Mapped[Severity] = mapped_column(
        enum_column(Severity, ENUM_LENGTH), server_default=Severity.UNKNOWN.value
    )
    title: Mapped[str] = mapped_column(String(NAME_LENGTH))
    body: Mapped[str] = mapped_column(Text)  # Markdown, rendered through server.content.markup
    source_name: Mapped[str] = mapped_column(String(NAME_LENGTH))
    source_url: Mapped[str | None] = mapped_column(String(URL_LENGTH))
    organization_id: Mapped[str | None] = mapped_column(ForeignKey("organizations.id"))
    source_locale: Mapped[str] = mapped_column(String(16), server_default="en")
    issued_at: Mapped[datetime] = mapped_column(UTCDateTime)
    expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime, index=True)
    # CAP 1.2 provenance, when the bulletin came from (or goes out as) a CAP alert.
    cap_identifier: Mapped[str | None] = mapped_column(String(URL_LENGTH))
    cap_sender: Mapped[str | None] = mapped_column(String(URL_LENGTH))
    cap_references: Mapped[str | None] = mapped_column(Text)
    # CAP 1.2 <info> words kept as the issuer gave them, so an export says what the import read:
    # categories space-separated ("Met Safety"), urgency and certainty as CAP spells them.
    cap_categories: Mapped[str | None] = mapped_column(String(NAME_LENGTH))
    cap_urgency: Mapped[str | None] = mapped_column(String(ENUM_LENGTH))
    cap_certainty: Mapped[str | None] = mapped_column(String(ENUM_LENGTH))
    # What to do (CAP <instruction>), apart from the body; who to contact (CAP <contact>).
    instruction: Mapped[str | None] = mapped_column(Text)
    contact: Mapped[str | None] = mapped_column(String(NAME_LENGTH))
    sample: Mapped[bool] = mapped_column(Boolean, server_default=false())
    # Who keeps the record: "files" (content/), "hsds" or "cap" imports, "portal".
    origin: Mapped[str] = mapped_column(String(16), server_default="files")
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)

    regions: Mapped[list[Region]] = relationship(secondary=bulletin_regions)
    match_phrases: Mapped[list[ContextPhrase]] = relationship(
        cascade="all, delete-orphan", order_by="ContextPhrase.id"
    )

    def is_current(self, now: datetime) -> bool:
        """Published, already issued and not yet expired: the only bulletins shown as current."""
        return self.status is BulletinStatus.PUBLISHED and in_force(
            self.issued_at, self.expires_at, now
        )


class ContextPhrase(ContentModel, Base):
    """A rumour's typical wording, in one language, that a context note answers."""

    __tablename__ = "context_phrases"

    id: Mapped[int] = mapped_column(primary_key=True)
    bulletin_id: Mapped[str] = mapped_column(
        ForeignKey("bulletins.id", ondelete="CASCADE"), index=True
    )
    locale: Mapped[str] = mapped_column(String(16))
    phrase: Mapped[str] = mapped_column(Text)
