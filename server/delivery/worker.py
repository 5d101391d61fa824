"""The worker: one loop that sends the outbox, settles lost attempts, deletes the provider's
copies, and runs the sweeps and purges it is given (`server.upkeep` gives the check-in sweep
and the retention purge). `refuge worker` runs it; `--once` runs one pass (for cron and
tests); `--now T` makes that pass a drill at T.

A drill rehearses an escalation: the sweeps run as if the time were T, and what they queue
leaves now, each message keeping its lifetime. Nothing else in a drill happens at T: the
sender's pace, leases, daily caps, expiry, retries and the provider's clean-ups follow the real
clock, and no purge runs, so real messages never wait for, or expire at, a drill's time.

One pass, in order: rows left `sending` by a worker that died are looked up at the provider
(sent if it has them, due again if not); sweeps queue what is owed (check-in reminders,
alerts, all-clears); due rows are claimed by priority at the sender's pace and handed to the
channel, the answers of each batch recorded together; provider records of settled messages
are deleted; old rows are purged.

What could not leave is counted by kind and reason in the pass's report and logged (a
WARNING line per pass; an ERROR line for an alert or all-clear that was dropped, held, or
became late, see `missed`). Nothing here logs a number or a text: messages are named by row
id and kind.
"""

from __future__ import annotations

import logging
import signal
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, fields
from datetime import UTC, date, datetime, timedelta
from types import FrameType
from typing import Any

from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from server.config import Settings, SmsBackend
from server.db import Database
from server.delivery import (
    admission,
    claims,
    missed,
    outbox,
    provider_copies,
    reconciliation,
    records,
    twilio,
)
from server.delivery.channels import (
    Channel,
    ChannelError,
    ConsoleChannel,
    NotFound,
    SentMessage,
    TemporaryFailure,
    UncertainOutcome,
)
from server.delivery.outbox import Reason, Setbacks
from server.i18n import overrides
from server.models.messaging import OutboxStatus

log = logging.getLogger(__name__)

#: Rows claimed per transaction; a smaller batch lets a newly due alert in sooner.
CLAIM_BATCH = 20
#: Stuck rows looked up, and provider records deleted, per pass.
RECONCILE_BATCH = 50
CLEANUP_BATCH = 100
#: Seconds between passes when a pass found nothing to do, and the longest wait after errors.
IDLE_SECONDS = 1.0
MAX_ERROR_PAUSE = 30.0
#: Retention purges run at most this often.
PURGE_EVERY = timedelta(hours=1)
SENDERS = (outbox.SMS_SENDER, outbox.WHATSAPP_SENDER)

#: A sweep queues what is owed at `now` (check-in reminders, escalations) into the outbox.
Sweep = Callable[[Session, Settings, datetime], Any]
#: A purge deletes what is kept past retention on `today`; it returns how many rows went.
Purge = Callable[[Session, Settings, date], int]


def utcnow() -> datetime:
    """The current time, timezone-aware."""
    return datetime.now(UTC)


@dataclass
class PassReport:
    """What one pass did, by outcome, and what could not leave, by kind and reason (counts
    only)."""

    sent: int = 0
    retrying: int = 0
    failed: int = 0
    uncertain: int = 0
    reconciled: int = 0
    resent: int = 0
    deleted_at_provider: int = 0
    swept: int = 0
    purged: int = 0
    #: Alerts and all-clears that became late in this pass (unsent past their time).
    late: int = 0
    setbacks: Setbacks = field(default_factory=Setbacks)

    @property
    def busy(self) -> bool:
        """True when the pass did something (so the next one should not wait)."""
        return any(self.as_dict().values())

    def as_dict(self) -> dict[str, int]:
        """The counts by outcome."""
        counts = {each.name: getattr(self, each.name) for each in fields(self)}
        return {name: count for name, count in counts.items() if isinstance(count, int)}

    def lines(self) -> list[str]:
        """`sent: 3` for each outcome, then `held: ...` and `dropped: ...` by kind/reason."""
        return [f"{name}: {count}" for name, count in self.as_dict().items()] + (
            self.setbacks.lines()
        )


@dataclass
class Worker:
    """Delivers the outbox through one channel; any number may run against one database."""

    database: Database
    settings: Settings
    channel: Channel
    sweeps: Iterable[Sweep] = ()
    purges: Iterable[Purge] = ()
    clock: Callable[[], datetime] = utcnow
    stopping: threading.Event = field(default_factory=threading.Event)
    _last_purge: datetime | None = None
    _late_checked: datetime | None = None

    def run_once(self, now: datetime | None = None, *, drill: datetime | None = None) -> PassReport:
        """One pass at `now` (by default the worker's clock; tests move it).

        With `drill`, the sweeps run as if at that moment and what they queue leaves now;
        everything else follows `now`, the real time, so a drill changes nothing real time sees.
        """
        report = PassReport()
        clock = self.clock if now is None else _fixed(now)
        # The texts a sweep writes use UI translations saved in the portal, as replies do.
        with self.database.session() as session:
            overrides.refresh(
                session,
                self.database.engine.url.render_as_string(hide_password=True),
                self.settings.localization.ui_reload_seconds,
            )
        self.reconcile(clock(), report)
        # Sweeps first, so that what falls due now (an alert, a reminder) leaves in this pass.
        self.sweep(clock(), report, drill=drill)
        with self.database.session() as session:
            for kind in claims.expire(session, clock()):
                report.setbacks.dropped[(kind, Reason.EXPIRED)] += 1
        if now is None:  # before sending: an alert that leaves late was still late
            self.watch_late(clock(), report)
        for sender in SENDERS:
            self.send_due(sender, clock, report)
        self.clean_up(clock(), report)
        # Purges follow the worker's own clock only: a drill, or a time a caller chose, must
        # never purge people as if inactive.
        if now is None and drill is None:
            self.purge(clock(), report)
        _log_setbacks(report.setbacks)
        return report

    def run_forever(self) -> None:
        """Pass after pass until SIGTERM or SIGINT; the message in hand is finished first."""
        previous = self._handle_signals()
        try:
            self._loop()
        finally:
            for signum, handler in previous.items():
                signal.signal(signum, handler)
        log.info("worker stopped")

    def _loop(self) -> None:
        pause = IDLE_SECONDS
        while not self.stopping.is_set():
            try:
                report = self.run_once()
            except SQLAlchemyError as error:
                # The database is away (restarting, say): nothing is lost, rows wait in it.
                log.warning(
                    "worker pass failed on the database (%s); retrying", type(error).__name__
                )
                self.stopping.wait(pause)
                pause = min(pause * 2, MAX_ERROR_PAUSE)
                continue
            except Exception as error:
                # A bug must not stop every later message: say what broke (no message data).
                log.error("worker pass failed (%s); retrying", type(error).__name__)
                self.stopping.wait(pause)
                pause = min(pause * 2, MAX_ERROR_PAUSE)
                continue
            pause = IDLE_SECONDS
            if not report.busy:
                self.stopping.wait(IDLE_SECONDS)

    def _handle_signals(self) -> dict[int, Any]:
        """Stop on SIGTERM and SIGINT (main thread only); the handlers replaced, to restore."""

        def stop(signum: int, _frame: FrameType | None) -> None:
            log.info("worker stopping on signal %d", signum)
            self.stopping.set()

        previous: dict[int, Any] = {}
        if threading.current_thread() is threading.main_thread():
            for signum in (signal.SIGTERM, signal.SIGINT):
                previous[signum] = signal.signal(signum, stop)
        return previous

    # --- Sending -------------------------------------------------------------------------

    def send_due(self, sender: str, clock: Callable[[], datetime], report: PassReport) -> None:
        """Claim and send due messages of one sender until none is due or its pace is full."""
        allowed = self._allowed_countries()
        while not self.stopping.is_set():
            now = clock()
            with self.database.session() as session:
                claim_id = claims.claim(session, self.settings, sender, now, CLAIM_BATCH)
            if claim_id is None:
                return
            # If the worker dies between these two, the claimed rows wait out their lease and
            # are then reconciled like any other interrupted attempt.
            with self.database.session() as session:
                jobs = admission.admit(
                    session, self.settings, claim_id, now, allowed, report.setbacks
                )
            self._send_all(jobs, clock, report)

    def _send_all(
        self, jobs: list[claims.Job], clock: Callable[[], datetime], report: PassReport
    ) -> None:
        """Hand each job to the channel, then record every answer in one transaction.

        If the worker dies before that commit, the rows are still `sending`: once their lease
        runs out, reconciliation finds the messages at the provider and does not resend them.
        """
        taken: list[tuple[claims.Job, SentMessage]] = []
        refused: list[tuple[claims.Job, ChannelError]] = []
        for index, job in enumerate(jobs):
            if self.stopping.is_set():
                with self.database.session() as session:
                    claims.release(session, jobs[index:])
                break
            try:
                taken.append((job, self.channel.send(job.message)))
            except ChannelError as failure:
                refused.append((job, failure))
                log.info(
                    "outbox %s (%s) not taken: %s, code %s",
                    job.row_id,
                    job.kind.value,
                    type(failure).__name__,
                    failure.code,
                )
        with self.database.session() as session:
            now = clock()
            records.record_sent(session, taken, now)
            for job, problem in refused:
                reason = records.record_failure(session, self.settings, job, problem, now)
                if reason is not None:
                    report.setbacks.dropped[(job.kind, reason)] += 1
        report.sent += len(taken)
        for _, problem in refused:
            if isinstance(problem, UncertainOutcome):
                report.uncertain += 1
            elif isinstance(problem, TemporaryFailure):
                report.retrying += 1
            else:
                report.failed += 1

    def _allowed_countries(self) -> frozenset[str]:
        """The countries messages may go to (the console channel too: the demo is honest)."""
        with self.database.session() as session:
            return admission.allowed_countries(session, self.settings)

    # --- Reconciling ---------------------------------------------------------------------

    def reconcile(self, now: datetime, report: PassReport) -> None:
        """Look up, at the provider, every attempt whose outcome was lost."""
        with self.database.session() as session:
            jobs = reconciliation.stuck(session, self.settings, now, RECONCILE_BATCH)
        for job in jobs:
            since = job.attempt_started_at - claims.LEASE_MINIMUM
            try:
                found = self.channel.recent(job.message.to, since)
            except ChannelError as error:
                log.info("outbox %s: lookup failed (%s)", job.row_id, type(error).__name__)
                with self.database.session() as session:
                    reconciliation.lookup_failed(session, job, now)
                continue
            with self.database.session() as session:
                status = reconciliation.reconciled(session, job, found, now)
            if status is OutboxStatus.PENDING:
                report.resent += 1
            elif status is not None:
                report.reconciled += 1

    # --- The provider's copies -----------------------------------------------------------

    def clean_up(self, now: datetime, report: PassReport) -> None:
        """Delete provider records of settled messages (checking unsettled ones first)."""
        with self.database.session() as session:
            due = provider_copies.cleanups_due(session, now, CLEANUP_BATCH)
        for cleanup in due:
            try:
                final = cleanup.final
                if not final:
                    message = self.channel.fetch(cleanup.provider_id)
                    with self.database.session() as session:
                        final = provider_copies.provider_status_checked(
                            session, cleanup, message, now
                        )
                if final:
                    self._delete_at_provider(cleanup)
                    with self.database.session() as session:
                        provider_copies.provider_copy_deleted(session, cleanup, now)
                    report.deleted_at_provider += 1
            except NotFound:
                with self.database.session() as session:
                    provider_copies.provider_copy_deleted(session, cleanup, now)
            except ChannelError as error:
                # Left with cleanup_due_at an hour ahead: tried again then.
                log.info("outbox %s: provider cleanup failed (%s)", cleanup.row_id, error.code)

        with self.database.session() as session:
            erased = provider_copies.deletions_due(session, now, CLEANUP_BATCH)
        for pending in erased:
            try:
                self.channel.delete(pending.provider_id)
            except NotFound:
                pass
            except ChannelError as error:
                log.info("provider deletion %s failed (%s)", pending.deletion_id, error.code)
                continue
            with self.database.session() as session:
                provider_copies.deletion_done(session, pending)
            report.deleted_at_provider += 1

    def _delete_at_provider(self, cleanup: provider_copies.Cleanup) -> None:
        self.channel.delete(cleanup.provider_id)

    # --- Late alerts ---------------------------------------------------------------------

    def watch_late(self, now: datetime, report: PassReport) -> None:
        """Log, once, each alert or all-clear that has waited unsent too long past its time."""
        with self.database.session() as session:
            late = missed.newly_late(session, self.settings, self._late_checked, now)
        self._late_checked = now
        for kind, count in sorted(late.items(), key=lambda item: item[0].value):
            log.error(
                "%d %s message(s) unsent more than %d minutes past their time",
                count,
                kind.value,
                self.settings.delivery.alert_late_minutes,
            )
            report.late += count

    # --- Sweeps and purges ---------------------------------------------------------------

    def sweep(self, now: datetime, report: PassReport, *, drill: datetime | None = None) -> None:
        """Let each sweep queue what is owed at `now`, or in a drill at its moment (what the
        drill queues is then moved to `now`, in the same transaction)."""
        for sweep in self.sweeps:
            with self.database.session() as session:
                if drill is None:
                    result = sweep(session, self.settings, now)
                else:
                    earlier = claims.queued_for(session, drill)
                    result = sweep(session, self.settings, drill)
                    claims.bring_drill_forward(session, drill, now, earlier)
            report.swept += int(getattr(result, "queued", 0) or 0)

    def purge(self, now: datetime, report: PassReport) -> None:
        """Run each purge on what is kept past retention, at most once per PURGE_EVERY."""
        if self._last_purge and now - self._last_purge < PURGE_EVERY:
            return
        self._last_purge = now
        for purge in self.purges:
            with self.database.session() as session:
                report.purged += purge(session, self.settings, now.date())


#: Reasons that are a person's own choice: an alert not sent for them is not a failure.
CHOSEN = frozenset({Reason.NO_CONSENT, Reason.OPTED_OUT, Reason.UNSUBSCRIBED})


def _log_setbacks(setbacks: Setbacks) -> None:
    """A WARNING line for what could not leave; an ERROR line per alert kind and reason."""
    if not setbacks:
        return
    log.warning("could not leave: %s", "; ".join(setbacks.lines()))
    for outcome, counts in (("held", setbacks.held), ("dropped", setbacks.dropped)):
        for (kind, reason), count in counts.items():
            if kind in missed.URGENT and reason not in CHOSEN:
                log.error("%d %s message(s) %s: %s", count, kind.value, outcome, reason.value)


def _fixed(moment: datetime) -> Callable[[], datetime]:
    def clock() -> datetime:
        return moment

    return clock


def run(worker: Worker, *, once: bool, drill: datetime | None = None) -> PassReport | None:
    """Run one pass (a drill at `drill`, if given; returning its report) or until stopped."""
    if once:
        started = time.monotonic()
        report = worker.run_once(drill=drill)
        log.info("worker pass done in %.2f s: %s", time.monotonic() - started, report.as_dict())
        return report
    worker.run_forever()
    return None


def make_channel(settings: Settings) -> Channel:
    """The channel the settings choose: Twilio, or the console in development."""
    if settings.sms_backend is SmsBackend.TWILIO:
        return twilio.TwilioChannel(
            settings.twilio_account_sid or "",  # both checked by load_config
            settings.twilio_auth_token or "",
            api_base=settings.twilio_api_base,
            timeout=settings.delivery.timeout_seconds,
        )
    return ConsoleChannel()
