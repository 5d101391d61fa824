"""Migration 0013 turns spelled-out outbox causes into the opaque ones today's code builds,
re-seals every field padded and bound to its row's counter and bound columns, and keeps
activity times to the hour; going back re-seals the fields as they were."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

import pytest
from sqlalchemy import DateTime
from sqlalchemy.engine import make_url

from server import db, schema, vault
from server.models.checkins import CheckinEvent, CheckinPlan
from server.models.messaging import Outbox
from server.models.people import Subscriber, TrustedContact
from server.vault import envelopes
from tests.migrations.conftest import Steps

REVISION = "0013"
PERSON, CONTACT, PLAN = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
ALERT, CLEAR, OPT_IN, EVENT = uuid.uuid4(), uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
DETAIL = '{"kind": "duress", "at": "2026-12-07T14:08"}'
NUMBER, CONTACT_NUMBER = "+447700900761", "+447700900762"
STATE = '{"incident": "d20261207T140804", "stage": 1}'
INCIDENT = "d20261207T140804"
BODY = "About Amina: please try to reach them."


@pytest.fixture
def keys() -> vault.Vault:
    settings = vault.new_key_settings()
    return vault.Vault(
        vault.parse_keyring(settings["REFUGE_MASTER_KEYS"]),
        vault.decode_key(settings["REFUGE_INDEX_KEY"]),
    )


def _v1(data_key: bytes, value: str, table: str, column: str, row: uuid.UUID) -> bytes:
    aad = envelopes.associated_data(table, column, row.hex)
    return envelopes.seal_envelope(data_key, envelopes.DATA_KEY_ID, value.encode(), aad)


def _rows_as_0010_wrote_them(steps: Steps, keys: vault.Vault) -> bytes:
    """A person with a contact, a plan in a duress incident and its messages; the data key."""
    data_key, wrapped = keys.new_data_key("subscribers", PERSON.hex)
    steps.run(
        "INSERT INTO subscribers (id, phone_index, phone, wrapped_data_key, data_key_id, "
        "whatsapp_window_until) VALUES (:id, :index, :phone, :key, :key_id, :window)",
        id=steps.uuid(PERSON),
        index=b"\x01" * 32,
        phone=_v1(data_key, NUMBER, "subscribers", "phone", PERSON),
        key=wrapped,
        key_id=keys.current_key_id,
        window="2026-12-08 10:37:12.345678+00:00",
    )
    steps.run(
        "INSERT INTO trusted_contacts (id, subscriber_id, phone_index, phone, consent) "
        "VALUES (:id, :person, :index, :phone, 'confirmed')",
        id=steps.uuid(CONTACT),
        person=steps.uuid(PERSON),
        index=b"\x02" * 32,
        phone=_v1(data_key, CONTACT_NUMBER, "trusted_contacts", "phone", CONTACT),
    )
    steps.run(
        "INSERT INTO checkin_plans (id, subscriber_id, state) VALUES (:id, :person, :state)",
        id=steps.uuid(PLAN),
        person=steps.uuid(PERSON),
        state=_v1(data_key, STATE, "checkin_plans", "state", PLAN),
    )
    steps.run(
        "INSERT INTO checkin_events (id, plan_id, happened_on, detail) "
        "VALUES (:id, :plan, '2026-12-07', :detail)",
        id=steps.uuid(EVENT),
        plan=steps.uuid(PLAN),
        detail=_v1(data_key, DETAIL, "checkin_events", "detail", EVENT),
    )
    causes = {
        ALERT: ("alert", f"alert:{PLAN.hex}:{INCIDENT}:1:{CONTACT.hex}"),
        CLEAR: ("all_clear", f"clear:{PLAN.hex}:{INCIDENT}:{CONTACT.hex}"),
        OPT_IN: ("opt_in", f"optin:{CONTACT.hex}"),
    }
    for row, (kind, cause) in causes.items():
        steps.run(
            "INSERT INTO outbox (id, subscriber_id, contact_id, kind, priority, dedupe_key, "
            "body, not_before, expires_at, next_attempt_at, sender) VALUES (:id, :person, "
            ":contact, :kind, 0, :cause, :body, :at, '2026-12-10 14:00:00+00:00', :at, 'sms')",
            id=steps.uuid(row),
            person=steps.uuid(PERSON),
            contact=steps.uuid(CONTACT),
            kind=kind,
            cause=cause,
            body=_v1(data_key, BODY, "outbox", "body", row),
            at="2026-12-07 14:08:04.123456+00:00",
        )
    return data_key


def test_causes_become_the_opaque_ones_the_sweep_builds_and_fields_are_resealed(
    steps: Steps, keys: vault.Vault, database_url: str
) -> None:
    data_key = _rows_as_0010_wrote_them(steps, keys)
    schema.upgrade(steps.engine, REVISION, keys)

    causes = {row.id: row.dedupe_key for row in steps.rows("SELECT id, dedupe_key FROM outbox")}
    by_id = {uuid.UUID(str(key)): value for key, value in causes.items()}
    tag = vault.incident_tag(data_key, PLAN.hex, INCIDENT)
    assert by_id[ALERT] == vault.cause_key(
        data_key, "alert", PLAN.hex, INCIDENT, "1", CONTACT.hex, incident=tag
    )
    assert by_id[CLEAR] == vault.cause_key(
        data_key, "clear", PLAN.hex, INCIDENT, CONTACT.hex, incident=tag
    )
    assert by_id[OPT_IN] == vault.cause_key(data_key, "optin", CONTACT.hex)
    assert not any(INCIDENT in cause or PLAN.hex in cause for cause in causes.values())
    window = steps.rows(
        "SELECT whatsapp_window_until FROM subscribers",
        {"whatsapp_window_until": DateTime(timezone=True)},
    )[0][0]
    assert window.replace(tzinfo=UTC) == datetime(2026, 12, 8, 10, 0, tzinfo=UTC)

    schema.upgrade(steps.engine, "head", keys)  # the models read today's columns
    database = db.Database(make_url(database_url), keys)
    try:
        with database.session() as session:
            contact = session.get_one(TrustedContact, CONTACT)
            plan = session.get_one(CheckinPlan, PLAN)
            alert = session.get_one(Outbox, ALERT)
            event = session.get_one(CheckinEvent, EVENT)
            assert session.get_one(Subscriber, PERSON).phone == NUMBER
            assert event.detail == DETAIL
            assert (contact.phone, plan.state, alert.body) == (CONTACT_NUMBER, STATE, BODY)
            for sealed in (contact.phone_ct, plan.state_ct, alert.body_ct, event.detail_ct):
                assert envelopes.envelope_version(sealed) == envelopes.PADDED_VERSION
    finally:
        database.dispose()

    schema.downgrade(steps.engine, "0010", keys)
    assert "seal_version" not in steps.columns("checkin_plans")
    (sealed,) = steps.rows("SELECT state FROM checkin_plans")[0]
    aad = envelopes.associated_data("checkin_plans", "state", PLAN.hex)
    opened = envelopes.open_envelope({envelopes.DATA_KEY_ID: data_key}.get, bytes(sealed), aad)
    assert opened == STATE.encode()
    schema.upgrade(steps.engine, REVISION, keys)  # and again: opaque causes stay as they are
    again = {row.id: row.dedupe_key for row in steps.rows("SELECT id, dedupe_key FROM outbox")}
    assert again == causes


def test_the_migration_without_keys_stops_and_changes_nothing(
    steps: Steps, keys: vault.Vault
) -> None:
    _rows_as_0010_wrote_them(steps, keys)
    with pytest.raises(schema.MigrationNeedsKeys, match="refuge db upgrade"):
        schema.upgrade(steps.engine, REVISION)
    assert schema.current_revision(steps.engine) == "0010"
    causes = [row.dedupe_key for row in steps.rows("SELECT dedupe_key FROM outbox")]
    assert f"optin:{CONTACT.hex}" in causes


def test_an_instance_with_no_people_migrates_without_keys(steps: Steps) -> None:
    steps.upgrade()
    assert "seal_version" in steps.columns("trusted_contacts")
    steps.downgrade()
    assert "seal_version" not in steps.columns("trusted_contacts")
