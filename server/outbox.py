"""The outbox: every outbound message, written with the change that caused it.

`enqueue` is how the domain asks for a message to go out: in the caller's transaction, once per
cause (a second `enqueue` with the same cause writes nothing), with a time before which it must
not leave and a time after which it is useless. The worker (`server.worker`) does the rest.
"""

from __future__ import annotations

import random
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, timedelta
from typing import Any

import phonenumbers
from sqlalchemy import Table, bindparam, delete, inspect, select, text, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session, selectinload

from server.config import Settings
from server.db import vault_of
from server.models.content import Region
from server.models.messaging import (
    DEDUPE_KEY_LENGTH,
    FINAL_STATUSES,
    PRIORITY,
    WAITS_WHEN_CAPPED,
    OutboundCount,
    Outbox,
    OutboxKind,
    OutboxStatus,
    ProviderDeletion,
    SenderPace,
    Tally,
)
from server.models.people import Channel, Consent, Subscriber, TrustedContact
from server.sms.channels import (
    ChannelError,
    Outbound,
    ProviderMessage,
    SentMessage,
    TemporaryFailure,
    UncertainOutcome,
)

#: Pacing keys: one per sender number Refuge has.
SMS_SENDER = "sms"
WHATSAPP_SENDER = "whatsapp"


class CauseTooLong(ValueError):
    """A dedupe cause longer than the column that keeps it."""


@dataclass(frozen=True, repr=False)
class Outgoing:
    """A message to queue: for a subscriber, or for one of their trusted contacts.

    `cause` names why it exists and must be the same whenever the same message would be
    produced again (for example ``"alert:<plan>:<due time>:<stage>:<contact>"``); it holds
    ids and times only, never a number or a name.
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
        "body": Outbox.body.seal(message.subscriber.data_key(), row_id.hex, message.body),
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
            _insert_for(session)(table)
            .on_conflict_do_nothing(index_elements=["dedupe_key"])
            .returning(table.c.id)
        )
    return _ENQUEUE[dialect]


def queued(session: Session, cause: str) -> Outbox | None:
    """The message queued for a cause, if any."""
    return session.scalar(select(Outbox).where(Outbox.dedupe_key == cause))


def served_countries(session: Session) -> frozenset[str]:
    """ISO country codes of the countries Refuge serves (its top-level regions)."""
    codes = session.scalars(
        select(Region.country_code).where(Region.parent_id.is_(None), Region.retired.is_(False))
    )
    return frozenset(code.upper() for code in codes if code)


def country_of(e164: str) -> str | None:
    """The ISO country a number belongs to (by its calling code when the number is unassigned)."""
    try:
        number = phonenumbers.parse(e164)
    except phonenumbers.NumberParseException:
        return None
    country = phonenumbers.region_code_for_number(number) or (
        phonenumbers.region_code_for_country_code(number.country_code or 0)
    )
    return None if country in (None, phonenumbers.UNKNOWN_REGION) else country


def destination_allowed(allowed: frozenset[str] | None, e164: str) -> bool:
    """Whether messages may go to this number under a country allow-list."""
    country = country_of(e164)
    return country is not None and (allowed is None or country in allowed)


# --- Claiming: what a worker may send now ---------------------------------------------------

#: Twilio keeps trying a queued message for at most this long (its ValidityPeriod maximum).
MAX_VALIDITY_SECONDS = 14_400
#: While a message is being sent, its claim holds for the provider's timeout times this, at
#: least LEASE_MINIMUM; a worker that dies leaves the row to be reconciled after that.
LEASE_FACTOR = 3
LEASE_MINIMUM = timedelta(seconds=60)
#: A WhatsApp message outside the 24-hour window, with no template set, is held this long.
WHATSAPP_HOLD = timedelta(hours=1)
#: A permanent error that means "this number asked for no more messages".
UNSUBSCRIBED = 21610
#: The digits of a number that make its prefix for the per-prefix cap (after the country code).
PREFIX_DIGITS = 4
#: Retry delays: BACKOFF_BASE doubled per attempt, at most BACKOFF_CAP, with jitter.
BACKOFF_BASE = timedelta(seconds=2)
BACKOFF_CAP = timedelta(minutes=15)
#: How long after hand-over a message without a final status is looked up at the provider,
#: and how long after that its provider record is deleted regardless.
STATUS_CHECK_AFTER = timedelta(hours=6)
GIVE_UP_STATUS_AFTER = timedelta(hours=72)
#: Cleanup retries when the provider refuses to delete.
CLEANUP_RETRY = timedelta(hours=1)


@dataclass(frozen=True, repr=False)
class Job:
    """One claimed message, ready to hand to the channel (held in memory only)."""

    row_id: uuid.UUID
    attempt_started_at: datetime
    message: Outbound
    kind: OutboxKind
    #: The data key the row's sealed fields are under (to seal the provider's id on return).
    data_key: bytes

    def __repr__(self) -> str:
        return f"Job({self.row_id}, {self.kind.value})"


@dataclass
class Senders:
    """Where messages leave from, per pacing key, from the settings."""

    settings: Settings

    def outbound(self, sender: str, to: str, body: str, template_sid: str | None) -> Outbound:
        """The message as the channel takes it, from the right sender."""
        delivery = self.settings.delivery
        service = self.settings.twilio_messaging_service_sid
        if sender == WHATSAPP_SENDER:
            origin = delivery.whatsapp_from or (
                f"whatsapp:{self.settings.twilio_from}" if self.settings.twilio_from else None
            )
            return Outbound(
                to=to,
                body=body,
                sender=origin,
                messaging_service_sid=None if origin else service,
                template_sid=template_sid,
            )
        return Outbound(
            to=to,
            body=body,
            sender=None if service else self.settings.twilio_from,
            messaging_service_sid=service,
        )


def backoff(attempts: int, rng: random.Random | None = None) -> timedelta:
    """How long to wait before attempt `attempts + 1`: doubling, capped, with jitter."""
    doubled = BACKOFF_BASE.total_seconds() * 2.0 ** min(max(attempts - 1, 0), 30)
    delay = min(doubled, BACKOFF_CAP.total_seconds())
    jitter = (rng or random).uniform(0.5, 1.0)  # timing, not secrecy
    return timedelta(seconds=delay * jitter)


def lease_for(settings: Settings) -> timedelta:
    """How long a claim holds before the row is reconciled."""
    return max(LEASE_MINIMUM, timedelta(seconds=settings.delivery.timeout_seconds * LEASE_FACTOR))


def status_callback_url(settings: Settings, row_id: uuid.UUID) -> str:
    """Where the provider reports on a message; the row id lets an early report find it."""
    return f"{settings.public_url}/sms/twilio/status?o={row_id.hex}"


def claim(
    session: Session, settings: Settings, sender: str, now: datetime, limit: int
) -> uuid.UUID | None:
    """Claim the most urgent due messages of one sender that its pace allows: the claim's id,
    or None when nothing is due or the pace is full.

    Quick on purpose: the sender's pace row is locked (workers take turns here), due rows are
    marked `sending` (on PostgreSQL rows another worker holds are skipped) and their slots
    reserved. Which of them may really go is decided by `admit`, in the next transaction.
    """
    pace = _lock_pace(session, sender, now)
    rate = settings.delivery.rate_per_second
    start = max(pace.next_slot_at, now)
    horizon = now + timedelta(seconds=settings.delivery.provider_backlog_seconds)
    room = min(limit, int((horizon - start).total_seconds() * rate + 1e-9))
    if room <= 0:
        return None
    due = (
        select(Outbox.id)
        .where(
            Outbox.status == OutboxStatus.PENDING,
            Outbox.sender == sender,
            Outbox.next_attempt_at <= now,
        )
        .order_by(Outbox.priority, Outbox.next_attempt_at)
        .limit(room)
        .with_for_update(skip_locked=True)
    )
    ids = list(session.scalars(due))
    if not ids:
        return None
    claim_id = uuid.uuid4()
    session.execute(
        update(Outbox)
        .where(Outbox.id.in_(ids))
        .values(
            status=OutboxStatus.SENDING,
            attempts=Outbox.attempts + 1,
            attempt_started_at=now,
            lease_until=now + lease_for(settings),
            claim_id=claim_id,
        )
        .execution_options(synchronize_session=False)
    )
    pace.next_slot_at = start + timedelta(seconds=len(ids) / rate)
    return claim_id


def admit(
    session: Session,
    settings: Settings,
    claim_id: uuid.UUID,
    now: datetime,
    allowed: frozenset[str] | None,
) -> list[Job]:
    """The jobs for the rows this worker just claimed; rows that may not go are settled here
    (dropped: no consent, opted out, outside the allow-list, over a cap that drops) or put
    back (held WhatsApp, over a cap that waits) and never reach the channel."""
    rows = session.scalars(
        select(Outbox)
        .where(Outbox.claim_id == claim_id, Outbox.status == OutboxStatus.SENDING)
        .order_by(Outbox.priority, Outbox.next_attempt_at)
        .with_for_update(of=Outbox)
        .options(selectinload(Outbox.subscriber), selectinload(Outbox.contact))
    ).all()
    senders = Senders(settings)
    caps = _Caps(session, settings, now)
    caps.prepare(rows)
    jobs = []
    for row in rows:
        job = _admit(session, settings, senders, caps, row, now, allowed)
        if job is not None:
            jobs.append(job)
    caps.write()
    return jobs


def _lock_pace(session: Session, sender: str, now: datetime) -> SenderPace:
    """The sender's pace row, locked for this transaction (created on first use)."""
    # An upsert that changes nothing still takes the row's write lock (SQLite: the database's).
    session.execute(
        _insert_for(session)(SenderPace)
        .values(sender=sender, next_slot_at=now)
        .on_conflict_do_update(
            index_elements=["sender"], set_={"next_slot_at": SenderPace.next_slot_at}
        )
    )
    pace = session.scalars(
        select(SenderPace)
        .where(SenderPace.sender == sender)
        .with_for_update()
        .execution_options(populate_existing=True)
    ).one()
    return pace


def expire(session: Session, now: datetime) -> None:
    """Settle pending messages that are past their use: counted by kind, never sent."""
    expired = session.execute(
        update(Outbox)
        .where(Outbox.status == OutboxStatus.PENDING, Outbox.expires_at <= now)
        .values(status=OutboxStatus.EXPIRED, final_on=now.date(), body_ct=None)
        .returning(Outbox.kind)
        .execution_options(synchronize_session=False)
    ).scalars()
    for kind in expired:
        tally(session, "outbound_expired", kind.value, now.date())


def _admit(
    session: Session,
    settings: Settings,
    senders: Senders,
    caps: _Caps,
    row: Outbox,
    now: datetime,
    allowed: frozenset[str] | None,
) -> Job | None:
    """The job for a claimed row, or None when the row was settled or put back."""
    subscriber, contact = row.subscriber, row.contact
    if contact is not None:
        wanted = Consent.PENDING if row.kind is OutboxKind.OPT_IN else Consent.CONFIRMED
        if contact.consent is not wanted:
            return _drop(session, row, now, "outbound_no_consent")
    elif subscriber.opted_out:
        return _drop(session, row, now, "outbound_opted_out")
    address = caps.address(row)
    if not destination_allowed(allowed, address):
        return _drop(session, row, now, "outbound_country")
    to = address
    template_sid = None
    if row.sender == WHATSAPP_SENDER:
        to = f"whatsapp:{address}"
        window = subscriber.whatsapp_window_until
        if window is None or window <= now:
            template_sid = settings.delivery.whatsapp_template_sid
            if template_sid is None:  # never attempted free-form outside the window
                tally(session, "outbound_held_whatsapp", row.kind.value, now.date())
                return _put_back(row, now + WHATSAPP_HOLD)
            row.template = True
    if not caps.allow(row):
        if row.kind in WAITS_WHEN_CAPPED:
            tally(session, "outbound_capped_waiting", row.kind.value, now.date())
            tomorrow = datetime.combine(now.date() + timedelta(days=1), datetime.min.time(), UTC)
            return _put_back(row, tomorrow)
        return _drop(session, row, now, "outbound_capped")
    message = senders.outbound(row.sender, to, row.body or "", template_sid)
    validity = int((row.expires_at - now).total_seconds())
    message = replace(
        message,
        status_callback=status_callback_url(settings, row.id),
        validity_seconds=max(1, min(validity, MAX_VALIDITY_SECONDS)),
    )
    return Job(row.id, now, message, row.kind, row.data_key())


def _drop(session: Session, row: Outbox, now: datetime, reason: str) -> Job | None:
    """Settle a row that will never go, and count why (always None: nothing to send)."""
    row.status = OutboxStatus.DROPPED
    row.final_on = now.date()
    row.body_ct = None
    row.lease_until = None
    tally(session, reason, row.kind.value, now.date())
    return None


def _put_back(row: Outbox, when: datetime) -> Job | None:
    """Return a claimed row to the queue, due again at `when` (always None)."""
    row.status = OutboxStatus.PENDING
    row.attempts = max(row.attempts - 1, 0)
    row.next_attempt_at = when
    row.lease_until = None
    row.attempt_started_at = None
    return None


class _Caps:
    """Daily outbound counts for one batch: read once, counted in memory, written once."""

    SCOPES = ("number", "prefix", "region", "total")

    def __init__(self, session: Session, settings: Settings, now: datetime) -> None:
        delivery = settings.delivery
        self.session = session
        self.keys = vault_of(session)
        self.day = now.date()
        self.limits = dict(
            zip(
                self.SCOPES,
                (
                    delivery.cap_per_number,
                    delivery.cap_per_prefix,
                    delivery.cap_per_region,
                    delivery.cap_per_day,
                ),
                strict=True,
            )
        )
        self.counts: dict[tuple[str, bytes], int] = {}
        self.added: dict[tuple[str, bytes], int] = {}
        self.addresses: dict[uuid.UUID, str] = {}
        self.subjects: dict[uuid.UUID, list[tuple[str, bytes]]] = {}

    def prepare(self, rows: Sequence[Outbox]) -> None:
        """Work out every row's number and cap subjects, and read their counts in one query."""
        for row in rows:
            recipient = row.contact if row.contact is not None else row.subscriber
            address = recipient.phone or ""
            self.addresses[row.id] = address
            try:
                number = phonenumbers.parse(address)
            except phonenumbers.NumberParseException:
                continue  # refused by the allow-list before any cap is asked
            prefix = f"+{number.country_code}{str(number.national_number)[:PREFIX_DIGITS]}"
            values = (address, prefix, row.subscriber.region_slug or "", "all")
            self.subjects[row.id] = [
                (scope, self.keys.keyed_digest(f"cap-{scope}", value))
                for scope, value in zip(self.SCOPES, values, strict=True)
            ]
        self._load(sorted({key for keys in self.subjects.values() for key in keys}))

    def address(self, row: Outbox) -> str:
        """The number a prepared row goes to."""
        return self.addresses[row.id]

    def allow(self, row: Outbox) -> bool:
        """Count one message against every cap; False (and nothing counted) when over one."""
        subjects = self.subjects[row.id]
        if any(self.counts[subject] >= self.limits[subject[0]] for subject in subjects):
            return False
        for subject in subjects:
            self.counts[subject] += 1
            self.added[subject] = self.added.get(subject, 0) + 1
        return True

    def _load(self, subjects: list[tuple[str, bytes]]) -> None:
        for key in subjects:
            self.counts[key] = 0
        if not subjects:
            return
        found = self.session.execute(
            select(OutboundCount.scope, OutboundCount.subject, OutboundCount.count).where(
                OutboundCount.day == self.day,
                OutboundCount.subject.in_([digest for _, digest in subjects]),
            )
        )
        for scope, digest, count in found:
            if (scope, digest) in self.counts:
                self.counts[(scope, digest)] = count

    def write(self) -> None:
        """Add this batch's counts (upserts: other workers' counts are kept)."""
        insert = _insert_for(self.session)
        # In one order for every worker, so that two batches never wait on each other.
        for (scope, subject), added in sorted(self.added.items()):
            self.session.execute(
                insert(OutboundCount)
                .values(scope=scope, subject=subject, day=self.day, count=added)
                .on_conflict_do_update(
                    index_elements=["scope", "subject", "day"],
                    set_={"count": OutboundCount.count + added},
                )
            )
        self.added.clear()


def tally(
    session: Session, kind: str, subject: str, day: date, count: int = 1, *, region: str = ""
) -> None:
    """Add to an anonymous daily count for partners (an upsert: safe under many workers)."""
    session.execute(
        _insert_for(session)(Tally)
        .values(kind=kind, subject=subject, region_slug=region, day=day, count=count)
        .on_conflict_do_update(
            index_elements=["kind", "subject", "region_slug", "day"],
            set_={"count": Tally.count + count},
        )
    )


def _insert_for(session: Session) -> Any:
    return postgresql.insert if session.get_bind().dialect.name == "postgresql" else sqlite.insert


def release(session: Session, jobs: list[Job]) -> None:
    """Give back claimed messages that were never handed over (a worker shutting down)."""
    for job in jobs:
        row = session.get(Outbox, job.row_id, with_for_update=True)
        if (
            row is not None
            and row.status is OutboxStatus.SENDING
            and row.attempt_started_at == job.attempt_started_at
        ):
            row.status = OutboxStatus.PENDING
            row.attempts = max(row.attempts - 1, 0)
            row.lease_until = None
            row.attempt_started_at = None


# --- Recording what the provider said -------------------------------------------------------

#: Provider statuses in the order they may follow each other; a lower one never overwrites.
PROVIDER_RANK: dict[str, int] = {
    "accepted": 0,
    "scheduled": 0,
    "queued": 0,
    "sending": 1,
    "sent": 2,
    "delivered": 3,
    "undelivered": 3,
    "failed": 3,
    "canceled": 3,
    "partially_delivered": 3,
    "read": 4,
}
#: The outbox status each provider status means.
FROM_PROVIDER: dict[str, OutboxStatus] = {
    "delivered": OutboxStatus.DELIVERED,
    "read": OutboxStatus.DELIVERED,
    "partially_delivered": OutboxStatus.DELIVERED,
    "undelivered": OutboxStatus.UNDELIVERED,
    "failed": OutboxStatus.FAILED,
    "canceled": OutboxStatus.FAILED,
}


def record_sent(session: Session, taken: list[tuple[Job, SentMessage]], now: datetime) -> None:
    """The provider took these messages: keep each one's id (sealed) and its first status.

    One statement for the batch. A row a status callback already settled, or one erased
    meanwhile, is left as it is. On PostgreSQL this commit need not wait for the disk: if it
    is lost in a crash, the rows are still `sending` and reconciliation finds them at the
    provider, so nothing is sent twice.
    """
    if not taken:
        return
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("SET LOCAL synchronous_commit = off"))
    keys = vault_of(session)
    table = Outbox.__table__
    assert isinstance(table, Table)
    session.execute(
        update(table)
        .where(
            table.c.id == bindparam("b_id"),
            table.c.status == OutboxStatus.SENDING,
            table.c.attempt_started_at == bindparam("b_started"),
        )
        .values(
            status=OutboxStatus.SENT,
            provider_sid=bindparam("b_sid"),
            provider_sid_digest=bindparam("b_digest"),
            provider_status=bindparam("b_status"),
            sent_at=now,
            lease_until=None,
            cleanup_due_at=now + STATUS_CHECK_AFTER,
        ),
        [
            {
                "b_id": job.row_id,
                "b_started": job.attempt_started_at,
                "b_sid": Outbox.provider_sid.seal(job.data_key, job.row_id.hex, sent.provider_id),
                "b_digest": keys.keyed_digest("outbound-sid", sent.provider_id),
                "b_status": sent.status if sent.status in PROVIDER_RANK else None,
            }
            for job, sent in taken
        ],
    )


def _remember_provider_id(session: Session, row: Outbox, provider_id: str, now: datetime) -> None:
    if row.provider_sid_digest is None:
        row.provider_sid_digest = vault_of(session).keyed_digest("outbound-sid", provider_id)
        row.provider_sid = provider_id
        row.sent_at = row.sent_at or now
        row.cleanup_due_at = now + STATUS_CHECK_AFTER


def record_failure(
    session: Session, settings: Settings, job: Job, error: ChannelError, now: datetime
) -> None:
    """The provider did not take the message: retry later, stop, or look it up first."""
    row = session.get(Outbox, job.row_id, with_for_update=True)
    if row is None or row.status is not OutboxStatus.SENDING:
        return
    if row.attempt_started_at != job.attempt_started_at:
        return  # reconciled and claimed again meanwhile: that attempt owns the row
    if isinstance(error, UncertainOutcome):
        row.lease_until = now  # looked up at the provider by the next reconciliation
        return
    row.error_code = error.code
    row.lease_until = None
    if isinstance(error, TemporaryFailure) and row.attempts < settings.delivery.max_attempts:
        row.status = OutboxStatus.PENDING
        row.next_attempt_at = now + backoff(row.attempts)
        return
    _finish(row, OutboxStatus.FAILED, now)
    tally(session, "outbound_failed", str(error.code or "unknown"), now.date())
    if error.code == UNSUBSCRIBED:
        _unsubscribed(row)


def _unsubscribed(row: Outbox) -> None:
    """The number told the provider STOP: honour it here too."""
    if row.contact is not None:
        row.contact.consent = Consent.REVOKED
    else:
        row.subscriber.opted_out = True


def _finish(row: Outbox, status: OutboxStatus, now: datetime) -> None:
    row.status = status
    row.final_on = row.final_on or now.date()
    row.body_ct = None  # nothing left to send: the text is not kept
    if row.provider_sid_ct is not None:
        row.cleanup_due_at = now


def apply_provider_status(
    session: Session, row: Outbox, status: str, error_code: int | None, now: datetime
) -> bool:
    """Apply a status the provider reported, in any order: never backwards. True if applied."""
    rank = PROVIDER_RANK.get(status)
    if rank is None:
        return False
    current = PROVIDER_RANK.get(row.provider_status or "", -1)
    if rank <= current or row.status in (OutboxStatus.EXPIRED, OutboxStatus.DROPPED):
        return False
    row.provider_status = status
    if row.status in (OutboxStatus.PENDING, OutboxStatus.SENDING):
        row.status = OutboxStatus.SENT  # the provider has it: it will not be sent again
        row.lease_until = None
    final = FROM_PROVIDER.get(status)
    if final is not None:
        if error_code is not None:
            row.error_code = error_code
        _finish(row, final, now)
        if error_code == UNSUBSCRIBED:
            _unsubscribed(row)
    return True


def status_reported(
    session: Session,
    row_hint: str | None,
    provider_id: str,
    status: str,
    error_code: int | None,
    now: datetime,
) -> bool:
    """A status callback: find the row (by the id in its URL, else by the provider's id)."""
    digest = vault_of(session).keyed_digest("outbound-sid", provider_id)
    row = None
    if row_hint:
        try:
            row = session.get(Outbox, uuid.UUID(hex=row_hint), with_for_update=True)
        except ValueError:
            row = None
        if row is not None and row.provider_sid_digest not in (None, digest):
            row = None  # a callback for another message cannot touch this one
    if row is None:
        row = session.scalar(
            select(Outbox).where(Outbox.provider_sid_digest == digest).with_for_update()
        )
    if row is None:
        return False
    _remember_provider_id(session, row, provider_id, now)
    return apply_provider_status(session, row, status, error_code, now)


# --- Reconciling attempts whose outcome is unknown ------------------------------------------


def stuck(session: Session, settings: Settings, now: datetime, limit: int) -> list[Job]:
    """Claim rows left in `sending` past their lease, for a lookup at the provider."""
    rows = session.scalars(
        select(Outbox)
        .where(Outbox.status == OutboxStatus.SENDING, Outbox.lease_until <= now)
        .order_by(Outbox.priority, Outbox.lease_until)
        .limit(limit)
        .with_for_update(skip_locked=True, of=Outbox)
        .options(selectinload(Outbox.subscriber), selectinload(Outbox.contact))
    ).all()
    jobs = []
    senders = Senders(settings)
    for row in rows:
        started = row.attempt_started_at or now
        row.lease_until = now + lease_for(settings)
        address = (row.contact.phone if row.contact else row.subscriber.phone) or ""
        to = f"whatsapp:{address}" if row.sender == WHATSAPP_SENDER else address
        message = senders.outbound(row.sender, to, row.body or "", None)
        jobs.append(Job(row.id, started, message, row.kind, row.data_key()))
    return jobs


def reconciled(
    session: Session, job: Job, found: list[ProviderMessage], now: datetime
) -> OutboxStatus | None:
    """Settle a stuck row with what the provider has: sent if it has the message, else due
    again (or expired). Returns the new status, or None when the row moved on meanwhile."""
    row = session.get(Outbox, job.row_id, with_for_update=True)
    if row is None or row.status is not OutboxStatus.SENDING:
        return None
    keys = vault_of(session)
    fresh = [
        message
        for message in found
        if session.scalar(
            select(Outbox.id).where(
                Outbox.provider_sid_digest == keys.keyed_digest("outbound-sid", message.provider_id)
            )
        )
        is None
    ]
    # The text decides when the provider shows it; only when it hides every text (Message
    # Redaction) does a single unclaimed message to the number stand for this attempt.
    exact = [message for message in fresh if message.body == job.message.body]
    redacted = all(not message.body for message in fresh)
    match = exact[0] if exact else (fresh[0] if redacted and len(fresh) == 1 else None)
    if match is not None:
        _remember_provider_id(session, row, match.provider_id, now)
        row.status = OutboxStatus.SENT
        row.lease_until = None
        apply_provider_status(session, row, match.status, match.error_code, now)
        return row.status
    row.lease_until = None
    row.attempt_started_at = None
    if row.expires_at <= now:
        _finish(row, OutboxStatus.EXPIRED, now)
        tally(session, "outbound_expired", row.kind.value, now.date())
    else:
        row.status = OutboxStatus.PENDING
        row.next_attempt_at = now
    return row.status


def lookup_failed(session: Session, job: Job, now: datetime) -> None:
    """The provider could not be asked: leave the row stuck and ask again later."""
    row = session.get(Outbox, job.row_id, with_for_update=True)
    if row is not None and row.status is OutboxStatus.SENDING:
        row.lease_until = now + backoff(row.attempts + 1)


# --- Deleting the provider's copies ---------------------------------------------------------


@dataclass(frozen=True, repr=False)
class Cleanup:
    """A provider record to delete, or to look up first when no final status came."""

    row_id: uuid.UUID
    provider_id: str
    final: bool

    def __repr__(self) -> str:
        return f"Cleanup({self.row_id}, final={self.final})"


def cleanups_due(session: Session, now: datetime, limit: int) -> list[Cleanup]:
    """Rows whose provider copy should now be deleted (or whose status should be checked)."""
    rows = session.scalars(
        select(Outbox)
        .where(Outbox.cleanup_due_at <= now, Outbox.provider_sid_ct.is_not(None))
        .order_by(Outbox.cleanup_due_at)
        .limit(limit)
        .with_for_update(skip_locked=True, of=Outbox)
        .options(selectinload(Outbox.subscriber))
    ).all()
    due = []
    for row in rows:
        row.cleanup_due_at = now + CLEANUP_RETRY  # another worker leaves it alone meanwhile
        final = row.status in FINAL_STATUSES or (
            row.sent_at is not None and row.sent_at + GIVE_UP_STATUS_AFTER <= now
        )
        due.append(Cleanup(row.id, row.provider_sid or "", final))
    return due


def provider_copy_deleted(session: Session, cleanup: Cleanup, now: datetime) -> None:
    """The provider no longer has the message: forget its id too."""
    row = session.get(Outbox, cleanup.row_id, with_for_update=True)
    if row is None:
        return
    row.provider_sid_ct = None
    row.cleanup_due_at = None
    row.final_on = row.final_on or now.date()
    row.body_ct = None


def provider_status_checked(
    session: Session, cleanup: Cleanup, message: ProviderMessage, now: datetime
) -> bool:
    """A status looked up at the provider; True when the row is now final (delete next)."""
    row = session.get(Outbox, cleanup.row_id, with_for_update=True)
    if row is None:
        return False
    apply_provider_status(session, row, message.status, message.error_code, now)
    if row.status in FINAL_STATUSES:
        return True
    row.cleanup_due_at = now + STATUS_CHECK_AFTER
    return False


def purge(session: Session, retention_days: int, today: date) -> int:
    """Delete settled rows past retention whose provider copy is gone; returns how many."""
    removed = session.execute(
        delete(Outbox)
        .where(
            Outbox.final_on < today - timedelta(days=retention_days),
            Outbox.provider_sid_ct.is_(None),
        )
        .execution_options(synchronize_session=False)
    )
    return int(getattr(removed, "rowcount", 0) or 0)


# --- Provider copies of erased people's messages --------------------------------------------

#: Attempts at deleting an erased person's message at the provider before giving up.
MAX_DELETION_ATTEMPTS = 72


def hand_over_provider_copies(
    session: Session, subscriber: Subscriber, now: datetime, contact: TrustedContact | None = None
) -> int:
    """Before a person (or one of their contacts) is erased: move the provider ids of their
    messages to deletion rows of their own (the outbox rows, and the person's data key, are
    about to go)."""
    statement = select(Outbox).where(
        Outbox.subscriber_id == subscriber.id, Outbox.provider_sid_ct.is_not(None)
    )
    if contact is not None:
        statement = statement.where(Outbox.contact_id == contact.id)
    rows = session.scalars(statement).all()
    for row in rows:
        provider_id = row.provider_sid
        if not provider_id:
            continue
        deletion = ProviderDeletion(id=uuid.uuid4(), due_at=now)
        session.add(deletion)
        deletion.issue_data_key()  # its own: the person's data key is about to go
        deletion.provider_sid = provider_id
    return len(rows)


@dataclass(frozen=True, repr=False)
class PendingDeletion:
    """A provider record of an erased person's message, to delete (held in memory only)."""

    deletion_id: uuid.UUID
    provider_id: str

    def __repr__(self) -> str:
        return f"PendingDeletion({self.deletion_id})"


def deletions_due(session: Session, now: datetime, limit: int) -> list[PendingDeletion]:
    """Provider deletions due now, each put an hour ahead so another worker leaves it alone."""
    rows = session.scalars(
        select(ProviderDeletion)
        .where(ProviderDeletion.due_at <= now)
        .order_by(ProviderDeletion.due_at)
        .limit(limit)
        .with_for_update(skip_locked=True)
    ).all()
    due = []
    for row in rows:
        row.due_at = now + CLEANUP_RETRY
        row.attempts += 1
        provider_id = row.provider_sid
        assert provider_id is not None  # the column is not nullable
        due.append(PendingDeletion(row.id, provider_id))
        if row.attempts >= MAX_DELETION_ATTEMPTS:
            session.delete(row)  # this was the last try
    return due


def deletion_done(session: Session, pending: PendingDeletion) -> None:
    """The provider no longer has the record: forget that it existed."""
    session.execute(delete(ProviderDeletion).where(ProviderDeletion.id == pending.deletion_id))
