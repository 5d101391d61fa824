"""The web check-in against a stranger holding phone numbers (issue 16, item 1).

A stranger may type any number and guess PINs on `/<locale>/checkin`. They must learn nothing
(the answer, its status and the slow work behind it are the same for every number), trigger
nothing (no alert to the person's contacts or NGO, no spent SMS attempts), and block nobody
(another client still checks in). A number and a PIN are not enough on the web: the person's
web code is needed too, and web check-in is off until they ask for it by SMS.
"""

from __future__ import annotations

import re
import statistics
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import pytest
from flask import Flask
from flask.testing import FlaskClient

from server import db
from server.app import create_app
from server.config import Settings
from server.delivery.worker import Worker, make_channel
from server.i18n.locales import catalogue
from server.vault import credentials
from server.web import checkin
from server.web.ratelimit import Busy, Crowded, RateLimiter, SlowWork
from tests.checkin_helpers import (
    Clock,
    Phone,
    check_in,
    plan_facts,
    register,
    run_sweep,
    set_up,
    turn_web_on,
)
from tests.delivery import twilio_env
from tests.fake_twilio import FakeTwilio
from tests.sms_helpers import digits, keyword, load_demo_content, over_budget

PERSON = "+447700900811"
SARA = "+447700900812"
NOBODY = "+447700900813"  # a number Refuge has never seen
PIN, DURESS = 482193, 917364
STRANGER, NEIGHBOUR = "198.51.100.7", "203.0.113.9"  # two clients' addresses (documentation)
TOKEN = re.compile(r'name="csrf_token" value="([^"]+)"')
NONCE = re.compile(r'nonce="[^"]+"')
ANSWER = re.compile(r'<p class="answer (ok|error)" role="(?:status|alert)">([^<]*)</p>')


@pytest.fixture
def fake() -> Iterator[FakeTwilio]:
    with FakeTwilio() as server:
        yield server


@dataclass
class World:
    """Refuge sending through the fake Twilio, a person with a plan and a consenting contact,
    and the clock of their phones (a few minutes behind the web page's real time)."""

    app: Flask
    fake: FakeTwilio
    clock: Clock
    code: str  # the person's web code

    def phone(self, number: str = PERSON) -> Phone:
        return Phone(self.app, number, self.clock)

    def deliver(self, now: datetime) -> None:
        """One worker pass at `now`: sweeps and sends through the fake Twilio."""
        settings = self.app.extensions["refuge.settings"]
        database = db.get_database(self.app)
        Worker(database, settings, make_channel(settings)).run_once(now)


@pytest.fixture
def world(make_settings: Callable[..., Settings], fake: FakeTwilio) -> Iterator[World]:
    app = create_app(make_settings(**twilio_env(fake)))
    database = db.get_database(app)
    db.Base.metadata.create_all(database.engine)
    load_demo_content(app)
    clock = Clock(datetime.now(UTC) - timedelta(minutes=10))
    register(app, PERSON, "en", "kharkiv")
    register(app, SARA, "en")
    set_up(Phone(app, PERSON, clock), "en", contacts=((SARA, "Sara"),))
    found = World(app, fake, clock, "")
    found.deliver(clock.now)  # the opt-in leaves
    Phone(app, SARA, clock).ask(keyword("en", "YES"))
    found.code = turn_web_on(found.phone(), "en")
    yield found
    database.dispose()


class Visitor:
    """A browser at one address, posting the check-in form."""

    def __init__(self, app: Flask, address: str) -> None:
        self.client: FlaskClient = app.test_client()
        self.address = address

    def post(self, number: str, pin: str, code: str, locale: str = "en") -> tuple[int, str]:
        """The status and the page, with what differs per response (token, nonce) blanked."""
        environ = {"REMOTE_ADDR": self.address}
        page = self.client.get(f"/{locale}/checkin", environ_base=environ).get_data(as_text=True)
        token = TOKEN.search(page)
        assert token is not None
        form = {"csrf_token": token[1], "number": number, "pin": pin, "code": code}
        response = self.client.post(f"/{locale}/checkin", data=form, environ_base=environ)
        body = TOKEN.sub("TOKEN", NONCE.sub("NONCE", response.get_data(as_text=True)))
        return response.status_code, body


class SlowHashes:
    """Counts the argon2id verifications each request makes, whatever they are checked against."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.count = 0
        real = credentials._verify

        def counting(hasher: object, hashed: str, peppered: bytes) -> bool:
            self.count += 1
            return real(hasher, hashed, peppered)  # type: ignore[arg-type]

        monkeypatch.setattr(credentials, "_verify", counting)

    def during(self, act: Callable[[], tuple[int, str]]) -> tuple[int, str, int]:
        """What `act` answered, and how many slow checks it made."""
        before = self.count
        status, body = act()
        return status, body, self.count - before


def _answer(body: str) -> str:
    found = ANSWER.search(body)
    assert found is not None, body
    return found[2]


def test_twelve_wrong_web_pins_look_alike_for_an_enrolled_and_an_unknown_number_and_alert_nobody(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    hashes = SlowHashes(monkeypatch)
    stranger, other = Visitor(world.app, STRANGER), Visitor(world.app, NEIGHBOUR)
    _s, before, _n = plan_facts(world.app, PERSON)
    sara_before = len(world.fake.sent(SARA))
    enrolled = [
        hashes.during(lambda n=n: stranger.post(PERSON, f"{1000 + n}", world.code))
        for n in range(12)
    ]
    unknown = [
        hashes.during(lambda n=n: other.post(NOBODY, f"{1000 + n}", world.code)) for n in range(12)
    ]
    # Statuses, pages and the slow work behind them: one and the same, try after try.
    assert enrolled == unknown
    assert {status for status, _b, _h in enrolled} == {400}
    assert {work for _s, _b, work in enrolled} == {3}  # the code, the PIN, the duress PIN
    _s, after, _n = plan_facts(world.app, PERSON)
    assert after == before  # nothing written: no attempts spent, no wrong PIN counted
    later = datetime.now(UTC) + timedelta(minutes=1)
    run_sweep(world.app, later)
    world.deliver(later)
    world.deliver(later + timedelta(minutes=1))
    assert world.fake.sent(SARA)[sara_before:] == []  # no alert reached Sara
    assert {m.to for m in world.fake.sent()} <= {PERSON, SARA}  # nor anyone else


def test_wrong_tries_take_as_long_for_an_enrolled_number_as_for_an_unknown_one(
    world: World,
) -> None:
    # Interleaved, so that whatever else loads the machine weighs on both alike; the slow
    # hashing (about 0.1 s) dwarfs everything else a try does.
    stranger, other = Visitor(world.app, STRANGER), Visitor(world.app, NEIGHBOUR)
    enrolled: list[float] = []
    unknown: list[float] = []
    for n in range(8):
        for visitor, number, times in ((stranger, PERSON, enrolled), (other, NOBODY, unknown)):
            started = time.perf_counter()
            assert visitor.post(number, f"{1000 + n}", world.code)[0] == 400
            times.append(time.perf_counter() - started)
    ratio = statistics.median(enrolled) / statistics.median(unknown)
    assert 0.5 < ratio < 2.0, (enrolled, unknown)


def test_a_plan_with_web_off_and_a_number_nobody_uses_cost_the_same_work(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert world.phone().ask(f"{keyword('en', 'WEB')} {keyword('en', 'NO')}") == (
        "Web check-in is off. SMS check-in works as before."
    )
    hashes = SlowHashes(monkeypatch)
    off = hashes.during(lambda: Visitor(world.app, STRANGER).post(PERSON, str(PIN), world.code))
    nobody = hashes.during(lambda: Visitor(world.app, NEIGHBOUR).post(NOBODY, str(PIN), "1"))
    assert off == nobody
    assert off[0] == 400


def test_without_the_web_code_or_with_web_off_a_checkin_fails_like_any_other(
    world: World,
) -> None:
    _s, before, _n = plan_facts(world.app, PERSON)
    unknown = Visitor(world.app, NEIGHBOUR).post(NOBODY, str(PIN), world.code)
    visitor = Visitor(world.app, STRANGER)
    assert visitor.post(PERSON, str(PIN), "") == unknown  # the right PIN, no code
    assert visitor.post(PERSON, str(PIN), "12345678") == unknown  # a guessed code
    assert visitor.post(PERSON, str(DURESS), "") == unknown  # no alert from the duress PIN
    assert world.phone().ask(f"{keyword('en', 'WEB')} {keyword('en', 'NO')}")
    _s, before, _n = plan_facts(world.app, PERSON)
    assert visitor.post(PERSON, str(PIN), world.code) == unknown  # web off: the code is dead
    _s, after, _n = plan_facts(world.app, PERSON)
    assert after == before
    assert _answer(unknown[1]).startswith("No check-in:")


def test_a_new_set_up_turns_web_check_in_off(world: World) -> None:
    unknown = Visitor(world.app, NEIGHBOUR).post(NOBODY, str(PIN), world.code)
    phone = world.phone()
    phone.ask(f"{keyword('en', 'STOP')} {keyword('en', 'CHECKIN')} {PIN}")
    phone.ask(keyword("en", "CHECKIN"))  # setting up again starts from nothing
    assert Visitor(world.app, STRANGER).post(PERSON, str(PIN), world.code) == unknown


def test_web_failures_leave_the_persons_sms_checkin_working(world: World) -> None:
    visitor = Visitor(world.app, STRANGER)
    for n in range(12):  # more than the SMS's ten attempts an hour
        assert visitor.post(PERSON, f"{1000 + n}", world.code)[0] == 400
    _s, state, _n = plan_facts(world.app, PERSON)
    assert (state.wrong, state.escalate) == (0, None)
    world.clock.now += timedelta(minutes=2)
    assert check_in(world.phone(), "en", PIN).startswith("Thank you. Next check-in:")
    _s, after, _n = plan_facts(world.app, PERSON)
    assert after.last_checkin != state.last_checkin


def test_sms_wrong_pins_still_raise_the_alert(world: World) -> None:
    phone = world.phone()
    for wrong in (1111, 2222, 3333):
        assert check_in(phone, "en", wrong) == "That PIN is not right. Try again."
    _s, state, _n = plan_facts(world.app, PERSON)
    assert str(state.escalate).startswith("w")


def test_one_client_cannot_block_another_clients_web_checkin(world: World) -> None:
    stranger = Visitor(world.app, STRANGER)
    statuses = [stranger.post(NOBODY, f"{1000 + n}", "1")[0] for n in range(30)]
    assert statuses[: checkin.CLIENT_TRIES] == [400] * checkin.CLIENT_TRIES
    assert set(statuses[checkin.CLIENT_TRIES :]) == {429}  # that client waits, nobody else
    status, body = Visitor(world.app, NEIGHBOUR).post(PERSON, str(PIN), world.code)
    assert status == 200
    assert _answer(body).startswith("Thank you. Next check-in:")


def test_a_clients_slow_check_in_flight_holds_one_slot_and_no_more(world: World) -> None:
    world.app.extensions[checkin.LIMITS_EXTENSION] = checkin.Limits(
        clients=RateLimiter(limit=checkin.CLIENT_TRIES),
        numbers=RateLimiter(limit=checkin.NUMBER_TRIES),
        slow=SlowWork(slots=2, wait=0.05),
    )
    with checkin.limits(world.app).slow.slot(STRANGER):  # the stranger's try is running
        status, _b = Visitor(world.app, STRANGER).post(NOBODY, "1111", "1")
        assert status == 429  # refused at once: a second try waits for the first
        status, body = Visitor(world.app, NEIGHBOUR).post(PERSON, str(PIN), world.code)
        assert status == 200, _answer(body)


def test_slow_work_gives_each_client_one_slot_and_bounds_the_wait() -> None:
    work = SlowWork(slots=2, wait=0.05)
    with work.slot("a"):
        with pytest.raises(Crowded), work.slot("a"):
            pass
        with work.slot("b"):
            with pytest.raises(Busy), work.slot("c"):
                pass
            assert work.running() == 2
        with work.slot("c"):
            pass
    assert work.running() == 0


def test_a_double_tap_waits_for_the_first_try_and_then_runs() -> None:
    work = SlowWork(slots=2, wait=5.0)
    first_running, order = threading.Event(), []

    def first() -> None:
        with work.slot("a"):
            first_running.set()
            time.sleep(0.2)
            order.append("first")

    thread = threading.Thread(target=first)
    thread.start()
    first_running.wait()
    with work.slot("a"):  # the same client again: it waits, and is not refused
        order.append("second")
    thread.join()
    assert order == ["first", "second"]


def test_web_pin_sends_a_code_that_fits_an_sms_in_every_language(
    make_settings: Callable[..., Settings],
) -> None:
    app = create_app(make_settings())
    database = db.get_database(app)
    db.Base.metadata.create_all(database.engine)
    load_demo_content(app)
    clock = Clock(datetime.now(UTC))
    try:
        for n, locale in enumerate(app.extensions["refuge.settings"].localization.locales):
            number = f"+4477009008{20 + n}"
            register(app, number, locale, "kharkiv")
            phone = Phone(app, number, clock)
            set_up(phone, locale, contacts=((f"+4477009008{40 + n}", "Sara"),))
            word = keyword(locale, "WEB")
            reply = phone.ask(f"{word} {digits(PIN, locale)}")
            assert re.search(r"\d{4} \d{4}", reply), (locale, reply)
            assert not over_budget(reply), (locale, reply)
            off = phone.ask(f"{word} {keyword(locale, 'NO')}")
            expected = catalogue(locale).gettext(
                "Web check-in is off. SMS check-in works as before."
            )
            assert off == expected, locale
            assert not over_budget(off)
    finally:
        database.dispose()


def test_web_with_the_duress_pin_seems_to_work_and_alerts(world: World) -> None:
    reply = world.phone().ask(f"{keyword('en', 'WEB')} {DURESS}")
    found = re.search(r"(\d{4}) (\d{4})", reply)
    assert found is not None, reply
    fake_code = found[1] + found[2]
    assert fake_code != world.code
    unknown = Visitor(world.app, NEIGHBOUR).post(NOBODY, str(PIN), fake_code)
    assert Visitor(world.app, STRANGER).post(PERSON, str(PIN), fake_code) == unknown
    _s, state, _n = plan_facts(world.app, PERSON)
    assert state.escalate is not None  # the duress PIN alerts at the worker's next pass
    run_sweep(world.app, world.clock.now)
    _s, state, _n = plan_facts(world.app, PERSON)
    assert state.incident is not None
    status, body = Visitor(world.app, STRANGER).post(PERSON, str(PIN), world.code)
    assert status == 200, _answer(body)  # the real code still works


def test_web_with_a_wrong_pin_gets_the_sms_refusal(world: World) -> None:
    reply = world.phone().ask(f"{keyword('en', 'WEB')} 1111")
    assert reply == "That PIN is not right. Try again."
    assert world.phone().ask(keyword("en", "WEB")) == "Send WEB and your PIN."
