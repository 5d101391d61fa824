"""Helpers for delivery tests: a Refuge wired to a FakeTwilio, people, and queued messages."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta

import pytest
from flask import Flask
from sqlalchemy import select

from server import db, people, upkeep
from server.app import create_app
from server.config import Settings
from server.delivery import outbox, worker
from server.delivery.worker import make_channel
from server.models.messaging import Outbox, OutboxKind
from server.models.people import Subscriber, TrustedContact
from server.phones import normalize_phone
from tests.fake_twilio import FakeTwilio
from tests.sms_helpers import load_demo_content

#: Numbers reserved for fiction.
SENDER = "+15550100"
ALICE = "+447700900123"
CAROL = "+447700900789"
DAVE = "+447700900456"
NOW = datetime(2026, 11, 28, 12, 0, tzinfo=UTC)


def twilio_env(fake: FakeTwilio, **overrides: str) -> dict[str, str]:
    """REFUGE_* settings that send through `fake` (fast pace, British numbers allowed)."""
    env = {
        "REFUGE_SMS_BACKEND": "twilio",
        "REFUGE_TWILIO_ACCOUNT_SID": fake.account_sid,
        "REFUGE_TWILIO_AUTH_TOKEN": fake.auth_token,
        "REFUGE_TWILIO_FROM": SENDER,
        "REFUGE_TWILIO_API_BASE": fake.base_url,
        "REFUGE_TWILIO_TIMEOUT_SECONDS": "1",
        "REFUGE_SMS_RATE": "100",
        "REFUGE_SMS_COUNTRIES": "GB",
        "REFUGE_PUBLIC_URL": "https://refuge.example.org",
    }
    env.update(overrides)
    return env


@dataclass
class Delivery:
    """A database, its settings and a worker sending through the fake."""

    app: Flask
    database: db.Database
    settings: Settings
    fake: FakeTwilio

    def worker(self, **changes: object) -> worker.Worker:
        return worker.Worker(self.database, self.settings, make_channel(self.settings), **changes)  # type: ignore[arg-type]

    def person(self, number: str = ALICE, **details: object) -> uuid.UUID:
        with self.database.session() as session:
            subscriber = people.register_subscriber(session, normalize_phone(number), **details)  # type: ignore[arg-type]
            session.flush()
            return subscriber.id

    def contact(self, person: uuid.UUID, number: str, consent: object = None) -> uuid.UUID:
        with self.database.session() as session:
            subscriber = session.get(Subscriber, person)
            assert subscriber is not None
            contact = people.add_trusted_contact(session, subscriber, normalize_phone(number), "C")
            if consent is not None:
                contact.consent = consent  # type: ignore[assignment]
            session.flush()
            return contact.id

    def queue(
        self,
        person: uuid.UUID,
        cause: str,
        *,
        body: str = "Your check-in is due in an hour.",
        kind: OutboxKind = OutboxKind.REMINDER,
        contact: uuid.UUID | None = None,
        not_before: datetime = NOW,
        lasts: timedelta = timedelta(hours=2),
    ) -> bool:
        with self.database.session() as session:
            subscriber = session.get(Subscriber, person)
            assert subscriber is not None
            trusted = session.get(TrustedContact, contact) if contact else None
            return outbox.enqueue(
                session,
                outbox.Outgoing(
                    subscriber=subscriber,
                    body=body,
                    kind=kind,
                    cause=cause,
                    not_before=not_before,
                    expires_at=not_before + lasts,
                    contact=trusted,
                ),
            )

    def row(self, cause: str) -> Outbox:
        with self.database.session() as session:
            found = session.scalar(select(Outbox).where(Outbox.dedupe_key == cause))
            assert found is not None
            session.expunge(found)
            return found

    def read(self, cause: str, reader: Callable[[Outbox], object]) -> object:
        """Read something that needs the vault (a sealed field) from a row."""
        with self.database.session() as session:
            found = session.scalar(select(Outbox).where(Outbox.dedupe_key == cause))
            assert found is not None
            return reader(found)


@contextmanager
def building(
    make_settings: Callable[..., Settings], fake: FakeTwilio, *, demo: bool = False
) -> Iterator[Callable[..., Delivery]]:
    """Build instances that send through `fake` (settings overridden per call), with the demo
    content when asked; their databases are disposed of at the end."""
    built: list[db.Database] = []

    def build(**overrides: str) -> Delivery:
        settings = make_settings(**twilio_env(fake, **overrides))
        app = create_app(settings)
        database = db.get_database(app)
        db.Base.metadata.create_all(database.engine)
        if demo:
            load_demo_content(app)
        built.append(database)
        return Delivery(app, database, settings, fake)

    try:
        yield build
    finally:
        for database in built:
            database.dispose()


def pin_worker_clock(monkeypatch: pytest.MonkeyPatch, now: Callable[[], datetime]) -> None:
    """Every worker `refuge worker` builds reads its real time from `now` (drills run ahead)."""
    built = upkeep.worker
    monkeypatch.setattr(upkeep, "worker", lambda *args: replace(built(*args), clock=now))
