"""A captor holding the phone, and a stranger probing numbers (issue 16): DELETE needs the PIN
while check-ins run and the duress PIN only seems to erase; an erasure sends every alert owed
first; CHECKIN STATUS tells nothing without the PIN; a note written under pressure is marked
for the caseworker alone; check-in words work after STOP; ADD tells nothing of a number's
past; a NO outlasts REMOVE and a new set-up; REMOVE gives no opt-in request back."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from flask import Flask
from sqlalchemy import select

from server import db, people, upkeep, vault
from server.checkins import erasure
from server.models.checkins import CheckinPlan, SealedNote
from server.models.messaging import Outbox, OutboxKind, OutboxStatus
from server.models.people import Subscriber
from server.phones import normalize_phone
from tests.checkin_helpers import (
    Clock,
    Phone,
    Recording,
    add_partner,
    check_in,
    deliver,
    plan_facts,
    register,
    run_sweep,
    sent,
    set_up,
)
from tests.sms_helpers import count_rows, load_demo_content, settings_of

START = datetime(2026, 12, 1, 8, 0, tzinfo=UTC)
PERSON, STRANGER = "+44 7700 900801", "+44 7700 900802"
SARA, OTHER = "+447700900803", "+44 7700 900804"
PIN, DURESS = 482193, 917364
NO_PLAN = "You have no check-ins. Reply CHECKIN to set them up."
ERASED = "Done. Nothing is kept."


@pytest.fixture
def loaded(app: Flask) -> Flask:
    load_demo_content(app)
    return app


def _planned(app: Flask, clock: Clock) -> Phone:
    """A person in Kharkiv whose contact Sara agreed; next check-in due 12 hours on."""
    register(app, PERSON, "en", "kharkiv")
    person = Phone(app, PERSON, clock)
    set_up(person, "en", contacts=((SARA, "Sara"),))
    deliver(app, clock.now)
    Phone(app, SARA, clock).ask("YES")
    return person


def _work(app: Flask, now: datetime, channel: Recording) -> list[str]:
    """One worker pass at `now` (sweeps, then sending): the bodies handed to Sara's number."""
    upkeep.worker(db.get_database(app), settings_of(app), channel).run_once(now)
    return [message.body for message in channel.handed if message.to == SARA]


def _alerts_to_sara(channel: Recording) -> list[str]:
    return [m.body for m in channel.handed if m.to == SARA and "not been in touch" in m.body]


def _person_found(app: Flask, number: str = PERSON) -> bool:
    with db.get_database(app).session() as session:
        return people.find_subscriber(session, normalize_phone(number)) is not None


# --- DELETE while check-ins run -----------------------------------------------------------------


@pytest.mark.parametrize("asked", [["DELETE YES"], ["DELETE", "YES"], ["DELETE YES 000000"]])
def test_delete_yes_with_an_active_plan_erases_nothing_without_the_pin(
    loaded: Flask, asked: list[str]
) -> None:
    clock = Clock(START)
    person = _planned(loaded, clock)
    replies = [person.ask(text) for text in asked]
    assert ERASED not in replies
    assert _person_found(loaded)
    assert replies[-1] in (
        "This erases everything Refuge keeps about you, check-ins and trusted contacts too. "
        "Reply DELETE and your PIN to confirm, or MENU to keep it.",
        "That PIN is not right. Try again.",
    )
    # The plan still runs: missed, it alerts Sara.
    channel = Recording()
    assert _alerts_to_sara(channel) == []
    _work(loaded, START + timedelta(hours=13), channel)
    assert len(_alerts_to_sara(channel)) == 1


def test_delete_with_the_right_pin_erases(loaded: Flask) -> None:
    clock = Clock(START)
    person = _planned(loaded, clock)
    assert person.ask(f"DELETE {PIN}") == ERASED
    assert count_rows(loaded, Subscriber) == 1  # Sara, who texted YES
    assert count_rows(loaded, CheckinPlan) == 0


def test_delete_with_the_duress_pin_looks_like_an_erasure_and_alerts(loaded: Flask) -> None:
    clock = Clock(START)
    person = _planned(loaded, clock)
    stranger = Phone(loaded, STRANGER, clock)
    real = stranger.ask("DELETE YES")  # somebody without check-ins, really erased
    assert stranger.ask("DELETE YES") == real
    assert person.ask("DELETE") != real
    assert person.ask(f"{DURESS}") == real == ERASED
    assert person.ask(f"DELETE YES {DURESS}") == real
    channel = Recording()
    _work(loaded, clock.now, channel)
    assert len(_alerts_to_sara(channel)) == 1  # one incident, one alert
    assert _person_found(loaded)  # nothing was erased
    _settings, state, _next = plan_facts(loaded, PERSON)
    assert state.status == "active"


# --- An erasure sends what is owed first ------------------------------------------------------


def test_an_erasure_right_after_the_duress_pin_still_delivers_the_alert(loaded: Flask) -> None:
    clock = Clock(START)
    person = _planned(loaded, clock)
    check_in(person, "en", DURESS)  # raised; the sweep has not run yet
    assert person.ask(f"DELETE YES {PIN}") == ERASED
    assert not _person_found(loaded)  # out of everyone's sight at once
    assert "Reply a number" in Phone(loaded, PERSON, clock).send("hello")[0]  # a newcomer
    channel = Recording()
    _work(loaded, clock.now, channel)
    assert len(_alerts_to_sara(channel)) == 1
    # Once it has left, the next look shreds the person (the newcomer stays).
    _work(loaded, clock.now + erasure.LOOK_AGAIN, channel)
    with db.get_database(loaded).session() as session:
        assert session.scalar(select(CheckinPlan)) is None
        kept = session.scalars(select(Subscriber)).all()
        assert len(kept) == 2  # Sara and the newcomer
        assert all(s.wrapped_data_key is not None for s in kept)


def test_an_erasure_with_a_queued_missed_alert_still_delivers_it(loaded: Flask) -> None:
    clock = Clock(START)
    person = _planned(loaded, clock)
    clock.now = START + timedelta(hours=13)
    run_sweep(loaded, clock.now)  # the alert is queued, not sent
    assert [m.to for m in sent(loaded) if m.kind == "alert"] == ["Sara"]
    assert person.ask(f"DELETE YES {PIN}") == ERASED
    channel = Recording()
    _work(loaded, clock.now, channel)
    assert len(_alerts_to_sara(channel)) == 1
    _work(loaded, clock.now + erasure.LOOK_AGAIN, channel)
    assert count_rows(loaded, CheckinPlan) == 0
    assert count_rows(loaded, Subscriber) == 1  # Sara
    assert count_rows(loaded, Outbox) == 0


def test_an_erasure_with_nothing_owed_erases_at_once(loaded: Flask) -> None:
    clock = Clock(START)
    person = _planned(loaded, clock)
    check_in(person, "en", PIN)
    assert person.ask(f"DELETE YES {PIN}") == ERASED
    assert count_rows(loaded, CheckinPlan) == 0


# --- CHECKIN STATUS ---------------------------------------------------------------------------


def test_checkin_status_without_the_pin_is_what_a_person_without_a_plan_gets(
    loaded: Flask,
) -> None:
    clock = Clock(START)
    person = _planned(loaded, clock)
    stranger = Phone(loaded, STRANGER, clock)
    for asked in ("CHECKIN STATUS", "STATUS", "CHECKIN STATUS 000000"):
        assert person.ask(asked) == stranger.ask(asked) == NO_PLAN, asked
    shown = person.ask(f"CHECKIN STATUS {PIN}")
    assert shown.startswith("Check-ins: on. Next: ")
    assert "Contacts: 1 agreed, 0 waiting." in shown


# --- After STOP -------------------------------------------------------------------------------


def test_ok_with_the_pin_after_stop_is_answered_and_counted(loaded: Flask) -> None:
    clock = Clock(START)
    person = _planned(loaded, clock)
    clock.now = START + timedelta(hours=13)
    run_sweep(loaded, clock.now)  # missed: Sara is alerted
    person.ask("STOP")
    assert check_in(person, "en", PIN) == "Thank you."
    run_sweep(loaded, clock.now)
    assert [m.to for m in sent(loaded) if m.kind == "all_clear"] == ["Sara"]
    _settings, state, _next = plan_facts(loaded, PERSON)
    assert state.incident is None
    assert state.held  # still paused by the STOP until START


def test_delete_yes_after_stop_with_a_held_plan_erases_nothing(loaded: Flask) -> None:
    clock = Clock(START)
    person = _planned(loaded, clock)
    person.ask("STOP")
    assert person.send("DELETE YES") == []
    assert person.send(f"DELETE {DURESS}") == []
    assert _person_found(loaded)
    assert person.send(f"DELETE {PIN}") == []
    assert not _person_found(loaded)


# --- Notes under pressure ---------------------------------------------------------------------


def _opened_notes(app: Flask, private_pem: bytes) -> list[str]:
    key = vault.load_note_private_key(private_pem)
    with db.get_database(app).session() as session:
        notes = session.scalars(select(SealedNote)).all()
        return sorted(
            vault.open_sealed(key, note.sealed, people.note_context(note)) for note in notes
        )


def test_a_note_after_the_duress_pin_or_a_wrong_pin_is_marked_for_the_caseworker_only(
    loaded: Flask,
) -> None:
    private_pem, public = vault.new_note_keypair()
    add_partner(loaded, "kharkiv", "Kharkiv Aid", None, public)
    clock = Clock(START)
    person = _planned(loaded, clock)
    sealed = "Your note is sealed for your caseworker. Only they can read it."
    assert person.ask("NOTE all is well") == sealed
    assert check_in(person, "en", DURESS).startswith("Thank you.")
    assert person.ask("NOTE all is well") == sealed
    check_in(person, "en", PIN)
    assert check_in(person, "en", 111111) == "That PIN is not right. Try again."
    assert person.ask("NOTE all is well") == sealed
    assert _opened_notes(loaded, private_pem) == [
        "[Refuge: written after a wrong PIN]\nall is well",
        "[Refuge: written after the duress PIN was used]\nall is well",
        "all is well",
    ]


# --- PINs -------------------------------------------------------------------------------------


def test_new_pins_need_six_digits_and_older_plans_keep_their_four(loaded: Flask) -> None:
    clock = Clock(START)
    register(loaded, PERSON, "en", "kharkiv")
    person = Phone(loaded, PERSON, clock)
    assert "6 to 8 digits" in person.ask("CHECKIN")
    assert person.ask("4821").startswith("A PIN is 6 to 8 digits. Check-in set-up.")
    assert person.ask(f"{PIN}").startswith("Optional: a second, duress PIN of 6 to 8 digits.")
    assert person.ask("9173").startswith("A PIN is 6 to 8 digits. Optional:")
    # A plan set up before: its 4-digit PIN still checks in.
    set_up(Phone(loaded, STRANGER, clock), "en", contacts=((SARA, "Sara"),))
    with db.get_database(loaded).session() as session:
        found = people.find_subscriber(session, normalize_phone(STRANGER))
        plan = session.scalar(select(CheckinPlan).where(CheckinPlan.subscriber_id == found.id))
        assert plan is not None
        plan.pin = db.vault_of(session).hash_pin("4821")
    assert Phone(loaded, STRANGER, clock).ask("OK 4821").startswith("Thank you.")


# --- Contacts ---------------------------------------------------------------------------------


def _asking(app: Flask, clock: Clock, number: str) -> Phone:
    """A person at the contacts question of the set-up."""
    register(app, number, "en", "kharkiv")
    phone = Phone(app, number, clock)
    for answer in ("CHECKIN", f"{PIN}", "NO", "12", "30", "Pat"):
        phone.ask(answer)
    return phone


def _opt_ins_to(app: Flask, number: str) -> int:
    index_of = normalize_phone(number).e164
    with db.get_database(app).session() as session:
        index = db.vault_of(session).blind_index(index_of)
        rows = session.scalars(select(Outbox).where(Outbox.kind == OutboxKind.OPT_IN)).all()
        return sum(
            1 for row in rows if row.contact is not None and row.contact.phone_index == index
        )


def test_the_add_reply_is_the_same_whatever_the_numbers_past(loaded: Flask) -> None:
    clock = Clock(START)
    opted_out, declined, pending, new = (f"+44 7700 90082{n}" for n in range(4))
    Phone(loaded, opted_out, clock).send("STOP")
    other = _asking(loaded, clock, "+44 7700 900829")
    other.ask(f"ADD {declined} Dina")
    other.ask(f"ADD {pending} Pia")
    deliver(loaded, clock.now)
    Phone(loaded, declined, clock).ask("NO")
    person = _asking(loaded, clock, PERSON)
    replies = {person.ask(f"ADD {number} Sara") for number in (opted_out, declined, pending, new)}
    assert replies == {"Sara added and asked. Add another, or reply DONE."}
    person.ask("DONE")
    person.ask("NO")
    assert person.ask("YES").startswith("Check-ins are on.")
    assert "Contacts: 0 agreed, 4 waiting." in person.ask(f"CHECKIN STATUS {PIN}")
    deliver(loaded, clock.now)
    # Nobody was asked twice, and only the new number was asked at all.
    assert [_opt_ins_to(loaded, n) for n in (opted_out, declined, pending, new)] == [0, 1, 1, 1]


def test_a_no_outlasts_remove_and_a_new_set_up(loaded: Flask) -> None:
    clock = Clock(START)
    person = _asking(loaded, clock, PERSON)
    person.ask(f"ADD {OTHER} Omar")
    person.ask(f"ADD {SARA} Sara")
    person.ask("DONE")
    person.ask("NO")
    person.ask("YES")
    deliver(loaded, clock.now)
    Phone(loaded, SARA, clock).ask("NO")
    assert person.ask(f"REMOVE Sara {PIN}").startswith("Contact removed: Sara.")
    # Back through a new set-up: added, as anyone is, and never asked again.
    person.ask(f"STOP CHECKIN {PIN}")
    for answer in ("CHECKIN", f"{PIN}", "NO", "12", "30", "Pat"):
        person.ask(answer)
    assert person.ask(f"ADD {SARA} Sara") == "Sara added and asked. Add another, or reply DONE."
    deliver(loaded, clock.now)
    assert _opt_ins_to(loaded, SARA) == 1
    Phone(loaded, SARA, clock).send("YES")  # no request is waiting for her answer
    with db.get_database(loaded).session() as session:
        index = db.vault_of(session).blind_index(normalize_phone(SARA).e164)
        plan = session.scalar(select(CheckinPlan))
        assert plan is not None
        contact = next(c for c in plan.subscriber.contacts if c.phone_index == index)
        assert contact.consent.value == "declined"


def test_remove_does_not_give_an_opt_in_request_back(loaded: Flask) -> None:
    clock = Clock(START)
    person = _asking(loaded, clock, PERSON)
    for n, name in enumerate(("Ana", "Bea", "Cyd", "Dov", "Eli")):
        assert person.ask(f"ADD +44 7700 90084{n} {name}").startswith(f"{name} added and asked.")
    person.ask("DONE")
    person.ask("NO")
    person.ask("YES")
    assert person.ask(f"REMOVE Ana {PIN}").startswith("Contact removed: Ana.")
    person.ask(f"STOP CHECKIN {PIN}")
    for answer in ("CHECKIN", f"{PIN}", "NO", "12", "30", "Pat"):
        person.ask(answer)
    assert person.ask("ADD +44 7700 900849 Sixth") == (
        "Too many requests today. Add more tomorrow. Reply DONE."
    )
    clock.now += timedelta(days=1)
    assert person.ask("ADD +44 7700 900849 Sixth").startswith("Sixth added and asked.")


def test_a_yes_before_the_request_was_sent_confirms_nothing(loaded: Flask) -> None:
    clock = Clock(START)
    person = _asking(loaded, clock, PERSON)
    person.ask(f"ADD {SARA} Sara")
    Phone(loaded, SARA, clock).send("YES")  # the request has not left yet
    deliver(loaded, clock.now)
    with db.get_database(loaded).session() as session:
        row = session.scalar(select(Outbox).where(Outbox.kind == OutboxKind.OPT_IN))
        assert row is not None
        assert row.status is OutboxStatus.SENT
        assert row.contact is not None
        assert row.contact.consent.value == "pending"
