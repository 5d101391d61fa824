"""One inbound message, end to end in one transaction: receipt, person, engine, effects.

The webhook hands over what arrived; this module finds (or registers) the person by blind
index, runs the engine, applies its effects and keeps a receipt, so that a retried or
replayed message is answered the same way and changes nothing a second time.
"""

from __future__ import annotations

import json
import logging
import uuid
from collections import Counter
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, timedelta
from typing import Any

import phonenumbers
from sqlalchemy import (
    ColumnElement,
    Insert,
    Table,
    Update,
    bindparam,
    insert,
    inspect,
    select,
    update,
)
from sqlalchemy.orm import Session
from sqlalchemy.orm.exc import StaleDataError

from server import people, segments
from server.checkins import contacts, erasure, plans, texts
from server.config import Settings
from server.conversation import engine
from server.conversation.checkin_desk import PlanDesk
from server.conversation.library import Library
from server.conversation.state import State
from server.db import Base, vault_of
from server.delivery import admission, outbox
from server.delivery.outbox import Setbacks
from server.i18n.locales import catalogue
from server.models.content import Region
from server.models.messaging import InboundReceipt, OutboxKind
from server.models.people import Subscriber
from server.phones import InvalidPhoneNumber, PhoneNumber, normalize_phone
from server.signals import counting

log = logging.getLogger(__name__)
RECEIPT_PURPOSE = "twilio-message-sid"
WHATSAPP_WINDOW = timedelta(hours=24)
#: Characters one WhatsApp message may hold: a reply goes whole, never paged with MORE.
WHATSAPP_MESSAGE_LIMIT = 4096
#: Where a turn keeps its tallies until it writes (in the session's own info dictionary).
TALLIES = "refuge.tallies"
#: And the words of its unmatched rumour checks (`signals.counting`), written with them.
WORDS = "refuge.rumour_words"
#: Effects obeyed even past the reply limits: a STOP (in any language) must always take effect.
ALWAYS = (engine.OPT_OUT, engine.OPT_IN)
#: Built once: every message looks for its receipt first (a bare id: almost never found).
#: Under every index key version, so a message received before a rotation is still known.
_RECEIPT = select(InboundReceipt.id).where(
    InboundReceipt.digest.in_(bindparam("digests", expanding=True))
)
#: What an ordinary turn changes on the person: written in one prebuilt UPDATE (see _write).
TURN_FIELDS = (
    "last_seen_on",
    "whatsapp_window_until",
    "state_ct",
    "opted_out",
    "locale",
    "region_slug",
    "replies_hour",
    "replies_in_hour",
    "replies_day",
    "replies_in_day",
)
RECEIPT_FIELDS = ("id", "digest", "subscriber_id", "reply_ct", "outcome", "locale", "received_on")


def _written(model: type[Base], fields: tuple[str, ...]) -> dict[ColumnElement[Any], Any]:
    """Each field's column, to be set from the parameter named after the field."""
    columns = inspect(model).columns
    return {columns[field]: bindparam(f"new_{field}") for field in fields}


def _statements() -> tuple[Insert, Update]:
    receipts, subscribers = InboundReceipt.__table__, Subscriber.__table__
    assert isinstance(receipts, Table)
    assert isinstance(subscribers, Table)
    keep = insert(receipts).values(_written(InboundReceipt, RECEIPT_FIELDS))
    turn = update(subscribers).where(subscribers.c.id == bindparam("row_id"))
    return keep, turn.values(_written(Subscriber, TURN_FIELDS))


_INSERT_RECEIPT, _UPDATE_TURN = _statements()
_PERSON_ATTRIBUTES = frozenset(inspect(Subscriber).attrs.keys())


@dataclass(frozen=True)
class IncomingMessage:
    """What the provider told us, already checked for its signature."""

    message_id: str
    sender: str
    body: str
    opt_out_type: str | None = None


@dataclass(frozen=True)
class Turn:
    """What to answer: the replies (possibly none) and the language they are in."""

    replies: list[str]
    locale: str
    outcome: str = "answered"


class SenderRefused(ValueError):
    """A sender Refuge never answers: a short code, an alphanumeric id, not a phone number."""


def sender_of(raw: str) -> PhoneNumber:
    """The sender as a normalised number, or SenderRefused for anything else."""
    address = raw.strip()
    bare = address.removeprefix("whatsapp:")
    if not bare.startswith("+"):
        raise SenderRefused("not an international number")
    try:
        return normalize_phone(address)
    except InvalidPhoneNumber:
        raise SenderRefused("not a phone number") from None


def receive(session: Session, settings: Settings, message: IncomingMessage, now: datetime) -> Turn:
    """Handle one message; the caller commits. A known message id replays its first answer.

    Everything is read, and the engine runs, before anything is written (autoflush is off):
    the one flush at the end takes SQLite's write lock, held only until the caller commits.
    A duplicate handled at the same moment fails there, on the unique digest (or on SQLite's
    busy lock); the webhook retries the whole turn, which then finds the receipt and replays.
    """
    keys = vault_of(session)
    digest = keys.keyed_digest(RECEIPT_PURPOSE, message.message_id)
    receipt = InboundReceipt(digest=digest, received_on=now.date())
    subscriber: Subscriber | None = None
    with session.no_autoflush:
        # On the connection: as an ORM statement it would also look through the session.
        digests = list(keys.keyed_digests(RECEIPT_PURPOSE, message.message_id))
        known = session.connection().execute(_RECEIPT, {"digests": digests}).scalar()
        if known is not None:
            found = session.get_one(InboundReceipt, known)
            return _admitted(
                session, settings, message.sender, found.subscriber, replay(found), now
            )
        try:
            phone = sender_of(message.sender)
        except SenderRefused:
            count(session, "refused_sender", now.date())
            turn = Turn([], "en", "refused")
        else:
            subscriber = people.find_subscriber(session, phone)
            country = _country(phone)
            offered = settings.localization.offered(country)
            first = subscriber is None
            if subscriber is None:
                subscriber = people.register_subscriber(
                    session,
                    phone,
                    locale=_first_locale(session, settings, country),
                    today=now.date(),
                )
            turn = _converse(
                session, settings, subscriber, message, now, offered=offered, first=first
            )
            turn = _admitted(session, settings, message.sender, subscriber, turn, now)
    _write(session, receipt, subscriber, turn, now)
    return turn


def _admitted(
    session: Session,
    settings: Settings,
    sender: str,
    subscriber: Subscriber | None,
    turn: Turn,
    now: datetime,
) -> Turn:
    """The turn with its replies when they may go back to the sender, else with none.

    A reply in the webhook's answer leaves without the outbox, so the outbox's country
    allow-list and daily caps are applied here: a reply to a number outside the list, or over
    a cap, is dropped whole and counted (what the turn did still stands).
    """
    if not turn.replies:
        return turn
    try:
        phone = sender_of(sender)
    except SenderRefused:
        return Turn([], turn.locale, turn.outcome)
    region = subscriber.region_slug if subscriber is not None else None
    replies = len(turn.replies)
    reason = admission.admit_replies(session, settings, phone.e164, region, replies, now)
    if reason is None:
        return turn
    setbacks = Setbacks()
    setbacks.dropped[(OutboxKind.REPLY, reason)] += replies
    log.warning("webhook reply could not leave: %s", setbacks.lines()[1])
    return Turn([], turn.locale, turn.outcome)


def _write(
    session: Session,
    receipt: InboundReceipt,
    subscriber: Subscriber | None,
    turn: Turn,
    now: datetime,
) -> None:
    """Keep the receipt and write the turn's changes: the one moment the turn writes."""
    receipt.locale = turn.locale
    receipt.outcome = turn.outcome
    if subscriber is not None and turn.outcome == "erased":
        # The erasure's receipt names no one and keeps no reply; this flushes it first.
        # Every alert already owed leaves before the person is shredded (see `erasure`).
        session.add(receipt)
        erasure.erase(session, subscriber, now)
        _write_tallies(session)
        return
    if subscriber is not None:
        receipt.subscriber = subscriber
        if turn.replies:
            receipt.reply = json.dumps(turn.replies, ensure_ascii=False)
        if _ordinary(session, subscriber):
            _write_ordinary(session, receipt, subscriber)
            _write_tallies(session)
            return
    session.add(receipt)
    session.flush()  # a concurrent duplicate fails here, on the unique digest
    _write_tallies(session)


def _ordinary(session: Session, subscriber: Subscriber) -> bool:
    """True when the turn changed nothing but the person's own turn fields (most turns)."""
    if session.new or session.deleted:
        return False
    if any(row is not subscriber for row in session.dirty):
        return False
    return (_PERSON_ATTRIBUTES - inspect(subscriber).unmodified).issubset(TURN_FIELDS)


def _write_ordinary(session: Session, receipt: InboundReceipt, subscriber: Subscriber) -> None:
    """An ordinary turn in two prebuilt statements instead of the ORM's unit of work.

    The same rows and values as a flush would write, a fraction of the work on the path
    every message takes.
    """
    connection = session.connection()
    # A concurrent duplicate fails here, on the unique digest, as a flush would.
    receipt.id = uuid.UUID(hex=receipt.envelope_row_id)  # as the ORM's default would
    receipt.subscriber_id = subscriber.id
    connection.execute(
        _INSERT_RECEIPT, {f"new_{key}": getattr(receipt, key) for key in RECEIPT_FIELDS}
    )
    values = {f"new_{key}": getattr(subscriber, key) for key in TURN_FIELDS}
    if connection.execute(_UPDATE_TURN, {"row_id": subscriber.id, **values}).rowcount != 1:
        raise StaleDataError("the person was erased while their message was handled")
    # Written: the row leaves the session, so that committing has nothing left to flush.
    session.expunge(subscriber)


def replay(receipt: InboundReceipt) -> Turn:
    """The first answer to a message seen before."""
    if receipt.outcome == "erased":
        return Turn([_erased(receipt.locale)], receipt.locale, "erased")
    if receipt.reply_ct is None or receipt.subscriber is None:
        return Turn([], receipt.locale, receipt.outcome)
    replies = json.loads(receipt.reply or "[]")
    return Turn([str(text) for text in replies], receipt.locale, receipt.outcome)


def _erased(locale: str) -> str:
    return str(catalogue(locale).gettext("Done. Nothing is kept."))


def _converse(
    session: Session,
    settings: Settings,
    subscriber: Subscriber,
    message: IncomingMessage,
    now: datetime,
    *,
    offered: tuple[str, ...] = (),
    first: bool = False,
) -> Turn:
    """Run the engine on one message: `offered`, the languages offered first to the number's
    country; `first`, a new number (its first message may be answered by asking its language)."""
    today = now.date()
    subscriber.last_seen_on = today
    whatsapp = message.sender.startswith("whatsapp:")
    if whatsapp:
        subscriber.whatsapp_window_until = now + WHATSAPP_WINDOW
    state = State.from_stored(people.load_state(subscriber))
    if state.newcomer:  # a pretended erasure: answered as the newcomer a real one makes
        first, state = True, replace(state, newcomer=False)
    locale = subscriber.locale
    situation = engine.Situation(
        locale=locale,
        region=subscriber.region_slug,
        opted_out=subscriber.opted_out,
        now=now,
        content=Library(session, settings.localization, today),
        locales=settings.localization.locales,
        accents=(
            segments.AccentPolicy.KEEP
            if whatsapp or locale in settings.messaging.keep_accents
            else segments.AccentPolicy.TRANSLITERATE
        ),
        budget=settings.messaging.budget(locale),
        checkins=PlanDesk(session, subscriber, now, settings),
        keep_accents=frozenset(settings.messaging.keep_accents),
        budgets=settings.messaging.segment_budgets,
        scripts=settings.localization.scripts,
        offered=offered,
        first_contact=first,
        message_limit=WHATSAPP_MESSAGE_LIMIT if whatsapp else None,
    )
    inbound = engine.Inbound(message.body, message.opt_out_type)
    outcome = engine.handle(state, inbound, situation)
    # Opting out or in always takes effect, limits or not, and a check-in command is always
    # answered (what it did cannot be undone unseen); anything else over the limit is dropped
    # whole (no effect, no new state) so the conversation does not move on without the person
    # seeing it, and the first such message of a window is told when replies come back.
    opting = any(effect.kind in ALWAYS for effect in outcome.effects)
    if outcome.replies and not opting:
        lifted = _lifted(subscriber, settings, now)
        refused = _over_limits(subscriber, settings, now, checkin=outcome.checkin)
        if refused is not None:
            count(session, "refused_rate", today)
            told = _notice(session, subscriber, situation, refused.until) if refused.first else []
            return Turn(told, subscriber.locale, "limited")
        if lifted:
            outcome.replies[:] = _answering_again(situation, outcome.replies)
    erased = False
    if any(effect.kind == engine.SEEM_ERASED for effect in outcome.effects):
        subscriber.locale = _first_locale(session, settings, _country(sender_of(message.sender)))
    sender = sender_of(message.sender).e164
    for effect in outcome.effects:
        erased = _apply(session, subscriber, effect, now, sender) or erased
    if erased:
        return Turn(outcome.replies, subscriber.locale, "erased")
    people.save_state(subscriber, outcome.state.stored())
    if not outcome.replies:
        return Turn([], subscriber.locale, "silent")
    return Turn(outcome.replies, subscriber.locale)


def _apply(
    session: Session, subscriber: Subscriber, effect: engine.Effect, now: datetime, sender: str
) -> bool:
    """Apply one effect; True when the person asked to be erased."""
    today = now.date()
    if effect.kind == engine.OPT_OUT:
        if not subscriber.opted_out:
            count(session, counting.OPT_OUT, today, "", subscriber.region_slug)
        subscriber.opted_out = True
        # Somebody's trusted contact who says STOP refuses every request and alert for good.
        contacts.refuse_everything(session, subscriber, now)
    elif effect.kind == engine.OPT_IN:
        subscriber.opted_out = False
    elif effect.kind == engine.SET_LOCALE and effect.value:
        subscriber.locale = effect.value
    elif effect.kind == engine.SET_REGION:
        subscriber.region_slug = effect.value
    elif effect.kind == engine.CONTEXT_CHECKED:
        count(session, "context_check", today, effect.value or "unverified", subscriber.region_slug)
    elif effect.kind == engine.REQUESTED and effect.value:
        count(session, counting.REQUEST, today, effect.value, subscriber.region_slug)
    elif effect.kind == engine.RUMOUR_WORDS and effect.value:
        pending: list[tuple[str, str | None, tuple[str, ...], date]]
        pending = session.info.setdefault(WORDS, [])
        pending.append((sender, subscriber.region_slug, tuple(effect.value.split()), today))
    elif effect.kind == engine.DELETE_ME:
        return True
    return False


@dataclass(frozen=True)
class Refused:
    """A reply over the limits: when its window ends, and whether it is the first refused."""

    until: datetime
    first: bool


def _over_limits(
    subscriber: Subscriber, settings: Settings, now: datetime, *, checkin: bool
) -> Refused | None:
    """Count this reply against the hour's and the day's limits; None when it may go.

    A check-in answer always goes and counts, but never past a limit: a count at its limit
    means the window has not told the person yet, one above it that it has.
    """
    hour = now.astimezone(UTC).replace(minute=0, second=0, microsecond=0)
    if subscriber.replies_hour != hour:
        subscriber.replies_hour, subscriber.replies_in_hour = hour, 0
    if subscriber.replies_day != now.date():
        subscriber.replies_day, subscriber.replies_in_day = now.date(), 0
    limits = settings.messaging
    over_day = subscriber.replies_in_day >= limits.replies_per_day
    over_hour = subscriber.replies_in_hour >= limits.replies_per_hour
    if not (over_day or over_hour):
        subscriber.replies_in_hour += 1
        subscriber.replies_in_day += 1
        return None
    if checkin:
        return None
    if over_day:
        first = subscriber.replies_in_day == limits.replies_per_day
        subscriber.replies_in_day = limits.replies_per_day + 1
        tomorrow = datetime.combine(now.date() + timedelta(days=1), datetime.min.time(), UTC)
        return Refused(tomorrow, first)
    first = subscriber.replies_in_hour == limits.replies_per_hour
    subscriber.replies_in_hour = limits.replies_per_hour + 1
    return Refused(hour + timedelta(hours=1), first)


def _lifted(subscriber: Subscriber, settings: Settings, now: datetime) -> bool:
    """True when the person was told of a limit whose window has ended since."""
    hour = now.astimezone(UTC).replace(minute=0, second=0, microsecond=0)
    limits = settings.messaging
    # A count above its limit means the window's notice was sent (see _over_limits).
    hour_over = subscriber.replies_hour is not None and subscriber.replies_hour != hour
    day_over = subscriber.replies_day is not None and subscriber.replies_day != now.date()
    return (hour_over and subscriber.replies_in_hour > limits.replies_per_hour) or (
        day_over and subscriber.replies_in_day > limits.replies_per_day
    )


def _answering_again(situation: engine.Situation, replies: list[str]) -> list[str]:
    """The first answer after a told limit says replies are back: on its first line when that
    keeps it within the budget (a menu stays one message), else in a message of its own."""
    said = segments.prepare(
        catalogue(situation.locale).gettext("Refuge answers your messages again."),
        situation.accents,
    )
    joined = f"{said}\n{replies[0]}"
    within = (
        len(joined) <= situation.message_limit
        if situation.message_limit is not None
        else segments.measure(joined).segments <= segments.measure(replies[0]).segments
    )
    return [joined, *replies[1:]] if within else [said, *replies]


def _notice(
    session: Session, subscriber: Subscriber, situation: engine.Situation, until: datetime
) -> list[str]:
    """The one message of a refused window: when Refuge answers again (check-ins still do)."""
    assert situation.checkins is not None
    plan = situation.checkins.plan()
    zone = plan.zone if plan is not None else plans.zone_for(session, subscriber)
    t = catalogue(subscriber.locale)
    text = t.gettext(
        "Too many messages. Refuge answers again from %(time)s. Check-ins still work: "
        "OK and your PIN."
    ) % {"time": texts.local_time(until, zone, subscriber.locale)}
    return [segments.prepare(text, situation.accents)]


def count(
    session: Session, kind: str, day: date, subject: str = "", region: str | None = None
) -> None:
    """Add one to an anonymous daily tally (written with the turn's other changes)."""
    pending: Counter[tuple[str, str, date, str]] = session.info.setdefault(TALLIES, Counter())
    pending[(kind, subject, day, region or "")] += 1


def _write_tallies(session: Session) -> None:
    """The turn's tallies, each an upsert: turns counting the same thing never collide."""
    for (kind, subject, day, region), added in sorted(session.info.pop(TALLIES, {}).items()):
        outbox.tally(session, kind, subject, day, added, region=region)
    for sender, region, words, day in session.info.pop(WORDS, []):
        counting.note_words(session, sender, region, words, day)


def _country(phone: PhoneNumber) -> str | None:
    """The number's country (ISO 3166), by its country code when the number is not a valid one."""
    parsed = phonenumbers.parse(phone.e164)
    return phonenumbers.region_code_for_number(parsed) or phonenumbers.region_code_for_country_code(
        parsed.country_code or 0
    )


def _first_locale(session: Session, settings: Settings, country: str | None) -> str:
    """A newcomer's language: the first offered to their country (REFUGE_FIRST_CONTACT_LANGUAGES),
    else their country's default when Refuge serves it, else English."""
    offered = settings.localization.offered(country)
    if offered:
        return offered[0]
    region = session.scalar(
        select(Region).where(
            Region.parent_id.is_(None), Region.country_code == country, Region.retired.is_(False)
        )
    )
    if region is not None and region.default_locale in settings.localization.locales:
        return region.default_locale
    return "en"
