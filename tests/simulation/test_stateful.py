"""The simulation as a Hypothesis state machine: a few people, each step chosen (and, on a
failure, shrunk) by Hypothesis; the enforced invariants hold after every step.

REFUGE_SIM_EXAMPLES sets how many runs (default 3: each builds an instance).
"""

from __future__ import annotations

import os
import shutil
import tempfile
from datetime import timedelta
from pathlib import Path

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule

from tests.checkin_helpers import Clock
from tests.fake_twilio import FakeTwilio
from tests.simulation.driver import FAULTS, START, TICK, Scale, Simulation
from tests.simulation.model import Person
from tests.simulation.world import CRASH_POINTS, World, cheap_pins

PEOPLE = 3
people = st.integers(0, PEOPLE - 1)


class CheckinMachine(RuleBasedStateMachine):
    """Three people and a test phone set up at once, then whatever Hypothesis has them, the
    worker, the provider and the drills do."""

    def __init__(self) -> None:
        super().__init__()
        self.folder = Path(tempfile.mkdtemp(prefix="refuge-sim-"))
        self.pins = cheap_pins()
        self.pins.__enter__()
        clock = Clock(START)
        self.fake = FakeTwilio(slow_seconds=1.5, clock=lambda: clock.now).start()
        self.world = World(self.folder, self.fake, clock)
        scale = Scale(people=PEOPLE, weeks=1, seed=0, drills=False, testers=1, autopilot=False)
        self.simulation = Simulation(self.world, scale)
        self.simulation.populate(timedelta(minutes=30))
        self.simulation.run_until(START + TICK)

    def teardown(self) -> None:
        self.world.close()
        self.fake.close()
        self.pins.__exit__(None, None, None)
        shutil.rmtree(self.folder, ignore_errors=True)

    def person(self, index: int) -> Person:
        return self.simulation.model.people[index]

    def soon(self) -> None:
        """Move the clock a minute on, within the tick."""
        self.world.clock.now += timedelta(minutes=1)

    @rule(hours=st.integers(1, 30))
    def time_passes(self, hours: int) -> None:
        self.simulation.run_until(self.simulation.tick + hours * TICK)

    @rule(who=people, duress=st.booleans())
    def checks_in(self, who: int, duress: bool) -> None:
        self.soon()
        self.simulation.check_in(self.person(who), duress=duress, again=False)

    @rule(who=people)
    def gets_the_pin_wrong(self, who: int) -> None:
        self.soon()
        self.simulation.wrong_pin(self.person(who))

    @rule(who=people)
    def removes_a_contact(self, who: int) -> None:
        self.soon()
        self.simulation.remove_contact(self.person(who))

    @precondition(lambda self: self.simulation.counts.get("stop_checkins", 0) < 1)
    @rule(who=people)
    def stops_check_ins(self, who: int) -> None:
        self.soon()
        self.simulation.stop_checkins(self.person(who))

    @rule(point=st.sampled_from(CRASH_POINTS))
    def the_worker_dies_in_its_next_pass(self, point: str) -> None:
        self.simulation.crash_next = point

    @rule(kind=st.sampled_from(FAULTS), times=st.integers(1, 3))
    def the_provider_fails(self, kind: str, times: int) -> None:
        self.simulation.provider_fails(kind, times)  # type: ignore[arg-type]

    @rule(hours=st.integers(1, 48))
    def a_drill_runs(self, hours: int) -> None:
        self.simulation.drill(self.simulation.tick + timedelta(hours=hours))

    @precondition(lambda self: self.simulation.counts.get("rotations", 0) < 1)
    @rule()
    def the_master_key_rotates(self) -> None:
        self.simulation.rotate_keys()

    @invariant()
    def enforced_invariants_hold(self) -> None:
        broken = self.simulation.ledger.enforced()
        assert not broken, "\n".join(str(v) for v in broken[:5])


CheckinMachine.TestCase.settings = settings(
    max_examples=int(os.environ.get("REFUGE_SIM_EXAMPLES", "3")),
    stateful_step_count=12,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
test_check_ins_keep_the_enforced_invariants = CheckinMachine.TestCase
