"""What the delivery worker runs each pass for the rest of Refuge: the check-in sweep (which
queues reminders, alerts and all-clears), the retention purges (people, receipts and
settled messages; sealed notes), and forgetting past weeks' rumour-word sightings
(`server.signals.counting`).

The worker itself knows neither check-ins nor people; `refuge worker` and `refuge demo` build
their worker here.
"""

from __future__ import annotations

import functools
import uuid
from collections.abc import Collection
from datetime import date

from sqlalchemy.orm import Session

from server import people
from server.checkins import notes
from server.checkins.sweep import sweep as checkin_sweep
from server.config import Settings
from server.db import Database
from server.delivery.channels import Channel
from server.delivery.worker import Purge, Sweep, Worker
from server.signals.counting import forget_past_sightings


def drill_sweeps(plans: Collection[uuid.UUID]) -> list[Sweep]:
    """The sweeps of a drill: the check-in sweep over the named test plans only, so that a
    rehearsal never opens an incident, or alerts anyone, for a real person."""
    return [functools.partial(checkin_sweep, only=frozenset(plans))]


def default_sweeps() -> list[Sweep]:
    """The sweeps every worker runs: check-in reminders, escalations and all-clears."""
    return [checkin_sweep]


def purge_retained(session: Session, settings: Settings, today: date) -> int:
    """Delete what is kept past retention (people, receipts, settled messages): how many rows."""
    return sum(people.purge(session, settings.retention, today).as_dict().values())


def purge_notes(session: Session, settings: Settings, today: date) -> int:
    """Delete sealed notes past `REFUGE_NOTE_RETENTION_DAYS` (`server.checkins.notes`)."""
    return notes.purge(session, settings.retention.note_days, today)


def default_purges() -> list[Purge]:
    """The purges every worker runs, at most once an hour."""
    return [purge_retained, purge_notes, forget_past_sightings]


def worker(database: Database, settings: Settings, channel: Channel) -> Worker:
    """A worker with every sweep and purge Refuge runs."""
    return Worker(database, settings, channel, sweeps=default_sweeps(), purges=default_purges())
