"""UI translations saved in the portal: overrides of the shipped catalogue, live without a release.

One row per message and locale, keyed as gettext keys it (msgctxt, msgid). A plural message
keeps every form in `plural_texts`; `text` holds the first. The shipped `.po` files stay the
source of truth for releases: `refuge i18n export-ui` writes these rows back as a `.po` file.
A `ContentModel`, so saving one replaces the content version token, which is how every
process learns that its catalogues changed (`server.i18n.overrides`).
"""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import JSON, String, Text, UniqueConstraint, Uuid
from sqlalchemy import text as sql_text
from sqlalchemy.orm import Mapped, mapped_column

from server.db import Base, UTCDateTime, enum_column
from server.models.content import SHORT_LENGTH
from server.models.translations import TranslationStatus
from server.models.versions import ContentModel

LOCALE_LENGTH = 16


class UiTranslation(ContentModel, Base):
    """A translator's text for one UI message in one locale, used over the compiled one."""

    __tablename__ = "ui_translations"
    __table_args__ = (UniqueConstraint("locale", "msgctxt", "msgid"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    locale: Mapped[str] = mapped_column(String(LOCALE_LENGTH))
    # "" for a message without context: a unique key treats NULLs as distinct.
    msgctxt: Mapped[str] = mapped_column(
        String(SHORT_LENGTH), default="", server_default=sql_text("''")
    )
    msgid: Mapped[str] = mapped_column(Text)
    msgid_plural: Mapped[str | None] = mapped_column(Text)
    text: Mapped[str] = mapped_column(Text)
    plural_texts: Mapped[list[str]] = mapped_column(JSON, default=list)
    status: Mapped[TranslationStatus] = mapped_column(
        enum_column(TranslationStatus, 16), server_default=TranslationStatus.DRAFT.value
    )
    # Portal accounts, without foreign keys: the text outlives the account that wrote it.
    author_id: Mapped[uuid.UUID | None] = mapped_column(Uuid)
    reviewer_id: Mapped[uuid.UUID | None] = mapped_column(Uuid)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)

    @property
    def forms(self) -> list[str]:
        """Every msgstr form: one for a singular message."""
        return list(self.plural_texts) if self.msgid_plural else [self.text]
