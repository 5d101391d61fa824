"""A virtual-clock simulation: a reminder backlog never holds an alert back."""

from __future__ import annotations

import secrets
from collections.abc import Callable
from datetime import datetime, timedelta

import pytest
from flask import Flask

from server import db, people
from server.config import Settings
from server.delivery import outbox, worker
from server.delivery.channels import Outbound, ProviderMessage, SentMessage
from server.models.messaging import OutboxKind
from server.models.people import Consent
from server.phones import normalize_phone
from tests.delivery import NOW

RATE = 1.0  # messages per second, one sender number
BACKLOG_SECONDS = 60
REMINDERS = 1_000
MISSED_CHECKINS = 50
CONTACTS_EACH = 3


class SimulatedProvider:
    """A provider that takes messages at once and lets them out one per second, in order."""

    def __init__(self, clock: Callable[[], datetime]) -> None:
        self.clock = clock
        self.handed: list[tuple[datetime, datetime, str]] = []  # handed over, leaves, body
        self.free_at = NOW

    def send(self, message: Outbound) -> SentMessage:
        handed = self.clock()
        leaves = max(handed, self.free_at)
        self.free_at = leaves + timedelta(seconds=1 / RATE)
        self.handed.append((handed, leaves, message.body))
        return SentMessage("SM" + secrets.token_hex(16), "queued")

    def recent(self, to: str, since: datetime) -> list[ProviderMessage]:
        return []

    def fetch(self, provider_id: str) -> ProviderMessage:
        raise AssertionError("not used")

    def delete(self, provider_id: str) -> None:
        raise AssertionError("not used")


@pytest.fixture
def paced(make_settings: Callable[..., Settings]) -> tuple[Flask, db.Database, Settings]:
    from server.app import create_app

    settings = make_settings(
        REFUGE_SMS_RATE=str(RATE),
        REFUGE_SMS_PROVIDER_BACKLOG_SECONDS=str(BACKLOG_SECONDS),
        REFUGE_SMS_COUNTRIES="GB",
        REFUGE_SMS_CAP_PER_NUMBER="10000",
        REFUGE_SMS_CAP_PER_PREFIX="100000",
    )
    app = create_app(settings)
    database = db.get_database(app)
    db.Base.metadata.create_all(database.engine)
    return app, database, settings


def test_alerts_reach_the_provider_within_their_minimum_time_despite_a_reminder_backlog(
    paced: tuple[Flask, db.Database, Settings],
) -> None:
    _, database, settings = paced
    with database.session() as session:
        reminded = [
            people.register_subscriber(session, normalize_phone(f"+447700900{n:03d}"))
            for n in range(500)
        ]
        for number in range(REMINDERS):
            outbox.enqueue(
                session,
                outbox.Outgoing(
                    subscriber=reminded[number % len(reminded)],
                    body=f"reminder {number}",
                    kind=OutboxKind.REMINDER,
                    cause=f"reminder:{number}",
                    not_before=NOW,
                    expires_at=NOW + timedelta(hours=2),
                ),
            )
        for person in range(MISSED_CHECKINS):
            missing = people.register_subscriber(
                session, normalize_phone(f"+447700900{500 + person:03d}")
            )
            for contact_number in range(CONTACTS_EACH):
                contact = people.add_trusted_contact(
                    session, missing, normalize_phone(f"+447700900{600 + contact_number:03d}")
                )
                contact.consent = Consent.CONFIRMED
                outbox.enqueue(
                    session,
                    outbox.Outgoing(
                        subscriber=missing,
                        contact=contact,
                        body=f"alert {person}/{contact_number}",
                        kind=OutboxKind.ALERT,
                        cause=f"alert:{person}:{contact_number}",
                        not_before=NOW,
                        expires_at=NOW + timedelta(hours=2),
                    ),
                )

    moment = [NOW]
    provider = SimulatedProvider(lambda: moment[0])
    sender = worker.Worker(database, settings, provider, clock=lambda: moment[0])
    alerts = MISSED_CHECKINS * CONTACTS_EACH
    while sum(body.startswith("alert") for _, _, body in provider.handed) < alerts:
        sender.run_once(moment[0])
        moment[0] += timedelta(seconds=1)
        assert moment[0] - NOW < timedelta(hours=1), "the alerts never all left"
    for _ in range(30):  # and the reminders follow
        sender.run_once(moment[0])
        moment[0] += timedelta(seconds=1)

    departures = [(leaves, body) for _, leaves, body in provider.handed]
    alert_departures = [leaves for leaves, body in departures if body.startswith("alert")]
    assert len(alert_departures) == alerts
    for position, leaves in enumerate(sorted(alert_departures), start=1):
        # The k-th alert cannot leave a one-a-second sender before (k - 1) seconds.
        minimum = (position - 1) / RATE
        assert (leaves - NOW).total_seconds() <= minimum * 1.1 + 1 / RATE
    first_reminder = min(leaves for leaves, body in departures if body.startswith("reminder"))
    assert first_reminder > max(alert_departures)
    # Refuge kept the backlog at home: never more than a minute queued at the provider.
    for handed, leaves, _ in provider.handed:
        assert leaves - handed <= timedelta(seconds=BACKLOG_SECONDS)
