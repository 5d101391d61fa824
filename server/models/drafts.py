"""Versions of content records: every change made in the portal or waiting from an import.

A version holds a record's canonical form (the dict the content files, the loader and the
exports share, see `server.content.store`), who wrote it and when, and what became of it:
a draft waits for a second person; approved went live; rejected did not, with a reason;
superseded was replaced by a later draft of the same source before anyone decided. The live
record itself stays in its own table: a draft is never public, because it is not there.
"""

from __future__ import annotations

import enum
import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, String, Text, Uuid
from sqlalchemy.orm import Mapped, mapped_column

from server.db import Base, UTCDateTime, enum_column
from server.models.content import ID_LENGTH

KIND_LENGTH = 24
DIGEST_LENGTH = 64


class VersionState(enum.Enum):
    """What became of a version."""

    DRAFT = "draft"
    APPROVED = "approved"
    REJECTED = "rejected"
    SUPERSEDED = "superseded"


class RecordVersion(Base):
    """One change to one content record: its whole canonical form, its author, its fate."""

    __tablename__ = "record_versions"
    __table_args__ = (Index("ix_record_versions_record", "kind", "record_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    # The content kind's name (`server.content.kinds`) and the record's id.
    kind: Mapped[str] = mapped_column(String(KIND_LENGTH))
    record_id: Mapped[str] = mapped_column(String(ID_LENGTH))
    # The canonical form, dates as ISO text (`server.content.drafts.stored`).
    form: Mapped[dict[str, Any]] = mapped_column(JSON)
    state: Mapped[VersionState] = mapped_column(
        enum_column(VersionState, 16), server_default=VersionState.DRAFT.value, index=True
    )
    # Who keeps the record once live: "portal", or "cap" for an import waiting for review.
    origin: Mapped[str] = mapped_column(String(16), server_default="portal")
    # The author's account (None for an import); no cascade: a version outlives its author.
    author_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("portal_users.id", ondelete="SET NULL")
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    reviewer_id: Mapped[uuid.UUID | None] = mapped_column(Uuid)
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    reason: Mapped[str | None] = mapped_column(Text)
    # The digest of the live record's canonical form this version was made from (None: new).
    base_digest: Mapped[str | None] = mapped_column(String(DIGEST_LENGTH))
