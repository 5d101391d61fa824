"""Requests per second of GET /healthz: Refuge against a bare Flask app, both under gunicorn."""

from __future__ import annotations

import tempfile
from contextlib import ExitStack
from pathlib import Path

from bench.harness import (
    Result,
    clean_env,
    interleave,
    measure_rps,
    rps_probe,
    run_refuge,
    serve_gunicorn,
    sqlite_refuge_env,
)

WORKERS = 2
CONCURRENCY = 4
ROUNDS = 8  # pairs of rounds: ours then baseline, then baseline then ours, ...
ROUND_SECONDS = 2.0
WARMUP_SECONDS = 1.0


def run() -> list[Result]:
    """Serve both apps identically, load them alternately and compare the median rates."""
    with tempfile.TemporaryDirectory(prefix="refuge-bench-") as tmp, ExitStack() as stack:
        env = sqlite_refuge_env(Path(tmp))
        run_refuge(env, "db", "upgrade")
        ours = stack.enter_context(serve_gunicorn("server.wsgi:app", env, WORKERS))
        bare = stack.enter_context(serve_gunicorn("bench.bare_app:app", clean_env(), WORKERS))
        ours_url, bare_url = f"{ours}/healthz", f"{bare}/healthz"
        for url in (ours_url, bare_url):  # every worker has imported its app and warmed up
            measure_rps(url, seconds=WARMUP_SECONDS, concurrency=CONCURRENCY)
        ours_rps, bare_rps = interleave(
            rps_probe(ours_url, ROUND_SECONDS, CONCURRENCY),
            rps_probe(bare_url, ROUND_SECONDS, CONCURRENCY),
            rounds=ROUNDS,
        )
    return [
        Result(
            figure="GET /healthz",
            unit="req/s",
            ours=round(ours_rps, 1),
            baseline=round(bare_rps, 1),
        )
    ]
