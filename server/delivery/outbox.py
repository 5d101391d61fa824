"""The outbox: every outbound message, written with the change that caused it.

`enqueue` is how the domain asks for a message to go out: in the caller's transaction, once per
cause (a second `enqueue` with the same cause writes nothing), with a time before which it must
not leave and a time after which it is useless. The worker (`server.delivery.worker`) does the
rest: `claims` (what may go now, at the sender's pace), `admission` (consent, opt-out, allow-list,
caps), `records` (what the provider said), `reconciliation` (attempts whose outcome was lost),
`provider_copies` (deleting the provider's records), through a channel (`channels`, `twilio`).
"""

from __future__ import annotations

import enum
import uuid
from collections import Counter
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from sqlalchemy import Table, inspect, select
from sqlalchemy.orm import Session

from server import vault
from server.db import insert_for
from server.models.messaging import (
    DEDUPE_KEY_LENGTH,
    PRIORITY,
    Outbox,
    OutboxKind,
    OutboxStatus,
    Tally,
)
from server.models.people import Channel, Subscriber, TrustedContact

#: Pacing keys: one per sender number Refuge has.
SMS_SENDER = "sms"
WHATSAPP_SENDER = "whatsapp"


class Reason(enum.StrEnum):
    """Why a message did not leave when due (what operators read in the worker's report)."""

    NO_CONSENT = "no_consent"  # the contact has not agreed, or no longer does
    OPTED_OUT = "opted_out"  # the person said STOP
    COUNTRY = "country"  # the number is outside the country allow-list
    CAP_NUMBER = "cap_number"  # a daily cap: per number, per number prefix, per region, in all
    CAP_PREFIX = "cap_prefix"
    CAP_REGION = "cap_region"
    CAP_DAY = "cap_day"
    WHATSAPP_WINDOW = "whatsapp_window"  # outside WhatsApp's 24-hour window, with no template
    EXPIRED = "expired"  # still unsent when it stopped being of use
    REFUSED = "refused"  # the provider refused it for good
    GAVE_UP = "gave_up"  # temporary errors until the attempt limit
    UNSUBSCRIBED = "unsubscribed"  # the number told the provider STOP
    TAMPERED = "tampered"  # a consent or recipient edited by hand: its seal no longer holds


@dataclass
class Setbacks:
    """Messages that could not leave, counted by kind and reason: never by person.

    `held` ones are due again later (a cap that waits, the WhatsApp window); `dropped` ones
    will never go.
    """

    held: Counter[tuple[OutboxKind, Reason]] = field(default_factory=Counter)
    dropped: Counter[tuple[OutboxKind, Reason]] = field(default_factory=Counter)

    def __bool__(self) -> bool:
        return bool(self.held or self.dropped)

    def lines(self) -> list[str]:
        """One line for each, as in `dropped: alert/country 2, reminder/cap_number 1`."""
        return [f"held: {_listed(self.held)}", f"dropped: {_listed(self.dropped)}"]


def _listed(counts: Counter[tuple[OutboxKind, Reason]]) -> str:
    if not counts:
        return "none"
    return ", ".join(
        f"{kind.value}/{reason.value} {count}"
        for (kind, reason), count in sorted(
            counts.items(), key=lambda item: (PRIORITY[item[0][0]], item[0][0].value, item[0][1])
        )
    )


class CauseTooLong(ValueError):
    """A dedupe cause longer than the column that keeps it."""


@dataclass(frozen=True, repr=False)
class Outgoing:
    """A message to queue: for a subscriber, or for one of their trusted contacts.

    `cause` names why it exists and must be the same whenever the same message would be
    produced again: built by `cause` below, an opaque keyed digest of what identifies it (the
    outbox keeps it in clear, so it must name no kind of event, time, plan, person or contact).
    """

    subscriber: Subscriber
    body: str
    kind: OutboxKind
    cause: str
    not_before: datetime
    expires_at: datetime
    contact: TrustedContact | None = None

    def __repr__(self) -> str:  # the body and the people stay out of logs and tracebacks
        return f"Outgoing({self.kind.value}, cause={self.cause!r})"


def cause(subscriber: Subscriber, *parts: str, incident: str | None = None) -> str:
    """The opaque cause of a message about `subscriber`: a keyed digest of `parts` (what
    identifies the message) under their data key, after the tag of its incident if any."""
    return vault.cause_key(subscriber.data_key(), *parts, incident=incident)


def incident_tag(subscriber: Subscriber, plan_id: str, incident: str) -> str:
    """The opaque tag shared by the causes of one incident's messages."""
    return vault.incident_tag(subscriber.data_key(), plan_id, incident)


def incident_of(cause: str) -> str | None:
    """The incident tag a cause was built with (None for a message of no incident)."""
    return vault.incident_of(cause)


def sender_for(subscriber: Subscriber, contact: TrustedContact | None) -> str:
    """Which sender a message goes out through: contacts are texted, people on their channel."""
    if contact is None and subscriber.channel is Channel.WHATSAPP:
        return WHATSAPP_SENDER
    return SMS_SENDER


def enqueue(session: Session, message: Outgoing) -> bool:
    """Queue a message in the caller's transaction; False when its cause was queued before.

    The insert skips a duplicate cause in the database itself, so two sweeps or workers that
    decide the same thing at the same moment still write one row.
    """
    if len(message.cause) > DEDUPE_KEY_LENGTH:
        raise CauseTooLong(f"an outbox cause is at most {DEDUPE_KEY_LENGTH} characters")
    if message.expires_at <= message.not_before:
        raise ValueError("a message must expire after the time it may first be sent")
    if inspect(message.subscriber).pending or (
        message.contact is not None and inspect(message.contact).pending
    ):
        session.flush()  # the row refers to them
    if message.contact is not None and message.contact.subscriber_id != message.subscriber.id:
        raise ValueError("a contact can only be messaged on behalf of the person who trusts them")
    row_id = uuid.uuid4()
    values = {
        "id": row_id,
        "subscriber_id": message.subscriber.id,
        "contact_id": message.contact.id if message.contact is not None else None,
        "kind": message.kind,
        "priority": PRIORITY[message.kind],
        "status": OutboxStatus.PENDING,
        "dedupe_key": message.cause,
        "body": Outbox.body.seal(
            message.subscriber.data_key(),
            row_id.hex,
            message.body,
            bound={"contact_id": message.contact.id if message.contact is not None else None},
        ),
        "not_before": message.not_before,
        "next_attempt_at": message.not_before,
        "expires_at": message.expires_at,
        "sender": sender_for(message.subscriber, message.contact),
        "created_on": message.not_before.date(),
    }
    return session.execute(_enqueue_statement(session), values).first() is not None


_ENQUEUE: dict[str, Any] = {}


def _enqueue_statement(session: Session) -> Any:
    """The INSERT that skips a known cause, built once per backend (building it costs more
    than running it)."""
    dialect = session.get_bind().dialect.name
    if dialect not in _ENQUEUE:
        table = Outbox.__table__
        assert isinstance(table, Table)
        _ENQUEUE[dialect] = (
            insert_for(session)(table)
            .on_conflict_do_nothing(index_elements=["dedupe_key"])
            .returning(table.c.id)
        )
    return _ENQUEUE[dialect]


def queued(session: Session, cause: str) -> Outbox | None:
    """The message queued for a cause, if any."""
    return session.scalar(select(Outbox).where(Outbox.dedupe_key == cause))


def tally(
    session: Session, kind: str, subject: str, day: date, count: int = 1, *, region: str = ""
) -> None:
    """Add to an anonymous daily count for partners (an upsert: safe under many workers)."""
    session.execute(
        insert_for(session)(Tally)
        .values(kind=kind, subject=subject, region_slug=region, day=day, count=count)
        .on_conflict_do_update(
            index_elements=["kind", "subject", "region_slug", "day"],
            set_={"count": Tally.count + count},
        )
    )
