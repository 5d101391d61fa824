"""What a seized (or seized-and-edited) database says about events: no incident's kind or time
in any cause, numbers of every length sealed alike, ciphertexts bound to their row, its
version and its consent, and activity kept to the hour (issue 16, item 3 and the at-rest
parts of 5 and 6)."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest
from flask import Flask
from sqlalchemy import String, select, text, update

from server import db, people, vault
from server.delivery import outbox
from server.models.checkins import CheckinPlan
from server.models.messaging import Outbox, OutboxKind, OutboxStatus, ProviderDeletion
from server.models.people import Subscriber, TrustedContact
from server.phones import normalize_phone
from tests.checkin_helpers import Clock, Phone, check_in, deliver, register, run_sweep, set_up
from tests.sms_helpers import load_demo_content

START = datetime(2026, 12, 1, 8, 0, tzinfo=UTC)
DURESS_PERSON, WRONG_PERSON, MISSED_PERSON = (
    "+44 7700 900711",
    "+44 7700 900712",
    "+44 7700 900713",
)
CONTACTS = {
    DURESS_PERSON: ("+447700900721", "Sara"),
    WRONG_PERSON: ("+447700900722", "Omar"),
    MISSED_PERSON: ("+447700900723", "Lina"),
}
PIN, DURESS = 482193, 973164
#: How a cause used to name an incident: d (duress), w (wrong PINs), m (missed), and its time.
INCIDENT = re.compile(r"(?<![0-9a-z])[dwm]?20\d{6}T\d{4}")


@pytest.fixture
def loaded(app: Flask) -> Flask:
    load_demo_content(app)
    return app


def _planned(app: Flask, clock: Clock, number: str) -> Phone:
    """A person in Kharkiv with one contact who agreed."""
    register(app, number, "en", "kharkiv")
    person = Phone(app, number, clock)
    replies = set_up(person, "en", pin=PIN, duress=DURESS, contacts=(CONTACTS[number],))
    assert "Check-ins are on" in replies[-1]
    deliver(app, clock.now)  # the opt-in leaves
    Phone(app, CONTACTS[number][0], clock).ask("YES")
    return person


def _stored_text(app: Flask) -> list[tuple[str, str, str]]:
    """(table, column, value) of every text column of every row, as a seizure reads them."""
    engine = db.get_database(app).engine
    found = []
    with engine.connect() as connection:
        for table in db.Base.metadata.sorted_tables:
            columns = [c.name for c in table.columns if isinstance(c.type, String)]
            if not columns:
                continue
            names = ", ".join(f'"{name}"' for name in columns)
            for row in connection.execute(text(f'SELECT {names} FROM "{table.name}"')):
                for name, value in zip(columns, row, strict=True):
                    if value is not None:
                        found.append((table.name, name, str(value)))
    return found


def _ids(app: Flask) -> list[str]:
    """The hex ids of every plan and contact (what a cause used to name)."""
    with db.get_database(app).session() as session:
        plans = session.scalars(select(CheckinPlan.id)).all()
        contacts = session.scalars(select(TrustedContact.id)).all()
    return [value.hex for value in (*plans, *contacts)]


def _alerts(app: Flask) -> list[str]:
    with db.get_database(app).session() as session:
        return list(session.scalars(select(Outbox.dedupe_key).where(Outbox.kind == "alert")))


def test_after_duress_wrong_pins_and_a_miss_no_cause_names_a_kind_time_plan_or_contact(
    loaded: Flask,
) -> None:
    clock = Clock(START)
    duress = _planned(loaded, clock, DURESS_PERSON)
    wrong = _planned(loaded, clock, WRONG_PERSON)
    _planned(loaded, clock, MISSED_PERSON)
    clock.now = START + timedelta(hours=1, minutes=7, seconds=4)
    check_in(duress, "en", DURESS)
    for _ in range(3):
        check_in(wrong, "en", 111111)
    run_sweep(loaded, clock.now)
    missed_at = START + timedelta(hours=13)
    run_sweep(loaded, missed_at)
    first = sorted(_alerts(loaded))
    assert len(first) == 3  # one alert for each incident: duress, wrong PINs, missed

    run_sweep(loaded, missed_at)  # the same causes again: nothing queued twice
    assert sorted(_alerts(loaded)) == first
    stored = _stored_text(loaded)
    named = [
        (table, column, value)
        for table, column, value in stored
        if INCIDENT.search(value)
        or re.match(r"(alert|clear|closing|remind|optin|consent):", value)
        or any(found in value for found in _ids(loaded))
    ]
    assert named == []
    causes = [value for table, column, value in stored if column == "dedupe_key"]
    assert causes
    assert all(re.fullmatch(r"[a-z2-7]{32}(:[a-z2-7]{32})?", c) for c in causes)


def _person_with_contacts(app: Flask, *numbers: str) -> None:
    with db.get_database(app).session() as session:
        person = people.register_subscriber(session, normalize_phone(DURESS_PERSON), locale="en")
        for number in numbers:
            people.add_trusted_contact(session, person, normalize_phone(number))


def _sealed_phones(app: Flask) -> list[bytes]:
    with db.get_database(app).session() as session:
        return list(session.scalars(select(TrustedContact.phone_ct)))


def test_a_uk_mobile_and_a_shorter_office_line_are_sealed_to_the_same_length(app: Flask) -> None:
    mobile, office = "+447700900731", "+12025550143"
    assert len(normalize_phone(mobile).e164) != len(normalize_phone(office).e164)
    _person_with_contacts(app, mobile, office)
    first, second = _sealed_phones(app)
    assert len(first) == len(second)
    data_key = bytes(32)
    lengths = {
        len(vault.encrypt_field(data_key, number, "trusted_contacts", "phone", "row"))
        for number in ("+447700900731", "+12025550143", "+8801700000000", "+380441234567")
    }
    assert len(lengths) == 1


def test_a_number_copied_into_another_contact_row_fails_to_open(app: Flask) -> None:
    _person_with_contacts(app, "+447700900731", "+447700900732")
    database = db.get_database(app)
    with database.session() as session:
        first, second = session.scalars(select(TrustedContact)).all()
        session.execute(
            update(TrustedContact)
            .where(TrustedContact.id == second.id)
            .values(phone_ct=first.phone_ct)
        )
    with database.session() as session:
        moved = session.get_one(TrustedContact, second.id)
        with pytest.raises(vault.DecryptionFailed):
            _ = moved.phone


def test_an_older_plan_state_rolled_back_into_its_row_fails_to_open(loaded: Flask) -> None:
    clock = Clock(START)
    person = _planned(loaded, clock, MISSED_PERSON)
    database = db.get_database(loaded)
    with database.session() as session:
        plan = session.scalars(select(CheckinPlan)).one()
        plan_id, before = plan.id, plan.state_ct
    clock.now = START + timedelta(hours=1)
    check_in(person, "en", PIN)  # the state changes: a new due time
    with database.session() as session:
        session.execute(
            update(CheckinPlan).where(CheckinPlan.id == plan_id).values(state_ct=before)
        )
    with database.session() as session:
        rolled_back = session.get_one(CheckinPlan, plan_id)
        with pytest.raises(vault.DecryptionFailed):
            _ = rolled_back.state


def test_a_consent_forged_by_sql_is_detected_and_the_contact_never_alerted(
    loaded: Flask,
) -> None:
    clock = Clock(START)
    register(loaded, MISSED_PERSON, "en", "kharkiv")
    person = Phone(loaded, MISSED_PERSON, clock)
    replies = set_up(person, "en", pin=PIN, duress=DURESS, contacts=(("+447700900741", "Nadia"),))
    assert "Check-ins are on" in replies[-1]
    deliver(loaded, clock.now)  # the request leaves; Nadia never answers
    database = db.get_database(loaded)
    with database.session() as session:
        session.execute(update(TrustedContact).values(consent="confirmed"))
    missed_at = START + timedelta(hours=13)
    run_sweep(loaded, missed_at)
    deliver(loaded, missed_at)
    with database.session() as session:
        alerts = session.scalars(select(Outbox).where(Outbox.kind == OutboxKind.ALERT)).all()
        assert [row.status for row in alerts] == [OutboxStatus.DROPPED]
        assert alerts[0].provider_sid_ct is None
        contact = session.scalars(select(TrustedContact)).one()
        assert not vault.seal_holds(contact)


def test_an_alert_whose_recipient_was_edited_by_sql_reaches_nobody(loaded: Flask) -> None:
    clock = Clock(START)
    register(loaded, MISSED_PERSON, "en", "kharkiv")
    person = Phone(loaded, MISSED_PERSON, clock)
    sara, lina = ("+447700900743", "Sara"), ("+447700900744", "Lina")
    replies = set_up(person, "en", pin=PIN, duress=DURESS, contacts=(sara, lina), later="2")
    assert "Check-ins are on" in replies[-1]
    deliver(loaded, clock.now)
    Phone(loaded, sara[0], clock).ask("YES")
    Phone(loaded, lina[0], clock).ask("YES")
    missed_at = START + timedelta(hours=13)
    run_sweep(loaded, missed_at)  # the first stage: Sara only
    database = db.get_database(loaded)
    with database.session() as session:
        alert = session.scalars(select(Outbox).where(Outbox.kind == OutboxKind.ALERT)).one()
        second = session.scalars(
            select(TrustedContact.id).where(TrustedContact.id != alert.contact_id)
        ).one()
        # Lina agreed too: the edit would hand her the first stage's alert.
        session.execute(update(Outbox).where(Outbox.id == alert.id).values(contact_id=second))
    deliver(loaded, missed_at)
    with database.session() as session:
        edited = session.get_one(Outbox, alert.id)
        assert edited.status is OutboxStatus.DROPPED
        assert edited.provider_sid_ct is None


def test_a_whatsapp_window_is_kept_to_the_hour(app: Flask) -> None:
    clock = Clock(datetime(2026, 12, 1, 10, 37, 12, 345678, tzinfo=UTC))
    Phone(app, "whatsapp:+447700900751", clock).send("HELP")
    engine = db.get_database(app).engine
    with engine.connect() as connection:
        stored = connection.execute(
            select(Subscriber.whatsapp_window_until)  # read back through the column's type
        ).scalar_one()
    assert stored == datetime(2026, 12, 2, 10, 0, tzinfo=UTC)


def test_when_someone_was_erased_is_kept_to_the_hour(app: Flask) -> None:
    database = db.get_database(app)
    before = datetime.now(UTC)
    with database.session() as session:
        person = people.register_subscriber(session, normalize_phone(MISSED_PERSON), locale="en")
        outbox.enqueue(
            session,
            outbox.Outgoing(
                subscriber=person,
                body="Refuge: menu",
                kind=OutboxKind.REPLY,
                cause=outbox.cause(person, "reply", "1"),
                not_before=before,
                expires_at=before + timedelta(hours=1),
            ),
        )
        session.scalars(select(Outbox)).one().provider_sid = "SM0123456789abcdef0123456789abcdef"
    with database.session() as session:
        people.delete_subscriber(session, session.scalars(select(Subscriber)).one())
    after = datetime.now(UTC)
    with database.engine.connect() as connection:
        (due,) = connection.execute(select(ProviderDeletion.due_at)).scalars().all()
    hours = {moment.replace(minute=0, second=0, microsecond=0) for moment in (before, after)}
    assert due in hours
