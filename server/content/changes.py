"""When public content last changed: the moment a page's Last-Modified must not be before."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from server.models.bulletins import Bulletin, BulletinStatus
from server.models.checklists import Checklist
from server.models.content import Resource
from server.models.translations import Translation


def content_changed_at(session: Session, now: datetime) -> datetime:
    """The last moment anything public could have changed: an edit, a day, a bulletin's term.

    A page's Last-Modified must move when a bulletin expires or comes into force and when a
    resource turns stale at midnight, not only when a row is edited; this takes the latest of
    all of those that lie in the past.
    """
    midnight = datetime.combine(now.date(), datetime.min.time(), tzinfo=UTC)
    moments: list[datetime | None] = [midnight]
    for column in (
        Resource.updated_at,
        Bulletin.updated_at,
        Checklist.updated_at,
        Translation.updated_at,
    ):
        moments.append(session.scalar(select(func.max(column))))
    published = Bulletin.status == BulletinStatus.PUBLISHED
    moments.append(
        session.scalar(
            select(func.max(Bulletin.issued_at)).where(published, Bulletin.issued_at <= now)
        )
    )
    moments.append(
        session.scalar(
            select(func.max(Bulletin.expires_at)).where(
                or_(published, Bulletin.status == BulletinStatus.RETRACTED),
                Bulletin.expires_at <= now,
            )
        )
    )
    return max(
        moment if moment.tzinfo else moment.replace(tzinfo=UTC)
        for moment in moments
        if moment is not None
    )
