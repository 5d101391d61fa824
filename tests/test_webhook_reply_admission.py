"""The webhook's own replies (TwiML) obey the country allow-list and the daily caps that queued
messages obey: a reply Refuge may not send is an empty TwiML answer, counted like other drops.

The foreign numbers are the audit's (Latvia, an Iridium satellite phone, São Tomé): they are
only ever the sender of a test request here, never texted.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import select

import server.conversation.webhook
from server import db
from server.app import create_app
from server.config import Settings
from server.models.messaging import OutboundCount, Tally
from tests.sms_helpers import Handset

COUNTRIES = "GB,UA,BD,SD"
OUTSIDE = {"Latvia": "+37120012345", "Iridium": "+881631234567", "São Tomé": "+2399901234"}
INSIDE = ["+447700900650", "+249912345678"]  # Britain (fiction range) and Sudan


def _app(make_settings: Callable[..., Settings], **overrides: str) -> Iterator[Flask]:
    app = create_app(make_settings(REFUGE_SMS_COUNTRIES=COUNTRIES, **overrides))
    database = db.get_database(app)
    db.Base.metadata.create_all(database.engine)
    yield app
    database.dispose()


@pytest.fixture
def listed(make_settings: Callable[..., Settings]) -> Iterator[Flask]:
    yield from _app(make_settings)


@pytest.fixture
def capped(make_settings: Callable[..., Settings]) -> Iterator[Flask]:
    yield from _app(make_settings, REFUGE_SMS_CAP_PER_DAY="3")


def _tallies(app: Flask) -> dict[tuple[str, str], int]:
    with db.get_database(app).session() as session:
        rows = session.execute(select(Tally.kind, Tally.subject, Tally.count)).all()
    return {(kind, subject): count for kind, subject, count in rows}


@pytest.mark.parametrize("place", sorted(OUTSIDE))
def test_a_reply_to_a_number_outside_the_allow_list_is_empty_twiml_and_counted(
    listed: Flask, place: str, caplog: pytest.LogCaptureFixture
) -> None:
    phone = Handset(listed, OUTSIDE[place])
    with caplog.at_level(logging.WARNING):
        assert phone.silent("HELP")
        assert phone.silent("MENU")
    assert _tallies(listed)[("outbound_country", "twiml_reply")] == 2
    assert "dropped: reply/country 1" in caplog.text
    assert OUTSIDE[place][4:] not in caplog.text


@pytest.mark.parametrize("number", INSIDE)
def test_a_reply_to_a_listed_country_still_goes(listed: Flask, number: str) -> None:
    assert Handset(listed, number).ask("HELP")
    assert ("outbound_country", "twiml_reply") not in _tallies(listed)


def test_replies_over_a_daily_cap_are_empty_twiml_and_counted(capped: Flask) -> None:
    first, second = Handset(capped, INSIDE[0]), Handset(capped, "+447700900651")
    answered = [first.ask("HELP"), second.ask("HELP"), first.ask("MENU")]
    assert all(answered)
    assert second.silent("MENU")  # the fourth message of the day, over REFUGE_SMS_CAP_PER_DAY
    assert first.silent("HELP")
    assert _tallies(capped)[("outbound_capped", "twiml_reply")] == 2


def test_no_apology_goes_to_a_number_outside_the_allow_list(
    listed: Flask, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(*args: Any, **kwargs: Any) -> Any:
        raise RuntimeError("the database fell over")

    monkeypatch.setattr(server.conversation.webhook, "receive", broken)
    assert Handset(listed, OUTSIDE["Latvia"]).silent("HELP")
    assert Handset(listed, INSIDE[0]).ask("HELP").startswith("Sorry")


def test_the_development_simulator_is_answered_without_a_list(
    make_settings: Callable[..., Settings],
) -> None:
    # `refuge demo` serves Bangladesh, Sudan and Ukraine; its simulator texts from British and
    # American fiction numbers, through the console channel, where no reply leaves the machine.
    app = create_app(make_settings(REFUGE_SMS_COUNTRIES=""))
    database = db.get_database(app)
    db.Base.metadata.create_all(database.engine)
    try:
        assert Handset(app, INSIDE[0]).ask("HELP")
        assert Handset(app, OUTSIDE["Latvia"]).silent("HELP")
    finally:
        database.dispose()


def test_replies_never_use_up_the_daily_count_an_alert_needs(capped: Flask) -> None:
    phone = Handset(capped, INSIDE[0])
    for _ in range(3):
        assert phone.ask("HELP")
    assert phone.silent("HELP")  # the replies' own count is full...
    with db.get_database(capped).session() as session:
        counts = dict(session.execute(select(OutboundCount.scope, OutboundCount.count)).all())
    assert counts == {"reply_region": 3, "reply_total": 3}  # ...not the queue's


def test_a_camp_sharing_one_prefix_is_answered_past_the_prefix_cap(
    make_settings: Callable[..., Settings],
) -> None:
    """A prefix (+44 7700, or +880 1712 in Cox's Bazar) is a whole operator's range: everyone
    in a camp may share it. The prefix cap bounds what Refuge starts (opt-ins, reminders),
    never its answers to people who wrote: they have their own limits per sender."""
    for app in _app(make_settings, REFUGE_SMS_CAP_PER_PREFIX="2"):
        people = [Handset(app, f"+4477009006{n:02d}") for n in range(4)]
        assert all(person.ask("HELP") for person in people)
