"""The sweep: exactly once however often, concurrently or late; schedules across DST; consent;
pause; erasure; and what a seized database still holds."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from flask import Flask
from sqlalchemy import func, select

from server import db, people, vault
from server.checkins.schedule import Schedule
from server.models.checkins import CheckinEvent, CheckinPlan, SealedNote
from server.phones import normalize_phone
from tests.checkin_helpers import (
    Clock,
    Phone,
    add_partner,
    check_in,
    deliver,
    plan_facts,
    register,
    run_sweep,
    sent,
    set_up,
)
from tests.seizure import seize
from tests.sms_helpers import count_rows, load_demo_content, number_forms, settings_of

START = datetime(2026, 12, 1, 8, 0, tzinfo=UTC)
PERSON = "+44 7700 900701"
SARA, OMAR, NADIA, LINA = "+44 7700 900702", "+44 7700 900703", "+44 7700 900704", "+44 7700 900705"
NGO_LINE = "+44 7700 900799"
PIN = 482193
NOTE = "they took my brother to the northern checkpoint"


@pytest.fixture
def loaded(app: Flask) -> Flask:
    load_demo_content(app)
    return app


def _planned(app: Flask, clock: Clock, **choices: object) -> Phone:
    """A person in Kharkiv with Sara (agrees) and Lina (agrees, second stage)."""
    register(app, PERSON, "en", "kharkiv")
    person = Phone(app, PERSON, clock)
    set_up(
        person,
        "en",
        contacts=(("+447700900702", "Sara"), ("+447700900705", "Lina")),
        later="2",
        **choices,  # type: ignore[arg-type]
    )
    deliver(app, clock.now)  # the opt-ins leave
    Phone(app, SARA, clock).ask("YES")
    Phone(app, LINA, clock).ask("YES")
    return person


def _causes(app: Flask, kind: str) -> list[str]:
    return [m.cause for m in sent(app) if m.kind == kind]


def test_sweeps_twice_and_late_queue_each_owed_message_once(loaded: Flask) -> None:
    clock = Clock(START)
    _planned(loaded, clock)
    # Three days late: the reminder is no longer owed, both alert stages are, once each.
    late = START + timedelta(days=3)
    first = run_sweep(loaded, late)
    again = run_sweep(loaded, late)
    later = run_sweep(loaded, late + timedelta(days=2))
    assert first.alerts == 2
    assert again.alerts == 0
    assert later.alerts == 0
    assert sorted(m.to for m in sent(loaded) if m.kind == "alert") == ["Lina", "Sara"]
    assert _causes(loaded, "reminder") == []
    _s, _state, next_look = plan_facts(loaded, PERSON)
    assert next_look is None  # all owed is sent; nothing to look at until a check-in


def test_concurrent_sweeps_queue_each_alert_once(loaded: Flask) -> None:
    clock = Clock(START)
    numbers = [f"+44 7700 9007{10 + n:02d}" for n in range(6)]
    for n, number in enumerate(numbers):
        register(loaded, number, "en", "kharkiv")
        contact = f"+44 7700 9007{40 + n:02d}"
        set_up(Phone(loaded, number, clock), "en", contacts=((contact.replace(" ", ""), "Sara"),))
        deliver(loaded, clock.now)
        Phone(loaded, contact, clock).ask("YES")
    due = START + timedelta(hours=13)
    database = db.get_database(loaded)
    errors: list[BaseException] = []
    barrier = threading.Barrier(3)

    def one_pass() -> None:
        try:
            barrier.wait(timeout=10)
            with database.session() as session:
                from server.checkins.sweep import sweep

                sweep(session, settings_of(loaded), due)
        except BaseException as exc:  # reported below
            errors.append(exc)

    threads = [threading.Thread(target=one_pass) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert errors == []
    alerts = _causes(loaded, "alert")
    assert len(alerts) == len(set(alerts)) == 6


def test_a_contact_who_never_agrees_is_never_alerted(loaded: Flask) -> None:
    clock = Clock(START)
    register(loaded, PERSON, "en", "kharkiv")
    person = Phone(loaded, PERSON, clock)
    set_up(
        person,
        "en",
        contacts=(("+447700900702", "Sara"), ("+447700900703", "Omar"), ("+447700900704", "Nadia")),
    )
    deliver(loaded, clock.now)  # the opt-ins leave
    Phone(loaded, OMAR, clock).ask("NO")  # declines
    Phone(loaded, NADIA, clock).send("STOP")  # stops everything
    # Sara never answers. The person was told, neutrally, who will not be a contact.
    told = [m.body for m in sent(loaded) if m.kind == "reply"]
    assert sorted(told) == [
        "Nadia will not be one of your contacts.",
        "Omar will not be one of your contacts.",
    ]
    run_sweep(loaded, START + timedelta(days=2))
    assert [m for m in sent(loaded) if m.kind == "alert"] == []
    # Nobody can be asked again: not by this person, not by anyone else.
    register(loaded, "+44 7700 900790", "en")
    other = Phone(loaded, "+44 7700 900790", clock)
    other.ask("CHECKIN")
    for answer in ("555555", "NO", "24", "60", "Bilal"):
        other.ask(answer)
    for number in ("+447700900703", "+447700900704", "+447700900702"):
        # Told as anyone is (a number's past is nobody's business), and never asked.
        added = other.ask(f"ADD {number} Someone")
        assert added == "Someone added and asked. Add another, or reply DONE."
    assert len([m for m in sent(loaded) if m.kind == "opt_in"]) == 3


def test_a_paused_plan_alerts_nobody_and_resumes_from_now(loaded: Flask) -> None:
    clock = Clock(START)
    person = _planned(loaded, clock)
    assert "PIN" in person.ask("PAUSE")  # a PIN is needed: a phone in other hands cannot pause
    assert "paused" in person.ask(f"PAUSE {PIN}")
    run_sweep(loaded, START)
    run_sweep(loaded, START + timedelta(days=4))
    assert [m for m in sent(loaded) if m.kind in ("alert", "reminder")] == []
    clock.now = START + timedelta(days=4)
    assert "resumed" in person.ask(f"RESUME {PIN}")
    _s, state, _n = plan_facts(loaded, PERSON)
    assert state.due_at == clock.now + timedelta(hours=12)
    run_sweep(loaded, clock.now)
    run_sweep(loaded, clock.now + timedelta(hours=12, minutes=30))
    assert sorted(m.to for m in sent(loaded) if m.kind == "alert") == ["Sara"]


def test_a_daily_time_stays_local_across_a_daylight_saving_change() -> None:
    kyiv = ZoneInfo("Europe/Kyiv")  # EET to EEST on 28 March 2027
    schedule = Schedule(daily_at="09:00", zone="Europe/Kyiv")
    due = schedule.next_due(datetime(2027, 3, 26, 12, 0, tzinfo=UTC))
    seen = []
    for _ in range(4):
        seen.append((due.astimezone(kyiv).strftime("%d %H:%M"), due.strftime("%H:%M")))
        due = schedule.confirmed(due, due - timedelta(minutes=10))
    assert seen == [
        ("27 09:00", "07:00"),
        ("28 09:00", "06:00"),  # summer time: the same local hour is an hour earlier in UTC
        ("29 09:00", "06:00"),
        ("30 09:00", "06:00"),
    ]
    back = Schedule(daily_at="09:00", zone="Europe/Kyiv").next_due(
        datetime(2027, 10, 30, 12, 0, tzinfo=UTC)
    )
    assert back.astimezone(kyiv).strftime("%d %H:%M") == "31 09:00"
    assert back.strftime("%H:%M") == "07:00"


def test_a_daily_plan_set_by_sms_reminds_at_local_times_across_the_change(loaded: Flask) -> None:
    clock = Clock(datetime(2027, 3, 26, 12, 0, tzinfo=UTC))
    _planned(loaded, clock, schedule="9:00")
    kyiv = ZoneInfo("Europe/Kyiv")
    for day in (27, 28, 29):
        _s, state, _n = plan_facts(loaded, PERSON)
        assert state.due_at is not None
        assert state.due_at.astimezone(kyiv).strftime("%d %H:%M") == f"{day} 09:00"
        run_sweep(loaded, state.due_at - timedelta(minutes=30))
        clock.now = state.due_at - timedelta(minutes=5)
        check_in(Phone(loaded, PERSON, clock), "en", PIN)
    reminders = [m.body for m in sent(loaded) if m.kind == "reminder"]
    assert len(reminders) == 3
    assert all("09:00" in body for body in reminders)


def test_notes_are_sealed_for_the_ngo_and_the_escalation_names_the_latest(loaded: Flask) -> None:
    private_pem, public = vault.new_note_keypair()
    add_partner(loaded, "kharkiv-oblast", "Kharkiv Aid", NGO_LINE, public)
    clock = Clock(START)
    register(loaded, PERSON, "en", "kharkiv")
    person = Phone(loaded, PERSON, clock)
    replies = set_up(person, "en", contacts=(("+447700900702", "Sara"),))
    assert "Kharkiv Aid" in replies[-1]
    assert "Check-ins are on" in person.ask("YES")
    assert "sealed" in person.ask(f"NOTE {NOTE}")
    run_sweep(loaded, START + timedelta(days=1))
    to_ngo = [m for m in sent(loaded) if m.kind == "alert" and m.to == "Kharkiv Aid"]
    assert len(to_ngo) == 1
    with db.get_database(loaded).session() as session:
        note = session.scalars(select(SealedNote)).one()
        assert note.id.hex[:8] in to_ngo[0].body
        assert "+447700900701" in to_ngo[0].body  # the NGO can call the person back
        opened = vault.open_sealed(
            vault.load_note_private_key(private_pem), note.sealed, people.note_context(note)
        )
    assert opened == NOTE
    assert [m.to for m in sent(loaded) if m.kind == "alert" and m.to != "Kharkiv Aid"] == []


def test_erasing_the_person_erases_their_plan_history_and_notes(loaded: Flask) -> None:
    _private, public = vault.new_note_keypair()
    add_partner(loaded, "kharkiv", "Kharkiv Aid", None, public)
    clock = Clock(START)
    person = _planned(loaded, clock)  # the NGO has no alert line, so it is not offered
    person.ask(f"NOTE {NOTE}")  # it still takes notes
    run_sweep(loaded, START + timedelta(days=1))
    assert count_rows(loaded, CheckinEvent) > 0
    person.ask(f"DELETE {PIN}")
    # The alert (and the all-clear the PIN owes) leave first; the next look shreds the rest.
    deliver(loaded, START + timedelta(days=1))
    run_sweep(loaded, START + timedelta(days=1, minutes=5))
    for model in (CheckinPlan, CheckinEvent, SealedNote):
        assert count_rows(loaded, model) == 0


def test_a_seized_database_holds_no_number_pin_name_or_note(loaded: Flask) -> None:
    _private, public = vault.new_note_keypair()
    add_partner(loaded, "kharkiv", "Kharkiv Aid", NGO_LINE, public)
    clock = Clock(START)
    person = _planned(loaded, clock, pin=482135, duress=973162, message="Amina needs you now")
    assert "Check-ins are on" in person.ask("YES")
    person.ask(f"NOTE {NOTE}")
    run_sweep(loaded, START + timedelta(days=1))
    clock.now = START + timedelta(days=1, hours=1)
    check_in(person, "en", 482135)
    check_in(person, "en", 973162)
    run_sweep(loaded, clock.now)
    with db.get_database(loaded).session() as session:
        assert session.scalar(select(func.count()).select_from(CheckinPlan)) == 1
    raw = seize(db.get_database(loaded))
    secrets = [b"482135", b"973162", b"Amina", b"Sara", b"Lina", NOTE.encode(), b"needs you"]
    assert [m.to for m in sent(loaded) if m.kind == "alert"].count("Kharkiv Aid") == 2
    for number in (PERSON, SARA, LINA, NGO_LINE):
        secrets += [form.encode() for form in number_forms(number) if len(form) > 8]
        secrets.append(normalize_phone(number).e164.encode("utf-16-le"))
    found = [secret for secret in secrets if secret in raw]
    assert found == []


def test_a_duress_pin_during_an_alert_alerts_nobody_twice_and_one_all_clear_follows(
    loaded: Flask,
) -> None:
    clock = Clock(START)
    person = _planned(loaded, clock, duress=917364)
    run_sweep(loaded, START + timedelta(hours=13))  # missed: Sara alerted
    clock.now = START + timedelta(hours=14)
    check_in(person, "en", 917364)  # forced to check in: the incident is already open
    run_sweep(loaded, clock.now)
    assert [m.to for m in sent(loaded) if m.kind == "alert"] == ["Sara"]
    clock.now = START + timedelta(hours=15)
    check_in(person, "en", PIN)
    run_sweep(loaded, clock.now)
    run_sweep(loaded, clock.now + timedelta(hours=1))
    assert [m.to for m in sent(loaded) if m.kind == "all_clear"] == ["Sara"]


def test_the_duress_pin_used_again_in_its_incident_answers_alike_and_alerts_once(
    loaded: Flask,
) -> None:
    clock = Clock(START)
    person = _planned(loaded, clock, duress=917364)
    clock.now = START + timedelta(hours=1)
    first = check_in(person, "en", 917364)
    run_sweep(loaded, clock.now)
    assert [m.to for m in sent(loaded) if m.kind == "alert"] == ["Sara"]
    clock.now = START + timedelta(hours=2)
    again = check_in(person, "en", 917364)  # made to check in again, the same way
    run_sweep(loaded, clock.now)
    clock.now = START + timedelta(hours=3)
    real = check_in(person, "en", PIN)
    assert first.startswith("Thank you. Next check-in:")
    assert again.startswith("Thank you. Next check-in:")  # as the PIN answers
    assert real.startswith("Thank you. Next check-in:")
    run_sweep(loaded, clock.now + timedelta(hours=7))  # Lina's stage never came: all is well
    assert sorted(m.to for m in sent(loaded) if m.kind == "alert") == ["Sara"]
    assert [m.to for m in sent(loaded) if m.kind == "all_clear"] == ["Sara"]
    # A new incident later is a new one: alerted again, once.
    clock.now = START + timedelta(hours=4)
    check_in(person, "en", 917364)
    run_sweep(loaded, clock.now)
    assert [m.to for m in sent(loaded) if m.kind == "alert"] == ["Sara", "Sara"]


def test_the_real_pin_after_the_duress_pin_ends_its_incident_and_the_next_miss_alerts(
    loaded: Flask,
) -> None:
    """Found by the simulation (seed 7): a duress PIN and then the real PIN within one worker
    pass left the duress incident to open after the real check-in; it stayed open, and the
    person's next missed check-in alerted nobody. Now the duress alert still leaves (a signal
    is never lost), its all-clear follows at a later pass, and the next miss alerts again."""
    clock = Clock(START)
    person = _planned(loaded, clock, duress=917364)
    clock.now = START + timedelta(hours=1)
    check_in(person, "en", 917364)
    check_in(person, "en", PIN)  # free again, before the worker's next pass
    run_sweep(loaded, clock.now)
    assert [m.to for m in sent(loaded) if m.kind == "alert"] == ["Sara"]
    assert [m.to for m in sent(loaded) if m.kind == "all_clear"] == []  # never before it
    run_sweep(loaded, clock.now + timedelta(minutes=1))
    assert [m.to for m in sent(loaded) if m.kind == "all_clear"] == ["Sara"]
    # Then silence: the next check-in (12 hours on) is missed, and Sara hears of it.
    run_sweep(loaded, clock.now + timedelta(hours=11))
    assert [m.to for m in sent(loaded) if m.kind == "alert"] == ["Sara"]
    run_sweep(loaded, clock.now + timedelta(hours=14))
    assert [m.to for m in sent(loaded) if m.kind == "alert"] == ["Sara", "Sara"]


def test_a_contact_who_agrees_during_an_incident_is_alerted_once_and_hears_its_end(
    loaded: Flask,
) -> None:
    """The duress PIN used before anyone agreed must not leave the person with nobody told:
    Sara, agreeing while the incident is open, is alerted then (and once)."""
    clock = Clock(START)
    register(loaded, PERSON, "en", "kharkiv")
    person = Phone(loaded, PERSON, clock)
    set_up(person, "en", contacts=(("+447700900702", "Sara"),), duress=917364)
    deliver(loaded, clock.now)  # Sara's request leaves; she has not answered yet
    clock.now = START + timedelta(minutes=30)
    check_in(person, "en", 917364)
    run_sweep(loaded, clock.now)
    assert [m.to for m in sent(loaded) if m.kind == "alert"] == []
    clock.now = START + timedelta(hours=1)
    Phone(loaded, SARA, clock).ask("YES")
    run_sweep(loaded, clock.now)
    run_sweep(loaded, clock.now + timedelta(minutes=5))
    assert [m.to for m in sent(loaded) if m.kind == "alert"] == ["Sara"]
    clock.now = START + timedelta(hours=2)
    check_in(person, "en", PIN)
    run_sweep(loaded, clock.now)
    assert [m.to for m in sent(loaded) if m.kind == "all_clear"] == ["Sara"]


def test_the_ngo_alert_names_every_note_of_the_incident_and_no_earlier_one(
    loaded: Flask,
) -> None:
    _private, public = vault.new_note_keypair()
    add_partner(loaded, "kharkiv-oblast", "Kharkiv Aid", NGO_LINE, public)
    clock = Clock(START)
    register(loaded, PERSON, "en", "kharkiv")
    person = Phone(loaded, PERSON, clock)
    set_up(person, "en", contacts=(("+447700900702", "Sara"),))
    person.ask("YES")
    person.ask("NOTE an old worry")
    run_sweep(loaded, START + timedelta(hours=13))  # missed: the NGO hears of that note
    first = _to_ngo(loaded)
    clock.now = START + timedelta(hours=14)
    check_in(person, "en", PIN)  # that incident ends
    person.ask(f"NOTE {NOTE}")
    person.ask("NOTE they have my phone now")
    run_sweep(loaded, START + timedelta(days=2))  # missed again
    second = [body for body in _to_ngo(loaded) if body not in first]
    with db.get_database(loaded).session() as session:
        ids = [note.id.hex[:8] for note in session.scalars(select(SealedNote))]
    assert len(first) == len(second) == 1
    assert len(ids) == 3
    old = [i for i in ids if i in first[0]]
    new = [i for i in ids if i in second[0]]
    assert len(old) == 1
    assert f"Their 1 sealed note waits for you: {old[0]}." in first[0]
    assert len(new) == 2
    assert old[0] not in new
    assert "Their 2 sealed notes wait for you: " in second[0]
    to_ngo = first + second
    assert all(NOTE not in body for body in to_ngo)


def _to_ngo(app: Flask) -> list[str]:
    return [m.body for m in sent(app) if m.kind == "alert" and m.to == "Kharkiv Aid"]


def test_purge_erases_an_inactive_person_with_their_plan(loaded: Flask) -> None:
    clock = Clock(START)
    _planned(loaded, clock)
    run_sweep(loaded, START + timedelta(days=1))
    retention = settings_of(loaded).retention
    later = START.date() + timedelta(days=retention.inactive_subscriber_days + 1)
    with db.get_database(loaded).session() as session:
        report = people.purge(session, retention, today=later)
    assert report.inactive_subscribers >= 1
    for model in (CheckinPlan, CheckinEvent):
        assert count_rows(loaded, model) == 0


def test_notes_of_an_incident_the_real_pin_ended_at_once_stay_out_of_the_next_alert(
    loaded: Flask,
) -> None:
    """The duress PIN, a note, then the real PIN before any pass: the alert still leaves and
    names the note, and that incident is over, so the next missed check-in's alert does not
    name it again as if it were new."""
    _private, public = vault.new_note_keypair()
    add_partner(loaded, "kharkiv-oblast", "Kharkiv Aid", NGO_LINE, public)
    clock = Clock(START)
    register(loaded, PERSON, "en", "kharkiv")
    person = Phone(loaded, PERSON, clock)
    set_up(person, "en", contacts=(("+447700900702", "Sara"),), duress=917364)
    person.ask("YES")
    clock.now = START + timedelta(minutes=30)
    check_in(person, "en", 917364)
    person.ask("NOTE written while he watched")
    check_in(person, "en", PIN)
    run_sweep(loaded, clock.now)
    first = _to_ngo(loaded)
    assert len(first) == 1
    assert "Their 1 sealed note waits for you: " in first[0]
    run_sweep(loaded, START + timedelta(days=2))  # missed, days later
    both = _to_ngo(loaded)
    assert len(both) == 2
    assert [body for body in both if "sealed note" not in body] != []  # the second names none


def test_a_note_left_after_the_ngo_alert_is_named_in_the_ngo_all_clear(loaded: Flask) -> None:
    """A note written while the incident is open, after the NGO's alert went, belongs to that
    incident too: the NGO's all-clear names it (and not the one its alert named); a trusted
    contact's all-clear stays neutral."""
    _private, public = vault.new_note_keypair()
    add_partner(loaded, "kharkiv-oblast", "Kharkiv Aid", NGO_LINE, public)
    clock = Clock(START)
    register(loaded, PERSON, "en", "kharkiv")
    person = Phone(loaded, PERSON, clock)
    set_up(person, "en", contacts=(("+447700900702", "Sara"),))
    person.ask("YES")
    deliver(loaded, clock.now)  # Sara's request leaves, and she agrees
    Phone(loaded, SARA, clock).ask("YES")
    person.ask("NOTE before the alert")
    run_sweep(loaded, START + timedelta(hours=13))  # missed: the NGO and Sara are alerted
    clock.now = START + timedelta(hours=13, minutes=5)
    person.ask("NOTE after the alert")
    clock.now = START + timedelta(hours=14)
    check_in(person, "en", PIN)
    run_sweep(loaded, clock.now)
    with db.get_database(loaded).session() as session:
        ids = {note.id.hex[:8] for note in session.scalars(select(SealedNote))}
    (alert,) = _to_ngo(loaded)
    named_first = {i for i in ids if i in alert}
    assert len(named_first) == 1
    clears = {m.to: m.body for m in sent(loaded) if m.kind == "all_clear"}
    assert set(clears) == {"Kharkiv Aid", "Sara"}
    later = ids - named_first
    assert clears["Kharkiv Aid"].startswith("About Amina: they are in touch again.")
    assert f"Their 1 sealed note waits for you: {later.pop()}." in clears["Kharkiv Aid"]
    assert named_first.pop() not in clears["Kharkiv Aid"]
    assert "sealed" not in clears["Sara"]
