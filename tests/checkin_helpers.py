"""Helpers for the check-in tests: phones on a test clock, set-up in any locale, the outbox.

A `Phone` hands each text to the real conversation (`server.conversation.turn.receive`, what the
webhook calls after checking the signature) at the clock's time, so a test moves time without
sleeping. `sent(app)` reads back what the outbox holds: for whom, of what kind, and the text.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime

from flask import Flask
from sqlalchemy import select

from server import db, people
from server.checkins import contacts, plans
from server.checkins.sweep import SweepReport, sweep
from server.conversation.turn import IncomingMessage, receive
from server.delivery.channels import ConsoleChannel, Outbound, SentMessage
from server.delivery.worker import Worker
from server.models.checkins import CheckinPlan
from server.models.messaging import Outbox
from server.phones import normalize_phone
from tests.sms_helpers import digits, keyword, new_sid, settings_of


class Recording(ConsoleChannel):
    """The console channel, remembering every text it was handed (deletions too)."""

    def __init__(self) -> None:
        super().__init__()
        self.handed: list[Outbound] = []

    def send(self, message: Outbound) -> SentMessage:
        self.handed.append(message)
        return super().send(message)


@dataclass
class Clock:
    """The time the tests say it is."""

    now: datetime


class Phone:
    """A handset texting Refuge at the clock's time, through the real conversation."""

    def __init__(self, app: Flask, number: str, clock: Clock) -> None:
        self.app, self.number, self.clock = app, number, clock

    def send(self, text: str) -> list[str]:
        """Text Refuge; the replies."""
        database = db.get_database(self.app)
        with database.session() as session:
            turn = receive(
                session,
                settings_of(self.app),
                IncomingMessage(new_sid(), self.number, text),
                self.clock.now,
            )
        return turn.replies

    def ask(self, text: str) -> str:
        """Text Refuge; the one reply."""
        replies = self.send(text)
        assert len(replies) == 1, replies
        return replies[0]


@dataclass(frozen=True)
class Sent:
    """One queued message as a test sees it."""

    kind: str
    to: str  # "person", or the contact's name
    body: str
    cause: str


def sent(app: Flask) -> list[Sent]:
    """Everything in the outbox, in the order it was queued."""
    with db.get_database(app).session() as session:
        rows = session.scalars(select(Outbox).order_by(Outbox.created_on)).all()
        found = [
            Sent(
                row.kind.value,
                (row.contact.name or "") if row.contact else "person",
                row.body or "",
                row.dedupe_key,
            )
            for row in rows
        ]
    return sorted(found, key=lambda message: message.cause)


def deliver(app: Flask, now: datetime) -> None:
    """One worker pass at `now` on a console channel: what is due leaves (opt-ins included),
    so a contact can then answer the request they received."""
    database = db.get_database(app)
    Worker(database, settings_of(app), ConsoleChannel()).run_once(now)


def run_sweep(app: Flask, now: datetime) -> SweepReport:
    """One sweep pass at `now`, committed."""
    with db.get_database(app).session() as session:
        return sweep(session, settings_of(app), now)


def register(app: Flask, number: str, locale: str, region: str | None = None) -> None:
    """A person already known to Refuge, speaking `locale`."""
    with db.get_database(app).session() as session:
        people.register_subscriber(
            session, normalize_phone(number), locale=locale, region_slug=region
        )


def add_partner(app: Flask, region: str, name: str, phone: str | None, key: bytes | None) -> None:
    """An NGO that takes escalations (and notes, with a key) for a region."""
    with db.get_database(app).session() as session:
        contacts.set_partner(
            session, region, name, normalize_phone(phone).e164 if phone else None, key
        )


def plan_facts(
    app: Flask, number: str
) -> tuple[plans.PlanSettings, plans.PlanState, datetime | None]:
    """A person's plan settings, state and next sweep time."""
    with db.get_database(app).session() as session:
        person = people.find_subscriber(session, normalize_phone(number))
        assert person is not None
        plan = session.scalar(select(CheckinPlan).where(CheckinPlan.subscriber_id == person.id))
        assert plan is not None
        return plans.settings_of(plan), plans.state_of(plan), plan.next_due_at


def set_up(
    phone: Phone,
    locale: str,
    *,
    pin: int = 482193,
    duress: int | None = 917364,
    schedule: str = "12",
    grace: int = 30,
    name: str = "Amina",
    contacts: tuple[tuple[str, str], ...] = (),
    later: str | None = None,
    message: str | None = None,
) -> list[str]:
    """Go through the whole set-up by SMS in a locale (keywords and digits of that locale)."""
    replies = [phone.ask(keyword(locale, "CHECKIN")), phone.ask(digits(pin, locale))]
    replies.append(phone.ask(digits(duress, locale) if duress else keyword(locale, "NO")))
    replies.append(phone.ask(schedule))
    replies.append(phone.ask(digits(grace, locale)))
    replies.append(phone.ask(name))
    for number, contact_name in contacts:
        replies.append(phone.ask(f"{keyword(locale, 'ADD')} {number} {contact_name}"))
    replies.append(phone.ask(keyword(locale, "DONE")))
    if len(contacts) > 1:
        replies.append(phone.ask(later or keyword(locale, "NO")))
    replies.append(phone.ask(message or keyword(locale, "YES")))
    return replies


def check_in(phone: Phone, locale: str, pin: int) -> str:
    """OK <PIN> in the locale's word and digits."""
    return phone.ask(f"{keyword(locale, 'OK')} {digits(pin, locale)}")


WEB_CODE = re.compile(r"(\d{4}) (\d{4})")


def turn_web_on(phone: Phone, locale: str, pin: int = 482193) -> str:
    """WEB <PIN> by SMS; the web code the reply holds."""
    reply = phone.ask(f"{keyword(locale, 'WEB')} {digits(pin, locale)}")
    found = WEB_CODE.search(reply)
    assert found is not None, reply
    return found[1] + found[2]
