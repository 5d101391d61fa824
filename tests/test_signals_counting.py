"""What Refuge counts for partners' signals, through the real webhook: requests by category,
opt-outs, and the words of unmatched rumour checks, written out only once ten different
numbers sent them, and never a message, a number or a word fewer numbers used."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from flask import Flask
from sqlalchemy import select

from server import db
from server.models.messaging import Tally, WordSighting
from server.signals import counting
from server.signals.words import rumour_words
from tests.checkin_helpers import register
from tests.sms_helpers import MEDICAL, Handset, handset_number, load_demo_content, settings_of

RUMOUR = "CHECK they say the bridge at Saltivka closes tonight, call 07700900123"


@pytest.fixture
def loaded(app: Flask) -> Flask:
    load_demo_content(app)
    return app


def _tallies(app: Flask, kind: str) -> dict[tuple[str, str], int]:
    with db.get_database(app).session() as session:
        rows = session.execute(
            select(Tally.subject, Tally.region_slug, Tally.count).where(Tally.kind == kind)
        ).all()
    return {(subject, region): count for subject, region, count in rows}


def _everything_stored(app: Flask) -> str:
    """Every text and byte value of the tallies and sightings, joined (to search in)."""
    with db.get_database(app).session() as session:
        tallies = session.execute(select(Tally.kind, Tally.subject, Tally.region_slug)).all()
        sightings = session.scalars(select(WordSighting)).all()
        blobs = [s.word_digest.hex() + s.sender_digest.hex() for s in sightings]
    return " ".join([" ".join(map(str, row)) for row in tallies] + blobs)


def test_a_request_is_counted_by_category_and_region(loaded: Flask) -> None:
    register(loaded, handset_number(1), "en", "kharkiv")
    phone = Handset(loaded, handset_number(1))
    phone.ask("FIND")
    phone.ask(str(MEDICAL))
    assert _tallies(loaded, counting.REQUEST) == {("medical", "kharkiv"): 1}


def test_an_opt_out_is_counted_once_per_person(loaded: Flask) -> None:
    register(loaded, handset_number(2), "en", "kharkiv")
    phone = Handset(loaded, handset_number(2))
    phone.send("STOP")
    phone.send("STOP")
    assert _tallies(loaded, counting.OPT_OUT) == {("", "kharkiv"): 1}


def test_a_rumour_word_is_written_out_only_once_ten_numbers_sent_it(loaded: Flask) -> None:
    numbers = [handset_number(10 + n) for n in range(10)]
    for number in numbers:
        register(loaded, number, "en", "kharkiv")
    for number in numbers[:9]:
        Handset(loaded, number).send(RUMOUR)
        Handset(loaded, number).send(RUMOUR)  # the same number twice counts as one number
    stored = _everything_stored(loaded)
    assert "bridge" not in stored
    assert "saltivka" not in stored
    assert _tallies(loaded, counting.RUMOUR_WORD) == {}
    Handset(loaded, numbers[9]).send(RUMOUR)
    words = _tallies(loaded, counting.RUMOUR_WORD)
    # Each word counts the unmatched checks that held it: 9 numbers twice, and one once.
    assert words[("bridge", "kharkiv")] == 19
    assert {word for word, _region in words} == {
        "they",
        "say",
        "the",
        "bridge",
        "saltivka",
        "closes",
        "tonight",
        "call",
    }
    with db.get_database(loaded).session() as session:
        assert session.scalars(select(WordSighting)).all() == []  # who sent them: forgotten
    assert _tallies(loaded, counting.CONTEXT_CHECK) == {("unverified", "kharkiv"): 19}


def test_no_message_or_number_is_ever_stored_from_a_rumour_check(loaded: Flask) -> None:
    numbers = [handset_number(30 + n) for n in range(12)]
    for number in numbers:
        register(loaded, number, "en", "kharkiv")
        Handset(loaded, number).send(RUMOUR)
    stored = _everything_stored(loaded)
    for secret in ("07700900123", "7700900", RUMOUR.lower(), "closes tonight"):
        assert secret not in stored
    for number in numbers:
        assert number.replace(" ", "")[1:] not in stored


def test_words_keep_no_digits_and_fold_case_and_accents() -> None:
    assert rumour_words("Café CAFE call +44 7700 900123 or pin1234, ok") == ("cafe", "call")


def test_the_purge_forgets_last_weeks_sightings(app: Flask) -> None:
    monday = date(2026, 11, 30)
    with db.get_database(app).session() as session:
        counting.note_words(session, "+447700900501", "kharkiv", ["bridge"], monday)
        counting.note_words(session, "+447700900502", "kharkiv", ["bridge"], monday + timedelta(7))
    with db.get_database(app).session() as session:
        later = monday + timedelta(8)
        forgotten = counting.forget_past_sightings(session, settings_of(app), later)
        weeks = session.scalars(select(WordSighting.week)).all()
    assert (forgotten, weeks) == (1, [monday + timedelta(7)])
