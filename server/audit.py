"""The audit log: append-only, hash-chained, and free of personal data.

Each row's digest is SHA-256 over the previous row's digest and the row's canonical content
(seq, minute, actor, action, detail), so `verify` finds the first row edited, inserted or
removed in the middle. Details hold counts and flags only: never a note, a number or an IP.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from datetime import datetime
from typing import Any

from sqlalchemy import func, select, text
from sqlalchemy.orm import Session

from server.models.staff import AuditAction, AuditEvent, User
from server.vault.chain import CHAIN_GENESIS, chain_hash

#: The PostgreSQL advisory lock that makes appending one writer at a time.
_APPEND_LOCK = 0x52_45_46_55_47_45  # "REFUGE"


def minute(moment: datetime) -> datetime:
    """A moment to the minute: the audit needs no finer time."""
    return moment.replace(second=0, microsecond=0)


def canonical(event: AuditEvent) -> bytes:
    """The bytes of a row that its digest covers."""
    content = {
        "seq": event.seq,
        "at": event.at.strftime("%Y-%m-%dT%H:%MZ"),
        "actor": event.actor_id.hex if event.actor_id else None,
        "action": event.action,
        "detail": event.detail,
    }
    return json.dumps(content, sort_keys=True, separators=(",", ":")).encode("utf-8")


def record(
    session: Session,
    action: AuditAction,
    now: datetime,
    actor: uuid.UUID | None = None,
    detail: dict[str, Any] | None = None,
) -> AuditEvent:
    """Append one event to the chain, in the caller's transaction."""
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _APPEND_LOCK})
    last = session.execute(
        select(AuditEvent.seq, AuditEvent.digest).order_by(AuditEvent.seq.desc()).limit(1)
    ).first()
    seq, previous = (last[0] + 1, last[1]) if last else (1, CHAIN_GENESIS)
    event = AuditEvent(
        id=uuid.uuid4(),
        seq=seq,
        at=minute(now),
        actor_id=actor,
        action=action.value,
        detail=dict(detail or {}),
    )
    event.digest = chain_hash(previous, canonical(event))
    session.add(event)
    session.flush()
    return event


def first_broken(session: Session) -> int | None:
    """The seq of the first row whose digest or place in the chain is wrong; None if sound."""
    previous, expected = CHAIN_GENESIS, 1
    for event in session.scalars(select(AuditEvent).order_by(AuditEvent.seq)):
        if event.seq != expected or event.digest != chain_hash(previous, canonical(event)):
            return event.seq
        previous, expected = event.digest, expected + 1
    return None


def count(session: Session) -> int:
    """How many events the chain holds."""
    return int(session.scalar(select(func.count()).select_from(AuditEvent)) or 0)


def usernames(session: Session) -> dict[str, str]:
    """Every account's username by its id's hex: how events are named when shown."""
    return {user_id.hex: name for user_id, name in session.execute(select(User.id, User.username))}


def target(event: AuditEvent) -> str | None:
    """The hex id of the account an event is about (`detail["user"]`), if any."""
    named = event.detail.get("user") if isinstance(event.detail, dict) else None
    return named if isinstance(named, str) else None


def export(session: Session) -> Iterator[dict[str, Any]]:
    """Every event in order, JSON-ready, digest included (for `refuge audit export`).

    `actor_name` and `user_name` are the usernames of the acting and the named account, looked
    up now: they lie outside what the digest covers, so the chain stays as it was written.
    """
    names = usernames(session)
    for event in session.scalars(select(AuditEvent).order_by(AuditEvent.seq)):
        about = target(event)
        yield {
            **json.loads(canonical(event)),
            "digest": event.digest,
            "actor_name": names.get(event.actor_id.hex) if event.actor_id else None,
            "user_name": names.get(about) if about else None,
        }
