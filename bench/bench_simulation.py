"""The check-in simulation (tests/simulation) at a bigger scale: people-weeks per second.

A seeded population (REFUGE_BENCH_SIM_PEOPLE, default 300, five times CI's populations, for
REFUGE_BENCH_SIM_WEEKS, default 1) texts the real conversation while the real sweep and worker
send through the fake Twilio on a virtual clock. Ours checks every invariant after every
step; the baseline is the same seeded population without the checks (nor the plan reads they
need), so the ratio is what the checking costs (goal: at least 0.8x). The checked run prints
what it found; a violation does not fail the benchmark.
"""

from __future__ import annotations

import logging
import os
import tempfile
from pathlib import Path

from bench.harness import Result
from tests.simulation import driver

PEOPLE = int(os.environ.get("REFUGE_BENCH_SIM_PEOPLE", "300"))
WEEKS = int(os.environ.get("REFUGE_BENCH_SIM_WEEKS", "1"))
SEED = int(os.environ.get("REFUGE_SIM_SEED", "15"))


def _rate(check: bool) -> float:
    """People-weeks simulated per second of one run."""
    with tempfile.TemporaryDirectory() as folder:
        outcome = driver.run(Path(folder), driver.Scale(PEOPLE, WEEKS, SEED, check=check))
    if check:
        print(outcome.summary())
    return PEOPLE * WEEKS / outcome.seconds


def run() -> list[Result]:
    """Time the checked run against the unchecked one."""
    logging.disable(logging.INFO)  # the worker's log lines would swamp the table
    try:
        ours, baseline = _rate(True), _rate(False)
    finally:
        logging.disable(logging.NOTSET)
    return [
        Result(
            figure=f"simulation, {PEOPLE} people x {WEEKS} weeks",
            unit="people-weeks/s",
            ours=ours,
            baseline=baseline,
            goal="higher is better; checking costs at most 1.25x (ratio >= 0.8)",
        )
    ]
