"""Migration 0006: check-in plans, their sealed history, and the partners alerts may reach."""

from __future__ import annotations

import uuid

import pytest
from sqlalchemy.exc import IntegrityError

from tests.migrations.conftest import Steps, add_subscriber

REVISION = "0006"
PERSON, PLAN, PARTNER = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
MESSAGE = (
    "INSERT INTO outbox (id, subscriber_id, kind, priority, dedupe_key, body, not_before, "
    "expires_at, next_attempt_at, sender, status) VALUES (:message, :person, 'reply', 1, "
    "'reply:1', :sealed, :at, :at, :at, 'sms', 'sent')"
)
PLAN_ROW = (
    "INSERT INTO checkin_plans (id, subscriber_id, next_due_at, pin, duress, settings, state) "
    "VALUES (:plan, :person, :at, :sealed, :sealed, :sealed, :sealed)"
)
EVENT = (
    "INSERT INTO checkin_events (id, plan_id, happened_on, detail) "
    "VALUES (:event, :plan, '2026-11-28', :sealed)"
)
PARTNER_ROW = (
    "INSERT INTO checkin_partners (id, region_slug, name, alert_phone, note_key) "
    "VALUES (:partner, 'kharkiv', 'Aid', :sealed, :note_key)"
)


def _values(steps: Steps) -> dict[str, object]:
    return {
        "person": steps.uuid(PERSON),
        "message": steps.uuid(uuid.uuid4()),
        "plan": steps.uuid(PLAN),
        "event": steps.uuid(uuid.uuid4()),
        "partner": steps.uuid(PARTNER),
        "sealed": b"\x01sealed",
        "note_key": b"\x77" * 32,
        "at": "2026-11-28 12:00:00+00:00",
    }


def test_people_and_their_messages_stay_and_a_plan_keeps_its_history(steps: Steps) -> None:
    values = _values(steps)
    add_subscriber(steps, PERSON)
    steps.run(MESSAGE, **values)
    steps.upgrade()
    assert [row.status for row in steps.rows("SELECT status FROM outbox")] == ["sent"]
    steps.run(PLAN_ROW, EVENT, PARTNER_ROW, **values)
    [plan] = steps.rows("SELECT created_on, pin FROM checkin_plans")
    assert plan.created_on is not None
    assert bytes(plan.pin) == b"\x01sealed"
    assert "ix_checkin_plans_next_due_at" in steps.indexes("checkin_plans")
    due = steps.rows("SELECT id FROM checkin_plans WHERE next_due_at <= :at", at=values["at"])
    assert len(due) == 1


def test_one_plan_per_person_one_partner_per_region_and_history_goes_with_the_plan(
    steps: Steps,
) -> None:
    values = _values(steps)
    add_subscriber(steps, PERSON)
    steps.upgrade()
    steps.run(PLAN_ROW, EVENT, PARTNER_ROW, **values)
    with pytest.raises(IntegrityError):
        steps.run(PLAN_ROW, **{**values, "plan": steps.uuid(uuid.uuid4())})
    with pytest.raises(IntegrityError):
        steps.run(PARTNER_ROW, **{**values, "partner": steps.uuid(uuid.uuid4())})
    steps.run("DELETE FROM subscribers")
    assert steps.rows("SELECT id FROM checkin_plans") == []
    assert steps.rows("SELECT id FROM checkin_events") == []
    assert [row.name for row in steps.rows("SELECT name FROM checkin_partners")] == ["Aid"]


def test_the_downgrade_drops_check_ins_and_keeps_people_and_messages(steps: Steps) -> None:
    values = _values(steps)
    add_subscriber(steps, PERSON)
    steps.run(MESSAGE, **values)
    steps.upgrade()
    steps.run(PLAN_ROW, EVENT, PARTNER_ROW, **values)
    steps.downgrade()
    assert {"checkin_plans", "checkin_events", "checkin_partners"} & steps.tables() == set()
    assert len(steps.rows("SELECT id FROM subscribers")) == 1
    assert [row.dedupe_key for row in steps.rows("SELECT dedupe_key FROM outbox")] == ["reply:1"]
