"""Operators see what could not leave: the worker's report and logs count it by kind and
reason, and an alert late or expired fails deep health and `refuge status`, naming nobody."""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta

import pytest
from click.testing import Result

from server.config import Settings
from server.delivery.outbox import Reason
from server.models.messaging import OutboxKind, OutboxStatus
from server.models.people import Consent
from tests.delivery import ALICE, CAROL, NOW, Delivery, building, pin_worker_clock
from tests.fake_twilio import FakeTwilio, is_create

#: A contact abroad, outside the allow-list (GB): fictional.
ABROAD = "+12025550142"
#: The digits that must never be shown, with or without their country code.
DIGITS = ("447700900", "7700900", "2025550142", "5550142")


@pytest.fixture
def fake() -> Iterator[FakeTwilio]:
    with FakeTwilio() as server:
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


def alert_for(delivery: Delivery, number: str = CAROL, **queued: object) -> uuid.UUID:
    """An alert for a contact who agreed, on behalf of Alice (whose id is returned)."""
    alice = delivery.person(ALICE)
    carol = delivery.contact(alice, number, Consent.CONFIRMED)
    delivery.queue(alice, "alert", kind=OutboxKind.ALERT, contact=carol, **queued)  # type: ignore[arg-type]
    return alice


def status(delivery: Delivery) -> Result:
    return delivery.app.test_cli_runner().invoke(args=["status"])


def deep_health(delivery: Delivery) -> tuple[int, dict[str, object]]:
    response = delivery.app.test_client().get("/healthz?deep=1")
    return response.status_code, response.get_json()


def names_nobody(*texts: str) -> bool:
    return not any(digits in text for text in texts for digits in DIGITS)


def logged(caplog: pytest.LogCaptureFixture) -> str:
    return caplog.text + repr([record.args for record in caplog.records])


def errors(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR]


def test_an_alert_dropped_for_its_country_is_reported_by_kind_and_reason(
    delivery: Delivery, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    alice = alert_for(delivery, ABROAD)
    delivery.queue(alice, "reminder")
    pin_worker_clock(monkeypatch, lambda: NOW)  # the pass runs at NOW, on its real clock
    with caplog.at_level(logging.INFO):
        result = delivery.app.test_cli_runner().invoke(args=["worker", "--once"])
    assert result.exit_code == 0, result.output
    assert "sent: 1" in result.output
    assert "dropped: alert/country 1" in result.output
    assert "held: none" in result.output
    assert "1 alert message(s) dropped: country" in errors(caplog)
    assert "dropped: alert/country 1" in caplog.text
    assert names_nobody(result.output, logged(caplog))


def test_caps_say_which_cap_and_whether_the_message_waits(
    make_delivery: Callable[..., Delivery],
) -> None:
    delivery = make_delivery(REFUGE_SMS_CAP_PER_NUMBER="1")
    alice = delivery.person()
    for number in range(2):
        delivery.queue(alice, f"alert:{number}", kind=OutboxKind.ALERT, lasts=timedelta(days=2))
    delivery.queue(alice, "menu", kind=OutboxKind.REPLY)
    report = delivery.worker().run_once(NOW)
    assert report.sent == 1
    assert report.setbacks.held == {(OutboxKind.ALERT, Reason.CAP_NUMBER): 1}
    assert report.setbacks.dropped == {(OutboxKind.REPLY, Reason.CAP_NUMBER): 1}
    assert report.lines()[-2:] == ["held: alert/cap_number 1", "dropped: reply/cap_number 1"]


def test_refusals_and_giving_up_are_told_apart(make_delivery: Callable[..., Delivery]) -> None:
    delivery = make_delivery(REFUGE_SMS_MAX_ATTEMPTS="1")
    alice = delivery.person()
    delivery.queue(alice, "menu", kind=OutboxKind.REPLY)
    delivery.fake.fail_next("21211")
    assert delivery.worker().run_once(NOW).setbacks.dropped == {
        (OutboxKind.REPLY, Reason.REFUSED): 1
    }
    delivery.queue(alice, "reminder")
    delivery.fake.fail_when("500", is_create)
    assert delivery.worker().run_once(NOW).setbacks.dropped == {
        (OutboxKind.REMINDER, Reason.GAVE_UP): 1
    }


def test_an_alert_sixteen_minutes_late_fails_deep_health_and_status(
    delivery: Delivery, caplog: pytest.LogCaptureFixture
) -> None:
    now = datetime.now(UTC)
    alert_for(delivery, not_before=now - timedelta(minutes=16), lasts=timedelta(days=3))
    delivery.fake.fail_when("500", is_create)  # the provider is down: it keeps waiting

    with caplog.at_level(logging.INFO):
        sender = delivery.worker()
        assert sender.run_once().late == 1
        assert sender.run_once().late == 0  # told once, not every pass
    assert errors(caplog) == ["1 alert message(s) unsent more than 15 minutes past their time"]

    code, body = deep_health(delivery)
    assert code == 503
    assert body["status"] == "failing"
    assert body["missed"] == [{"kind": "alert", "reason": "late", "count": 1}]
    plain = delivery.app.test_client().get("/healthz")
    assert (plain.status_code, plain.get_json()) == (200, {"status": "ok"})

    result = status(delivery)
    assert result.exit_code == 1
    assert "alert/late 1" in result.output
    assert names_nobody(result.output, repr(body), logged(caplog))


def test_an_alert_that_leaves_late_keeps_health_failing_for_a_day(delivery: Delivery) -> None:
    alert_for(delivery, not_before=datetime.now(UTC) - timedelta(minutes=20))
    assert delivery.worker().run_once().sent == 1
    code, body = deep_health(delivery)
    assert code == 503
    assert body["missed"] == [{"kind": "alert", "reason": "sent_late", "count": 1}]
    assert status(delivery).exit_code == 1


def test_an_expired_alert_fails_deep_health_and_status(
    delivery: Delivery, caplog: pytest.LogCaptureFixture
) -> None:
    alert_for(delivery, not_before=datetime.now(UTC) - timedelta(hours=3), lasts=timedelta(hours=1))
    with caplog.at_level(logging.INFO):
        report = delivery.worker().run_once()
    assert report.sent == 0
    assert report.setbacks.dropped == {(OutboxKind.ALERT, Reason.EXPIRED): 1}
    assert delivery.row("alert").status is OutboxStatus.EXPIRED
    assert "1 alert message(s) dropped: expired" in errors(caplog)

    code, body = deep_health(delivery)
    assert code == 503
    assert body["missed"] == [{"kind": "alert", "reason": "expired", "count": 1}]
    result = status(delivery)
    assert result.exit_code == 1
    assert "alert/expired 1" in result.output
    assert names_nobody(result.output, repr(body), logged(caplog))


def test_an_alert_that_expired_over_a_day_ago_no_longer_fails_health(delivery: Delivery) -> None:
    alert_for(
        delivery, not_before=datetime.now(UTC) - timedelta(hours=27), lasts=timedelta(hours=1)
    )
    delivery.worker().run_once()
    assert delivery.row("alert").status is OutboxStatus.EXPIRED
    assert deep_health(delivery)[0] == 200
    assert status(delivery).exit_code == 0


def test_an_alert_dropped_for_its_country_fails_deep_health(delivery: Delivery) -> None:
    alert_for(delivery, ABROAD, not_before=datetime.now(UTC))
    delivery.worker().run_once()
    code, body = deep_health(delivery)
    assert code == 503
    assert body["missed"] == [{"kind": "alert", "reason": "country", "count": 1}]


@pytest.mark.parametrize(("code", "health"), [("21211", 503), ("21610", 200)])
def test_an_alert_the_provider_refused_fails_deep_health_unless_the_contact_said_stop(
    delivery: Delivery, code: str, health: int
) -> None:
    alert_for(delivery, not_before=datetime.now(UTC))
    delivery.fake.fail_next(code)  # type: ignore[arg-type]
    delivery.worker().run_once()
    assert delivery.row("alert").status is OutboxStatus.FAILED
    assert deep_health(delivery)[0] == health


def test_deep_health_is_ok_when_every_alert_left_in_time(
    delivery: Delivery, caplog: pytest.LogCaptureFixture
) -> None:
    now = datetime.now(UTC)
    alice = alert_for(delivery, not_before=now - timedelta(minutes=14))
    delivery.queue(alice, "reminder", not_before=now - timedelta(hours=1))  # late, but no alert
    delivery.queue(alice, "later", kind=OutboxKind.ALERT, not_before=now + timedelta(hours=1))
    with caplog.at_level(logging.INFO):
        report = delivery.worker().run_once()
    assert report.sent == 2
    assert errors(caplog) == []
    assert deep_health(delivery) == (
        200,
        {"status": "ok", "missed": [], "late_minutes": 15, "window_hours": 24},
    )
    result = status(delivery)
    assert result.exit_code == 0, result.output
    assert result.output.startswith("ok:")


def test_the_late_threshold_is_a_setting(make_delivery: Callable[..., Delivery]) -> None:
    delivery = make_delivery(REFUGE_ALERT_LATE_MINUTES="5")
    alert_for(delivery, not_before=datetime.now(UTC) - timedelta(minutes=6))
    code, body = deep_health(delivery)
    assert (code, body["late_minutes"]) == (503, 5)
