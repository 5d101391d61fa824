"""Outbox throughput: messages per second claimed, sent to the fake Twilio and recorded.

Ours: `refuge worker --once` processes (1 and 4 on PostgreSQL, 1 on SQLite) drain a queue of
reminders through the real `twilio` SDK into the fake Twilio REST server of the test suite;
the rate is taken between the fake's first and last message create, so process start-up is
left out. Baseline: the same fake, in the same run, driven by the bare SDK in a loop (create,
create, ...), measured the same way. Goal: 4 workers at least 50% of the raw rate.

PostgreSQL comes from REFUGE_TEST_DATABASE_URL (default: the local server's `test` database,
in which a scratch database is created and dropped); without it those figures are skipped.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import create_engine, make_url, text

from bench.harness import REPO_ROOT, Result, clean_env, venv_script

MESSAGES = 3_000
PEOPLE = 50
GOAL_RATIO = 0.50
DEFAULT_PG = "postgresql://postgres@127.0.0.1:5432/test"
SCRATCH = "refuge_bench_outbox"


def run() -> list[Result]:
    """Measure the raw rate and the workers' rates; a PostgreSQL figure per worker count."""
    sys.path.insert(0, str(REPO_ROOT))
    from tests.fake_twilio import FakeTwilio

    results = []
    with FakeTwilio() as fake:
        raw = _raw_rate(fake, MESSAGES)
        pg = _scratch_postgres()
        if pg is not None:
            try:
                for workers in (1, 4):
                    rate = _worker_rate(fake, pg, workers)
                    goal = f">= {GOAL_RATIO:.2f}x of raw" if workers == 4 else None
                    results.append(
                        Result(
                            f"outbox send rate, {workers} worker(s), PostgreSQL",
                            "msg/s",
                            rate,
                            raw,
                            goal,
                        )
                    )
            finally:
                _drop_scratch()
        else:
            print("bench_outbox: PostgreSQL unreachable; its figures are skipped")
        with tempfile.TemporaryDirectory() as tmp:
            rate = _worker_rate(fake, f"sqlite:///{Path(tmp) / 'refuge.sqlite3'}", 1)
            results.append(Result("outbox send rate, 1 worker, SQLite", "msg/s", rate, raw))
    return results


def _raw_rate(fake: object, count: int) -> float:
    from tests.fake_twilio import is_create, sdk_client

    client = sdk_client(fake)  # type: ignore[arg-type]
    fake.reset()  # type: ignore[attr-defined]
    for number in range(count):
        client.messages.create(to="+447700900123", from_="+15550100", body=f"raw {number}")
    return _rate([r.time for r in fake.requests if is_create(r)])  # type: ignore[attr-defined]


def _rate(times: list[float]) -> float:
    if len(times) < 2:
        return 0.0
    return (len(times) - 1) / (max(times) - min(times))


def _env(fake: object, url: str, instance: Path) -> dict[str, str]:
    from server import vault
    from tests.delivery import twilio_env

    return {
        "REFUGE_DATABASE_URL": url,
        "REFUGE_INSTANCE_PATH": str(instance),
        **vault.new_key_settings(),
        **twilio_env(
            fake,  # type: ignore[arg-type]
            REFUGE_SMS_RATE="1000",
            REFUGE_SMS_PROVIDER_BACKLOG_SECONDS="3600",
            REFUGE_SMS_CAP_PER_NUMBER="10000",
            REFUGE_SMS_CAP_PER_PREFIX="1000000",
            REFUGE_SMS_CAP_PER_REGION="1000000",
            REFUGE_SMS_CAP_PER_DAY="1000000",
        ),
    }


def _worker_rate(fake: object, url: str, workers: int) -> float:
    from server import db, people, schema
    from server.app import create_app
    from server.config import load_config
    from server.delivery import outbox
    from server.models.messaging import OutboxKind
    from server.phones import normalize_phone
    from tests.fake_twilio import is_create

    with tempfile.TemporaryDirectory() as tmp:
        env = _env(fake, url, Path(tmp))
        settings = load_config(env)
        app = create_app(settings)
        database = db.get_database(app)
        schema.upgrade(database.engine)
        now = datetime.now(UTC)
        with database.session() as session:
            subscribers = [
                people.register_subscriber(session, normalize_phone(f"+447700900{n:03d}"))
                for n in range(PEOPLE)
            ]
            for number in range(MESSAGES):
                outbox.enqueue(
                    session,
                    outbox.Outgoing(
                        subscriber=subscribers[number % PEOPLE],
                        body=f"Your check-in is due soon ({number}).",
                        kind=OutboxKind.REMINDER,
                        cause=f"bench:{workers}:{number}",
                        not_before=now,
                        expires_at=now + timedelta(hours=1),
                    ),
                )
        database.dispose()
        fake.reset()  # type: ignore[attr-defined]
        processes = [
            subprocess.Popen(
                [str(venv_script("refuge")), "worker", "--once"],
                cwd=REPO_ROOT,
                env=clean_env(env),
                stdout=subprocess.DEVNULL,
                stderr=subprocess.PIPE,
            )
            for _ in range(workers)
        ]
        for process in processes:
            _, errors = process.communicate(timeout=900)
            if process.returncode != 0:
                raise RuntimeError(f"refuge worker failed: {errors.decode()[-2000:]}")
        times = [r.time for r in fake.requests if is_create(r)]  # type: ignore[attr-defined]
        if len(times) != MESSAGES:
            raise RuntimeError(f"{len(times)} messages reached the fake, not {MESSAGES}")
        return _rate(times)


def _admin_url() -> str:
    return os.environ.get("REFUGE_TEST_DATABASE_URL") or DEFAULT_PG


def _scratch_postgres() -> str | None:
    admin = create_engine(_admin_url(), isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{SCRATCH}" WITH (FORCE)'))
            connection.execute(text(f'CREATE DATABASE "{SCRATCH}"'))
    except Exception:
        return None
    finally:
        admin.dispose()
    return make_url(_admin_url()).set(database=SCRATCH).render_as_string(hide_password=False)


def _drop_scratch() -> None:
    admin = create_engine(_admin_url(), isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        time.sleep(0.1)
        connection.execute(text(f'DROP DATABASE IF EXISTS "{SCRATCH}" WITH (FORCE)'))
    admin.dispose()
