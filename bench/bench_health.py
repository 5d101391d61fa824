"""Requests per second of GET /healthz: Refuge against a bare Flask app, both under gunicorn."""

from __future__ import annotations

import subprocess
import tempfile
from collections.abc import Callable
from contextlib import ExitStack
from pathlib import Path

from bench.harness import (
    REPO_ROOT,
    Result,
    clean_env,
    interleave,
    measure_rps,
    serve_gunicorn,
    venv_script,
)

WORKERS = 2
CONCURRENCY = 4
ROUNDS = 8  # pairs of rounds: ours then baseline, then baseline then ours, ...
ROUND_SECONDS = 2.0
WARMUP_SECONDS = 1.0


def refuge_env(instance: Path) -> dict[str, str]:
    """A clean environment for Refuge with its instance and SQLite database in `instance`."""
    return clean_env(
        {
            "REFUGE_INSTANCE_PATH": str(instance),
            "REFUGE_DATABASE_URL": f"sqlite:///{instance / 'bench.sqlite3'}",
        }
    )


def migrate(env: dict[str, str]) -> None:
    """Create Refuge's schema (and, in development, its keys) before any worker starts."""
    completed = subprocess.run(
        [str(venv_script("refuge")), "db", "upgrade"],
        cwd=REPO_ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    if completed.returncode != 0:
        output = (completed.stdout + completed.stderr).strip()
        raise RuntimeError(f"refuge db upgrade failed ({completed.returncode}):\n{output}")


def _rps(url: str) -> Callable[[], float]:
    def measure() -> float:
        load = measure_rps(url, seconds=ROUND_SECONDS, concurrency=CONCURRENCY)
        if load.errors:
            raise RuntimeError(f"{url}: {load.errors} failed requests of {load.ok + load.errors}")
        return load.rps

    return measure


def run() -> list[Result]:
    """Serve both apps identically, load them alternately and compare the median rates."""
    with tempfile.TemporaryDirectory(prefix="refuge-bench-") as tmp, ExitStack() as stack:
        env = refuge_env(Path(tmp))
        migrate(env)
        ours = stack.enter_context(serve_gunicorn("server.wsgi:app", env, WORKERS))
        bare = stack.enter_context(serve_gunicorn("bench.bare_app:app", clean_env(), WORKERS))
        ours_url, bare_url = f"{ours}/healthz", f"{bare}/healthz"
        for url in (ours_url, bare_url):  # every worker has imported its app and warmed up
            measure_rps(url, seconds=WARMUP_SECONDS, concurrency=CONCURRENCY)
        ours_rps, bare_rps = interleave(_rps(ours_url), _rps(bare_url), rounds=ROUNDS)
    return [
        Result(
            figure="GET /healthz",
            unit="req/s",
            ours=round(ours_rps, 1),
            baseline=round(bare_rps, 1),
        )
    ]
