"""A captured signed webhook replayed later changes nothing: receipts outlive their retention
as keyed digests (for a year), and outlive the person who sent them.

Time is virtual: each message goes through the real conversation (`turn.receive`, what the
webhook calls once the signature holds) at the test's clock, and the worker's retention purge
runs at the day the test says.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from flask import Flask
from sqlalchemy import select

from server import db, upkeep
from server.conversation.turn import RECEIPT_PURPOSE, IncomingMessage, Turn, receive
from server.models.messaging import InboundReceipt
from tests.checkin_helpers import Clock, Phone, plan_facts, register, set_up
from tests.sms_helpers import load_demo_content, new_sid, settings_of, subscriber_of

START = datetime(2026, 12, 1, 8, 0, tzinfo=UTC)
PERSON = "+447700900610"
PIN = 4821


@pytest.fixture
def loaded(app: Flask) -> Flask:
    load_demo_content(app)
    return app


def _receive(app: Flask, sid: str, text: str, now: datetime) -> Turn:
    with db.get_database(app).session() as session:
        return receive(session, settings_of(app), IncomingMessage(sid, PERSON, text), now)


def _purge(app: Flask, today: date) -> None:
    with db.get_database(app).session() as session:
        upkeep.purge_retained(session, settings_of(app), today)


def _captured_check_in(app: Flask) -> str:
    """A person with a plan checks in once; the adversary keeps that signed request."""
    register(app, PERSON, "en", "kharkiv")
    set_up(Phone(app, PERSON, Clock(START)), "en", pin=PIN)
    sid = new_sid()
    assert _receive(app, sid, f"OK {PIN}", START + timedelta(hours=1)).replies
    return sid


@pytest.mark.parametrize("days", [8, 30])
def test_a_check_in_replayed_after_the_receipt_retention_is_not_applied(
    loaded: Flask, days: int
) -> None:
    sid = _captured_check_in(loaded)
    later = START + timedelta(days=days)
    _purge(loaded, later.date())
    before = plan_facts(loaded, PERSON)
    replayed = _receive(loaded, sid, f"OK {PIN}", later)
    assert replayed.replies == []
    assert plan_facts(loaded, PERSON) == before  # no check-in, no all-clear, nothing


def test_a_replay_300_days_later_does_not_bring_back_an_erased_person(loaded: Flask) -> None:
    sid = _captured_check_in(loaded)
    later = START + timedelta(days=300)
    _purge(loaded, later.date())  # inactive past retention: crypto-shredded
    with subscriber_of(loaded, PERSON) as found:
        assert found is None
    assert _receive(loaded, sid, f"OK {PIN}", later).replies == []
    with subscriber_of(loaded, PERSON) as found:
        assert found is None  # the replay registered no one


def test_a_receipt_past_retention_keeps_only_its_keyed_digest(loaded: Flask) -> None:
    sid = _captured_check_in(loaded)
    _purge(loaded, (START + timedelta(days=8)).date())
    with db.get_database(loaded).session() as session:
        rows = session.scalars(select(InboundReceipt)).all()
        expected = db.vault_of(session).keyed_digest(RECEIPT_PURPOSE, sid)
        assert expected in {row.digest for row in rows}
        for row in rows:
            assert (row.subscriber_id, row.reply_ct, row.locale) == (None, None, "en")
            assert row.outcome == "forgotten"
            assert sid.encode() not in row.digest


def test_a_digest_goes_after_a_year(loaded: Flask) -> None:
    _captured_check_in(loaded)
    _purge(loaded, (START + timedelta(days=367)).date())
    with db.get_database(loaded).session() as session:
        assert session.scalars(select(InboundReceipt)).all() == []
