"""The seeded random driver: a population, their events over weeks, and the checks after each.

Virtual time moves in ticks of `TICK`; within a tick, people's and contacts' texts happen at
their own minutes, in order; at each tick's end the worker runs a pass (sometimes dying in
it, sometimes meeting provider errors, then passing again shortly after, as the real worker's
loop would). Once a week the master key rotates, once every four days the NGO drills its test
phones, each at a random moment. After every pass the invariants are checked
(`invariants.py`).

One seed decides everything (`random.Random(seed)`): the same seed replays the same run.
"""

from __future__ import annotations

import heapq
import itertools
import random
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from datetime import time as clock_time
from pathlib import Path

from tests.checkin_helpers import Clock
from tests.fake_twilio import FakeTwilio, FaultKind
from tests.simulation import invariants
from tests.simulation.invariants import Ledger, Observed
from tests.simulation.model import Consent, Contact, Model, Person, Plan, Standing
from tests.simulation.world import CRASH_POINTS, World, cheap_pins

TICK = timedelta(hours=1)
#: When the worker passes again after a provider fault or a crash: past the first backoffs
#: (seconds) and a dead worker's lease (a minute), as the real worker's loop would.
RETRY_AFTER = timedelta(minutes=2)
#: A Monday two weeks before Kyiv and London spring forward (28 March 2027): three weeks
#: cross the change, so daily times must stay local times through it.
START = datetime(2027, 3, 15, 0, 0, tzinfo=UTC)
#: Regions of the demo content and their zones; None: no region chosen (a +44 number, so the
#: country's zone, Europe/London, which has daylight saving too).
REGIONS = (
    ("kharkiv", "Europe/Kyiv"),
    ("camp-12", "Asia/Dhaka"),
    ("gedaref", "Africa/Khartoum"),
    (None, "Europe/London"),
)
CONTACT_NAMES = ("Sara", "Omar", "Lena")
HOURS = (12, 24, 36)
GRACES = (30, 60, 120, 240)
#: Temporary provider errors: retried, so what is owed still leaves in time.
FAULTS: tuple[FaultKind, ...] = ("500", "429", "reset", "accept_then_crash")


def fiction_numbers() -> Iterator[str]:
    """Numbers reserved for drama: +44 7700 900xxx (less the demo content's 9001xx), then
    Ofcom's London and Leeds drama ranges for bigger runs."""
    for n in itertools.chain(range(0, 100), range(200, 1000)):
        yield f"+447700900{n:03d}"
    for prefix in ("+442079460", "+441134960"):
        for n in range(1000):
            yield f"{prefix}{n:03d}"


@dataclass
class Scale:
    """How big a run is."""

    people: int = 200
    weeks: int = 3
    seed: int = 0
    check: bool = True  # False: the baseline (same run, no invariant checks)
    drills: bool = True
    testers: int = 2  # the NGO's test phones, the only plans a drill sweeps
    autopilot: bool = True  # False: people do only what they are told (the stateful test)


@dataclass
class Outcome:
    """What a run found and did."""

    seed: int
    ledger: Ledger
    counts: dict[str, int] = field(default_factory=dict)
    seconds: float = 0.0

    def summary(self) -> str:
        lines = [f"seed {self.seed}: {self.counts} in {self.seconds:.1f} s"]
        for key, name in invariants.NAMES.items():
            first = self.ledger.first(key)
            count = sum(1 for v in self.ledger.found if v.invariant == key)
            state = "enforced" if key in invariants.ENFORCED else "not yet enforced"
            lines.append(f"  {key} {name} ({state}): {count} violations")
            if first is not None:
                lines.append(f"    first: {first}")
        return "\n".join(lines)


class Simulation:
    """One seeded run."""

    def __init__(self, world: World, scale: Scale) -> None:
        self.world, self.scale = world, scale
        self.rng = random.Random(scale.seed)
        self.model = Model()
        self.ledger = Ledger()
        self.events: list[tuple[datetime, int, Callable[[], None]]] = []
        self.order = itertools.count()
        self.seen = 0  # the fake's last message number read
        self.by_number: dict[str, tuple[Person, Contact | None]] = {}
        self.counts: dict[str, int] = {}
        self.tick = START
        self.crash_next: str | None = None
        self.testers: list[Person] = []
        self.faulted = False  # the provider fails in the coming pass
        self.tester_contacts: set[str] = set()

    # --- scheduling -------------------------------------------------------------------------

    def at(self, moment: datetime, action: Callable[[], None]) -> None:
        """Do `action` at `moment` (to the minute: Refuge keeps due times to the minute)."""
        moment = moment.replace(second=0, microsecond=0)
        heapq.heappush(self.events, (moment, next(self.order), action))

    def count(self, what: str) -> None:
        self.counts[what] = self.counts.get(what, 0) + 1

    def minutes(self, low: float, high: float) -> timedelta:
        return timedelta(minutes=self.rng.uniform(low, high))

    # --- the run ----------------------------------------------------------------------------

    def run(self) -> None:
        self.populate(timedelta(hours=24))
        end = START + timedelta(weeks=self.scale.weeks)
        self.now_and_then(timedelta(weeks=1), end, self.rotate_keys)
        if self.scale.drills:
            self.now_and_then(timedelta(days=4), end, self.random_drill)
        self.run_until(end)

    def now_and_then(self, span: timedelta, end: datetime, action: Callable[[], None]) -> None:
        """`action` once in every `span` until `end`, at a random moment of it."""
        start = START
        while start < end:
            self.at(start + self.minutes(60, span.total_seconds() / 60), action)
            start += span

    def populate(self, spread: timedelta) -> None:
        """Make every person; each sets up check-ins at a moment within `spread` of START."""
        numbers = fiction_numbers()
        minutes = spread.total_seconds() / 60
        for index in range(self.scale.testers):
            tester = self.make_tester(index, numbers)
            self.at(START + self.minutes(1, 30), lambda t=tester: self.set_up_tester(t))
        for index in range(self.scale.people):
            person = self.make_person(index, numbers)
            self.at(START + self.minutes(1, minutes), lambda p=person: self.set_up(p))

    def run_until(self, end: datetime) -> None:
        """Tick by tick to `end`: the events of each tick in order, then its upkeep."""
        while self.tick < end:
            self.tick += TICK
            while self.events and self.events[0][0] <= self.tick:
                moment, _, action = heapq.heappop(self.events)
                self.world.clock.now = max(moment, self.world.clock.now)
                action()
            self.world.clock.now = self.tick
            self.upkeep(self.tick)

    def upkeep(self, now: datetime) -> None:
        """The end of a tick: faults, a worker pass, maybe a drill or a rotation; checks."""
        if self.rng.random() < 0.04:
            self.provider_fails(self.rng.choice(FAULTS), self.rng.randint(1, 3))
        faulted, self.faulted = self.faulted, False
        crash = self.rng.choice(CRASH_POINTS) if self.rng.random() < 0.03 else None
        crash, self.crash_next = self.crash_next or crash, None
        crashed = self.world.pass_(crash) is not None
        self.model.passed(now)
        if crashed:
            self.count("crashes")
        self.world.fake.clear_faults()
        if faulted or crashed:
            # The real worker passes again within seconds; the hour's ticks stand for that
            # loop only while nothing goes wrong. Once the backoff and the dead worker's lease
            # have run out, the next pass retries what failed.
            self.world.clock.now = now + RETRY_AFTER
            self.world.pass_()
        self.observe(self.world.clock.now)  # the tick, or its retry pass after it

    def provider_fails(self, kind: FaultKind, times: int) -> None:
        """The provider fails the next `times` requests of the coming pass."""
        self.world.fake.fail_next(kind, times=times)
        self.faulted = True
        self.count("provider_faults")

    def rotate_keys(self) -> None:
        """`refuge keys rotate` under a new master key, the old one then removed."""
        self.world.rotate_keys()
        self.count("rotations")

    def random_drill(self) -> None:
        """A drill far enough ahead for the test phones' plans to be missed in it."""
        self.drill(self.world.clock.now + self.minutes(30 * 60, 48 * 60))

    def drill(self, pretended: datetime) -> None:
        """`refuge worker --once --now <pretended> --person <each test phone>`."""
        self.world.drill(pretended, [tester.number for tester in self.testers])
        self.model.drill(self.world.clock.now, pretended)
        self.count("drills")

    def observe(self, now: datetime) -> None:
        """Read what the provider took since the last look, and check the invariants."""
        self.model.advance(now)
        for message in self.world.fake.created_after(self.seen):
            self.seen = message.seq
            if message.to in self.tester_contacts:
                self.test_contact_reads(message.to, message.body, message.date_created)
                continue
            found = self.by_number.get(message.to)
            if found is None:
                continue
            person, contact = found
            kind = self.kind_of(person, contact, message.body)
            self.count(f"sent_{kind}")
            if kind == "opt_in" and contact is not None and not contact.asked_seen:
                contact.asked_seen = True
                self.contact_answers(person, contact, message.date_created)
            if self.scale.check:
                seen = Observed(message.date_created, kind, person, contact and contact.name)
                invariants.account(self.model, self.ledger, seen)
        if self.scale.check:
            invariants.owed_by_deadline(self.model, self.ledger, now)

    @staticmethod
    def kind_of(person: Person, contact: Contact | None, body: str) -> str:
        if contact is None:
            return "reminder" if body.startswith("Reminder") else "other"
        if body == person.alert_text:
            return "alert"
        if "Reply YES" in body:
            return "opt_in"
        return "clear"

    # --- people -----------------------------------------------------------------------------

    def make_person(self, index: int, numbers: Iterator[str]) -> Person:
        region, zone = self.rng.choice(REGIONS)
        daily = self.rng.random() < 0.5
        plan = Plan(
            hours=24 if daily else self.rng.choice(HOURS),
            daily_at=clock_time(self.rng.randint(6, 21), self.rng.choice((0, 15, 30, 45)))
            if daily
            else None,
            zone=zone,
            grace=timedelta(minutes=self.rng.choice(GRACES)),
        )
        pin = self.rng.randint(100000, 999999)  # new plans need 6 digits (issue 16)
        duress = self.rng.randint(100000, 999998)
        duress += duress >= pin
        name = f"P{index:04d}"
        person = Person(
            index=index,
            number=next(numbers),
            name=name,
            alert_text=f"Please ring {name} now, it is the sign we agreed",
            region=region,
            plan=plan,
            pin=pin,
            duress=duress,
        )
        for contact_name in CONTACT_NAMES[: self.rng.randint(1, 3)]:
            contact = Contact(contact_name, next(numbers))
            person.contacts[contact_name] = contact
            self.by_number[contact.number] = (person, contact)
        self.by_number[person.number] = (person, None)
        self.model.people.append(person)
        return person

    def say(self, person: Person, text: str) -> list[str]:
        self.count("texts")
        return self.world.text(person.number, text)

    def set_up(self, person: Person) -> None:
        self.world.register(person.number, person.region)
        plan = person.plan
        schedule = f"{plan.daily_at:%H:%M}" if plan.daily_at else str(plan.hours)
        answers = [
            "CHECKIN",
            str(person.pin),
            str(person.duress),
            schedule,
            str(int(plan.grace.total_seconds() // 60)),
            person.name,
            *(f"ADD {c.number} {c.name}" for c in person.contacts.values()),
            "DONE",
            *(["NO"] if len(person.contacts) > 1 else []),
            person.alert_text,
        ]
        for answer in answers:
            self.say(person, answer)
        self.model.activated(person, self.world.clock.now)
        self.check_due(person, person.due)
        if self.scale.autopilot:
            self.plan_period(person)

    def check_due(self, person: Person, expected: datetime | None) -> None:
        if not self.scale.check:
            return
        due = self.world.next_due(person.number)
        now = self.world.clock.now
        invariants.next_due_within_one_period(self.ledger, person, now, due, expected)
        if "e" not in invariants.ENFORCED and due is not None:
            # Known bugs, waiting for their fixes: follow the plan's own due time, so that what
            # is owed is judged on it and one bug does not show up as every other.
            person.due = due

    def plan_period(self, person: Person) -> None:
        """Choose what the person does about their next due time."""
        if person.standing is not Standing.ACTIVE or person.due is None:
            return
        due, grace = person.due, person.plan.grace
        window = min(person.plan.period / 2, timedelta(hours=4))
        early = due - self.minutes(5, window.total_seconds() / 60)
        roll = self.rng.random()
        if roll < 0.62:
            self.at(early, lambda: self.check_in(person))
        elif roll < 0.70:
            self.at(
                due + self.minutes(1, grace.total_seconds() / 60 - 5), lambda: self.check_in(person)
            )
        elif roll < 0.80:
            # Silent past the grace, back late enough for a pass to have swept the alert first
            # (as the real worker, every second, would have); meanwhile perhaps forced to use
            # the duress PIN, or removing a contact.
            late = due + grace + self.minutes(130, 10 * 60)
            meanwhile = self.rng.random()
            if meanwhile < 0.3:
                self.at(late, lambda: self.check_in(person, duress=True, again=False))
                late += self.minutes(65, 120)
            elif meanwhile < 0.5:
                self.at(late, lambda: self.remove_contact(person))
                late += self.minutes(5, 60)
            self.at(late, lambda: self.check_in(person))
        elif roll < 0.84:
            first = due - window + self.minutes(0, 30)
            self.at(first, lambda: self.check_in(person, duress=True, again=False))
            self.at(first + self.minutes(65, 120), lambda: self.check_in(person))
        elif roll < 0.89:
            self.at(early - self.minutes(2, 4), lambda: self.wrong_pin(person))
            self.at(early, lambda: self.check_in(person))
        elif roll < 0.93:
            self.at(early, lambda: self.check_in(person, again=False))
            self.at(early + self.minutes(1, 3), lambda: self.check_in(person))
        elif roll < 0.95:
            first = due - window + self.minutes(0, 20)
            for n in range(3):
                self.at(first + timedelta(minutes=n), lambda: self.wrong_pin(person))
            self.at(first + self.minutes(65, 180), lambda: self.check_in(person))
        elif roll < 0.97:
            self.at(early, lambda: self.remove_contact(person))
            self.at(early + self.minutes(1, 3), lambda: self.check_in(person))
        elif roll < 0.98:
            self.at(early, lambda: self.stop_checkins(person))
        elif roll < 0.985:
            self.at(early, lambda: self.opt_out(person))
        else:
            self.at(early, lambda: self.check_in(person))

    def check_in(self, person: Person, *, duress: bool = False, again: bool = True) -> None:
        if person.standing is not Standing.ACTIVE:
            return
        pin = person.duress if duress else person.pin
        self.say(person, f"OK {pin}")
        self.count("duress" if duress else "check_ins")
        self.model.checked_in(person, self.world.clock.now, duress=duress)
        self.check_due(person, person.due)
        if again and self.scale.autopilot:
            self.plan_period(person)

    def wrong_pin(self, person: Person) -> None:
        if person.standing is not Standing.ACTIVE:
            return
        wrong = next(p for p in range(1000, 10000) if p not in (person.pin, person.duress))
        self.say(person, f"OK {wrong}")
        self.count("wrong_pins")
        self.model.wrong_pin(person, self.world.clock.now)

    def remove_contact(self, person: Person) -> None:
        shown = [c for c in person.contacts.values() if not c.removed]
        if person.standing is not Standing.ACTIVE or len(shown) < 2:
            return
        contact = self.rng.choice(shown)
        self.say(person, f"REMOVE {contact.name} {person.pin}")
        self.count("removals")
        # The PIN makes it a check-in too: an open incident ends, everyone alerted (the
        # removed contact too) is owed the all-clear.
        self.model.checked_in(person, self.world.clock.now, duress=False)
        self.check_due(person, person.due)
        self.model.removed(person, contact)

    def stop_checkins(self, person: Person) -> None:
        if person.standing is not Standing.ACTIVE:
            return
        self.say(person, f"STOP CHECKIN {person.pin}")
        self.count("stop_checkins")
        self.model.stopped_checkins(person, self.world.clock.now)

    def opt_out(self, person: Person) -> None:
        if person.standing is not Standing.ACTIVE:
            return
        self.say(person, "STOP")
        self.count("stops")
        self.model.opted_out(person, self.world.clock.now)

    # --- the NGO's test phones ---------------------------------------------------------------

    def make_tester(self, index: int, numbers: Iterator[str]) -> Person:
        """A test phone of the NGO (every 24 hours, two test contacts): outside the model, as
        the invariants are about real people; only drills should ever alert its contacts."""
        name = f"T{index}"
        tester = Person(
            index=-1 - index,
            number=next(numbers),
            name=name,
            alert_text=f"Drill: {name} is only a test phone",
            region="kharkiv",
            plan=Plan(hours=24, daily_at=None, zone="Europe/Kyiv", grace=timedelta(minutes=30)),
            pin=100000 + index,
            duress=200000 + index,
        )
        for contact_name in CONTACT_NAMES[:2]:
            contact = Contact(contact_name, next(numbers))
            tester.contacts[contact_name] = contact
            self.tester_contacts.add(contact.number)
        self.testers.append(tester)
        return tester

    def set_up_tester(self, tester: Person) -> None:
        self.world.register(tester.number, tester.region)
        answers = [
            "CHECKIN",
            str(tester.pin),
            str(tester.duress),
            "24",
            "30",
            tester.name,
            *(f"ADD {c.number} {c.name}" for c in tester.contacts.values()),
            "DONE",
            "NO",
            tester.alert_text,
        ]
        for answer in answers:
            self.world.text(tester.number, answer)
        self.at(self.world.clock.now + timedelta(hours=12), lambda: self.tester_checks_in(tester))

    def tester_checks_in(self, tester: Person) -> None:
        """Twice a day, so that real time never misses a test phone: whatever its contacts
        are sent about it comes from a drill (and the check-in after it ends the drill)."""
        self.world.text(tester.number, f"OK {tester.pin}")
        self.at(self.world.clock.now + timedelta(hours=12), lambda: self.tester_checks_in(tester))

    def test_contact_reads(self, number: str, body: str, at: datetime) -> None:
        if "Reply YES" in body:
            self.at(at + timedelta(minutes=5), lambda: self.world.text(number, "YES"))
        elif body.startswith("Drill:"):
            self.count("drill_alerts")
        else:
            self.count("drill_clears")

    # --- contacts ---------------------------------------------------------------------------

    def contact_answers(self, person: Person, contact: Contact, asked: datetime) -> None:
        """A contact who got the request answers it (or never does), later perhaps stops."""
        roll = self.rng.random()
        if roll < 0.15:
            return
        answer, consent = (
            ("YES", Consent.AGREED)
            if roll < 0.85
            else ("NO", Consent.REFUSED)
            if roll < 0.95
            else ("STOP", Consent.STOPPED)
        )
        when = asked + self.minutes(5, 12 * 60)
        self.at(when, lambda: self.contact_says(person, contact, answer, consent))
        if consent is Consent.AGREED and self.rng.random() < 0.05:
            later = when + self.minutes(24 * 60, 14 * 24 * 60)
            self.at(later, lambda: self.contact_says(person, contact, "STOP", Consent.STOPPED))

    def contact_says(self, person: Person, contact: Contact, text: str, consent: Consent) -> None:
        self.model.advance(self.world.clock.now)
        self.world.text(contact.number, text)
        self.count(f"contact_{text.lower()}")
        self.model.answered(person, contact, consent, self.world.clock.now)


def run(folder: Path, scale: Scale, database_url: str | None = None) -> Outcome:
    """One whole run in `folder`, on an SQLite file there unless `database_url` names an empty
    database; the outcome, timed."""
    started = time.monotonic()
    folder.mkdir(parents=True, exist_ok=True)
    clock = Clock(START)
    with cheap_pins(), FakeTwilio(slow_seconds=1.5, clock=lambda: clock.now) as fake:
        world = World(folder, fake, clock, database_url)
        try:
            simulation = Simulation(world, scale)
            simulation.run()
        finally:
            world.close()
    outcome = Outcome(scale.seed, simulation.ledger, simulation.counts)
    outcome.seconds = time.monotonic() - started
    return outcome
