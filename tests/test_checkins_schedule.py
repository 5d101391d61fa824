"""A schedule is a property of the plan, and its times are the person's: check-ins never push
the next due time further than the one they satisfy, and a daily time is kept in the zone of
the person's region, of their number's country, or the one they named."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from flask import Flask

from server.checkins import zones
from server.checkins.schedule import Schedule
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
from tests.sms_helpers import digits, keyword, load_demo_content, over_budget

PERSON = "+44 7700 900721"
SARA = "+44 7700 900722"
UKRAINIAN = "+380 50 000 0001"
BANGLADESHI = "+880 1700 000 009"
AMERICAN = "+1 555 010 0177"
PIN = 482193
KYIV = ZoneInfo("Europe/Kyiv")
# Sunday 6 December 2026, noon in Kyiv; the first daily 9:00 falls on Monday the 7th.
SUNDAY_NOON = datetime(2026, 12, 6, 12, 0, tzinfo=KYIV)


@pytest.fixture
def loaded(app: Flask) -> Flask:
    load_demo_content(app)
    return app


def _kyiv(day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(2026, 12, day, hour, minute, tzinfo=KYIV)


def _due_in_kyiv(app: Flask, number: str = PERSON) -> str:
    _s, state, _n = plan_facts(app, number)
    assert state.due_at is not None
    return state.due_at.astimezone(KYIV).strftime("%a %d %H:%M")


def _daily_in_kharkiv(app: Flask, clock: Clock) -> Phone:
    register(app, PERSON, "en", "kharkiv")
    person = Phone(app, PERSON, clock)
    set_up(person, "en", schedule="9:00", contacts=(("+447700900722", "Sara"),))
    deliver(app, clock.now)  # Sara gets the request, then agrees
    Phone(app, SARA, clock).ask("YES")
    return person


def test_three_check_ins_on_a_monday_keep_tuesday_nine_and_silence_alerts_then(
    loaded: Flask,
) -> None:
    clock = Clock(SUNDAY_NOON)
    person = _daily_in_kharkiv(loaded, clock)
    assert _due_in_kyiv(loaded) == "Mon 07 09:00"
    for hour in (10, 11, 21):  # late for Monday's 9:00, then twice more
        clock.now = _kyiv(7, hour)
        assert check_in(person, "en", PIN) == "Thank you. Next check-in: Tue 09:00."
        assert _due_in_kyiv(loaded) == "Tue 08 09:00"
    # Detained on Tuesday morning: Sara hears at 09:30 (the 30 minutes' grace), not days later.
    run_sweep(loaded, _kyiv(8, 9, 29))
    assert [m for m in sent(loaded) if m.kind == "alert"] == []
    run_sweep(loaded, _kyiv(8, 9, 30))
    assert [m.to for m in sent(loaded) if m.kind == "alert"] == ["Sara"]


def test_an_early_check_in_satisfies_the_coming_time_and_never_the_one_after(
    loaded: Flask,
) -> None:
    clock = Clock(SUNDAY_NOON)
    person = _daily_in_kharkiv(loaded, clock)
    clock.now = _kyiv(6, 20)  # Sunday evening: Monday's 9:00 still stands
    assert check_in(person, "en", PIN) == "Thank you. Next check-in: Mon 09:00."
    clock.now = _kyiv(7, 7, 30)  # Monday before 9:00: Monday's is done
    assert check_in(person, "en", PIN) == "Thank you. Next check-in: Tue 09:00."
    clock.now = _kyiv(7, 8, 45)
    assert check_in(person, "en", PIN) == "Thank you. Next check-in: Tue 09:00."
    # The reminder before Tuesday's 9:00 still goes, once.
    run_sweep(loaded, _kyiv(8, 8, 0))
    reminders = [m.body for m in sent(loaded) if m.kind == "reminder"]
    assert reminders == ["Reminder: your check-in is due at Tue 09:00. Reply OK and your PIN."]


def test_an_hourly_period_counts_from_the_due_time_and_never_past_one_period(
    loaded: Flask,
) -> None:
    start = datetime(2026, 12, 1, 8, 0, tzinfo=UTC)
    clock = Clock(start)
    register(loaded, PERSON, "en", "kharkiv")
    person = Phone(loaded, PERSON, clock)
    set_up(person, "en", schedule="12", contacts=(("+447700900722", "Sara"),))
    due = start + timedelta(hours=12)
    clock.now = due + timedelta(minutes=25)  # 25 minutes late, within the grace
    check_in(person, "en", PIN)
    _s, state, _n = plan_facts(loaded, PERSON)
    assert state.due_at == due + timedelta(hours=12)  # the series keeps its times
    for minutes in (30, 90, 200):  # checking in again and again only ever counts from now
        clock.now = due + timedelta(minutes=minutes)
        check_in(person, "en", PIN)
        _s, state, _n = plan_facts(loaded, PERSON)
        assert state.due_at is not None
        assert state.due_at - clock.now <= timedelta(hours=12)
    # Three days missed: the next period counts from the last time missed, within one period.
    assert state.due_at is not None
    last = state.due_at
    clock.now = last + timedelta(days=3, hours=5)
    check_in(person, "en", PIN)
    _s, state, _n = plan_facts(loaded, PERSON)
    assert state.due_at == last + timedelta(days=3, hours=12)


def test_a_ukrainian_number_without_a_region_keeps_kyiv_time_across_the_change(
    loaded: Flask,
) -> None:
    clock = Clock(datetime(2027, 3, 26, 12, 0, tzinfo=UTC))  # summer time begins on the 28th
    register(loaded, UKRAINIAN, "uk")
    person = Phone(loaded, UKRAINIAN, clock)
    replies = set_up(person, "uk", schedule="9:00", contacts=(("+447700900722", "Sara"),))
    assert not any("UTC+3" in reply for reply in replies)  # not asked: the number tells
    assert "(час: Київ)" in replies[-1]
    assert not any(over_budget(reply) for reply in replies), replies
    seen = []
    for _day in range(4):
        _s, state, _n = plan_facts(loaded, UKRAINIAN)
        assert state.due_at is not None
        seen.append((state.due_at.astimezone(KYIV).strftime("%d %H:%M"), state.due_at.hour))
        run_sweep(loaded, state.due_at - timedelta(minutes=30))
        clock.now = state.due_at - timedelta(minutes=5)
        check_in(person, "uk", PIN)
    assert seen == [("27 09:00", 7), ("28 09:00", 6), ("29 09:00", 6), ("30 09:00", 6)]
    reminders = [m.body for m in sent(loaded) if m.kind == "reminder"]
    assert len(reminders) == 4
    assert all("09:00" in body for body in reminders)
    assert "час: Київ" in person.ask(
        keyword("uk", "CHECKIN") + " " + keyword("uk", "STATUS") + f" {PIN}"
    )


def test_a_bangladeshi_number_without_a_region_keeps_dhaka_time(loaded: Flask) -> None:
    clock = Clock(datetime(2026, 12, 1, 8, 0, tzinfo=UTC))  # 14:00 in Dhaka
    register(loaded, BANGLADESHI, "bn")
    person = Phone(loaded, BANGLADESHI, clock)
    replies = set_up(person, "bn", schedule="9:00", contacts=(("+447700900722", "Sara"),))
    assert "ঢাকা সময়" in replies[-1]
    assert not any(over_budget(reply) for reply in replies), replies
    _s, state, _n = plan_facts(loaded, BANGLADESHI)
    assert state.due_at == datetime(2026, 12, 2, 3, 0, tzinfo=UTC)  # 9:00 in Dhaka


def _through_the_schedule(phone: Phone, locale: str) -> str:
    phone.ask(keyword(locale, "CHECKIN"))
    phone.ask(digits(PIN, locale))
    phone.ask(keyword(locale, "NO"))
    return phone.ask("9:00")


def _after_the_zone(phone: Phone, locale: str) -> str:
    phone.ask(digits(30, locale))
    phone.ask("Amina")
    phone.ask(f"{keyword(locale, 'ADD')} +447700900722 Sara")
    phone.ask(keyword(locale, "DONE"))
    return phone.ask(keyword(locale, "YES"))


@pytest.mark.parametrize(
    ("answer", "shown", "due_utc"),
    [("UTC-5", "UTC-05:00", 14), ("chicago", "Chicago Time", 15), ("-5", "UTC-05:00", 14)],
)
def test_a_number_whose_country_has_several_zones_is_asked(
    loaded: Flask, answer: str, shown: str, due_utc: int
) -> None:
    clock = Clock(datetime(2026, 12, 1, 8, 0, tzinfo=UTC))
    register(loaded, AMERICAN, "en")
    person = Phone(loaded, AMERICAN, clock)
    question = _through_the_schedule(person, "en")
    assert question.startswith("Which time zone are you in?")
    assert person.ask("Mars").startswith("That is not a time zone. Which time zone")
    assert person.ask(answer).startswith("If you miss one")
    done = _after_the_zone(person, "en")
    assert done.startswith(f"Check-ins are on. Next: Tue 09:00 ({shown}).")
    _s, state, _n = plan_facts(loaded, AMERICAN)
    assert state.due_at == datetime(2026, 12, 1, due_utc, 0, tzinfo=UTC)
    assert f"({shown})" in person.ask(f"CHECKIN STATUS {PIN}")  # the PIN is a check-in too


@pytest.mark.parametrize("locale", ["en", "ar", "fr", "uk", "my", "bn", "rhg"])
def test_the_zone_question_and_confirmation_fit_their_budget(loaded: Flask, locale: str) -> None:
    clock = Clock(datetime(2026, 12, 1, 8, 0, tzinfo=UTC))
    register(loaded, AMERICAN, locale)
    person = Phone(loaded, AMERICAN, clock)
    asked = [_through_the_schedule(person, locale), person.ask("Atlantis")]
    assert asked[0] != asked[1]
    asked.append(person.ask(f"UTC{digits(3, locale)}"))  # no sign: not an offset
    person.ask(f"+{digits(3, locale)}")
    asked.append(_after_the_zone(person, locale))
    status = keyword(locale, "CHECKIN") + " " + keyword(locale, "STATUS")
    asked.append(person.ask(f"{status} {digits(PIN, locale)}"))
    assert not any(over_budget(reply) for reply in asked), asked
    assert all("UTC+03:00" in reply for reply in asked[-2:]), asked


@pytest.mark.parametrize(
    ("answer", "locale", "zone"),
    [
        ("Київ", "uk", "Europe/Kyiv"),
        ("kiev", "en", "Europe/Kyiv"),  # an old spelling, kept as today's zone
        ("new york", "fr", "America/New_York"),
        ("America/Chicago", "ar", "America/Chicago"),
        ("الأردن", "ar", "Asia/Amman"),  # a country with one zone
        ("+6", "bn", "UTC+06:00"),
        ("UTC+6:30", "my", "UTC+06:30"),
        ("gmt -5", "en", "UTC-05:00"),
        ("UTC", "rhg", "UTC"),
        ("9", "en", None),  # a time, not an offset
        ("+15", "en", None),
        ("Atlantis", "en", None),
    ],
)
def test_a_zone_is_read_from_a_city_a_country_or_an_offset(
    answer: str, locale: str, zone: str | None
) -> None:
    assert zones.parse_zone(answer, locale) == zone


def test_a_fixed_offset_keeps_its_time_all_year() -> None:
    schedule = Schedule(daily_at="09:00", zone="UTC+06:30")
    for month in (1, 7):
        due = schedule.next_due(datetime(2027, month, 1, tzinfo=UTC))
        assert (due.hour, due.minute) == (2, 30)
