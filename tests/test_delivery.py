"""Delivery through the real twilio SDK against a fake Twilio: once, in order, or reported."""

from __future__ import annotations

import logging
import os
import signal
import threading
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qs, urlsplit

import pytest
from sqlalchemy import select

from server import db, upkeep
from server.app import create_app
from server.config import Settings
from server.delivery import worker
from server.models.messaging import Outbox, OutboxKind, OutboxStatus, Tally
from server.models.people import Consent, Subscriber, TrustedContact
from tests.checkin_helpers import Clock, Phone, register, set_up
from tests.delivery import (
    ALICE,
    CAROL,
    DAVE,
    NOW,
    SENDER,
    Delivery,
    building,
    pin_worker_clock,
)
from tests.fake_twilio import FakeTwilio, is_create
from tests.seizure import seize

US_NUMBER = "+12025550142"


@pytest.fixture
def fake() -> Iterator[FakeTwilio]:
    with FakeTwilio(slow_seconds=3.0) as server:
        yield server


@pytest.fixture
def make_delivery(
    make_settings: Callable[..., Settings], fake: FakeTwilio
) -> Iterator[Callable[..., Delivery]]:
    with building(make_settings, fake) as build:
        yield build


@pytest.fixture
def delivery(make_delivery: Callable[..., Delivery]) -> Delivery:
    return make_delivery()


def creates(fake: FakeTwilio) -> int:
    return sum(1 for request in fake.requests if is_create(request))


def test_a_due_message_leaves_once_with_a_callback_and_a_validity(delivery: Delivery) -> None:
    alice = delivery.person()
    delivery.queue(alice, "reminder:1", body="Time to check in.")
    report = delivery.worker().run_once(NOW)
    assert report.sent == 1

    [sent] = delivery.fake.sent()
    assert (sent.to, sent.from_, sent.body) == (ALICE, SENDER, "Time to check in.")
    callback = urlsplit(sent.status_callback or "")
    assert callback.path == "/sms/twilio/status"
    assert sent.status_callback.startswith("https://refuge.example.org/")  # type: ignore[union-attr]
    assert parse_qs(callback.query)["o"] == [delivery.row("reminder:1").id.hex]
    assert sent.validity_period == str(2 * 60 * 60)

    row = delivery.row("reminder:1")
    assert row.status is OutboxStatus.SENT
    assert delivery.read("reminder:1", lambda r: r.provider_sid) == sent.sid
    assert delivery.worker().run_once(NOW + timedelta(minutes=1)).sent == 0
    assert creates(delivery.fake) == 1


def test_nothing_leaves_before_its_time(delivery: Delivery) -> None:
    alice = delivery.person()
    delivery.queue(alice, "later", not_before=NOW + timedelta(hours=1))
    assert delivery.worker().run_once(NOW).sent == 0
    assert delivery.worker().run_once(NOW + timedelta(hours=1)).sent == 1


@pytest.mark.parametrize("fault", ["500", "429"])
def test_provider_errors_are_retried_with_growing_backoff_then_sent_once(
    delivery: Delivery, fault: str
) -> None:
    alice = delivery.person()
    delivery.queue(alice, "alert", kind=OutboxKind.ALERT)
    delivery.fake.fail_next(fault, times=3)  # type: ignore[arg-type]
    sender = delivery.worker()
    now = NOW
    waits = []
    for _ in range(3):
        assert sender.run_once(now).retrying == 1
        row = delivery.row("alert")
        assert row.status is OutboxStatus.PENDING
        waits.append(row.next_attempt_at - now)
        assert sender.run_once(row.next_attempt_at - timedelta(milliseconds=1)).sent == 0
        now = row.next_attempt_at
    assert sender.run_once(now).sent == 1
    assert [len(delivery.fake.sent())] == [1]
    assert delivery.row("alert").attempts == 4
    # Doubling with jitter in [0.5, 1]: 1-2 s, 2-4 s, 4-8 s.
    for number, wait in enumerate(waits):
        assert timedelta(seconds=2**number) <= wait <= timedelta(seconds=2 ** (number + 1))


def test_a_message_that_never_gets_through_is_failed_after_the_attempt_limit(
    make_delivery: Callable[..., Delivery],
) -> None:
    delivery = make_delivery(REFUGE_SMS_MAX_ATTEMPTS="3")
    alice = delivery.person()
    delivery.queue(alice, "doomed", lasts=timedelta(days=1))
    delivery.fake.fail_when("500", is_create)
    sender, now = delivery.worker(), NOW
    for _ in range(3):
        sender.run_once(now)
        now += timedelta(minutes=10)
    row = delivery.row("doomed")
    assert (row.status, row.attempts, row.error_code) == (OutboxStatus.FAILED, 3, 20500)
    assert row.body_ct is None


@pytest.mark.parametrize("fault", ["timeout", "accept_then_crash"])
def test_an_answer_lost_after_the_provider_took_it_is_reconciled_not_resent(
    delivery: Delivery, fault: str
) -> None:
    alice = delivery.person()
    delivery.queue(alice, "alert", kind=OutboxKind.ALERT, body="Call Amina now.")
    delivery.fake.fail_next(fault)  # type: ignore[arg-type]
    sender = delivery.worker()
    assert sender.run_once(NOW).uncertain == 1
    assert delivery.row("alert").status is OutboxStatus.SENDING

    report = sender.run_once(NOW + timedelta(seconds=5))
    assert (report.reconciled, report.resent, report.sent) == (1, 0, 0)
    [message] = delivery.fake.sent()
    assert message.body == "Call Amina now."
    row = delivery.row("alert")
    assert row.status is OutboxStatus.SENT
    assert delivery.read("alert", lambda r: r.provider_sid) == message.sid
    assert creates(delivery.fake) == 1


def test_a_connection_reset_before_anything_arrived_is_looked_up_then_resent(
    delivery: Delivery,
) -> None:
    alice = delivery.person()
    delivery.queue(alice, "alert", kind=OutboxKind.ALERT)
    delivery.fake.fail_next("reset")
    sender = delivery.worker()
    assert sender.run_once(NOW).uncertain == 1
    report = sender.run_once(NOW + timedelta(seconds=5))
    assert (report.resent, report.sent) == (1, 1)  # nothing there: sent again at once
    assert len(delivery.fake.sent()) == 1
    assert sender.run_once(NOW + timedelta(seconds=6)).sent == 0


@pytest.mark.parametrize("code", ["21211", "21614"])
def test_permanent_errors_stop_at_once(delivery: Delivery, code: str) -> None:
    alice = delivery.person()
    delivery.queue(alice, "menu", kind=OutboxKind.REPLY)
    delivery.fake.fail_next(code)  # type: ignore[arg-type]
    sender = delivery.worker()
    assert sender.run_once(NOW).failed == 1
    sender.run_once(NOW + timedelta(hours=1))
    row = delivery.row("menu")
    assert (row.status, row.error_code) == (OutboxStatus.FAILED, int(code))
    assert creates(delivery.fake) == 1


def test_an_unsubscribed_number_is_opted_out_here_too(delivery: Delivery) -> None:
    alice = delivery.person()
    carol = delivery.contact(alice, CAROL, Consent.CONFIRMED)
    delivery.queue(alice, "to-alice")
    delivery.queue(alice, "to-carol", kind=OutboxKind.ALERT, contact=carol)
    delivery.fake.fail_next("21610", times=2)
    delivery.worker().run_once(NOW)
    with delivery.database.session() as session:
        assert session.get(Subscriber, alice).opted_out  # type: ignore[union-attr]
        assert session.get(TrustedContact, carol).consent is Consent.REVOKED  # type: ignore[union-attr]


def test_expired_messages_are_never_sent_and_are_counted(delivery: Delivery) -> None:
    alice = delivery.person()
    delivery.queue(alice, "reminder", lasts=timedelta(minutes=30))
    assert delivery.worker().run_once(NOW + timedelta(hours=3)).sent == 0
    assert delivery.fake.sent() == []
    row = delivery.row("reminder")
    assert (row.status, row.body_ct) == (OutboxStatus.EXPIRED, None)
    with delivery.database.session() as session:
        tally = session.scalar(select(Tally).where(Tally.kind == "outbound_expired"))
        assert tally is not None
        assert (tally.subject, tally.count) == ("reminder", 1)


def callback(delivery: Delivery, sid: str, status: str, **extra: object) -> int:
    url, data, headers = delivery.fake.status_callback(sid, status, **extra)  # type: ignore[arg-type]
    return delivery.app.test_client().post(url, data=data, headers=headers).status_code


def test_status_callbacks_apply_in_any_order_and_never_go_backwards(delivery: Delivery) -> None:
    alice = delivery.person()
    delivery.queue(alice, "reminder")
    delivery.worker().run_once(NOW)
    [message] = delivery.fake.sent()

    assert callback(delivery, message.sid, "delivered") == 204
    assert callback(delivery, message.sid, "sent") == 204  # late, and lower
    assert callback(delivery, message.sid, "queued") == 204
    row = delivery.row("reminder")
    assert (row.status, row.provider_status) == (OutboxStatus.DELIVERED, "delivered")
    assert callback(delivery, message.sid, "delivered") == 204  # a repeat changes nothing
    assert delivery.row("reminder").final_on == row.final_on


def test_a_failed_status_is_recorded_with_its_code(delivery: Delivery) -> None:
    alice = delivery.person()
    delivery.queue(alice, "reminder")
    delivery.worker().run_once(NOW)
    [message] = delivery.fake.sent()
    assert callback(delivery, message.sid, "undelivered", error_code=30003) == 204
    row = delivery.row("reminder")
    assert (row.status, row.error_code) == (OutboxStatus.UNDELIVERED, 30003)


def test_a_callback_that_arrives_before_the_send_is_recorded_settles_the_row(
    delivery: Delivery,
) -> None:
    alice = delivery.person()
    delivery.queue(alice, "alert", kind=OutboxKind.ALERT)
    delivery.fake.fail_next("timeout")
    sender = delivery.worker()
    sender.run_once(NOW)  # the provider has it; the worker never heard back
    [message] = delivery.fake.sent()
    assert callback(delivery, message.sid, "delivered") == 204
    assert delivery.row("alert").status is OutboxStatus.DELIVERED
    report = sender.run_once(NOW + timedelta(minutes=5))
    assert (report.sent, report.resent) == (0, 0)
    assert creates(delivery.fake) == 1


def test_forged_or_unsigned_callbacks_change_nothing(delivery: Delivery) -> None:
    alice = delivery.person()
    delivery.queue(alice, "reminder")
    delivery.worker().run_once(NOW)
    [message] = delivery.fake.sent()
    client = delivery.app.test_client()
    for token in ("not-the-token", False):
        url, data, headers = delivery.fake.status_callback(
            message.sid, "failed", sign_with_token=token
        )
        assert client.post(url, data=data, headers=headers).status_code == 403
    assert delivery.row("reminder").status is OutboxStatus.SENT


def test_a_callback_for_another_message_cannot_touch_a_row(delivery: Delivery) -> None:
    alice = delivery.person()
    delivery.queue(alice, "first")
    delivery.queue(alice, "second", body="another")
    delivery.worker().run_once(NOW)
    first, second = sorted(delivery.fake.sent(), key=lambda m: m.seq)
    url, data, headers = delivery.fake.status_callback(
        second.sid, "failed", url=first.status_callback
    )
    assert delivery.app.test_client().post(url, data=data, headers=headers).status_code == 204
    assert delivery.row("first").status is OutboxStatus.SENT
    assert delivery.row("second").status is OutboxStatus.FAILED


def test_the_provider_copy_is_deleted_after_a_final_status(delivery: Delivery) -> None:
    alice = delivery.person()
    now = datetime.now(UTC)  # the callback below is stamped with the real time
    delivery.queue(alice, "reminder", not_before=now)
    sender = delivery.worker()
    sender.run_once(now)
    [message] = delivery.fake.sent()
    sender.run_once(now + timedelta(minutes=1))
    assert not delivery.fake.message(message.sid).deleted  # not final yet: kept

    callback(delivery, message.sid, "delivered")
    delivery.fake.fail_next("500", match=lambda r: r.method == "DELETE")
    sender.run_once(now + timedelta(minutes=2))
    assert not delivery.fake.message(message.sid).deleted  # refused: tried again later
    assert sender.run_once(now + timedelta(minutes=30)).deleted_at_provider == 0
    assert sender.run_once(now + timedelta(hours=2)).deleted_at_provider == 1
    assert delivery.fake.message(message.sid).deleted
    row = delivery.row("reminder")
    assert (row.provider_sid_ct, row.cleanup_due_at, row.body_ct) == (None, None, None)


def test_a_message_that_never_reports_back_is_looked_up_then_deleted(delivery: Delivery) -> None:
    alice = delivery.person()
    delivery.queue(alice, "reminder")
    sender = delivery.worker()
    sender.run_once(NOW)
    [message] = delivery.fake.sent()
    delivery.fake.set_status(message.sid, "delivered")  # the callback was lost
    sender.run_once(NOW + timedelta(hours=7))
    assert delivery.row("reminder").status is OutboxStatus.DELIVERED
    assert delivery.fake.message(message.sid).deleted


def test_alerts_go_before_a_backlog_of_reminders(make_delivery: Callable[..., Delivery]) -> None:
    delivery = make_delivery(REFUGE_SMS_RATE="1", REFUGE_SMS_PROVIDER_BACKLOG_SECONDS="3")
    people = [delivery.person(f"+4477009001{n:02d}") for n in range(12)]
    for number, person in enumerate(people):
        delivery.queue(person, f"reminder:{number}", not_before=NOW - timedelta(minutes=5))
    delivery.queue(people[0], "alert", kind=OutboxKind.ALERT, body="ALERT")
    sender = delivery.worker()
    assert sender.run_once(NOW).sent == 3  # three seconds of backlog at one a second
    assert delivery.fake.sent()[0].body == "ALERT"
    assert sender.run_once(NOW).sent == 0  # the pace is full until time moves on
    assert sender.run_once(NOW + timedelta(seconds=2)).sent == 2


def test_daily_caps_hold_alerts_back_and_drop_menus(
    make_delivery: Callable[..., Delivery],
) -> None:
    delivery = make_delivery(REFUGE_SMS_CAP_PER_NUMBER="2")
    alice = delivery.person()
    for number in range(3):
        delivery.queue(alice, f"alert:{number}", kind=OutboxKind.ALERT, lasts=timedelta(days=2))
    for number in range(2):
        delivery.queue(alice, f"menu:{number}", kind=OutboxKind.REPLY)
    sender = delivery.worker()
    assert sender.run_once(NOW).sent == 2
    waiting = delivery.row("alert:2")
    assert waiting.status is OutboxStatus.PENDING
    assert waiting.next_attempt_at.date() == NOW.date() + timedelta(days=1)
    assert {delivery.row(f"menu:{n}").status for n in range(2)} == {OutboxStatus.DROPPED}
    assert sender.run_once(NOW + timedelta(days=1)).sent == 1
    assert len(delivery.fake.sent()) == 3


def test_a_prefix_cap_stops_pumping_across_many_numbers(
    make_delivery: Callable[..., Delivery],
) -> None:
    delivery = make_delivery(REFUGE_SMS_CAP_PER_PREFIX="3")
    for number in range(5):
        person = delivery.person(f"+4477009002{number:02d}")
        delivery.queue(person, f"menu:{number}", kind=OutboxKind.REPLY)
    assert delivery.worker().run_once(NOW).sent == 3
    with delivery.database.session() as session:
        tally = session.scalar(select(Tally).where(Tally.kind == "outbound_capped"))
        assert tally is not None
        assert tally.count == 2


def test_a_camp_sharing_one_prefix_gets_its_alerts_past_the_prefix_cap(
    make_delivery: Callable[..., Delivery],
) -> None:
    """Found by the simulation at 60 people: one operator prefix (+44 7700 here, +880 1712 in
    a camp) reached its 200 a day, and all-clears waited until midnight. Alerts, all-clears
    and a person's own reminders go to people who asked for them: not under that cap."""
    delivery = make_delivery(REFUGE_SMS_CAP_PER_PREFIX="2")
    alice = delivery.person()
    for number in range(4):
        contact = delivery.contact(alice, f"+4477009002{number:02d}", Consent.CONFIRMED)
        delivery.queue(alice, f"alert:{number}", kind=OutboxKind.ALERT, contact=contact)
    delivery.queue(alice, "reminder", kind=OutboxKind.REMINDER)
    assert delivery.worker().run_once(NOW).sent == 5


def test_numbers_outside_the_allow_list_are_never_texted(delivery: Delivery) -> None:
    alice = delivery.person()
    abroad = delivery.contact(alice, US_NUMBER, Consent.CONFIRMED)
    delivery.queue(alice, "abroad", kind=OutboxKind.ALERT, contact=abroad)
    delivery.worker().run_once(NOW)
    assert delivery.fake.sent() == []
    assert delivery.row("abroad").status is OutboxStatus.DROPPED


def test_the_allow_list_defaults_to_the_countries_served(
    make_delivery: Callable[..., Delivery],
) -> None:
    delivery = make_delivery(REFUGE_SMS_COUNTRIES="")
    alice = delivery.person()
    delivery.queue(alice, "reminder")
    delivery.worker().run_once(NOW)  # no region in Britain is served: nothing may go there
    assert delivery.fake.sent() == []


def test_only_contacts_who_said_yes_get_alerts(delivery: Delivery) -> None:
    alice = delivery.person()
    pending = delivery.contact(alice, CAROL)
    declined = delivery.contact(alice, DAVE, Consent.DECLINED)
    delivery.queue(alice, "ask-carol", kind=OutboxKind.OPT_IN, contact=pending, body="Agree?")
    delivery.queue(alice, "alert-carol", kind=OutboxKind.ALERT, contact=pending)
    delivery.queue(alice, "alert-dave", kind=OutboxKind.ALERT, contact=declined)
    delivery.queue(alice, "ask-dave", kind=OutboxKind.OPT_IN, contact=declined)
    delivery.worker().run_once(NOW)
    assert [(m.to, m.body) for m in delivery.fake.sent()] == [(CAROL, "Agree?")]
    for cause in ("alert-carol", "alert-dave", "ask-dave"):
        assert delivery.row(cause).status is OutboxStatus.DROPPED


def test_a_person_who_said_stop_gets_nothing_more(delivery: Delivery) -> None:
    alice = delivery.person()
    with delivery.database.session() as session:
        session.get(Subscriber, alice).opted_out = True  # type: ignore[union-attr]
    delivery.queue(alice, "reminder")
    delivery.worker().run_once(NOW)
    assert delivery.fake.sent() == []


WHATSAPP_ALICE = "whatsapp:" + ALICE


def test_whatsapp_outside_the_window_is_held_without_a_template(delivery: Delivery) -> None:
    alice = delivery.person(WHATSAPP_ALICE)
    delivery.queue(alice, "reminder")
    delivery.worker().run_once(NOW)
    assert delivery.fake.sent() == []
    row = delivery.row("reminder")
    assert row.status is OutboxStatus.PENDING
    assert row.next_attempt_at > NOW


def test_whatsapp_outside_the_window_goes_as_the_approved_template(
    make_delivery: Callable[..., Delivery],
) -> None:
    delivery = make_delivery(REFUGE_TWILIO_WHATSAPP_TEMPLATE_SID="HX" + "0" * 32)
    alice = delivery.person(WHATSAPP_ALICE)
    delivery.queue(alice, "reminder", body="free text")
    delivery.worker().run_once(NOW)
    [message] = delivery.fake.sent()
    assert (message.to, message.from_) == (WHATSAPP_ALICE, "whatsapp:" + SENDER)
    assert message.content_sid == "HX" + "0" * 32
    assert "Body" not in message.form
    assert delivery.row("reminder").template


def test_whatsapp_inside_the_window_is_free_text(delivery: Delivery) -> None:
    alice = delivery.person(WHATSAPP_ALICE)
    with delivery.database.session() as session:
        session.get(Subscriber, alice).whatsapp_window_until = NOW + timedelta(hours=3)  # type: ignore[union-attr]
    delivery.queue(alice, "reminder", body="free text")
    delivery.worker().run_once(NOW)
    [message] = delivery.fake.sent()
    assert (message.to, message.body, message.content_sid) == (WHATSAPP_ALICE, "free text", None)


def test_a_worker_told_to_stop_finishes_its_message_and_gives_back_the_rest(
    delivery: Delivery,
) -> None:
    alice = delivery.person()
    for number in range(5):
        delivery.queue(alice, f"reminder:{number}")
    sender = delivery.worker()
    real_send = sender.channel.send

    def send_then_stop(message):  # type: ignore[no-untyped-def]
        sent = real_send(message)
        sender.stopping.set()  # SIGTERM arrives while the first message is in flight
        return sent

    sender.channel.send = send_then_stop  # type: ignore[method-assign]
    assert sender.run_once(NOW).sent == 1
    with delivery.database.session() as session:
        rows = session.scalars(select(Outbox)).all()
        statuses = sorted(row.status.value for row in rows)
        assert statuses == ["pending"] * 4 + ["sent"]
        assert {row.attempts for row in rows if row.status is OutboxStatus.PENDING} == {0}
    assert delivery.worker().run_once(NOW).sent == 4
    assert len(delivery.fake.sent()) == 5


def test_sigterm_stops_the_loop(delivery: Delivery) -> None:
    if threading.current_thread() is not threading.main_thread():
        pytest.skip("signal handlers can only be set from the main thread")
    alice = delivery.person()
    for number in range(5):
        delivery.queue(alice, f"reminder:{number}")
    sender = delivery.worker(clock=lambda: NOW)
    real_send = sender.channel.send
    signals: list[int] = []

    def send_then_sigterm(message):  # type: ignore[no-untyped-def]
        sent = real_send(message)
        os.kill(os.getpid(), signal.SIGTERM)  # as systemd or `docker stop` would, mid-send
        return sent

    sender.channel.send = send_then_sigterm  # type: ignore[method-assign]
    # Ours until the loop starts, and again after it: a stray SIGTERM never ends the test run.
    previous = signal.signal(signal.SIGTERM, lambda signum, _frame: signals.append(signum))
    try:
        sender.run_forever()  # returns: the loop stopped
        handler_after = signal.getsignal(signal.SIGTERM)
    finally:
        signal.signal(signal.SIGTERM, previous)
    assert signals == []  # the worker's own handler took the signal
    assert callable(handler_after)
    handler_after(signal.SIGTERM, None)
    assert signals == [signal.SIGTERM]  # and the handler from before was put back
    with delivery.database.session() as session:
        rows = session.scalars(select(Outbox)).all()
        statuses = sorted(row.status.value for row in rows)
        assert statuses == ["pending"] * 4 + ["sent"]  # the message in hand finished
        assert {row.attempts for row in rows if row.status is OutboxStatus.PENDING} == {0}
    assert len(delivery.fake.sent()) == 1
    assert delivery.worker().run_once(NOW).sent == 4  # the rest were given back, not lost


def test_nothing_personal_reaches_the_logs_or_the_database(
    delivery: Delivery, caplog: pytest.LogCaptureFixture
) -> None:
    alice = delivery.person()
    carol = delivery.contact(alice, CAROL, Consent.CONFIRMED)
    delivery.queue(alice, "alert", kind=OutboxKind.ALERT, contact=carol, body="Amina is missing")
    delivery.queue(alice, "reminder", body="Amina, check in")
    delivery.fake.fail_next("21211")
    with caplog.at_level(logging.DEBUG):
        sender = delivery.worker()
        sender.run_once(NOW)
        for message in delivery.fake.sent():
            callback(delivery, message.sid, "delivered")
        sender.run_once(NOW + timedelta(minutes=1))
    logged = caplog.text + repr([record.args for record in caplog.records])
    raw = seize(delivery.database)
    for secret in (ALICE, CAROL, "7700900", "Amina"):
        assert secret not in logged
        assert secret.encode() not in raw
    for message in delivery.fake.sent():
        assert message.sid.encode() not in raw


def test_status_callbacks_need_their_fields(delivery: Delivery) -> None:
    url, data, headers = delivery.fake.status_callback(
        _sent_sid(delivery), "delivered", sign_with_token=None
    )
    del data["MessageStatus"], data["SmsStatus"]
    from twilio.request_validator import RequestValidator

    headers["X-Twilio-Signature"] = RequestValidator(delivery.fake.auth_token).compute_signature(
        url, data
    )
    assert delivery.app.test_client().post(url, data=data, headers=headers).status_code == 400


def _sent_sid(delivery: Delivery) -> str:
    alice = delivery.person()
    delivery.queue(alice, "reminder")
    delivery.worker().run_once(NOW)
    return delivery.fake.sent()[0].sid


TESTER = "+447700900611"  # the NGO's test phone


def test_the_worker_command_runs_one_pass_and_a_drill_sends_nothing_early(
    delivery: Delivery, monkeypatch: pytest.MonkeyPatch
) -> None:
    real = [NOW]
    pin_worker_clock(monkeypatch, lambda: real[0])
    alice = delivery.person()
    delivery.queue(alice, "later", not_before=NOW + timedelta(days=3))
    register(delivery.app, TESTER, "en", "kharkiv")  # the NGO's test phone, with a plan
    set_up(Phone(delivery.app, TESTER, Clock(NOW)), "en")
    runner = delivery.app.test_cli_runner()
    later = (NOW + timedelta(days=3)).isoformat()
    drill = runner.invoke(args=["worker", "--once", "--now", later, "--person", TESTER])
    assert drill.exit_code == 0, drill.output
    assert (
        "sent: 0" in drill.output.splitlines()
    )  # a real message waits for its real time, drill or not
    real[0] = NOW + timedelta(days=3)
    result = runner.invoke(args=["worker", "--once"])
    assert result.exit_code == 0, result.output
    assert "sent: 1" in result.output.splitlines()
    assert len(delivery.fake.sent()) == 1
    bad = runner.invoke(args=["worker", "--once", "--now", "next tuesday"])
    assert bad.exit_code != 0
    assert "ISO 8601" in bad.output
    naive = runner.invoke(args=["worker", "--once", "--now", "2026-12-01T09:00"])
    assert "time zone" in naive.output
    assert runner.invoke(args=["worker", "--now", later, "--person", TESTER]).exit_code != 0
    unnamed = runner.invoke(args=["worker", "--once", "--now", later])
    assert unnamed.exit_code != 0
    assert "never a real person's: add --person NUMBER" in unnamed.output
    no_plan = runner.invoke(args=["worker", "--once", "--now", later, "--person", CAROL])
    assert no_plan.exit_code != 0
    assert "the 1st test phone has no check-in plan" in no_plan.output
    assert "7700" not in no_plan.output
    assert "7700" not in unnamed.output


def test_the_sweeps_run_in_each_pass(delivery: Delivery) -> None:
    seen = []

    def sweep(session, settings, now):  # type: ignore[no-untyped-def]
        seen.append(now)

    delivery.worker(sweeps=[sweep]).run_once(NOW)
    assert seen == [NOW]
    assert upkeep.default_sweeps() is not None


def test_erasing_a_person_still_deletes_their_messages_at_the_provider(
    delivery: Delivery,
) -> None:
    alice = delivery.person()
    delivery.queue(alice, "reminder", body="Amina, time to check in")
    sender = delivery.worker()
    sender.run_once(NOW)
    [message] = delivery.fake.sent()
    from server import people

    with delivery.database.session() as session:
        people.delete_subscriber(session, session.get(Subscriber, alice))  # type: ignore[arg-type]
    with delivery.database.session() as session:
        assert session.scalars(select(Outbox)).all() == []
    delivery.fake.fail_next("500", match=lambda r: r.method == "DELETE")
    later = datetime.now(UTC) + timedelta(minutes=1)
    assert sender.run_once(later).deleted_at_provider == 0  # refused: kept for another try
    assert not delivery.fake.message(message.sid).deleted
    assert sender.run_once(later + timedelta(hours=2)).deleted_at_provider == 1
    assert delivery.fake.message(message.sid).deleted
    raw = seize(delivery.database)
    assert message.sid.encode() not in raw
    assert sender.run_once(later + timedelta(hours=4)).deleted_at_provider == 0


def test_a_messaging_service_sends_without_a_from_number(
    make_delivery: Callable[..., Delivery],
) -> None:
    service = "MG" + "1" * 32
    delivery = make_delivery(REFUGE_TWILIO_MESSAGING_SERVICE_SID=service, REFUGE_TWILIO_FROM="")
    alice = delivery.person()
    delivery.queue(alice, "reminder")
    delivery.worker().run_once(NOW)
    [message] = delivery.fake.sent()
    assert message.messaging_service_sid == service
    assert "From" not in message.form
    assert delivery.row("reminder").status is OutboxStatus.SENT


def test_the_console_channel_applies_the_default_country_allow_list_like_production(
    make_settings: Callable[..., Settings],
) -> None:
    from server.delivery.channels import CHANNEL_EXTENSION, ConsoleChannel
    from tests.sms_helpers import load_demo_content

    # Development: the console channel, and the default allow-list (the countries served:
    # the demo's BD, SD and UA), so the demo shows what production would send, and drop.
    settings = make_settings(REFUGE_SMS_COUNTRIES="")
    app = create_app(settings)
    database = db.get_database(app)
    db.Base.metadata.create_all(database.engine)
    load_demo_content(app)
    console = app.extensions[CHANNEL_EXTENSION]
    assert isinstance(console, ConsoleChannel)
    delivery = Delivery(app, database, settings, None)  # type: ignore[arg-type]
    alice = delivery.person()  # British
    rina = delivery.person("+8801700000002")  # Bangladeshi
    delivery.queue(alice, "reminder:alice", body="Time to check in.")
    delivery.queue(rina, "reminder:rina", body="Time to check in.")
    worker.Worker(database, settings, console).run_once(NOW)
    assert [m.to for m in console.messages()] == ["+8801700000002"]
    assert delivery.row("reminder:alice").status is OutboxStatus.DROPPED
    database.dispose()


def test_a_drill_far_ahead_purges_nobody(delivery: Delivery) -> None:
    alice = delivery.person()
    delivery.worker().run_once(NOW + timedelta(days=400))  # long past the inactivity limit
    with delivery.database.session() as session:
        assert session.get(Subscriber, alice) is not None


def test_a_pass_that_breaks_does_not_end_the_worker(
    delivery: Delivery, monkeypatch: pytest.MonkeyPatch
) -> None:
    sender = delivery.worker()
    passes = []

    def broken(now=None):  # type: ignore[no-untyped-def]
        passes.append(now)
        if len(passes) >= 2:
            sender.stopping.set()
        raise RuntimeError("a bug")

    monkeypatch.setattr(worker, "IDLE_SECONDS", 0.01)
    monkeypatch.setattr(sender, "run_once", broken)
    sender.run_forever()
    assert len(passes) == 2


def test_another_message_to_the_same_number_is_not_taken_for_a_lost_one(
    delivery: Delivery,
) -> None:
    alice = delivery.person()
    delivery.queue(alice, "lost", kind=OutboxKind.ALERT, body="The lost one")
    delivery.fake.fail_next("reset")  # never reached the provider
    sender = delivery.worker()
    sender.run_once(NOW)
    # Meanwhile something else reached Alice (sent outside this row's knowledge).
    from tests.fake_twilio import sdk_client

    sdk_client(delivery.fake).messages.create(to=ALICE, from_=SENDER, body="Something else")
    report = sender.run_once(NOW + timedelta(seconds=5))
    assert (report.reconciled, report.resent) == (0, 1)
    assert sorted(m.body for m in delivery.fake.sent()) == ["Something else", "The lost one"]


def test_delivery_failures_are_counted_in_the_region_of_whom_they_were_for(
    delivery: Delivery,
) -> None:
    """Partners' signals read delivery failures per region (issue 19)."""
    alice = delivery.person(region_slug="kharkiv")
    delivery.queue(alice, "reminder")
    later = NOW + timedelta(hours=1)
    delivery.queue(alice, "late", not_before=later, lasts=timedelta(minutes=30))
    sender = delivery.worker()
    sender.run_once(NOW)
    [message] = delivery.fake.sent()
    assert callback(delivery, message.sid, "undelivered", error_code=30003) == 204
    sender.run_once(NOW + timedelta(hours=3))
    with delivery.database.session() as session:
        rows = session.execute(select(Tally.kind, Tally.region_slug, Tally.count)).all()
    counted = {(kind, region): count for kind, region, count in rows}
    assert counted[("outbound_undelivered", "kharkiv")] == 1
    assert counted[("outbound_expired", "kharkiv")] == 1
