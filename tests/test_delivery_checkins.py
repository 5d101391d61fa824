"""A check-in drill end to end: SMS set-up, a consenting contact, then `refuge worker --once
--now T` sweeps and sends through the real twilio SDK to the fake Twilio, exactly once."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta

import pytest

from server import db
from server.app import create_app
from server.config import Settings
from tests.checkin_helpers import Clock, Phone, register, set_up
from tests.delivery import pin_worker_clock, twilio_env
from tests.fake_twilio import FakeTwilio
from tests.sms_helpers import keyword, load_demo_content

START = datetime(2026, 12, 1, 8, 0, tzinfo=UTC)
PERSON = "+447700900601"
SARA = "+447700900602"


@pytest.fixture
def fake() -> Iterator[FakeTwilio]:
    with FakeTwilio() as server:
        yield server


def test_a_missed_check_in_reaches_the_contact_once_through_the_worker(
    make_settings: Callable[..., Settings], fake: FakeTwilio, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings = make_settings(**twilio_env(fake))
    app = create_app(settings)
    database = db.get_database(app)
    db.Base.metadata.create_all(database.engine)
    load_demo_content(app)
    clock = Clock(START)
    pin_worker_clock(monkeypatch, lambda: clock.now)  # the drills run ahead of real time
    register(app, PERSON, "en", "kharkiv")
    register(app, SARA, "en")
    person, sara = Phone(app, PERSON, clock), Phone(app, SARA, clock)
    set_up(person, "en", contacts=((SARA, "Sara"),))
    runner = app.test_cli_runner()

    def drill(moment: datetime) -> None:
        result = runner.invoke(
            args=["worker", "--once", "--now", moment.isoformat(), "--person", PERSON]
        )
        assert result.exit_code == 0, result.output

    drill(START)  # the opt-in leaves
    [opt_in] = fake.sent(SARA)
    assert "Amina" in opt_in.body
    sara.ask(keyword("en", "YES"))
    before = len(fake.sent(SARA))

    due = START + timedelta(hours=12, minutes=30)  # every 12 hours, 30 minutes' grace
    drill(due - timedelta(minutes=45))  # the reminder
    assert [m.body for m in fake.sent(PERSON)]  # reminded (and told Sara agreed)
    drill(due + timedelta(minutes=1))
    drill(due + timedelta(minutes=2))  # a second pass owes nothing more
    alerts = fake.sent(SARA)[before:]
    assert len(alerts) == 1
    assert "Amina" in alerts[0].body
    assert "Refuge" not in alerts[0].body
    database.dispose()
