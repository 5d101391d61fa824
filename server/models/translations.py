"""Content translations: per field and locale, with the digest of the source they came from."""

from __future__ import annotations

import enum
import hashlib
import uuid
from datetime import datetime

from sqlalchemy import String, Text, UniqueConstraint, Uuid
from sqlalchemy.orm import Mapped, mapped_column

from server.db import Base, UTCDateTime, enum_column
from server.models.content import ID_LENGTH, SHORT_LENGTH
from server.models.versions import ContentModel

DIGEST_LENGTH = 16


class TranslationStatus(enum.Enum):
    """A drafted translation waits for a native speaker's review."""

    DRAFT = "draft"
    REVIEWED = "reviewed"


def source_digest(text: str) -> str:
    """A short digest of a source text: when it changes, translations made from it are stale."""
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:DIGEST_LENGTH]


class Translation(ContentModel, Base):
    """One field of one content record in one locale."""

    __tablename__ = "translations"
    __table_args__ = (UniqueConstraint("entity", "entity_id", "field", "locale"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    entity: Mapped[str] = mapped_column(String(SHORT_LENGTH))  # e.g. "resource", "region"
    entity_id: Mapped[str] = mapped_column(String(ID_LENGTH * 2))
    field: Mapped[str] = mapped_column(String(SHORT_LENGTH))
    locale: Mapped[str] = mapped_column(String(16))
    text: Mapped[str] = mapped_column(Text)
    source_digest: Mapped[str] = mapped_column(String(DIGEST_LENGTH))
    status: Mapped[TranslationStatus] = mapped_column(
        enum_column(TranslationStatus, 16), server_default=TranslationStatus.DRAFT.value
    )
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)
    # Who wrote and who reviewed it in the portal (None from files and imports); no foreign
    # keys, so a translation outlives the account. The author may not mark it reviewed.
    author_id: Mapped[uuid.UUID | None] = mapped_column(Uuid)
    reviewer_id: Mapped[uuid.UUID | None] = mapped_column(Uuid)

    def is_stale(self, source_text: str) -> bool:
        """True when the source changed since this translation was made."""
        return self.source_digest != source_digest(source_text)
