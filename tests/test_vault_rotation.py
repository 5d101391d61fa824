"""A whole rotation: everything moved under a new master key, the old key removed, and then
every worker pass, provider clean-up, purge, person's data, portal login and partner alert
still works (the journey that used to fail on a provider deletion's forgotten key)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select

from server import db, people, upkeep, vault
from server.app import create_app
from server.checkins import contacts
from server.config import load_config
from server.delivery import worker
from server.models.checkins import CheckinEvent, CheckinPartner, CheckinPlan
from server.models.messaging import InboundReceipt, Outbox, OutboxKind, ProviderDeletion
from server.models.people import Subscriber
from server.models.staff import User
from server.phones import normalize_phone
from tests.checkin_helpers import Clock, Phone, add_partner, deliver, plan_facts, register, set_up
from tests.conftest import refuge_env
from tests.delivery import Delivery, twilio_env
from tests.fake_twilio import FakeTwilio
from tests.portal_helpers import add_account, error_of, log_in
from tests.sms_helpers import load_demo_content
from tests.test_cli_vault import invoke

#: Three days ago on the hour: check-ins run on the tests' clock, the last pass on the real one.
START = datetime.now(UTC).replace(minute=0, second=0, microsecond=0) - timedelta(days=3)
AMINA, SARA = "+44 7700 900631", "+44 7700 900632"
BILAL, TARIQ = "+44 7700 900633", "+44 7700 900634"
CAROL, GONE = "+447700900635", "+447700900636"
NGO_LINE = "+447700900799"


@pytest.fixture
def fake() -> Iterator[FakeTwilio]:
    with FakeTwilio() as server:
        yield server


@pytest.fixture
def env(tmp_path: Path, database_url: str, fake: FakeTwilio) -> dict[str, str]:
    return refuge_env(tmp_path, REFUGE_DATABASE_URL=database_url, **twilio_env(fake))


class Instance:
    """One app on the shared database, seen through one master keyring."""

    def __init__(self, env: dict[str, str], fake: FakeTwilio) -> None:
        self.settings = load_config(env)
        self.app = create_app(self.settings)
        self.database = db.get_database(self.app)
        self.delivery = Delivery(self.app, self.database, self.settings, fake)

    def worker(self) -> worker.Worker:
        return self.delivery.worker(sweeps=upkeep.default_sweeps(), purges=upkeep.default_purges())


@pytest.fixture
def instances() -> Iterator[list[Instance]]:
    made: list[Instance] = []
    yield made
    for instance in made:
        instance.database.dispose()


def _with_new_first_key(env: dict[str, str]) -> dict[str, str]:
    new = vault.new_key_settings(master_key_id="k2")["REFUGE_MASTER_KEYS"]
    return {**env, "REFUGE_MASTER_KEYS": f"{new},{env['REFUGE_MASTER_KEYS']}"}


def _only_the_first_key(env: dict[str, str]) -> dict[str, str]:
    return {**env, "REFUGE_MASTER_KEYS": env["REFUGE_MASTER_KEYS"].split(",")[0]}


def _everything_under_k1(old: Instance) -> str:
    """People with check-ins, contacts and an NGO, a caseworker, queued, sent and erased
    messages; returns the caseworker's TOTP seed holder's username."""
    db.Base.metadata.create_all(old.database.engine)
    load_demo_content(old.app)
    _private, public = vault.new_note_keypair()
    add_partner(old.app, "kharkiv", "Kharkiv Aid", NGO_LINE, public)
    clock = Clock(START)
    register(old.app, AMINA, "en", "kharkiv")
    amina = Phone(old.app, AMINA, clock)
    set_up(amina, "en", contacts=((SARA, "Sara"),))
    assert "Check-ins are on" in amina.ask("YES")  # the NGO too
    assert "sealed" in amina.ask("NOTE The road north is closed.")
    deliver(old.app, clock.now)  # the opt-in leaves
    Phone(old.app, SARA, clock).ask("YES")
    carol = old.delivery.person(CAROL)
    old.delivery.queue(carol, "reply:carol", kind=OutboxKind.REPLY, not_before=START)
    report = old.worker().run_once(START + timedelta(minutes=1))  # opt-in and Carol's reply
    assert report.sent >= 2
    with old.database.session() as session:
        found = people.find_subscriber(session, normalize_phone(AMINA))
        assert found is not None
        amina_id = found.id
    later = START + timedelta(hours=1)
    old.delivery.queue(amina_id, "reply:later", not_before=later)  # waits past the rotation
    with old.database.session() as session:
        erased = people.find_subscriber(session, normalize_phone(CAROL))
        assert erased is not None
        people.delete_subscriber(session, erased)  # her sent reply: a provider deletion
        people.register_subscriber(session, normalize_phone(GONE), today=date(2020, 1, 1))
    account = add_account(old.app, "olena", "kharkiv")
    _counts_are(old, deletions=1)
    return account.username


def _counts_are(instance: Instance, deletions: int) -> None:
    with instance.database.session() as session:
        found = session.scalar(select(func.count()).select_from(ProviderDeletion))
    assert found == deletions


def _read_everyone(instance: Instance) -> int:
    """Open every sealed field of every person; the number of envelopes opened."""
    opened = 0
    with instance.database.session() as session:
        for person in session.scalars(select(Subscriber)):
            assert (person.phone or "").startswith("+44")
            _ = person.state
            for contact in person.contacts:
                assert contact.phone
                assert contact.name
                opened += 2
            opened += 1
        for plan in session.scalars(select(CheckinPlan)):
            assert plan.pin
            assert plan.settings
            assert plan.state
            opened += 3
        for event in session.scalars(select(CheckinEvent)):
            assert event.detail
            opened += 1
        for receipt in session.scalars(select(InboundReceipt)):
            if receipt.subscriber is not None and receipt.reply_ct is not None:
                assert receipt.reply is not None
                opened += 1
        for row in session.scalars(select(Outbox)):  # a sent body is dropped, its id kept
            opened += (row.body is not None) + (row.provider_sid is not None)
        for partner in session.scalars(select(CheckinPartner)):
            assert contacts.partner_line(session, partner) == NGO_LINE
        for user in session.scalars(select(User)):
            assert user.totp_secret is not None
    return opened


def test_after_rotation_the_old_key_can_go_and_nothing_breaks(
    env: dict[str, str], fake: FakeTwilio, instances: list[Instance]
) -> None:
    old = Instance(env, fake)
    instances.append(old)
    username = _everything_under_k1(old)
    before = _read_everyone(old)

    rotating_env = _with_new_first_key(env)
    rotating = Instance(rotating_env, fake)
    instances.append(rotating)
    result = invoke(rotating.app, "keys", "rotate", "--batch-size", "2")
    assert result.exit_code == 0, result.output
    assert "provider_deletions: data keys: 1 moved to k2, 0 failed" in result.output
    assert "checkin_partners: alert_phone: 1 moved to k2, 0 failed" in result.output
    assert "portal_users: totp_secret: 1 moved to k2, 0 failed" in result.output
    assert "older master keys can be retired" in result.output
    again = invoke(rotating.app, "keys", "rotate")
    assert "every data key is already wrapped by k2" in again.output

    new = Instance(_only_the_first_key(rotating_env), fake)  # the old key removed
    instances.append(new)
    assert _read_everyone(new) == before

    # A partner alert: Bilal chooses the NGO (its line read under k2), then misses a check-in.
    clock = Clock(START)
    register(new.app, BILAL, "en", "kharkiv")
    bilal = Phone(new.app, BILAL, clock)
    set_up(bilal, "en", contacts=((TARIQ, "Tariq"),))
    assert "Check-ins are on" in bilal.ask("YES")
    deliver(new.app, clock.now)  # the opt-in leaves
    Phone(new.app, TARIQ, clock).ask("YES")
    _settings, state, _next = plan_facts(new.app, BILAL)
    assert state.due_at is not None
    new.worker().run_once(state.due_at + timedelta(hours=2))
    assert fake.sent(to=NGO_LINE), "the NGO got no alert"

    # A pass on the real clock: provider clean-up, then the purge that comes after it.
    report = new.worker().run_once()
    assert report.deleted_at_provider >= 1
    assert report.purged >= 1
    _counts_are(new, deletions=0)
    with new.database.session() as session:
        assert people.find_subscriber(session, normalize_phone(GONE)) is None
    assert _read_everyone(new) > before

    response = log_in(new.app.test_client(), username, PASSWORD, _code(new, username))
    assert response.status_code == 302, error_of(response)


def _code(instance: Instance, username: str) -> str:
    with instance.database.session() as session:
        user = session.scalars(select(User).where(User.username == username)).one()
        secret = user.totp_secret
    assert secret is not None
    return vault.totp_code(secret, datetime.now(UTC).timestamp())


def test_rotation_without_the_old_key_reports_each_kind_and_fails(
    env: dict[str, str], fake: FakeTwilio, instances: list[Instance]
) -> None:
    old = Instance(env, fake)
    instances.append(old)
    _everything_under_k1(old)
    without_old = Instance(
        {**env, "REFUGE_MASTER_KEYS": vault.new_key_settings("k2")["REFUGE_MASTER_KEYS"]}, fake
    )
    instances.append(without_old)
    result = invoke(without_old.app, "keys", "rotate")
    assert result.exit_code == 1
    for kind in ("provider_deletions: data keys", "checkin_partners: alert_phone"):
        assert f"{kind}: 0 moved to k2, 1 failed" in result.output
    assert "portal_users: totp_secret: 0 moved to k2, 1 failed" in result.output
    assert "which REFUGE_MASTER_KEYS does not hold" in result.output
    assert NGO_LINE not in result.output


def test_nothing_to_rotate_says_so(env: dict[str, str], fake: FakeTwilio) -> None:
    instance = Instance(env, fake)
    try:
        db.Base.metadata.create_all(instance.database.engine)
        result = invoke(instance.app, "keys", "rotate")
        assert result.exit_code == 0
        assert "every data key is already wrapped by k1" in result.output
    finally:
        instance.database.dispose()


PASSWORD = "correct horse battery staple"
