"""The content version: a token replaced whenever content changes, so caches know when to go.

One row. Every flush that writes a content model (a `ContentModel`: regions, organisations,
resources and their parts, bulletins, checklists, translations, search documents) gives it a
new random token in the same transaction, whoever makes the change: `refuge content load`, the
HSDS, CAP and translation imports all write through the ORM, and a `before_flush` hook on every
session sees them. A bulk UPDATE or DELETE of content bypasses the hook and must call `bump`
itself. A process that caches content compares its token with this one. A random token, not a
counter: two databases never share one.
"""

from __future__ import annotations

import secrets
from typing import Any

from sqlalchemy import Connection, String, Table, event, insert, select, update
from sqlalchemy.orm import Mapped, Session, mapped_column

from server.db import Base

TOKEN_LENGTH = 32


class ContentModel:
    """Marks a model whose rows are content: what a cache of content depends on.

    Every model of content carries it, wherever it is defined; a flush that writes one bumps
    the content version.
    """


def new_token() -> str:
    """A fresh random content version token."""
    return secrets.token_hex(TOKEN_LENGTH // 2)


class ContentVersion(Base):
    """The current content version (a single row, id 1)."""

    __tablename__ = "content_versions"

    id: Mapped[int] = mapped_column(primary_key=True)
    token: Mapped[str] = mapped_column(String(TOKEN_LENGTH))


_CURRENT = select(ContentVersion.token).where(ContentVersion.id == 1)


_BUMP = update(ContentVersion).where(ContentVersion.id == 1)


# Both run on the session's connection, in its transaction: as ORM statements they would
# also look through every object the session holds (an import holds thousands).
def current(session: Session) -> str | None:
    """The current content version token (None before the table has its row)."""
    token: str | None = session.connection().execute(_CURRENT).scalar()
    return token


def bump(session: Session) -> None:
    """Give content a new version token, in the session's transaction."""
    session.connection().execute(_BUMP, {"token": new_token()})


def writes_content(session: Session) -> bool:
    """True when the next flush inserts, changes or deletes a content row."""
    if any(isinstance(obj, ContentModel) for obj in (*session.new, *session.deleted)):
        return True
    return any(isinstance(obj, ContentModel) and session.is_modified(obj) for obj in session.dirty)


@event.listens_for(Session, "before_flush")
def _bump_on_content_flush(session: Session, _context: Any, _instances: Any) -> None:
    if writes_content(session):
        bump(session)


@event.listens_for(ContentVersion.__table__, "after_create")
def _first_version(target: Table, connection: Connection, **_: Any) -> None:
    # Tables made by create_all (tests, the benchmarks) start with their row, as migrated ones do.
    connection.execute(insert(target).values(id=1, token=new_token()))
