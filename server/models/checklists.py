"""Account-security checklists: ordered steps, each with a web text and a one-segment SMS."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Boolean, Date, ForeignKey, Integer, String, Text, false
from sqlalchemy.orm import Mapped, mapped_column, relationship

from server.db import Base, UTCDateTime
from server.models.content import ID_LENGTH, NAME_LENGTH, SHORT_LENGTH
from server.models.versions import ContentModel


class Checklist(ContentModel, Base):
    """A guide for one platform, checked against a named app version on a given day."""

    __tablename__ = "checklists"

    id: Mapped[str] = mapped_column(String(ID_LENGTH), primary_key=True)  # also its URL slug
    title: Mapped[str] = mapped_column(String(NAME_LENGTH))
    summary: Mapped[str] = mapped_column(Text, default="")
    platform: Mapped[str] = mapped_column(String(SHORT_LENGTH))
    platform_version: Mapped[str] = mapped_column(String(NAME_LENGTH))
    reviewed_on: Mapped[date] = mapped_column(Date)
    position: Mapped[int] = mapped_column(Integer, server_default="0")
    source_locale: Mapped[str] = mapped_column(String(16), server_default="en")
    retired: Mapped[bool] = mapped_column(Boolean, server_default=false())
    # Who keeps the record: "files" (content/), "hsds" or "cap" imports, "portal".
    origin: Mapped[str] = mapped_column(String(16), server_default="files")
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)

    steps: Mapped[list[ChecklistStep]] = relationship(
        cascade="all, delete-orphan", order_by="ChecklistStep.position"
    )


class ChecklistStep(ContentModel, Base):
    """One thing to do: a title, the full web text (Markdown) and a one-segment SMS text."""

    __tablename__ = "checklist_steps"

    id: Mapped[str] = mapped_column(String(ID_LENGTH * 2), primary_key=True)  # checklist/step
    checklist_id: Mapped[str] = mapped_column(
        ForeignKey("checklists.id", ondelete="CASCADE"), index=True
    )
    position: Mapped[int] = mapped_column(Integer)
    title: Mapped[str] = mapped_column(String(NAME_LENGTH))
    web_text: Mapped[str] = mapped_column(Text)
    sms_text: Mapped[str] = mapped_column(String(NAME_LENGTH * 2))
