"""Weeks of check-ins for a population, through the real conversation, sweep and worker: no
enforced invariant is ever broken (issue 15).

REFUGE_SIM_SEED replays a run (the seed is printed, and named in the failure message);
REFUGE_SIM_PEOPLE and REFUGE_SIM_WEEKS make it bigger (`make bench` runs a bigger one too).
"""

from __future__ import annotations

import os
import random
from pathlib import Path

from tests.simulation import invariants
from tests.simulation.driver import Scale, run

#: The CI run: small enough for a couple of minutes on two cores (every text is a real turn,
#: every pass a real worker pass over HTTP to the fake provider), long enough to cross the
#: spring-forward of Kyiv and London.
PEOPLE, WEEKS, SEED = 40, 3, 15


def _scale() -> Scale:
    seed_text = os.environ.get("REFUGE_SIM_SEED", "")
    seed = (
        random.SystemRandom().randrange(1 << 32)
        if seed_text == "random"
        else int(seed_text or SEED)
    )
    return Scale(
        people=int(os.environ.get("REFUGE_SIM_PEOPLE", PEOPLE)),
        weeks=int(os.environ.get("REFUGE_SIM_WEEKS", WEEKS)),
        seed=seed,
    )


def test_weeks_of_check_ins_keep_every_enforced_invariant(tmp_path: Path) -> None:
    scale = _scale()
    print(f"simulation seed {scale.seed} (replay with REFUGE_SIM_SEED={scale.seed})")
    outcome = run(tmp_path, scale)
    print(outcome.summary())
    broken = outcome.ledger.enforced()
    assert not broken, (
        f"REFUGE_SIM_SEED={scale.seed}: {len(broken)} violations; the first:\n"
        + "\n".join(str(v) for v in broken[:10])
    )
    # The run did what it is for: texts, alerts and their ends, faults, crashes and rotations.
    for happened in ("check_ins", "sent_alert", "sent_clear", "duress", "wrong_pins"):
        assert outcome.counts.get(happened, 0) > 0, (happened, outcome.counts)
    assert set(invariants.ENFORCED) <= set(invariants.NAMES)


def test_a_seed_replays_the_same_run(tmp_path: Path) -> None:
    scale = Scale(people=6, weeks=1, seed=1)
    first = run(tmp_path / "first", scale)
    again = run(tmp_path / "again", scale)
    assert first.counts == again.counts
    # Messages leaving in one pass may go in another order; what was found is the same.
    assert sorted(map(str, first.ledger.found)) == sorted(map(str, again.ledger.found))
