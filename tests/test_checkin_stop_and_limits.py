"""Check-ins past the reply limits and after STOP, as a person sees them.

A check-in command is always answered, whatever the per-number reply limits; other replies
stay limited, and the first refused one of a window says when Refuge answers again. STOP
opts out of every message at once and says what happens to the check-in plan: it pauses (no
alert for a missed check-in while no reminder can reach the person) until START resumes it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta

import pytest
from flask import Flask

from server import db, people, segments
from server.app import create_app
from server.checkins import texts
from server.config import Settings
from server.i18n.locales import catalogue
from server.phones import normalize_phone
from tests.checkin_helpers import (
    Clock,
    Phone,
    deliver,
    plan_facts,
    register,
    run_sweep,
    sent,
    set_up,
)
from tests.sms_helpers import (
    ALL_LOCALES,
    Handset,
    digits,
    keyword,
    load_demo_content,
    over_budget,
)

PERSON = "+44 7700 900611"
SARA = "+44 7700 900612"
PIN, DURESS = 482193, 917364
START = datetime(2026, 12, 1, 8, 20, tzinfo=UTC)  # a Tuesday; 10:20 in Kharkiv

STOPPED = "You will get no more messages from Refuge. Reply START to come back."
STOPPED_ACTIVE = (
    "You will get no more messages from Refuge. Check-ins are paused: no alert if you miss "
    "one. Reply START to turn both back on."
)
STOPPED_PAUSED = (
    "You will get no more messages from Refuge. Check-ins stay paused. Reply START to come back."
)
LIMITED = (
    "Too many messages. Refuge answers again from %(time)s. Check-ins still work: OK and your PIN."
)


def said(locale: str, english: str, **values: str) -> str:
    """What a reply says in a locale, prepared for SMS as the engine prepares it."""
    text = str(catalogue(locale).gettext(english))
    return segments.prepare(text % values if values else text, segments.AccentPolicy.TRANSLITERATE)


class SignedPhone(Phone):
    """A phone whose texts go through the signed webhook, at the real time."""

    def __init__(self, app: Flask, number: str) -> None:
        super().__init__(app, number, Clock(datetime.now(UTC)))
        self.handset = Handset(app, number)

    def send(self, text: str) -> list[str]:
        """Text Refuge as Twilio delivers it; the TwiML replies."""
        reply = self.handset.send(text)
        assert reply.status == 200, reply
        return reply.messages


def limited_app(make_settings: Callable[..., Settings], **limits: str) -> Iterator[Flask]:
    """An app with the demo content and low reply limits."""
    application = create_app(make_settings(**limits))
    database = db.get_database(application)
    db.Base.metadata.create_all(database.engine)
    load_demo_content(application)
    yield application
    database.dispose()


@pytest.fixture
def twelve_an_hour(make_settings: Callable[..., Settings]) -> Iterator[Flask]:
    """Twelve replies an hour per number: a whole set-up fits, little more."""
    yield from limited_app(make_settings, REFUGE_SMS_REPLIES_PER_HOUR="12")


@pytest.fixture
def three_an_hour(make_settings: Callable[..., Settings]) -> Iterator[Flask]:
    """Three replies an hour and five a day per number."""
    yield from limited_app(
        make_settings, REFUGE_SMS_REPLIES_PER_HOUR="3", REFUGE_SMS_REPLIES_PER_DAY="5"
    )


@pytest.fixture
def loaded(app: Flask) -> Flask:
    load_demo_content(app)
    return app


# --- Case 8: a check-in command is always answered ---------------------------------------------


def test_check_in_commands_past_the_reply_limit_are_answered(twelve_an_hour: Flask) -> None:
    app = twelve_an_hour
    register(app, PERSON, "en", "kharkiv")
    register(app, SARA, "en")
    person, sara = SignedPhone(app, PERSON), SignedPhone(app, SARA)
    set_up(person, "en", contacts=(("+447700900612", "Sara"),))  # nine replies
    sara.ask("YES")
    for _ in range(3):
        assert person.send("hi")
    assert person.ask("1").startswith("Too many messages.")  # the limit is reached
    assert person.send("1") == []
    before = plan_facts(app, PERSON)[1]

    answer = person.ask(f"OK {PIN}")  # counted, and the person is told so
    assert answer.startswith("Thank you. Next check-in: ")
    checked = plan_facts(app, PERSON)[1]
    assert checked.last_checkin is not None
    assert checked.last_checkin != before.last_checkin
    assert person.ask(f"OK {PIN + 1}") == "That PIN is not right. Try again."
    assert (
        person.ask(f"PAUSE {PIN}") == "Check-ins paused. Reply RESUME and your PIN to start again."
    )
    assert person.ask(f"RESUME {PIN}").startswith("Check-ins resumed. Next: ")
    assert person.ask(f"STATUS {PIN}").startswith("Check-ins: on. Next: ")
    assert person.ask("NOTE they took my papers").startswith("No caseworker takes notes")
    assert person.ask("REMOVE Nobody 482193") == "No contact by that name or number."
    assert person.send("hi") == []  # everything else stays limited
    assert plan_facts(app, PERSON)[1].status == "active"


@pytest.mark.parametrize("locale", ALL_LOCALES)
def test_the_first_refused_reply_of_a_window_says_when_replies_come_back(
    three_an_hour: Flask, locale: str
) -> None:
    app = three_an_hour
    register(app, PERSON, locale, "kharkiv")
    clock = Clock(START)
    person = Phone(app, PERSON, clock)
    menu = keyword(locale, "MENU")
    for _ in range(3):
        assert person.send(menu)
    told = person.ask(menu)  # the hour is full: replies again at 09:00 UTC, 11:00 in Kharkiv
    assert told == said(
        locale,
        LIMITED,
        time=texts.local_time(START.replace(hour=9, minute=0), "Europe/Kyiv", locale),
    )
    assert not over_budget(told), told
    assert person.send(menu) == []  # told once a window
    no_plan = person.ask(keyword(locale, "STATUS"))  # a check-in word is still answered
    assert no_plan == said(locale, "You have no check-ins. Reply CHECKIN to set them up.")

    clock.now = START + timedelta(hours=1)  # a new hour: two more replies make the day's five
    assert person.send(menu)
    assert person.send(menu)
    tomorrow = datetime(2026, 12, 2, tzinfo=UTC)
    told = person.ask(menu)
    assert told == said(locale, LIMITED, time=texts.local_time(tomorrow, "Europe/Kyiv", locale))
    clock.now = START + timedelta(hours=2)
    assert person.send(menu) == []  # the day's notice was given
    clock.now = tomorrow + timedelta(hours=8)
    assert person.send(menu)


# --- Case 9: STOP says what happens to check-ins ------------------------------------------------


@pytest.mark.parametrize("locale", ALL_LOCALES)
def test_stop_pauses_the_plan_and_says_so_and_start_resumes_it(loaded: Flask, locale: str) -> None:
    register(loaded, PERSON, locale, "kharkiv")
    register(loaded, SARA, locale)
    person, sara = SignedPhone(loaded, PERSON), SignedPhone(loaded, SARA)
    set_up(person, locale, contacts=(("+447700900612", "Sara"),))
    sara.ask(keyword(locale, "YES"))
    now = datetime.now(UTC)

    stopped = person.ask(keyword(locale, "STOP"))
    assert stopped == said(locale, STOPPED_ACTIVE)
    assert not over_budget(stopped), stopped
    assert plan_facts(loaded, PERSON)[1].status == "paused"

    # Days pass: no reminder and no alert; an OK with the PIN is still answered and counted
    # (issue 16: a check-in word keeps working after STOP), and the plan stays paused.
    for hours in (1, 12, 13, 48):
        run_sweep(loaded, now + timedelta(hours=hours))
    ok = f"{keyword(locale, 'OK')} {digits(PIN, locale)}"
    assert person.ask(ok) == said(locale, "Thank you.")
    assert plan_facts(loaded, PERSON)[1].last_checkin is not None
    assert plan_facts(loaded, PERSON)[1].status == "paused"
    run_sweep(loaded, now + timedelta(days=3))
    assert [m.kind for m in sent(loaded) if m.kind in ("reminder", "alert")] == []

    back = person.ask(keyword(locale, "START"))
    settings, state, _next = plan_facts(loaded, PERSON)
    assert state.status == "active"
    assert state.due_at is not None
    assert state.due_at > now + timedelta(hours=11)
    when = texts.local_time(state.due_at, settings.zone, locale)
    assert back == said(locale, "Welcome back.") + "\n" + said(
        locale, "Check-ins resumed. Next: %(time)s.", time=when
    )
    assert not over_budget(back), back
    run_sweep(loaded, datetime.now(UTC))
    run_sweep(loaded, state.due_at - timedelta(minutes=30))
    assert [m.kind for m in sent(loaded) if m.to == "person" and m.kind == "reminder"] == [
        "reminder"
    ]


def test_the_carriers_stop_pauses_the_plan_too(loaded: Flask) -> None:
    register(loaded, PERSON, "en", "kharkiv")
    person = SignedPhone(loaded, PERSON)
    set_up(person, "en", contacts=(("+447700900612", "Sara"),))
    stopped = person.handset.send("stop please", OptOutType="STOP")
    assert stopped.messages == [STOPPED_ACTIVE]
    assert plan_facts(loaded, PERSON)[1].status == "paused"
    back = person.handset.send("start", OptOutType="START")
    assert back.text.startswith("Welcome back.\nCheck-ins resumed. Next: ")


def test_an_alert_raised_before_stop_is_still_sent(loaded: Flask) -> None:
    register(loaded, PERSON, "en", "kharkiv")
    register(loaded, SARA, "en")
    person, sara = SignedPhone(loaded, PERSON), SignedPhone(loaded, SARA)
    set_up(person, "en", contacts=(("+447700900612", "Sara"),))
    deliver(loaded, datetime.now(UTC))  # Sara gets the request, then agrees
    sara.ask("YES")
    person.ask(f"OK {DURESS}")  # forced to check in: looks like success, alerts
    assert person.ask("STOP") == STOPPED_ACTIVE  # the same words as after the real PIN
    run_sweep(loaded, datetime.now(UTC))
    assert [m.to for m in sent(loaded) if m.kind == "alert"] == ["Sara"]


def test_stop_leaves_a_paused_plan_paused_and_start_does_not_resume_it(loaded: Flask) -> None:
    register(loaded, PERSON, "en", "kharkiv")
    person = SignedPhone(loaded, PERSON)
    set_up(person, "en", contacts=(("+447700900612", "Sara"),))
    person.ask(f"PAUSE {PIN}")
    assert person.ask("STOP") == STOPPED_PAUSED
    assert person.ask("START").startswith("Welcome back.\nRefuge. Reply a number:")
    assert plan_facts(loaded, PERSON)[1].status == "paused"
    assert person.ask(f"RESUME {PIN}").startswith("Check-ins resumed. Next: ")


def test_stop_without_a_running_plan_says_only_that_messages_end(loaded: Flask) -> None:
    register(loaded, PERSON, "en", "kharkiv")
    person = SignedPhone(loaded, PERSON)
    assert person.ask("STOP") == STOPPED
    assert person.ask("START").startswith("Welcome back.\nRefuge. Reply a number:")


def test_a_number_the_provider_reports_unsubscribed_is_not_alerted_for_until_start(
    loaded: Flask,
) -> None:
    register(loaded, PERSON, "en", "kharkiv")
    register(loaded, SARA, "en")
    person, sara = SignedPhone(loaded, PERSON), SignedPhone(loaded, SARA)
    set_up(person, "en", contacts=(("+447700900612", "Sara"),))
    deliver(loaded, datetime.now(UTC))  # Sara gets the request, then agrees
    sara.ask("YES")
    with db.get_database(loaded).session() as session:  # as a refused reminder records it
        found = people.find_subscriber(session, normalize_phone(PERSON))
        assert found is not None
        found.opted_out = True
    now = datetime.now(UTC)
    for hours in (1, 13, 48):
        run_sweep(loaded, now + timedelta(hours=hours))
    assert [m.kind for m in sent(loaded) if m.kind in ("reminder", "alert")] == []
    assert person.ask("START").startswith("Welcome back.\nCheck-ins resumed. Next: ")
