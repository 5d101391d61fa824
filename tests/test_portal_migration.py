"""Migration 0008 adds portal accounts and the audit log, and takes them away with their rows."""

from __future__ import annotations

import uuid

from sqlalchemy import inspect, text
from sqlalchemy.engine import make_url

from server import db, schema

BEFORE, AFTER = "0007", "0008"
PARTNER, USER, EVENT = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
ROWS = (
    "INSERT INTO checkin_partners (id, region_slug, name) VALUES (:partner, 'kharkiv', 'Aid')",
    "INSERT INTO portal_users (id, username, password_hash, totp_secret, organisation_id) "
    "VALUES (:user, 'olena', '$argon2id$x', :blob, :partner)",
    "INSERT INTO audit_events (id, seq, at, action, detail, digest) "
    "VALUES (:event, 1, :at, 'user_created', '{}', :digest)",
)


def _ids(dialect: str) -> dict[str, str]:
    # SQLite keeps a Uuid as 32 hex digits; PostgreSQL's uuid type reads the dashed form.
    return {
        name: value.hex if dialect == "sqlite" else str(value)
        for name, value in (("partner", PARTNER), ("user", USER), ("event", EVENT))
    }


def test_portal_tables_come_and_go_with_data_in_them(database_url: str) -> None:
    database = db.Database(make_url(database_url))
    try:
        schema.upgrade(database.engine, BEFORE)
        values = {
            **_ids(database.engine.dialect.name),
            "blob": b"\x01sealed",
            "at": "2026-11-28 10:00:00+00:00",
            "digest": "0" * 64,
        }
        with database.engine.begin() as connection:
            connection.execute(text(ROWS[0]), values)
        schema.upgrade(database.engine, AFTER)
        with database.engine.begin() as connection:
            for statement in ROWS[1:]:
                connection.execute(text(statement), values)
            user = connection.execute(
                text("SELECT failed_logins, session_epoch, role, created_on FROM portal_users")
            ).one()
        assert (user.failed_logins, user.session_epoch, user.role) == (0, 0, "partner")
        assert user.created_on is not None
        schema.downgrade(database.engine, BEFORE)
        assert {"portal_users", "audit_events"} & set(
            inspect(database.engine).get_table_names()
        ) == set()
        with database.engine.connect() as connection:
            assert (
                connection.execute(text("SELECT name FROM checkin_partners")).scalar_one() == "Aid"
            )
        schema.upgrade(database.engine, AFTER)
    finally:
        database.dispose()
