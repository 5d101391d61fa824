"""Drills: `refuge worker --once --now T` rehearses an escalation as if at T, and changes nothing
real time sees. What the drill queues leaves now; the sender's pace, leases, daily caps,
expiry and retries keep the real time, so real alerts, all-clears and opt-ins still leave at
once, are counted on the real day and never expire at the drill's time.

The worker's real clock is the test's clock, so that the drills ahead of it are a day ahead.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta

import pytest

from server.config import Settings
from server.delivery import admission
from server.models.messaging import OutboxKind
from tests.checkin_helpers import Clock, Phone, check_in, register, run_sweep, sent, set_up
from tests.delivery import ALICE, Delivery, building, pin_worker_clock
from tests.fake_twilio import FakeTwilio

START = datetime(2026, 12, 1, 8, 0, tzinfo=UTC)
TESTER, SARA = "+447700900611", "+447700900612"  # the NGO's test phone, and its contact
PERSON, CAROL = "+447700900601", "+447700900603"  # a real person, and theirs
PIN, DURESS = 482193, 917364


@pytest.fixture
def fake() -> Iterator[FakeTwilio]:
    with FakeTwilio() as server:
        yield server


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> Clock:
    """The real time, as every `refuge worker` the tests run sees it."""
    moment = Clock(START)
    pin_worker_clock(monkeypatch, lambda: moment.now)
    return moment


@pytest.fixture
def make_refuge(
    make_settings: Callable[..., Settings], fake: FakeTwilio
) -> Iterator[Callable[..., Delivery]]:
    with building(make_settings, fake, demo=True) as build:
        yield build


@pytest.fixture
def refuge(make_refuge: Callable[..., Delivery]) -> Delivery:
    return make_refuge()


def work(refuge: Delivery, drill: datetime | None = None) -> None:
    """`refuge worker --once`, a drill with `--now` when `drill` is given."""
    args = ["worker", "--once"] + (
        ["--now", drill.isoformat(), "--person", TESTER] if drill else []
    )
    result = refuge.app.test_cli_runner().invoke(args=args)
    assert result.exit_code == 0, result.output


def bodies(fake: FakeTwilio, number: str) -> list[str]:
    return [message.body for message in fake.sent(number)]


def idle_test_phone(refuge: Delivery, clock: Clock) -> None:
    """The NGO's test phone with a paused plan: a drill naming it sweeps nothing, so only the
    real messages the test queues are in play."""
    register(refuge.app, TESTER, "en", "kharkiv")
    tester = Phone(refuge.app, TESTER, clock)
    set_up(tester, "en", contacts=((SARA, "Sara"),))
    assert tester.ask("PAUSE 482193").startswith("Check-ins paused")


def rehearsing(refuge: Delivery, clock: Clock) -> Phone:
    """The NGO's test phone with a plan, and a test contact who agreed."""
    register(refuge.app, TESTER, "en", "kharkiv")
    register(refuge.app, SARA, "en")
    tester = Phone(refuge.app, TESTER, clock)
    set_up(tester, "en", contacts=((SARA, "Sara"),))
    work(refuge)  # the opt-in
    Phone(refuge.app, SARA, clock).ask("YES")
    work(refuge)
    return tester


def test_after_a_drill_a_day_ahead_real_opt_ins_alerts_and_all_clears_leave_at_once(
    refuge: Delivery, clock: Clock
) -> None:
    rehearsing(refuge, clock)
    before = len(refuge.fake.sent(SARA))
    work(refuge, drill=START + timedelta(days=1))
    assert len(refuge.fake.sent(SARA)) == before + 1  # the rehearsed alert, now

    clock.now = START + timedelta(minutes=2)
    register(refuge.app, PERSON, "en", "kharkiv")
    register(refuge.app, CAROL, "en")
    person, carol = Phone(refuge.app, PERSON, clock), Phone(refuge.app, CAROL, clock)
    set_up(person, "en", contacts=((CAROL, "Carol"),))
    work(refuge)
    [opt_in] = bodies(refuge.fake, CAROL)  # asked at once, not a day later
    assert "Amina" in opt_in
    carol.ask("YES")

    clock.now += timedelta(minutes=1)
    check_in(person, "en", DURESS)
    work(refuge)
    [alert] = bodies(refuge.fake, CAROL)[1:]  # alerted in the next pass
    assert "Amina" in alert

    clock.now += timedelta(minutes=1)
    check_in(person, "en", PIN)
    work(refuge)
    [all_clear] = bodies(refuge.fake, CAROL)[2:]
    assert all_clear != alert


def test_a_drill_does_not_expire_a_real_alert_waiting_to_leave(
    refuge: Delivery, clock: Clock
) -> None:
    idle_test_phone(refuge, clock)
    register(refuge.app, PERSON, "en", "kharkiv")
    register(refuge.app, CAROL, "en")
    person = Phone(refuge.app, PERSON, clock)
    set_up(person, "en", contacts=((CAROL, "Carol"),))
    work(refuge)
    Phone(refuge.app, CAROL, clock).ask("YES")
    work(refuge)
    clock.now += timedelta(minutes=1)
    check_in(person, "en", DURESS)
    run_sweep(refuge.app, clock.now)  # queued; the worker has not been round yet
    [alert] = [message.body for message in sent(refuge.app) if message.kind == "alert"]

    work(refuge, drill=clock.now + timedelta(days=4))  # past the alert's three days
    assert alert in bodies(refuge.fake, CAROL)


def test_a_drill_counts_what_it_sends_on_the_real_day(
    make_refuge: Callable[..., Delivery], clock: Clock
) -> None:
    refuge = make_refuge(REFUGE_SMS_CAP_PER_NUMBER="1")
    idle_test_phone(refuge, clock)
    alice = refuge.person()
    lasts = timedelta(days=3)
    refuge.queue(alice, "reminder", not_before=START, lasts=lasts)
    work(refuge, drill=START + timedelta(days=1))  # a real message, sent by the drill's pass
    assert len(refuge.fake.sent(ALICE)) == 1

    # That was today's one message: tomorrow's is still there for a real alert.
    clock.now = START + timedelta(days=1, hours=1)
    refuge.queue(
        alice, "alert", body="Amina needs you.", kind=OutboxKind.ALERT, not_before=clock.now
    )
    work(refuge)
    assert [message.body for message in refuge.fake.sent(ALICE)][1:] == ["Amina needs you."]


def test_a_drill_that_dies_after_claiming_does_not_hold_a_real_alert_for_a_day(
    refuge: Delivery, clock: Clock, monkeypatch: pytest.MonkeyPatch
) -> None:
    idle_test_phone(refuge, clock)
    alice = refuge.person()
    refuge.queue(
        alice,
        "alert",
        body="Amina needs you.",
        kind=OutboxKind.ALERT,
        not_before=START,
        lasts=timedelta(days=3),
    )

    def dies(*_args: object) -> None:
        raise SystemExit(9)

    with monkeypatch.context() as patch:
        patch.setattr(admission, "admit", dies)  # claimed, then the drill's worker is gone
        died = refuge.app.test_cli_runner().invoke(
            args=[
                "worker",
                "--once",
                "--now",
                (START + timedelta(days=1)).isoformat(),
                "--person",
                TESTER,
            ]
        )
    assert died.exit_code == 9
    assert refuge.fake.sent(ALICE) == []

    clock.now = START + timedelta(minutes=5)  # the claim's lease is long gone
    work(refuge)
    assert [message.body for message in refuge.fake.sent(ALICE)] == ["Amina needs you."]


def test_a_drills_own_alert_leaves_now_and_is_retried_in_real_time(
    refuge: Delivery, clock: Clock
) -> None:
    rehearsing(refuge, clock)
    before = len(refuge.fake.sent(SARA))
    refuge.fake.fail_next("500")
    work(refuge, drill=START + timedelta(hours=13))  # missed: the plan is due every 12 hours
    assert len(refuge.fake.sent(SARA)) == before

    clock.now = START + timedelta(minutes=1)  # retried after seconds, not after the drill's time
    work(refuge)
    [alert] = bodies(refuge.fake, SARA)[before:]
    assert "Amina" in alert
    work(refuge)
    assert len(refuge.fake.sent(SARA)) == before + 1


def test_a_drill_sweeps_only_the_test_phones_it_names(refuge: Delivery, clock: Clock) -> None:
    rehearsing(refuge, clock)
    register(refuge.app, PERSON, "en", "kharkiv")  # a real person, who checks in every 12 hours
    register(refuge.app, CAROL, "en")
    set_up(Phone(refuge.app, PERSON, clock), "en", contacts=((CAROL, "Carol"),))
    work(refuge)
    Phone(refuge.app, CAROL, clock).ask("YES")
    work(refuge)
    tester_contact, contact, person = (
        len(refuge.fake.sent(number)) for number in (SARA, CAROL, PERSON)
    )

    work(refuge, drill=START + timedelta(days=1))  # both plans would be long overdue then

    assert len(refuge.fake.sent(SARA)) == tester_contact + 1  # the rehearsed alert
    assert len(refuge.fake.sent(CAROL)) == contact  # the real person's contact hears nothing
    assert len(refuge.fake.sent(PERSON)) == person  # nor is the real person reminded
    clock.now = START + timedelta(hours=1)
    work(refuge)  # and real time finds the real plan as it was: nothing owed yet
    assert len(refuge.fake.sent(CAROL)) == contact
