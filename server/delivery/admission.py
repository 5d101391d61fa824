"""Admission: which claimed messages may really go, and the job the channel gets for each.

A claimed row is dropped (no consent, opted out, outside the country allow-list, over a cap
that drops, a recipient or consent edited in the database by hand) or put back (a WhatsApp
message outside the 24-hour window with no template, over a cap that waits) and never
reaches the channel; the rest become jobs.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import UTC, date, datetime, timedelta

import phonenumbers
from sqlalchemy import delete, select
from sqlalchemy.orm import Session, selectinload

from server.config import Settings, SmsBackend
from server.db import insert_for, vault_of
from server.delivery import twilio
from server.delivery.claims import Job
from server.delivery.outbox import WHATSAPP_SENDER, Reason, Setbacks, tally
from server.models.content import Region
from server.models.messaging import (
    WAITS_WHEN_CAPPED,
    OutboundCount,
    Outbox,
    OutboxKind,
    OutboxStatus,
)
from server.models.people import Consent
from server.vault import VaultError, seal_holds

#: A WhatsApp message outside the 24-hour window, with no template set, is held this long.
WHATSAPP_HOLD = timedelta(hours=1)
#: The tally subject of a webhook's replies (queued messages are tallied by their kind).
TWIML_REPLY = "twiml_reply"
#: The countries of the development simulator's fiction numbers (`server/web/simulator.py`).
SIMULATOR_COUNTRIES = frozenset({"GB", "US"})
#: The daily caps a webhook's replies count against (see `admit_replies`), and the mark of
#: their own counts (`reply_region`...), kept apart from queued messages' counts. Not the
#: per-prefix cap: a prefix (+880 1712) is a whole operator's range, shared by a camp, and
#: 200 answers a day to everyone in it would silence a camp by noon; a reply only ever answers
#: a message its sender paid for, and each sender's replies have their own hourly and daily
#: limits.
REPLY_CAPS = frozenset({"region", "total"})
REPLY_COUNTS = "reply_"
#: Daily cap counts are kept this many days after their own (only today's is ever read).
COUNT_DAYS = 2
#: The digits of a number that make its prefix for the per-prefix cap (after the country code).
PREFIX_DIGITS = 4
#: What each daily cap's scope (`_Caps.SCOPES`) is called when a message is over it.
CAP_REASONS: dict[str, Reason] = {
    "number": Reason.CAP_NUMBER,
    "prefix": Reason.CAP_PREFIX,
    "region": Reason.CAP_REGION,
    "total": Reason.CAP_DAY,
}
#: The partners' daily tally each reason is counted in.
TALLIED_AS: dict[Reason, str] = {
    Reason.NO_CONSENT: "outbound_no_consent",
    Reason.OPTED_OUT: "outbound_opted_out",
    Reason.COUNTRY: "outbound_country",
    Reason.WHATSAPP_WINDOW: "outbound_held_whatsapp",
    Reason.TAMPERED: "outbound_tampered",
    **dict.fromkeys(CAP_REASONS.values(), "outbound_capped"),
}


def served_countries(session: Session) -> frozenset[str]:
    """ISO country codes of the countries Refuge serves (its top-level regions)."""
    codes = session.scalars(
        select(Region.country_code).where(Region.parent_id.is_(None), Region.retired.is_(False))
    )
    return frozenset(code.upper() for code in codes if code)


def allowed_countries(session: Session, settings: Settings) -> frozenset[str]:
    """The countries messages may go to: REFUGE_SMS_COUNTRIES, else the countries served.

    The same list whatever the channel, so the console demo refuses what production would,
    and `server.checkins.contacts` refuses at ADD a contact the worker would never text.
    """
    if settings.delivery.countries:
        return frozenset(settings.delivery.countries)
    return served_countries(session)


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


def admit(
    session: Session,
    settings: Settings,
    claim_id: uuid.UUID,
    now: datetime,
    allowed: frozenset[str] | None,
    setbacks: Setbacks,
) -> list[Job]:
    """The jobs for the rows this worker just claimed; rows that may not go are settled here
    (dropped: no consent, opted out, outside the allow-list, over a cap that drops) or put
    back (held WhatsApp, over a cap that waits), counted in `setbacks`, and never reach the
    channel."""
    rows = session.scalars(
        select(Outbox)
        .where(Outbox.claim_id == claim_id, Outbox.status == OutboxStatus.SENDING)
        .order_by(Outbox.priority, Outbox.next_attempt_at)
        .with_for_update(of=Outbox)
        .options(selectinload(Outbox.subscriber), selectinload(Outbox.contact))
    ).all()
    caps = _Caps(session, settings, now)
    caps.prepare(rows)
    jobs = []
    for row in rows:
        job = _admit(session, settings, caps, row, now, allowed, setbacks)
        if job is not None:
            jobs.append(job)
    caps.write()
    return jobs


def _admit(
    session: Session,
    settings: Settings,
    caps: _Caps,
    row: Outbox,
    now: datetime,
    allowed: frozenset[str] | None,
    setbacks: Setbacks,
) -> Job | None:
    """The job for a claimed row, or None when the row was settled or put back."""
    subscriber, contact = row.subscriber, row.contact
    if contact is not None:
        wanted = Consent.PENDING if row.kind is OutboxKind.OPT_IN else Consent.CONFIRMED
        if contact.consent is not wanted:
            return _drop(session, setbacks, row, now, Reason.NO_CONSENT)
        if not seal_holds(contact):  # a consent edited by hand: the number's seal breaks
            return _drop(session, setbacks, row, now, Reason.TAMPERED)
    elif subscriber.opted_out:
        return _drop(session, setbacks, row, now, Reason.OPTED_OUT)
    if not seal_holds(row):  # a recipient edited by hand: the body's seal breaks
        return _drop(session, setbacks, row, now, Reason.TAMPERED)
    address = caps.address(row)
    if not destination_allowed(allowed, address):
        return _drop(session, setbacks, row, now, Reason.COUNTRY)
    whatsapp = row.sender == WHATSAPP_SENDER
    template_sid = None
    if whatsapp:
        window = subscriber.whatsapp_window_until
        if window is None or window <= now:
            template_sid = settings.delivery.whatsapp_template_sid
            if template_sid is None:  # never attempted free-form outside the window
                tally(session, TALLIED_AS[Reason.WHATSAPP_WINDOW], row.kind.value, now.date())
                setbacks.held[(row.kind, Reason.WHATSAPP_WINDOW)] += 1
                return _put_back(row, now + WHATSAPP_HOLD)
            row.template = True
    full = caps.take(row)
    if full is not None:
        if row.kind in WAITS_WHEN_CAPPED:
            tally(session, "outbound_capped_waiting", row.kind.value, now.date())
            setbacks.held[(row.kind, full)] += 1
            tomorrow = datetime.combine(now.date() + timedelta(days=1), datetime.min.time(), UTC)
            return _put_back(row, tomorrow)
        return _drop(session, setbacks, row, now, full)
    message = twilio.outbound(
        settings,
        address,
        row.body or "",
        whatsapp=whatsapp,
        template_sid=template_sid,
        report_as=row.id,
        valid_for=row.expires_at - now,
    )
    return Job(row.id, now, message, row.kind, row.data_key())


def admit_replies(
    session: Session,
    settings: Settings,
    address: str,
    region: str | None,
    replies: int,
    now: datetime,
) -> Reason | None:
    """Whether a webhook's own replies (TwiML, sent by the provider without the outbox) may go
    to `address`: the same country allow-list and daily caps as queued replies, each message
    counted. None when they may; else why not, the drop tallied as a queued reply's would be.

    In development (the console channel, where no reply leaves the machine) with no list set,
    the countries of the simulator's fiction numbers are allowed too, so that `refuge demo`
    can be talked to; queued messages still obey the served countries alone.

    Replies are counted apart from queued messages, against caps of the same size: a busy
    day of conversation must never use up the count an alert needs (alerts over a cap wait
    for the next day). The per-number and per-prefix caps are left out: a person's replies have
    their own limits per hour and day (`REFUGE_REPLIES_PER_*`, checked before), which a
    conversation must be able to use, and a prefix is shared by everyone on one operator's
    range (a whole camp).
    """
    reason = None
    allowed = allowed_countries(session, settings)
    if settings.sms_backend is SmsBackend.CONSOLE and not settings.delivery.countries:
        allowed |= SIMULATOR_COUNTRIES
    if not destination_allowed(allowed, address):
        reason = Reason.COUNTRY
    else:
        caps = _Caps(session, settings, now)
        key = uuid.uuid4()
        caps.prepare_one(key, address, region, REPLY_CAPS)
        for _ in range(replies):
            reason = caps.take_for(key)
            if reason is not None:
                break
        if reason is None:
            caps.write()
    if reason is not None:
        tally(session, TALLIED_AS[reason], TWIML_REPLY, now.date(), replies, region=region or "")
    return reason


def _drop(
    session: Session, setbacks: Setbacks, row: Outbox, now: datetime, reason: Reason
) -> Job | None:
    """Settle a row that will never go, and count why (always None: nothing to send)."""
    row.status = OutboxStatus.DROPPED
    row.final_on = now.date()
    row.body_ct = None
    row.lease_until = None
    region = row.subscriber.region_slug or ""
    tally(session, TALLIED_AS[reason], row.kind.value, now.date(), region=region)
    setbacks.dropped[(row.kind, reason)] += 1
    return None


def _put_back(row: Outbox, when: datetime) -> Job | None:
    """Return a claimed row to the queue, due again at `when` (always None)."""
    row.status = OutboxStatus.PENDING
    row.attempts = max(row.attempts - 1, 0)
    row.next_attempt_at = when
    row.lease_until = None
    row.attempt_started_at = None
    return None


#: Kinds that go only to someone who asked for them (a person's own reminders; alerts and
#: all-clears to contacts who said YES): not under the per-prefix cap, which is against
#: pumping to numbers nobody vouched for. A prefix (+880 1712) is a whole operator's range,
#: shared by a camp: its 200 a day would hold a camp's alerts until midnight.
PREFIX_EXEMPT = frozenset({OutboxKind.REMINDER, OutboxKind.ALERT, OutboxKind.ALL_CLEAR})


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
            try:
                address = recipient.phone or ""
            except VaultError:
                address = ""  # a tampered row: `_admit` drops it
            self._subjects(row.id, address, row.subscriber.region_slug)
            if row.kind in PREFIX_EXEMPT and row.id in self.subjects:
                self.subjects[row.id] = [
                    subject for subject in self.subjects[row.id] if subject[0] != "prefix"
                ]
        self._load(sorted({key for keys in self.subjects.values() for key in keys}))

    def prepare_one(
        self, key: uuid.UUID, address: str, region: str | None, scopes: frozenset[str]
    ) -> None:
        """Like `prepare`, for a webhook's replies: under the caps of `scopes` only, counted
        apart from queued messages (`REPLY_COUNTS`)."""
        self._subjects(key, address, region)
        if key in self.subjects:
            self.subjects[key] = [
                (REPLY_COUNTS + scope, digest)
                for scope, digest in self.subjects[key]
                if scope in scopes
            ]
        self._load(sorted(set(self.subjects.get(key, []))))

    def _subjects(self, key: uuid.UUID, address: str, region: str | None) -> None:
        self.addresses[key] = address
        try:
            number = phonenumbers.parse(address)
        except phonenumbers.NumberParseException:
            return  # refused by the allow-list before any cap is asked
        prefix = f"+{number.country_code}{str(number.national_number)[:PREFIX_DIGITS]}"
        values = (address, prefix, region or "", "all")
        self.subjects[key] = [
            (scope, self.keys.keyed_digest(f"cap-{scope}", value))
            for scope, value in zip(self.SCOPES, values, strict=True)
        ]

    def address(self, row: Outbox) -> str:
        """The number a prepared row goes to."""
        return self.addresses[row.id]

    def take(self, row: Outbox) -> Reason | None:
        """Count one message against every cap; the first cap it is over (and nothing
        counted), or None."""
        return self.take_for(row.id)

    def take_for(self, key: uuid.UUID) -> Reason | None:
        """`take` for a message prepared under `key`."""
        subjects = self.subjects[key]
        for subject in subjects:
            scope = subject[0].removeprefix(REPLY_COUNTS)
            if self.counts[subject] >= self.limits[scope]:
                return CAP_REASONS[scope]
        for subject in subjects:
            self.counts[subject] += 1
            self.added[subject] = self.added.get(subject, 0) + 1
        return None

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
        insert = insert_for(self.session)
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


def purge_counts(session: Session, today: date) -> int:
    """Delete the daily cap counts of past days (keyed digests of numbers, by day): how many."""
    removed = session.execute(
        delete(OutboundCount).where(OutboundCount.day < today - timedelta(days=COUNT_DAYS)),
        execution_options={"synchronize_session": False},
    )
    return int(getattr(removed, "rowcount", 0) or 0)
