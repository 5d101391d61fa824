"""Alerts that did not leave in time: what `GET /healthz?deep=1` and `refuge status` report.

An alert or an all-clear is missed when it waits unsent more than `REFUGE_ALERT_LATE_MINUTES`
past its time (`late`, for as long as it waits), or, within the last WINDOW: left that late
(`sent_late`), expired unsent (`expired`), was refused by the provider or given up on after
the attempt limit (`refused`), or was dropped for its number's country (`country`). Refusals
and drops count only while the contact still agrees: a contact who withdrew (by YES/NO or by
texting STOP to the provider) is a choice, not a failure.

WINDOW is how long one event keeps health failing: a monitor that looks at least once a day
cannot miss it, and it clears by itself with nothing to acknowledge (the worker's ERROR line
stays in the logs). Everything here is counted by kind and reason: nothing names a person.
"""

from __future__ import annotations

from collections import Counter
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from server.config import Settings
from server.models.messaging import Outbox, OutboxKind, OutboxStatus
from server.models.people import Consent, TrustedContact

#: How long a missed alert keeps health failing after it happened.
WINDOW = timedelta(hours=24)
#: The kinds someone's safety waits on.
URGENT = (OutboxKind.ALERT, OutboxKind.ALL_CLEAR)
WAITING = (OutboxStatus.PENDING, OutboxStatus.SENDING)

Missed = Counter[tuple[OutboxKind, str]]


def late_after(settings: Settings) -> timedelta:
    """How long past its time an unsent alert is late."""
    return timedelta(minutes=settings.delivery.alert_late_minutes)


def missed(session: Session, settings: Settings, now: datetime) -> Missed:
    """Alerts and all-clears late now, or missed within WINDOW, by kind and reason."""
    late, since = late_after(settings), now - WINDOW
    counts: Missed = Counter()
    for kind in session.scalars(
        select(Outbox.kind).where(
            Outbox.kind.in_(URGENT), Outbox.status.in_(WAITING), Outbox.not_before <= now - late
        )
    ):
        counts[(kind, "late")] += 1
    for kind, not_before, sent_at in session.execute(
        select(Outbox.kind, Outbox.not_before, Outbox.sent_at).where(
            Outbox.kind.in_(URGENT), Outbox.sent_at > since
        )
    ):
        if sent_at is not None and sent_at - not_before > late:
            counts[(kind, "sent_late")] += 1
    for kind in session.scalars(
        select(Outbox.kind).where(
            Outbox.kind.in_(URGENT),
            Outbox.status == OutboxStatus.EXPIRED,
            Outbox.expires_at > since,
        )
    ):
        counts[(kind, "expired")] += 1
    # Caps make alerts wait, never drop them, and consent is confirmed: only the country drops.
    for kind, status in session.execute(
        select(Outbox.kind, Outbox.status)
        .join(TrustedContact, Outbox.contact_id == TrustedContact.id)
        .where(
            Outbox.kind.in_(URGENT),
            Outbox.attempt_started_at > since,
            TrustedContact.consent == Consent.CONFIRMED,
            (Outbox.status == OutboxStatus.DROPPED)
            | ((Outbox.status == OutboxStatus.FAILED) & Outbox.sent_at.is_(None)),
        )
    ):
        counts[(kind, "country" if status is OutboxStatus.DROPPED else "refused")] += 1
    return counts


def newly_late(
    session: Session, settings: Settings, checked: datetime | None, now: datetime
) -> Counter[OutboxKind]:
    """Unsent alerts and all-clears that became late after `checked` (any, if None)."""
    late = late_after(settings)
    query = select(Outbox.kind).where(
        Outbox.kind.in_(URGENT), Outbox.status.in_(WAITING), Outbox.not_before <= now - late
    )
    if checked is not None:
        query = query.where(Outbox.not_before > checked - late)
    return Counter(session.scalars(query))


def listed(counts: Missed) -> list[tuple[OutboxKind, str, int]]:
    """Each kind, reason and count, in a stable order."""
    return sorted(
        ((kind, reason, count) for (kind, reason), count in counts.items()),
        key=lambda item: (item[0].value, item[1]),
    )


def lines(counts: Missed) -> list[str]:
    """`alert/late 1`: one line per kind and reason."""
    return [f"{kind.value}/{reason} {count}" for kind, reason, count in listed(counts)]
