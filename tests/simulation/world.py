"""The Refuge side of the simulation: the real conversation, sweep and worker on a virtual
clock, sending through a FakeTwilio whose clock is the same.

Texts go to `server.conversation.turn.receive` (what the signed webhook calls), one turn per
transaction, as `tests.checkin_helpers.Phone` does. Worker passes are `upkeep.worker(...)`'s
`run_once()` on the virtual clock; a drill is a second worker's `run_once(now=T)`, as `refuge
worker --once --now T` runs it. A crash raises `Crash` where `tests/crashing_worker.py`
would SIGKILL the process (before the provider call, after it, or before the record commits):
the rows it claimed stay `sending` and the next worker, a new one, must settle them.
"""

from __future__ import annotations

import contextlib
import dataclasses
from collections.abc import Callable, Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

from argon2 import PasswordHasher
from flask import Flask
from sqlalchemy import select

from server import db, people, upkeep, vault
from server.app import create_app
from server.checkins import plans
from server.config import Settings, load_config
from server.conversation.turn import IncomingMessage, receive
from server.delivery import records, worker
from server.delivery.channels import Channel, Outbound, SentMessage
from server.models.checkins import CheckinPlan
from server.phones import normalize_phone
from server.vault import credentials, rotation
from tests.checkin_helpers import Clock
from tests.conftest import refuge_env
from tests.delivery import twilio_env
from tests.fake_twilio import FakeTwilio
from tests.sms_helpers import load_demo_content, new_sid

CRASH_POINTS = ("before_call", "after_call", "before_commit")


class Crash(Exception):
    """The worker process died here (tests/crashing_worker.py kills itself with SIGKILL)."""


@contextlib.contextmanager
def cheap_pins() -> Iterator[None]:
    """PIN hashes at the smallest argon2 cost: thousands of check-ins, not thousands of seconds
    (the cost is the vault's business; what a check-in does is the simulation's)."""
    kept = credentials.PIN_HASHER
    credentials.PIN_HASHER = PasswordHasher(time_cost=1, memory_cost=8, parallelism=1)
    try:
        yield
    finally:
        credentials.PIN_HASHER = kept


class CrashingChannel:
    """A channel that dies at `point` on its first message."""

    def __init__(self, channel: Channel, point: str) -> None:
        self.channel, self.point = channel, point

    def send(self, message: Outbound) -> SentMessage:
        if self.point == "before_call":
            raise Crash(self.point)
        sent = self.channel.send(message)
        if self.point == "after_call":
            raise Crash(self.point)
        return sent

    def __getattr__(self, name: str) -> Any:
        return getattr(self.channel, name)


@contextlib.contextmanager
def crash_before_commit() -> Iterator[None]:
    """The worker dies after recording a batch, before that transaction commits."""
    real = records.record_sent

    def record(*args: Any, **kwargs: Any) -> None:
        real(*args, **kwargs)
        raise Crash("before_commit")

    records.record_sent = record  # type: ignore[assignment]
    try:
        yield
    finally:
        records.record_sent = real  # type: ignore[assignment]


class World:
    """One Refuge instance on a virtual clock, and the fake provider it sends through."""

    def __init__(
        self, folder: Path, fake: FakeTwilio, clock: Clock, database_url: str | None = None
    ) -> None:
        self.fake, self.clock = fake, clock
        self.env = refuge_env(
            folder,
            REFUGE_DATABASE_URL=database_url or f"sqlite:///{folder / 'simulation.sqlite3'}",
            **twilio_env(fake, REFUGE_SMS_RATE="50"),
        )
        self.rotations = 0
        self.delivered = 0  # the fake's last message number delivered
        self._build(self.env)
        db.Base.metadata.create_all(self.database.engine)
        load_demo_content(self.app)

    def _build(self, env: dict[str, str]) -> None:
        self.settings: Settings = load_config(env)
        self.app: Flask = create_app(self.settings)
        self.database: db.Database = db.get_database(self.app)
        self.worker = self._worker()

    def _worker(self, channel: Channel | None = None) -> worker.Worker:
        runner = upkeep.worker(
            self.database, self.settings, channel or worker.make_channel(self.settings)
        )
        runner.clock = self._now
        return runner

    def _now(self) -> datetime:
        return self.clock.now

    def close(self) -> None:
        self.database.dispose()

    # --- people ---------------------------------------------------------------------------

    def register(self, number: str, region: str | None) -> None:
        """A person Refuge already knows (chose English, and a region or none)."""
        with self.database.session() as session:
            people.register_subscriber(
                session, normalize_phone(number), locale="en", region_slug=region
            )

    def text(self, number: str, body: str) -> list[str]:
        """One text to Refuge at the clock's time; its replies."""
        with self.database.session() as session:
            turn = receive(
                session, self.settings, IncomingMessage(new_sid(), number, body), self.clock.now
            )
        return turn.replies

    def next_due(self, number: str) -> datetime | None:
        """The due time the person's plan holds now."""
        with self.database.session() as session:
            person = people.find_subscriber(session, normalize_phone(number))
            assert person is not None
            plan = session.scalar(select(CheckinPlan).where(CheckinPlan.subscriber_id == person.id))
            return plans.state_of(plan).due_at if plan is not None else None

    # --- the worker -----------------------------------------------------------------------

    def pass_(self, crash: str | None = None) -> str | None:
        """One worker pass now; with `crash`, the worker dies at that point (returned when it
        did) and a new worker takes over from the next pass."""
        try:
            return self._pass(crash)
        finally:
            self.deliver()

    def deliver(self) -> None:
        """The handsets take what the provider accepted (as Twilio reports within seconds),
        so the worker's clean-up finds each message settled at its first look."""
        for message in self.fake.created_after(self.delivered):
            self.delivered = message.seq
            if message.status in ("accepted", "queued", "sending", "sent"):
                self.fake.set_status(message.sid, "delivered")

    def _pass(self, crash: str | None) -> str | None:
        if crash is None:
            self.worker.run_once()
            return None
        dying = self._worker()
        wrap: Callable[[], contextlib.AbstractContextManager[None]] = contextlib.nullcontext
        if crash == "before_commit":
            wrap = crash_before_commit
        else:
            dying.channel = CrashingChannel(dying.channel, crash)  # type: ignore[assignment]
        try:
            with wrap():
                dying.run_once()
        except Crash:
            self.worker = self._worker()
            return crash
        return None

    def drill(self, pretended: datetime, testers: list[str]) -> None:
        """`refuge worker --once --now <pretended> --person N...`: a worker of its own, one
        pass, sweeping only the test phones' plans as if at `pretended`."""
        with self.database.session() as session:
            found = (people.find_subscriber(session, normalize_phone(n)) for n in testers)
            test_plans = [
                plan.id for person in found if person and (plan := plans.plan_of(session, person))
            ]
        drilling = dataclasses.replace(self._worker(), sweeps=upkeep.drill_sweeps(test_plans))
        drilling.run_once(drill=pretended)

    def rotate_keys(self) -> None:
        """`refuge keys rotate` under a new first master key, then the old key removed."""
        self.rotations += 1
        new = vault.new_key_settings(master_key_id=f"r{self.rotations}")["REFUGE_MASTER_KEYS"]
        both = {**self.env, "REFUGE_MASTER_KEYS": f"{new},{self.env['REFUGE_MASTER_KEYS']}"}
        self.database.dispose()
        self._build(both)
        report = rotation.rotate(self.database)
        assert not report.failed, report
        self.database.dispose()
        self.env = {**self.env, "REFUGE_MASTER_KEYS": new}
        self._build(self.env)
