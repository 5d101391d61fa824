"""Shared pieces for benchmarks: results, reporting, a gunicorn launcher and load generators.

Every benchmark measures its own figure and a baseline in the same run, on the same machine,
so the ratio between them means something even when the absolute numbers do not.
"""

from __future__ import annotations

import http.client
import itertools
import json
import math
import os
import platform
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

#: The repository root: gunicorn runs from here so `bench.*` and `server.*` both import.
REPO_ROOT = Path(__file__).resolve().parent.parent
#: Where `python -m bench` writes its results by default.
RESULTS_PATH = Path(__file__).resolve().parent / "results.json"
#: Host names the load generator and the launcher accept: never anything off this machine.
LOOPBACK_HOSTS = frozenset({"127.0.0.1", "localhost", "::1"})


@dataclass(frozen=True)
class Result:
    """One figure of one benchmark: our measurement next to its baseline's."""

    figure: str
    unit: str
    ours: float
    baseline: float
    goal: str | None = None

    @property
    def ratio(self) -> float:
        """ours / baseline (NaN when the baseline is zero)."""
        return self.ours / self.baseline if self.baseline else math.nan

    def to_json(self) -> dict[str, Any]:
        """The result as a JSON-ready mapping."""
        ratio = self.ratio
        return {
            "figure": self.figure,
            "unit": self.unit,
            "ours": self.ours,
            "baseline": self.baseline,
            "ratio": None if math.isnan(ratio) else round(ratio, 4),
            "goal": self.goal,
        }


@dataclass(frozen=True)
class LoadResult:
    """What one run of the load generator saw."""

    ok: int
    errors: int
    seconds: float

    @property
    def rps(self) -> float:
        """Successful responses per second of wall-clock time."""
        return self.ok / self.seconds if self.seconds > 0 else 0.0


# --- reporting ---------------------------------------------------------------------------------


def format_number(value: float) -> str:
    """A short human reading of a measurement: thousands separators, about 3 significant digits."""
    if math.isnan(value):
        return "n/a"
    magnitude = abs(value)
    if magnitude >= 100:
        return f"{value:,.0f}"
    if magnitude >= 1:
        return f"{value:.3g}" if magnitude < 10 else f"{value:.1f}"
    return f"{value:.3g}"


def format_table(results: list[Result]) -> str:
    """The results as a plain-text table with columns figure, ours, baseline, ratio."""
    header = ("figure", "ours", "baseline", "ratio")
    rows = [
        (
            r.figure,
            f"{format_number(r.ours)} {r.unit}",
            f"{format_number(r.baseline)} {r.unit}",
            "n/a" if math.isnan(r.ratio) else f"{r.ratio:.2f}x",
        )
        for r in results
    ]
    widths = [max(len(row[i]) for row in [header, *rows]) for i in range(len(header))]

    def line(cells: tuple[str, ...]) -> str:
        first, *numbers = cells
        parts = [first.ljust(widths[0])]
        parts += [cell.rjust(width) for cell, width in zip(numbers, widths[1:], strict=True)]
        return "  ".join(parts).rstrip()

    rule = "  ".join("-" * width for width in widths)
    return "\n".join([line(header), rule, *(line(row) for row in rows)])


def print_table(results: list[Result]) -> None:
    """Print the results table, then each result's goal if it has one."""
    print(format_table(results))
    for result in results:
        if result.goal:
            print(f"  goal ({result.figure}): {result.goal}")


def machine_info() -> dict[str, Any]:
    """What the numbers were measured on: enough to tell two runs' machines apart."""
    try:
        usable = len(os.sched_getaffinity(0))
    except AttributeError:  # not every platform has CPU affinity
        usable = os.cpu_count() or 0
    try:
        load = [round(x, 2) for x in os.getloadavg()]
    except OSError:
        load = []
    return {
        "cpu_count": os.cpu_count(),
        "cpus_usable": usable,
        "load_average": load,
        "python": platform.python_version(),
        "implementation": platform.python_implementation(),
        "platform": platform.platform(),
        "machine": platform.machine(),
    }


def write_json(
    results: list[Result], path: Path = RESULTS_PATH, seconds: float | None = None
) -> None:
    """Write the results, a UTC timestamp and the machine's description to `path` as JSON."""
    document = {
        "timestamp": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": machine_info(),
        "duration_seconds": None if seconds is None else round(seconds, 2),
        "results": [result.to_json() for result in results],
    }
    path.write_text(json.dumps(document, indent=2) + "\n", encoding="utf-8")


# --- serving -----------------------------------------------------------------------------------


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def clean_env(extra: Mapping[str, str] | None = None) -> dict[str, str]:
    """This process's environment minus REFUGE_* and GUNICORN_* variables, plus `extra`."""
    env = {
        name: value
        for name, value in os.environ.items()
        if not name.startswith(("REFUGE_", "GUNICORN_"))
    }
    env.update(extra or {})
    return env


def sqlite_refuge_env(instance: Path) -> dict[str, str]:
    """A clean environment for Refuge with its instance and SQLite database in `instance`."""
    from server import vault  # only its key generator; the benchmarks run Refuge as processes

    return clean_env(
        {
            "REFUGE_INSTANCE_PATH": str(instance),
            "REFUGE_DATABASE_URL": f"sqlite:///{instance / 'bench.sqlite3'}",
            **vault.new_key_settings(),
        }
    )


def rps_probe(url: str, seconds: float, concurrency: int) -> Callable[[], float]:
    """A measurement of `url`'s requests per second, for `interleave`; any failure raises."""

    def measure() -> float:
        load = measure_rps(url, seconds=seconds, concurrency=concurrency)
        if load.errors:
            raise RuntimeError(f"{url}: {load.errors} failed requests of {load.ok + load.errors}")
        return load.rps

    return measure


def venv_script(name: str) -> Path:
    """A console script installed next to the running interpreter (gunicorn, refuge, ...)."""
    return Path(sys.executable).parent / name


def _answers(host: str, port: int, path: str, timeout: float) -> bool:
    connection = http.client.HTTPConnection(host, port, timeout=timeout)
    try:
        connection.request("GET", path)
        connection.getresponse().read()
    except OSError:
        return False
    finally:
        connection.close()
    return True


def _stop(process: subprocess.Popen[bytes], grace: float = 10.0) -> None:
    if process.poll() is not None:
        return
    process.send_signal(signal.SIGTERM)
    try:
        process.wait(timeout=grace)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


@contextmanager
def serve_gunicorn(
    app_spec: str,
    env: Mapping[str, str],
    workers: int = 2,
    *,
    ready_path: str = "/",
    startup_timeout: float = 30.0,
) -> Iterator[str]:
    """Serve `app_spec` with gunicorn sync workers on a free loopback port; yield its base URL."""
    port = free_port()
    command = [
        str(venv_script("gunicorn")),
        "--bind",
        f"127.0.0.1:{port}",
        "--workers",
        str(workers),
        "--worker-class",
        "sync",
        "--log-level",
        "warning",
        app_spec,
    ]
    with tempfile.TemporaryFile() as log:
        process = subprocess.Popen(
            command, cwd=REPO_ROOT, env=dict(env), stdout=log, stderr=subprocess.STDOUT
        )
        try:
            deadline = time.monotonic() + startup_timeout
            while not _answers("127.0.0.1", port, ready_path, timeout=2.0):
                if process.poll() is not None or time.monotonic() > deadline:
                    log.seek(0)
                    output = log.read().decode(errors="replace").strip()
                    state = "exited" if process.poll() is not None else "did not answer"
                    raise RuntimeError(f"gunicorn {app_spec} {state}:\n{output}")
                time.sleep(0.1)
            yield f"http://127.0.0.1:{port}"
        finally:
            _stop(process)


# --- load and timing ---------------------------------------------------------------------------


def measure_rps(
    url: str,
    seconds: float = 3.0,
    concurrency: int = 4,
    max_requests: int = 1_000_000,
) -> LoadResult:
    """GET `url` from `concurrency` threads until `seconds` pass or `max_requests` are sent."""
    parts = urlsplit(url)
    if parts.scheme != "http" or parts.hostname not in LOOPBACK_HOSTS:
        raise ValueError(f"measure_rps only loads http:// on loopback, not {url!r}")
    host, port = parts.hostname, parts.port or 80
    path = parts.path or "/"
    if parts.query:
        path += f"?{parts.query}"

    tickets = itertools.count()  # next() on it is atomic under the GIL: a shared request budget
    start = threading.Barrier(concurrency + 1)
    counts: list[tuple[int, int]] = []
    deadline = 0.0

    def worker() -> None:
        ok = errors = 0
        # One connection per thread, reused for as long as the server keeps it open;
        # http.client reconnects on its own when the server closed it after a response.
        connection = http.client.HTTPConnection(host, port, timeout=10.0)
        start.wait()
        try:
            while time.perf_counter() < deadline and next(tickets) < max_requests:
                try:
                    connection.request("GET", path)
                    response = connection.getresponse()
                    response.read()
                except (OSError, http.client.HTTPException):
                    errors += 1
                    connection.close()
                    continue
                if 200 <= response.status < 300:
                    ok += 1
                else:
                    errors += 1
        finally:
            connection.close()
            counts.append((ok, errors))

    threads = [threading.Thread(target=worker, daemon=True) for _ in range(concurrency)]
    for thread in threads:
        thread.start()
    began = time.perf_counter()
    deadline = began + seconds
    start.wait()
    for thread in threads:
        thread.join()
    elapsed = time.perf_counter() - began
    return LoadResult(
        ok=sum(ok for ok, _ in counts), errors=sum(e for _, e in counts), seconds=elapsed
    )


def run_refuge(env: Mapping[str, str], *args: str) -> None:
    """Run one `refuge` command with this environment; raise with its output if it fails."""
    completed = subprocess.run(
        [str(venv_script("refuge")), *args],
        cwd=REPO_ROOT,
        env=dict(env),
        capture_output=True,
        text=True,
        check=False,
    )
    if completed.returncode != 0:
        output = (completed.stdout + completed.stderr).strip()
        raise RuntimeError(f"refuge {' '.join(args)} failed ({completed.returncode}):\n{output}")


def interleave(
    ours: Callable[[], float], baseline: Callable[[], float], rounds: int = 3
) -> tuple[float, float]:
    """Run both measurements alternately (AB, BA, AB, ...) and return each one's median."""
    ours_runs: list[float] = []
    baseline_runs: list[float] = []
    for index in range(rounds):
        order = [(ours, ours_runs), (baseline, baseline_runs)]
        if index % 2:
            order.reverse()
        for measure, runs in order:
            runs.append(measure())
    return statistics.median(ours_runs), statistics.median(baseline_runs)


def _batch(func: Callable[[], object], number: int) -> float:
    began = time.perf_counter()
    for _ in range(number):
        func()
    return time.perf_counter() - began


def time_per_op(
    func: Callable[[], object], repeat: int = 5, number: int | None = None, target: float = 0.1
) -> float:
    """Median seconds per call of `func` over `repeat` timed batches of `number` calls each."""
    if number is None:  # calibrate: size a batch to take about `target` seconds
        number = 1
        while (elapsed := _batch(func, number)) < target / 10 and number < 10_000_000:
            number *= 10
        number = max(1, min(10_000_000, round(number * target / max(elapsed, 1e-9))))
    return statistics.median(_batch(func, number) / number for _ in range(repeat))
