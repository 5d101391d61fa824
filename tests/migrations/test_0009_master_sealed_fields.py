"""Migration 0009 moves NGO alert lines and TOTP seeds from index-derived keys to the master
keyring, and back; it refuses to run on such rows without the keys."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest
from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.orm import load_only

from server import db, schema, vault
from server.checkins import contacts
from server.models.checkins import CheckinPartner
from server.models.staff import User

BEFORE, AFTER = "0008", "0009"
PARTNER, USER, BARE = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
LINE = "+447700900798"
SEED = b"12345678901234567890"


@pytest.fixture
def keys() -> vault.Vault:
    settings = vault.new_key_settings()
    return vault.Vault(
        vault.parse_keyring(settings["REFUGE_MASTER_KEYS"]),
        vault.decode_key(settings["REFUGE_INDEX_KEY"]),
    )


@pytest.fixture
def database(database_url: str, keys: vault.Vault) -> Iterator[db.Database]:
    database = db.Database(make_url(database_url), keys)
    yield database
    database.dispose()


def _uuid(database: db.Database, value: uuid.UUID) -> str:
    # SQLite keeps a Uuid as 32 hex digits; PostgreSQL's uuid type reads the dashed form.
    return value.hex if database.engine.dialect.name == "sqlite" else str(value)


def _sealed_the_old_way(database: db.Database, keys: vault.Vault) -> None:
    """Rows as 0008's code wrote them: sealed under keys derived from the index key."""
    line = keys.seal_legacy_field(
        "pk1", LINE.encode(), "checkin_partners", "alert_phone", PARTNER.hex
    )
    seed = keys.seal_legacy_field("sk1", SEED, "portal_users", "totp_secret", USER.hex)
    with database.engine.begin() as connection:
        for partner, slug, sealed in ((PARTNER, "kharkiv", line), (BARE, "lviv", None)):
            connection.execute(
                text(
                    "INSERT INTO checkin_partners (id, region_slug, name, alert_phone) "
                    "VALUES (:id, :slug, 'Aid', :line)"
                ),
                {"id": _uuid(database, partner), "slug": slug, "line": sealed},
            )
        connection.execute(
            text(
                "INSERT INTO portal_users (id, username, password_hash, totp_secret, "
                "organisation_id) VALUES (:id, 'olena', '$argon2id$x', :seed, :partner)"
            ),
            {"id": _uuid(database, USER), "seed": seed, "partner": _uuid(database, PARTNER)},
        )


def _key_ids(database: db.Database) -> tuple[str, str]:
    with database.engine.connect() as connection:
        line = connection.execute(
            text("SELECT alert_phone FROM checkin_partners WHERE region_slug = 'kharkiv'")
        ).scalar_one()
        seed = connection.execute(text("SELECT totp_secret FROM portal_users")).scalar_one()
    return vault.envelopes.envelope_key_id(line), vault.envelopes.envelope_key_id(seed)


def test_alert_lines_and_totp_seeds_move_to_the_master_keyring_and_back(
    database: db.Database, keys: vault.Vault
) -> None:
    schema.upgrade(database.engine, BEFORE)
    _sealed_the_old_way(database, keys)

    schema.upgrade(database.engine, AFTER, keys)
    assert _key_ids(database) == (keys.current_key_id, keys.current_key_id)
    with database.session() as session:
        partner = session.get(CheckinPartner, PARTNER)
        # Only the columns revision 0009 has: later revisions add others to the model.
        user = session.get(User, USER, options=[load_only(User.username, User.totp_secret_ct)])
        assert partner is not None
        assert user is not None
        assert contacts.partner_line(session, partner) == LINE
        assert user.totp_secret == SEED
        bare = session.get(CheckinPartner, BARE)
        assert bare is not None
        assert bare.alert_phone is None

    schema.downgrade(database.engine, BEFORE, keys)
    assert _key_ids(database) == ("pk1", "sk1")
    with database.engine.connect() as connection:
        line = connection.execute(
            text("SELECT alert_phone FROM checkin_partners WHERE region_slug = 'kharkiv'")
        ).scalar_one()
    assert keys.open_legacy_field(line, "checkin_partners", "alert_phone", PARTNER.hex) == (
        LINE.encode()
    )
    schema.upgrade(database.engine, AFTER, keys)
    assert _key_ids(database) == (keys.current_key_id, keys.current_key_id)


def test_the_migration_without_keys_stops_and_changes_nothing(
    database: db.Database, keys: vault.Vault
) -> None:
    schema.upgrade(database.engine, BEFORE)
    _sealed_the_old_way(database, keys)
    with pytest.raises(schema.MigrationNeedsKeys, match="refuge db upgrade"):
        schema.upgrade(database.engine, AFTER)
    assert schema.current_revision(database.engine) == BEFORE
    assert _key_ids(database) == ("pk1", "sk1")


def test_an_instance_without_partners_or_accounts_migrates_without_keys(
    database: db.Database,
) -> None:
    schema.upgrade(database.engine, AFTER)
    schema.downgrade(database.engine, BEFORE)
    assert schema.current_revision(database.engine) == BEFORE
