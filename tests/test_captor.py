"""A captor holding the phone (issue 16) cannot tell that a check-in plan exists: CHECKIN (or
4 from the menu) starts what looks like a first set-up and changes nothing of the running plan,
RESUME needs the PIN; the duress PIN typed into the pretended set-up still alerts."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from flask import Flask

from server import db, upkeep
from tests.checkin_helpers import (
    Clock,
    Phone,
    Recording,
    check_in,
    deliver,
    plan_facts,
    register,
    set_up,
)
from tests.sms_helpers import keyword, load_demo_content, settings_of

START = datetime(2026, 12, 1, 8, 0, tzinfo=UTC)
PERSON, STRANGER = "+44 7700 900811", "+44 7700 900812"
SARA, OTHER = "+447700900813", "+44 7700 900814"
PIN, DURESS, NEW_PIN = 482193, 917364, 650274
NO_PLAN = "You have no check-ins. Reply CHECKIN to set them up."
#: A whole set-up, answer by answer, as a captor would type it.
SET_UP = ("CHECKIN", f"{NEW_PIN}", "NO", "6", "30", "Pat", f"ADD {OTHER} Omar", "DONE", "YES")


@pytest.fixture
def loaded(app: Flask) -> Flask:
    load_demo_content(app)
    return app


def _planned(app: Flask, clock: Clock) -> tuple[Phone, Phone]:
    """A person in Kharkiv whose contact Sara agreed (next check-in due 12 hours on), and a
    stranger in Kharkiv, in the same language, who never set up check-ins."""
    register(app, PERSON, "en", "kharkiv")
    register(app, STRANGER, "en", "kharkiv")
    person = Phone(app, PERSON, clock)
    set_up(person, "en", contacts=((SARA, "Sara"),))
    deliver(app, clock.now)
    Phone(app, SARA, clock).ask("YES")
    return person, Phone(app, STRANGER, clock)


def _alerts_to_sara(app: Flask, now: datetime) -> int:
    """One worker pass at `now` (sweeps, then sending): the alerts handed to Sara."""
    channel = Recording()
    upkeep.worker(db.get_database(app), settings_of(app), channel).run_once(now)
    return sum(1 for m in channel.handed if m.to == SARA and "not been in touch" in m.body)


@pytest.mark.parametrize("opening", ["CHECKIN", "4"])
def test_checkin_with_a_running_plan_is_answered_as_a_first_set_up(
    loaded: Flask, opening: str
) -> None:
    clock = Clock(START)
    person, stranger = _planned(loaded, clock)
    for phone in (person, stranger):
        phone.ask("MENU")
    assert person.ask(opening) == stranger.ask(opening)
    assert person.ask("0") == stranger.ask("0")


def test_a_whole_pretended_set_up_reads_as_a_real_one_and_changes_nothing(loaded: Flask) -> None:
    clock = Clock(START)
    person, stranger = _planned(loaded, clock)
    before = plan_facts(loaded, PERSON)
    for answer in SET_UP:
        assert person.ask(answer) == stranger.ask(answer), answer
    assert plan_facts(loaded, PERSON) == before  # same PIN, schedule, contacts, due time
    assert check_in(person, "en", NEW_PIN) == "That PIN is not right. Try again."
    assert person.ask(f"CHECKIN STATUS {PIN}").startswith("Check-ins: on.")
    assert _alerts_to_sara(loaded, START + timedelta(hours=11)) == 0
    assert _alerts_to_sara(loaded, START + timedelta(hours=13)) == 1  # the plan still runs


def test_the_duress_pin_typed_into_a_pretended_set_up_alerts(loaded: Flask) -> None:
    clock = Clock(START)
    person, stranger = _planned(loaded, clock)
    assert person.ask("CHECKIN") == stranger.ask("CHECKIN")
    assert person.ask(f"{DURESS}") == stranger.ask(f"{DURESS}")
    assert _alerts_to_sara(loaded, clock.now) == 1


def test_the_duress_pin_as_the_pretended_duress_pin_alerts(loaded: Flask) -> None:
    clock = Clock(START)
    person, stranger = _planned(loaded, clock)
    for answer in ("CHECKIN", f"{NEW_PIN}", f"{DURESS}"):
        assert person.ask(answer) == stranger.ask(answer), answer
    assert _alerts_to_sara(loaded, clock.now) == 1


def test_resume_without_the_pin_is_what_a_person_without_a_plan_gets(loaded: Flask) -> None:
    clock = Clock(START)
    person, stranger = _planned(loaded, clock)
    assert (
        person.ask(f"PAUSE {PIN}") == "Check-ins paused. Reply RESUME and your PIN to start again."
    )
    for asked in ("RESUME", "RESUME 000000", "RESUME 12"):
        assert person.ask(asked) == stranger.ask(asked) == NO_PLAN, asked
    assert person.ask(f"CHECKIN STATUS {PIN}").startswith("Check-ins: paused.")
    assert person.ask(f"RESUME {PIN}").startswith("Check-ins resumed. Next: ")
    assert person.ask(f"CHECKIN STATUS {PIN}").startswith("Check-ins: on.")


def test_after_a_pretended_erasure_the_next_message_is_a_newcomers(loaded: Flask) -> None:
    clock = Clock(START)
    register(loaded, PERSON, "fr", "kharkiv")
    register(loaded, STRANGER, "fr", "kharkiv")
    person, stranger = Phone(loaded, PERSON, clock), Phone(loaded, STRANGER, clock)
    set_up(person, "fr", contacts=((SARA, "Sara"),))
    erased = stranger.ask(f"{keyword('fr', 'DELETE')} {keyword('fr', 'YES')}")
    assert person.ask(f"{keyword('fr', 'DELETE')} {DURESS}") == erased
    # The same greeting in the same language (English for a UK number), not the person's French.
    greeted = person.ask("bonjour")
    assert greeted == stranger.ask("bonjour")
    assert greeted.startswith("Refuge. Reply a number:")
    assert plan_facts(loaded, PERSON)[1].status == "active"  # the plan runs on, and alerts


def test_a_pretended_set_up_asks_the_time_zone_where_a_first_one_would(loaded: Flask) -> None:
    clock = Clock(START)
    person_us, stranger_us = "+1 555 555 0110", "+1 555 555 0111"  # no region, no one zone
    for number in (person_us, stranger_us):
        register(loaded, number, "en")
    person, stranger = Phone(loaded, person_us, clock), Phone(loaded, stranger_us, clock)
    for answer in ("CHECKIN", f"{PIN}", "NO", "12", "Kyiv", "30", "Amina", f"ADD {SARA} Sara"):
        person.ask(answer)
    assert person.ask("DONE").startswith("Your contacts will get:")
    assert person.ask("YES").startswith("Check-ins are on.")
    for answer in ("CHECKIN", f"{NEW_PIN}", "NO", "6", "UTC+3", "30", "Pat", f"ADD {OTHER} Omar"):
        assert person.ask(answer) == stranger.ask(answer), answer
    for answer in ("DONE", "YES"):
        assert person.ask(answer) == stranger.ask(answer), answer
    assert plan_facts(loaded, person_us)[0].zone == "Europe/Kyiv"
