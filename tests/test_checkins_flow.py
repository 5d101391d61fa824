"""Check-ins end to end by SMS: set-up, checking in, a missed one, alerts and the all-clear."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Literal

import pytest
from argon2 import PasswordHasher
from flask import Flask

from server import segments
from server.checkins import contacts
from server.i18n.locales import catalogue
from server.vault import credentials
from tests.checkin_helpers import (
    Clock,
    Phone,
    check_in,
    deliver,
    plan_facts,
    register,
    run_sweep,
    sent,
    set_up,
)
from tests.sms_helpers import ALL_LOCALES, digits, keyword, load_demo_content, over_budget

STOP_EN = "You will get no more messages from Refuge. Reply START to come back."

START = datetime(2026, 12, 1, 8, 0, tzinfo=UTC)
PERSON = "+44 7700 900601"
SARA = "+44 7700 900602"  # agrees
OMAR = "+44 7700 900603"  # never answers
LINA = "+44 7700 900604"  # later stage, agrees
PIN, DURESS = 482193, 917364


@pytest.fixture
def loaded(app: Flask) -> Flask:
    load_demo_content(app)
    return app


def _people(app: Flask, locale: str, clock: Clock) -> tuple[Phone, Phone, Phone, Phone]:
    register(app, PERSON, locale, "kharkiv")
    for number in (SARA, OMAR, LINA):
        register(app, number, locale)
    return tuple(Phone(app, n, clock) for n in (PERSON, SARA, OMAR, LINA))  # type: ignore[return-value]


@pytest.mark.parametrize("locale", ["en", "ar", "my"])
def test_set_up_check_in_miss_escalate_and_clear(loaded: Flask, locale: str) -> None:
    clock = Clock(START)
    person, sara, omar, lina = _people(loaded, locale, clock)
    replies = set_up(
        person,
        locale,
        contacts=(("+447700900602", "Sara"), ("+447700900603", "Omar"), ("+447700900604", "Lina")),
        later=digits(3, locale),
    )
    assert not any(over_budget(reply) for reply in replies), replies
    # Each contact got exactly one opt-in naming only what the person chose: their name.
    opt_ins = [m for m in sent(loaded) if m.kind == "opt_in"]
    assert sorted(m.to for m in opt_ins) == ["Lina", "Omar", "Sara"]
    for message in opt_ins:
        assert "Amina" in message.body
        for other in ("Refuge", "Sara", "Omar", "Lina", "check"):
            assert other not in message.body
    deliver(loaded, clock.now)  # the opt-ins leave
    assert sara.ask(keyword(locale, "YES"))  # a thank-you, in their language
    lina.ask(keyword(locale, "YES"))
    told = [m for m in sent(loaded) if m.kind == "reply" and m.to == "person"]
    assert len(told) == 2
    assert all("Sara" in m.body or "Lina" in m.body for m in told)

    settings, state, next_look = plan_facts(loaded, PERSON)
    assert state.status == "active"
    assert settings.hours == 12
    assert settings.grace_minutes == 30
    due = START + timedelta(hours=12)
    assert state.due_at == due
    assert next_look == START

    # The sweep: a reminder an hour before, nothing else.
    run_sweep(loaded, START)
    run_sweep(loaded, due - timedelta(minutes=59))
    reminders = [m for m in sent(loaded) if m.kind == "reminder"]
    assert len(reminders) == 1
    assert reminders[0].to == "person"

    # Missed: at due + grace the contacts who agreed are alerted, not Omar who never answered;
    # Lina, chosen for the second stage, six hours later.
    run_sweep(loaded, due + timedelta(minutes=30))
    alerts = [m for m in sent(loaded) if m.kind == "alert"]
    assert [m.to for m in alerts] == ["Sara"]
    assert "Amina" in alerts[0].body
    assert "Refuge" not in alerts[0].body
    run_sweep(loaded, due + timedelta(hours=6, minutes=30))
    assert sorted(m.to for m in sent(loaded) if m.kind == "alert") == ["Lina", "Sara"]
    assert "Omar" not in {m.to for m in sent(loaded) if m.kind in ("alert", "all_clear")}

    # The person checks in again: everyone alerted hears the all-clear, once.
    clock.now = due + timedelta(hours=8)
    answer = check_in(person, locale, PIN)
    assert not over_budget(answer)
    run_sweep(loaded, clock.now)
    run_sweep(loaded, clock.now + timedelta(minutes=1))
    clears = [m for m in sent(loaded) if m.kind == "all_clear"]
    assert sorted(m.to for m in clears) == ["Lina", "Sara"]
    _settings, state, _next = plan_facts(loaded, PERSON)
    assert state.incident is None
    assert state.due_at == due + timedelta(hours=12)  # the period counts from the missed time
    del omar


def test_a_wrong_pin_confirms_nothing_and_several_count_as_missed(loaded: Flask) -> None:
    clock = Clock(START)
    person, sara, _omar, _lina = _people(loaded, "en", clock)
    set_up(person, "en", contacts=(("+447700900602", "Sara"),))
    deliver(loaded, clock.now)  # the opt-ins leave
    sara.ask("YES")
    _s, before, _n = plan_facts(loaded, PERSON)
    clock.now = START + timedelta(hours=2)
    right = check_in(person, "en", PIN)
    wrong = check_in(person, "en", 1111)
    assert wrong != right
    assert "PIN" in wrong
    _s, after_wrong, _n = plan_facts(loaded, PERSON)
    assert after_wrong.last_checkin == (START + timedelta(hours=2)).isoformat()
    run_sweep(loaded, clock.now)
    assert not [m for m in sent(loaded) if m.kind == "alert"]
    check_in(person, "en", 2222)
    check_in(person, "en", 3333)
    run_sweep(loaded, clock.now)
    assert [m.to for m in sent(loaded) if m.kind == "alert"] == ["Sara"]
    del before


def test_the_duress_pin_answers_like_the_real_one_and_alerts_at_once(
    loaded: Flask, monkeypatch: pytest.MonkeyPatch
) -> None:
    clock = Clock(START)
    register(loaded, PERSON, "en", "kharkiv")
    register(loaded, "+44 7700 900611", "en", "kharkiv")
    amina, bilal = Phone(loaded, PERSON, clock), Phone(loaded, "+44 7700 900611", clock)
    sara, tariq = Phone(loaded, SARA, clock), Phone(loaded, "+44 7700 900612", clock)
    set_up(amina, "en", contacts=(("+447700900602", "Sara"),))
    set_up(bilal, "en", contacts=(("+447700900612", "Tariq"),))
    deliver(loaded, clock.now)  # the opt-ins leave
    sara.ask("YES")
    tariq.ask("YES")
    run_sweep(loaded, START)

    verified: list[int] = []

    class Counting(PasswordHasher):
        def verify(self, hash: str | bytes, password: str | bytes) -> Literal[True]:
            verified.append(1)
            return super().verify(hash, password)

    monkeypatch.setattr(
        credentials, "PIN_HASHER", Counting(time_cost=2, memory_cost=19456, parallelism=1)
    )
    clock.now = START + timedelta(hours=3)
    real = check_in(amina, "en", PIN)
    real_work = len(verified)
    forced = check_in(bilal, "en", DURESS)
    assert forced == real  # the very same text
    assert len(verified) - real_work == real_work == 2  # the same slow work
    _s, real_state, real_next = plan_facts(loaded, PERSON)
    _s, forced_state, forced_next = plan_facts(loaded, "+44 7700 900611")
    assert real_next == forced_next == clock.now  # the same columns, the same values in clear
    assert real_state.due == forced_state.due

    run_sweep(loaded, clock.now)
    alerts = [m for m in sent(loaded) if m.kind == "alert"]
    assert [m.to for m in alerts] == ["Tariq"]  # at once, and only for the forced check-in


@pytest.mark.parametrize("locale", ALL_LOCALES)
def test_stop_wins_mid_set_up_in_every_locale(loaded: Flask, locale: str) -> None:
    clock = Clock(START)
    register(loaded, PERSON, locale, "kharkiv")
    person = Phone(loaded, PERSON, clock)
    person.ask(keyword(locale, "CHECKIN"))
    person.ask(digits(PIN, locale))  # now asked for the duress PIN
    stopped = person.ask(keyword(locale, "STOP"))
    expected = str(catalogue(locale).gettext(STOP_EN))
    assert stopped == segments.prepare(expected, segments.AccentPolicy.TRANSLITERATE)
    assert person.send(digits(DURESS, locale)) == []  # silence, not a set-up answer
    _settings, state, next_look = plan_facts(loaded, PERSON)
    assert state.status == "setup"
    assert next_look is None


def test_stop_checkin_needs_the_pin_and_the_duress_pin_seems_to_stop_but_alerts(
    loaded: Flask,
) -> None:
    clock = Clock(START)
    person, sara, _omar, _lina = _people(loaded, "en", clock)
    set_up(person, "en", contacts=(("+447700900602", "Sara"),))
    deliver(loaded, clock.now)  # the opt-ins leave
    sara.ask("YES")
    assert "PIN" in person.ask("STOP CHECKIN")
    real = person.ask(f"STOP CHECKIN {PIN}")
    assert "stopped" in real
    run_sweep(loaded, START + timedelta(days=3))
    assert [m for m in sent(loaded) if m.kind in ("alert", "reminder")] == []
    assert plan_facts(loaded, PERSON)[1].status == "stopped"
    # Set up again, then stopped "under duress": the same words, and Sara is alerted.
    set_up(person, "en", contacts=())
    clock.now = START + timedelta(days=3)
    forced = person.ask(f"STOP CHECKIN {DURESS}")
    assert forced == real
    run_sweep(loaded, clock.now)
    assert [m.to for m in sent(loaded) if m.kind == "alert"] == ["Sara"]


def test_opt_ins_are_capped_per_person_per_day(
    loaded: Flask, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(contacts, "OPT_INS_PER_DAY", 2)
    clock = Clock(START)
    register(loaded, PERSON, "en", "kharkiv")
    person = Phone(loaded, PERSON, clock)
    for answer in ("CHECKIN", str(PIN), "NO", "12", "30", "Amina"):
        person.ask(answer)
    assert "added" in person.ask("ADD +447700900602 Sara")
    assert "added" in person.ask("ADD +447700900603 Omar")
    assert "Too many requests today" in person.ask("ADD +447700900604 Lina")
    assert len([m for m in sent(loaded) if m.kind == "opt_in"]) == 2
    clock.now = START + timedelta(days=1)
    assert "added" in person.ask("ADD +447700900604 Lina")
    assert len([m for m in sent(loaded) if m.kind == "opt_in"]) == 3


def test_starting_over_right_after_the_duress_pin_still_sends_its_alert(loaded: Flask) -> None:
    clock = Clock(START)
    person, sara, _omar, _lina = _people(loaded, "en", clock)
    set_up(person, "en", contacts=(("+447700900602", "Sara"),))
    deliver(loaded, clock.now)  # the opt-ins leave
    sara.ask("YES")
    run_sweep(loaded, START)
    clock.now = START + timedelta(hours=2)
    assert "stopped" in person.ask(f"STOP CHECKIN {DURESS}")
    person.ask("CHECKIN")  # made to set up anew before the worker's next pass
    run_sweep(loaded, clock.now)
    assert [m.to for m in sent(loaded) if m.kind == "alert"] == ["Sara"]
    assert plan_facts(loaded, PERSON)[1].status == "setup"


@pytest.mark.parametrize("locale", ["en", "ar", "rhg"])
def test_a_right_pin_on_a_stopped_plan_says_it_is_stopped_and_how_to_start_again(
    loaded: Flask, locale: str
) -> None:
    clock = Clock(START)
    person, sara, _omar, _lina = _people(loaded, locale, clock)
    set_up(person, locale, contacts=(("+447700900602", "Sara"),))
    sara.ask(keyword(locale, "YES"))
    stopped = person.ask(
        f"{keyword(locale, 'STOP')} {keyword(locale, 'CHECKIN')} {digits(PIN, locale)}"
    )
    t = catalogue(locale)
    expected = t.gettext("Check-ins stopped. Reply CHECKIN to set them up again.")
    assert stopped == segments.prepare(expected, segments.AccentPolicy.TRANSLITERATE)
    ok = keyword(locale, "OK")
    assert person.ask(f"{ok} {digits(PIN, locale)}") == stopped
    assert person.ask(f"{ok} {digits(DURESS, locale)}") == stopped  # the same, whatever PIN
    wrong = t.gettext("That PIN is not right. Try again.")
    assert person.ask(f"{ok} {digits(1111, locale)}") == segments.prepare(
        wrong, segments.AccentPolicy.TRANSLITERATE
    )  # without the PIN, nothing is learnt


def test_a_plan_stopped_under_duress_ends_its_alert_at_the_next_real_pin(loaded: Flask) -> None:
    clock = Clock(START)
    person, sara, _omar, _lina = _people(loaded, "en", clock)
    set_up(person, "en", contacts=(("+447700900602", "Sara"),))
    deliver(loaded, clock.now)
    sara.ask("YES")
    clock.now = START + timedelta(hours=1)
    forced = person.ask(f"STOP CHECKIN {DURESS}")
    run_sweep(loaded, clock.now)
    assert [m.to for m in sent(loaded) if m.kind == "alert"] == ["Sara"]
    clock.now = START + timedelta(hours=2)
    assert person.ask(f"OK {DURESS}") == forced  # made to again: nothing new goes out
    run_sweep(loaded, clock.now)
    assert [m.to for m in sent(loaded) if m.kind in ("alert", "all_clear")] == ["Sara"]
    clock.now = START + timedelta(hours=3)
    assert person.ask(f"OK {PIN}") == forced  # safe: still stopped, and Sara hears the end
    run_sweep(loaded, clock.now)
    assert [m.to for m in sent(loaded) if m.kind == "all_clear"] == ["Sara"]
    assert plan_facts(loaded, PERSON)[1].status == "stopped"
