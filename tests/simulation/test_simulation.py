"""Weeks of check-ins for populations, through the real conversation, sweep and worker: no
invariant of issue 15 is ever broken.

REFUGE_SIM_SEED replays a run (the seed is printed, and named in the failure message; "random"
draws one);
REFUGE_SIM_PEOPLE and REFUGE_SIM_WEEKS make it bigger (`make bench` runs a bigger one too).
"""

from __future__ import annotations

import os
import random
from pathlib import Path

import pytest

from tests.conftest import PG_URL, _reset_postgres
from tests.simulation import invariants
from tests.simulation.driver import Scale, run

#: The CI run: four populations of 60 people (240 in all) for three weeks, each with its own
#: seed, so that two test workers share them; long enough to cross the spring-forward of Kyiv
#: and London. Every text is a real turn, every pass a real worker pass over HTTP to the fake
#: provider.
PEOPLE, WEEKS, SEEDS = 60, 3, (15, 3, 7, 11)


def _scale(seed: int) -> Scale:
    seed_text = os.environ.get("REFUGE_SIM_SEED", "")
    if seed_text == "random":
        seed = random.SystemRandom().randrange(1 << 32)
    elif seed_text:
        seed = int(seed_text)
    return Scale(
        people=int(os.environ.get("REFUGE_SIM_PEOPLE", PEOPLE)),
        weeks=int(os.environ.get("REFUGE_SIM_WEEKS", WEEKS)),
        seed=seed,
    )


@pytest.mark.parametrize("seed", SEEDS)
def test_weeks_of_check_ins_keep_every_invariant(
    tmp_path: Path, seed: int, request: pytest.FixtureRequest
) -> None:
    scale = _scale(seed)
    database_url = None
    if seed == SEEDS[-1] and PG_URL:  # one population on PostgreSQL, as production runs
        database_url = request.getfixturevalue("pg_database")
        _reset_postgres(database_url)
    print(f"simulation seed {scale.seed} (replay with REFUGE_SIM_SEED={scale.seed})")
    outcome = run(tmp_path, scale, database_url)
    print(outcome.summary())
    broken = outcome.ledger.enforced()
    assert not broken, (
        f"REFUGE_SIM_SEED={scale.seed}: {len(broken)} violations; the first:\n"
        + "\n".join(str(v) for v in broken[:10])
    )
    # The run did what it is for: texts, alerts and their ends, faults, crashes, rotations and
    # drills, the drills reaching the test phones' contacts.
    for happened in (
        "check_ins",
        "sent_alert",
        "sent_clear",
        "duress",
        "wrong_pins",
        "provider_faults",
        "crashes",
        "rotations",
        "drills",
        "drill_alerts",
    ):
        assert outcome.counts.get(happened, 0) > 0, (happened, outcome.counts)
    assert set(invariants.NAMES) == invariants.ENFORCED


def test_a_seed_replays_the_same_run(tmp_path: Path) -> None:
    scale = Scale(people=6, weeks=1, seed=1)
    first = run(tmp_path / "first", scale)
    again = run(tmp_path / "again", scale)
    assert first.counts == again.counts
    # Messages leaving in one pass may go in another order; what was found is the same.
    assert sorted(map(str, first.ledger.found)) == sorted(map(str, again.ledger.found))
