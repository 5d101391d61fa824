"""REMOVE <name or number> <PIN>: one contact forgotten for good, never under duress."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from flask import Flask
from sqlalchemy import func, select

from server import db, people, segments
from server.checkins import contacts
from server.i18n.locales import catalogue
from server.models.checkins import CheckinPlan
from server.models.messaging import Outbox, OutboxKind, OutboxStatus, ProviderDeletion
from server.models.people import TrustedContact
from server.phones import normalize_phone
from tests.checkin_helpers import (
    Clock,
    Phone,
    check_in,
    deliver,
    plan_facts,
    register,
    run_sweep,
    sent,
)
from tests.checkin_helpers import set_up as set_up_by_sms
from tests.sms_helpers import digits, keyword, load_demo_content

START = datetime(2026, 12, 1, 8, 0, tzinfo=UTC)
PERSON = "+44 7700 900621"
SARA = "+44 7700 900622"
LINA = "+44 7700 900623"
PIN, DURESS = 482193, 917364
REMOVED_EN = "Contact removed: %(name)s. Refuge will send them no more alerts."


@pytest.fixture
def loaded(app: Flask) -> Flask:
    load_demo_content(app)
    return app


def _with_two_contacts(app: Flask, locale: str, clock: Clock) -> tuple[Phone, Phone, Phone]:
    register(app, PERSON, locale, "kharkiv")
    register(app, SARA, locale)
    register(app, LINA, locale)
    person, sara, lina = (Phone(app, n, clock) for n in (PERSON, SARA, LINA))
    set_up_by_sms(
        person,
        locale,
        contacts=(("+447700900622", "Sara"), ("+447700900623", "Lina")),
    )  # both alerted at the first stage
    deliver(app, clock.now)  # the opt-ins leave
    sara.ask(keyword(locale, "YES"))
    lina.ask(keyword(locale, "YES"))
    return person, sara, lina


def _shown(app: Flask) -> list[str]:
    """The contact names the person is shown (CHECKIN STATUS counts these)."""
    with db.get_database(app).session() as session:
        person = people.find_subscriber(session, normalize_phone(PERSON))
        assert person is not None
        plan = session.scalar(select(CheckinPlan).where(CheckinPlan.subscriber_id == person.id))
        assert plan is not None
        return sorted(contact.name or "" for contact in contacts.shown_contacts(plan))


def _rows(app: Flask) -> int:
    with db.get_database(app).session() as session:
        return int(session.scalar(select(func.count()).select_from(TrustedContact)) or 0)


def _said(locale: str, text: str, **values: str) -> str:
    translated = str(catalogue(locale).gettext(text)) % values
    return segments.prepare(translated, segments.AccentPolicy.TRANSLITERATE)


@pytest.mark.parametrize("locale", ["en", "ar", "my"])
def test_remove_needs_the_pin_then_forgets_the_contact_for_good(loaded: Flask, locale: str) -> None:
    clock = Clock(START)
    person, _sara, _lina = _with_two_contacts(loaded, locale, clock)
    remove = keyword(locale, "REMOVE")
    assert person.ask(f"{remove} Sara") == _said(
        locale, "Send %(word)s, the contact's name or number, and your PIN.", word=remove
    )
    wrong = person.ask(f"{remove} Sara {digits(1111, locale)}")
    assert wrong == _said(locale, "That PIN is not right. Try again.")
    assert _shown(loaded) == ["Lina", "Sara"]

    removed = person.ask(f"{remove} sara {digits(PIN, locale)}")  # any case
    assert removed == _said(locale, REMOVED_EN, name="Sara")
    assert _shown(loaded) == ["Lina"]
    assert _rows(loaded) == 1  # the row is gone, not flagged
    assert "Sara" not in {m.to for m in sent(loaded)}  # and every message queued for her

    # Missed check-in: only Lina hears of it.
    _settings, state, _next = plan_facts(loaded, PERSON)
    assert state.due_at is not None
    run_sweep(loaded, state.due_at + timedelta(hours=2))
    assert [m.to for m in sent(loaded) if m.kind == "alert"] == ["Lina"]

    # By number too, in the locale's digits; then nobody is left to name.
    lina_number = "+44 7700 900623"
    assert person.ask(f"{remove} {lina_number} {digits(PIN, locale)}") == _said(
        locale, REMOVED_EN, name="Lina"
    )
    assert _shown(loaded) == []
    assert person.ask(f"{remove} Lina {digits(PIN, locale)}") == _said(
        locale, "No contact by that name or number."
    )


def test_removing_a_contact_hands_their_provider_copies_over_for_deletion(
    loaded: Flask,
) -> None:
    clock = Clock(START)
    person, _sara, _lina = _with_two_contacts(loaded, "en", clock)
    with db.get_database(loaded).session() as session:
        for row in session.scalars(select(Outbox).where(Outbox.contact_id.is_not(None))):
            row.provider_sid = f"SM{row.id.hex}"  # as if each had been sent
    person.ask(f"REMOVE Sara {PIN}")
    with db.get_database(loaded).session() as session:
        assert session.scalar(select(func.count()).select_from(ProviderDeletion)) == 1


def test_remove_with_the_duress_pin_only_seems_to_and_the_contact_is_still_alerted(
    loaded: Flask,
) -> None:
    clock = Clock(START)
    person, _sara, _lina = _with_two_contacts(loaded, "en", clock)
    clock.now = START + timedelta(hours=2)
    forced = person.ask(f"REMOVE Sara {DURESS}")
    assert forced == REMOVED_EN % {"name": "Sara"}  # what a real removal says
    assert _shown(loaded) == ["Lina"]  # CHECKIN STATUS agrees with the lie
    assert "1 agreed" in person.ask(f"CHECKIN STATUS {DURESS}")  # shown as to the captor
    assert person.ask(f"REMOVE Sara {DURESS}") == "No contact by that name or number."
    assert _rows(loaded) == 2  # nothing was removed

    run_sweep(loaded, clock.now)  # the duress PIN escalates at once, to Sara too
    assert sorted(m.to for m in sent(loaded) if m.kind == "alert") == ["Lina", "Sara"]

    # Safe again: a real check-in, and Sara is back on the list and hears the all-clear.
    clock.now = START + timedelta(hours=3)
    check_in(person, "en", PIN)
    run_sweep(loaded, clock.now)
    assert _shown(loaded) == ["Lina", "Sara"]
    assert sorted(m.to for m in sent(loaded) if m.kind == "all_clear") == ["Lina", "Sara"]


def test_without_a_plan_remove_answers_like_a_check_in_without_one(loaded: Flask) -> None:
    register(loaded, PERSON, "en", "kharkiv")
    person = Phone(loaded, PERSON, Clock(START))
    assert person.ask(f"REMOVE Sara {PIN}") == (
        "You have no check-ins. Reply CHECKIN to set them up."
    )


def test_a_contact_removed_under_duress_seems_added_anew_in_a_new_set_up(loaded: Flask) -> None:
    clock = Clock(START)
    person, _sara, _lina = _with_two_contacts(loaded, "en", clock)
    person.ask(f"REMOVE Sara {DURESS}")
    person.ask(f"STOP CHECKIN {DURESS}")
    replies = set_up_by_sms(
        person, "en", contacts=(("+447700900622", "Sara"), ("+447700900623", "Lina"))
    )
    assert "Sara added and asked. Add another, or reply DONE." in replies  # not "already"
    assert "That number is already one of your contacts." in replies  # Lina, never hidden
    assert [m.to for m in sent(loaded) if m.kind == "opt_in"].count("Sara") == 1  # asked once
    assert _shown(loaded) == ["Lina", "Sara"]


def _as_if_sent(app: Flask, kind: str) -> None:
    """The worker's part: every queued message of a kind left."""
    with db.get_database(app).session() as session:
        for row in session.scalars(select(Outbox).where(Outbox.kind == OutboxKind(kind))):
            row.status = OutboxStatus.SENT


@pytest.mark.parametrize("locale", ["en", "uk"])
def test_a_contact_alerted_then_removed_hears_only_that_no_action_is_needed(
    loaded: Flask, locale: str
) -> None:
    clock = Clock(START)
    person, _sara, _lina = _with_two_contacts(loaded, locale, clock)
    _settings, state, _next = plan_facts(loaded, PERSON)
    assert state.due_at is not None
    clock.now = state.due_at + timedelta(hours=1)
    run_sweep(loaded, clock.now)  # missed: both alerted
    _as_if_sent(loaded, "alert")
    removed = person.ask(f"{keyword(locale, 'REMOVE')} Sara {digits(PIN, locale)}")
    assert removed == _said(locale, REMOVED_EN, name="Sara")
    assert _shown(loaded) == ["Lina"]
    run_sweep(loaded, clock.now)
    ends = sorted((m.to, m.body) for m in sent(loaded) if m.kind == "all_clear")
    closing = _said(locale, "Update: no action is needed now.")
    cleared = _said(locale, "About %(name)s: they are in touch again. Thank you.", name="Amina")
    assert ends == [("Lina", cleared), ("Sara", closing)]
    assert "Amina" not in closing
    assert _rows(loaded) == 2  # Sara's row waits for her last text to leave, out of sight

    # Once it has left, the next pass forgets her for good; a new incident never reaches her.
    _as_if_sent(loaded, "all_clear")
    later = clock.now + timedelta(hours=1)
    run_sweep(loaded, later)
    assert _rows(loaded) == 1
    assert "Sara" not in {m.to for m in sent(loaded)}
    _settings, state, _next = plan_facts(loaded, PERSON)
    assert state.due_at is not None
    run_sweep(loaded, state.due_at + timedelta(hours=1))
    assert [m.to for m in sent(loaded) if m.kind == "alert"] == ["Lina", "Lina"]


def test_a_contact_removed_before_any_alert_reached_them_gets_no_closing_text(
    loaded: Flask,
) -> None:
    clock = Clock(START)
    person, _sara, _lina = _with_two_contacts(loaded, "en", clock)
    _settings, state, _next = plan_facts(loaded, PERSON)
    assert state.due_at is not None
    clock.now = state.due_at + timedelta(hours=1)
    run_sweep(loaded, clock.now)  # alerts queued, not sent: Sara's never leaves
    person.ask(f"REMOVE Sara {PIN}")
    run_sweep(loaded, clock.now)
    assert "Sara" not in {m.to for m in sent(loaded)}
    assert _rows(loaded) == 1
    assert [m.to for m in sent(loaded) if m.kind == "all_clear"] == ["Lina"]


def test_after_a_duress_removal_a_real_removal_still_sends_the_closing_text(
    loaded: Flask,
) -> None:
    clock = Clock(START + timedelta(hours=1))
    person, _sara, _lina = _with_two_contacts(loaded, "en", clock)
    person.ask(f"REMOVE Sara {DURESS}")  # seems removed; the alert reaches her anyway
    run_sweep(loaded, clock.now)
    _as_if_sent(loaded, "alert")
    clock.now += timedelta(hours=1)
    assert person.ask(f"REMOVE Sara {PIN}") == REMOVED_EN % {"name": "Sara"}  # really, now
    run_sweep(loaded, clock.now)
    ends = sorted((m.to, m.body) for m in sent(loaded) if m.kind == "all_clear")
    assert ends == [
        ("Lina", "About Amina: they are in touch again. Thank you."),
        ("Sara", "Update: no action is needed now."),
    ]
