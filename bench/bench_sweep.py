"""The check-in sweep: its cost follows the due plans, not how many plans exist.

1,000 plans are due among 10,000, 100,000 and 1,000,000 scheduled (SQLite). The plans that
are not due are bulk-inserted with Core (their envelopes are never read, so filler bytes do);
the due ones are real: a person with a data key, a sealed plan, a contact who agreed. Each
pass runs in a transaction that is rolled back, so every repeat finds the same work.

Figures: a pass with the most plans against one with the fewest (goal: at most 1.5x), and
due plans handled per second by the sweep beside a bare indexed SELECT of the same rows.
"""

from __future__ import annotations

import os
import secrets
import statistics
import tempfile
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import make_url, select

import server.models  # noqa: F401 (every table)
from bench.harness import Result
from server import db, people, vault
from server.checkins import plans
from server.checkins.sweep import sweep
from server.models.checkins import CheckinPlan
from server.models.people import Consent, Subscriber
from server.phones import normalize_phone

NOW = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)
DUE = 1000
SIZES = tuple(
    int(size)
    for size in os.environ.get("REFUGE_BENCH_SWEEP_SIZES", "10000,100000,1000000").split(",")
)
CHUNK = 20_000
REPEAT = 3


def _vault() -> vault.Vault:
    settings = vault.new_key_settings()
    return vault.Vault(
        vault.parse_keyring(settings["REFUGE_MASTER_KEYS"]),
        vault.decode_key(settings["REFUGE_INDEX_KEY"]),
    )


def _filler(database: db.Database, count: int) -> None:
    """Plans that are scheduled but not due, with their people, as fast as Core inserts."""
    later = NOW + timedelta(days=30)
    filler = b"\x01" * 48
    with database.engine.begin() as connection:
        for start in range(0, count, CHUNK):
            size = min(CHUNK, count - start)
            ids = [uuid.uuid4() for _ in range(size)]
            connection.execute(
                Subscriber.__table__.insert(),
                [
                    {
                        "id": person,
                        "phone_index": secrets.token_bytes(32),
                        "phone": filler,
                        "wrapped_data_key": filler,
                        "data_key_id": "k1",
                        "locale": "en",
                        "channel": "sms",
                        "opted_out": False,
                        "replies_in_hour": 0,
                        "replies_in_day": 0,
                    }
                    for person in ids
                ],
            )
            connection.execute(
                CheckinPlan.__table__.insert(),
                [
                    {
                        "id": uuid.uuid4(),
                        "subscriber_id": person,
                        "next_due_at": later + timedelta(seconds=n),
                        "settings": filler,
                        "state": filler,
                    }
                    for n, person in enumerate(ids)
                ],
            )


def _due(database: db.Database) -> None:
    """Real plans whose alert is owed at NOW, each with a contact who agreed."""
    with database.session() as session:
        for n in range(DUE):
            person = people.register_subscriber(
                session, normalize_phone(f"+4477009{n:05d}"[:13]), region_slug=None
            )
            contact = people.add_trusted_contact(
                session, person, normalize_phone(f"+447700900{(n + 500) % 1000:03d}"), "Sara"
            )
            contact.consent = Consent.CONFIRMED
            plan = CheckinPlan(id=uuid.uuid4(), subscriber=person)
            session.add(plan)
            plans.save(plan, plans.PlanSettings(name="Amina", grace_minutes=30), plans.PlanState())
            plan.pin = "x"
            plans.activate(plan, NOW - timedelta(days=2))
            plan.next_due_at = NOW - timedelta(minutes=n % 60)


def _timed_sweep(database: db.Database) -> float:
    times = []
    for _ in range(REPEAT):
        session = database.sessionmaker()
        try:
            began = time.perf_counter()
            report = sweep(session, None, NOW)
            times.append(time.perf_counter() - began)
            assert report.plans == DUE, report
            assert report.alerts == DUE, report
        finally:
            session.rollback()
            session.close()
    return statistics.median(times)


def _timed_select(database: db.Database) -> float:
    query = select(CheckinPlan.__table__).where(CheckinPlan.next_due_at <= NOW)
    times = []
    for _ in range(REPEAT):
        with database.engine.connect() as connection:
            began = time.perf_counter()
            rows = connection.execute(query).all()
            times.append(time.perf_counter() - began)
            assert len(rows) == DUE
    return statistics.median(times)


def run() -> list[Result]:
    """Sweep passes over 1,000 due plans among ever more scheduled ones."""
    passes: dict[int, tuple[float, float]] = {}
    keys = _vault()
    for size in SIZES:
        with tempfile.TemporaryDirectory(prefix="refuge-bench-sweep-") as tmp:
            database = db.Database(make_url(f"sqlite:///{Path(tmp) / 'sweep.sqlite3'}"), keys)
            try:
                db.Base.metadata.create_all(database.engine)
                _filler(database, size - DUE)
                _due(database)
                passes[size] = (_timed_sweep(database), _timed_select(database))
            finally:
                database.dispose()
    smallest, largest = min(passes), max(passes)
    results = [
        Result(
            f"sweep of {DUE:,} due plans among {size:,} (s)",
            "s",
            passes[size][0],
            passes[smallest][0],
            "<= 1.5x the smallest" if size == largest else None,
        )
        for size in sorted(passes)
    ]
    sweep_time, select_time = passes[largest]
    results.append(
        Result(
            f"due plans per second, sweep vs bare indexed SELECT ({largest:,} scheduled)",
            "plans/s",
            DUE / sweep_time,
            DUE / select_time,
        )
    )
    return results
