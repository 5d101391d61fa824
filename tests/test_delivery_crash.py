"""Crashes, many workers and a database restart: nothing lost, nothing sent twice."""

from __future__ import annotations

import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, make_url, select

from server import db
from server.app import create_app
from server.config import load_config
from server.delivery import claims, outbox, worker
from server.models.messaging import Outbox, OutboxStatus
from tests.conftest import PG_URL, _reset_postgres, refuge_env
from tests.delivery import Delivery, twilio_env
from tests.fake_twilio import FakeTwilio, is_create
from tests.relay import TcpRelay

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture
def fake() -> Iterator[FakeTwilio]:
    with FakeTwilio(slow_seconds=3.0) as server:
        yield server


def build(env: dict[str, str], fake: FakeTwilio) -> Delivery:
    settings = load_config(env)
    app = create_app(settings)
    database = db.get_database(app)
    db.Base.metadata.create_all(database.engine)
    return Delivery(app, database, settings, fake)


def run_worker(env: dict[str, str], point: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "tests.crashing_worker", point],
        env={"PATH": "/usr/bin:/bin", **env},
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


@pytest.mark.parametrize("point", ["before_call", "after_call", "before_commit"])
def test_a_worker_killed_mid_send_loses_nothing_and_sends_nothing_twice(
    tmp_path: Path, database_url: str, fake: FakeTwilio, point: str
) -> None:
    env = refuge_env(tmp_path, REFUGE_DATABASE_URL=database_url, **twilio_env(fake))
    delivery = build(env, fake)
    alice = delivery.person()
    now = datetime.now(UTC)
    delivery.queue(alice, "alert", body="Amina missed her check-in.", not_before=now)

    crashed = run_worker(env, point)
    assert crashed.returncode == -9, crashed.stderr
    reached = 0 if point == "before_call" else 1
    assert len(fake.sent()) == reached
    assert delivery.row("alert").status is OutboxStatus.SENDING

    # A worker that starts before the lease runs out leaves the row alone...
    assert delivery.worker().run_once(now + timedelta(seconds=5)).sent == 0
    # ...and once it has run out, settles it with what the provider has.
    report = delivery.worker().run_once(now + claims.LEASE_MINIMUM + timedelta(seconds=30))
    assert (report.reconciled, report.resent) == ((1, 0) if reached else (0, 1))
    [message] = fake.sent()
    assert message.body == "Amina missed her check-in."
    assert creates(fake) == 1
    assert delivery.row("alert").status is OutboxStatus.SENT
    assert delivery.read("alert", lambda row: row.provider_sid) == message.sid


def creates(fake: FakeTwilio) -> int:
    return sum(1 for request in fake.requests if is_create(request))


@pytest.mark.skipif(not PG_URL, reason="needs REFUGE_TEST_DATABASE_URL (PostgreSQL)")
def test_four_workers_on_postgresql_send_each_of_ten_thousand_rows_once(
    tmp_path: Path, pg_database: str, fake: FakeTwilio
) -> None:
    _reset_postgres(pg_database)
    env = refuge_env(
        tmp_path,
        REFUGE_DATABASE_URL=pg_database,
        **twilio_env(
            fake,
            REFUGE_SMS_RATE="1000",
            # The fake answers on loopback: a one-second timeout would measure how loaded the
            # machine is (an answer later than it is an uncertain outcome, left to a later
            # pass than this test's one), not whether four workers share the rows.
            REFUGE_TWILIO_TIMEOUT_SECONDS="10",
            REFUGE_SMS_CAP_PER_NUMBER="10000",
            REFUGE_SMS_CAP_PER_PREFIX="100000",
            REFUGE_SMS_CAP_PER_REGION="100000",
            REFUGE_SMS_CAP_PER_DAY="100000",
        ),
    )
    delivery = build(env, fake)
    now = datetime.now(UTC)
    total = 10_000
    people = [delivery.person(f"+4477009003{n:02d}") for n in range(50)]
    _queue_many(delivery, people, total, now)

    workers = [
        subprocess.Popen(
            [sys.executable, "-m", "tests.crashing_worker", "none"],
            env={"PATH": "/usr/bin:/bin", **env},
            cwd=ROOT,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(4)
    ]
    outputs = [process.communicate(timeout=600) for process in workers]
    assert [process.returncode for process in workers] == [0] * 4, outputs
    sent_by_each = [int(out.split("'sent': ")[1].split(",")[0]) for out, _ in outputs]
    assert sum(sent_by_each) == total
    assert min(sent_by_each) > 0  # all four took part

    bodies = [message.body for message in fake.sent()]
    assert len(bodies) == total
    assert len(set(bodies)) == total
    with delivery.database.session() as session:
        counts = dict(
            session.execute(select(Outbox.status, func.count()).group_by(Outbox.status)).all()
        )
    assert counts == {OutboxStatus.SENT: total}


def _queue_many(delivery: Delivery, people: list, total: int, now: datetime) -> None:  # type: ignore[type-arg]
    from server.models.messaging import OutboxKind
    from server.models.people import Subscriber

    with delivery.database.session() as session:
        subscribers = [session.get(Subscriber, person) for person in people]
        for number in range(total):
            outbox.enqueue(
                session,
                outbox.Outgoing(
                    subscriber=subscribers[number % len(subscribers)],  # type: ignore[arg-type]
                    body=f"message {number}",
                    kind=OutboxKind.REMINDER,
                    cause=f"bulk:{number}",
                    not_before=now,
                    expires_at=now + timedelta(hours=1),
                ),
            )


@pytest.mark.skipif(not PG_URL, reason="needs REFUGE_TEST_DATABASE_URL (PostgreSQL)")
def test_postgresql_going_away_under_the_worker_loses_nothing(
    tmp_path: Path, pg_database: str, fake: FakeTwilio, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(claims, "LEASE_MINIMUM", timedelta(seconds=1))
    monkeypatch.setattr(worker, "MAX_ERROR_PAUSE", 0.5)
    _reset_postgres(pg_database)
    url = make_url(pg_database)
    relay = TcpRelay((url.host or "127.0.0.1", url.port or 5432))
    through = url.set(host="127.0.0.1", port=relay.port).render_as_string(hide_password=False)
    direct_env = refuge_env(
        tmp_path,
        REFUGE_DATABASE_URL=pg_database,
        **twilio_env(
            fake,
            REFUGE_SMS_RATE="200",
            REFUGE_SMS_CAP_PER_NUMBER="1000",
            REFUGE_SMS_CAP_PER_PREFIX="1000",
        ),
    )
    direct = build(direct_env, fake)
    now = datetime.now(UTC)
    total = 300
    people = [direct.person(f"+4477009004{n:02d}") for n in range(5)]
    _queue_many(direct, people, total, now)

    # The worker reaches the database through the relay, which the test cuts and restores.
    relayed = build({**direct_env, "REFUGE_DATABASE_URL": through}, fake)
    runner = relayed.worker()
    thread = threading.Thread(target=runner.run_forever, daemon=True)
    thread.start()
    try:
        for _ in range(3):
            _wait_for(lambda: len(fake.sent()) >= 40 + len(fake.sent()) // 2, timeout=60)
            relay.cut()
            time.sleep(0.7)
            relay.restore()
        _wait_for(lambda: _settled(direct) == total, timeout=120, show=lambda: _statuses(direct))
    finally:
        runner.stopping.set()
        thread.join(timeout=30)
        relay.close()
    bodies = [message.body for message in fake.sent()]
    assert sorted(bodies) == sorted(f"message {n}" for n in range(total))


def _settled(delivery: Delivery) -> int:
    with delivery.database.session() as session:
        return int(
            session.scalar(select(func.count()).where(Outbox.status == OutboxStatus.SENT)) or 0
        )


def _statuses(delivery: Delivery) -> object:
    with delivery.database.session() as session:
        return session.execute(select(Outbox.status, func.count()).group_by(Outbox.status)).all()


def _wait_for(condition, timeout: float, show=lambda: None) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out: {show()}")
        time.sleep(0.05)


def test_sigterm_lets_the_worker_finish_and_exit_cleanly(
    tmp_path: Path, database_url: str, fake: FakeTwilio
) -> None:
    import signal

    env = refuge_env(tmp_path, REFUGE_DATABASE_URL=database_url, **twilio_env(fake))
    delivery = build(env, fake)
    alice = delivery.person()
    delivery.queue(alice, "reminder", not_before=datetime.now(UTC))
    process = subprocess.Popen(
        [str(Path(sys.executable).parent / "refuge"), "worker"],
        env={"PATH": "/usr/bin:/bin", **env},
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        fake.wait_for_messages(1, timeout=60)
    finally:
        process.send_signal(signal.SIGTERM)
        _, errors = process.communicate(timeout=60)
    assert process.returncode == 0, errors
    assert "worker stopped" in errors
    assert delivery.row("reminder").status is OutboxStatus.SENT
