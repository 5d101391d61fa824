"""A worker process for crash tests: `python -m tests.crashing_worker POINT`.

Settings come from the REFUGE_* environment. POINT is where the process kills itself with
SIGKILL (no cleanup, no finally, as a power cut or the OOM killer would): `before_call` (the
row is claimed, the provider never called), `after_call` (the provider took the message, the
answer never recorded), `before_commit` (recorded in a transaction that never commits), or
`none` to run one pass and exit normally.
"""

from __future__ import annotations

import os
import signal
import sys
from typing import Any

from server import db
from server.app import create_app
from server.config import from_environment
from server.delivery import records, worker
from server.delivery.worker import make_channel


def die() -> None:
    os.kill(os.getpid(), signal.SIGKILL)


def main(point: str) -> int:
    settings = from_environment()
    app = create_app(settings)
    channel = make_channel(settings)
    real_send = channel.send
    real_record = records.record_sent

    def send(message: Any) -> Any:
        if point == "before_call":
            die()
        sent = real_send(message)
        if point == "after_call":
            die()
        return sent

    def record(*args: Any, **kwargs: Any) -> None:
        real_record(*args, **kwargs)
        if point == "before_commit":
            die()

    channel.send = send  # type: ignore[method-assign]
    records.record_sent = record  # type: ignore[assignment]
    runner = worker.Worker(db.get_database(app), settings, channel)
    report = runner.run_once()
    print(report.as_dict())
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
