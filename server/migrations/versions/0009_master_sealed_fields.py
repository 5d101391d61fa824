"""master-sealed fields: NGO alert lines and TOTP seeds re-sealed under the master keyring

They were sealed under keys derived from the index key (key ids pk1 and sk1), which never
rotates; from here on they follow REFUGE_MASTER_KEYS and `refuge keys rotate`. No schema
change: the same columns, the same associated data, a new key. Needs the instance's keys
(`refuge db upgrade` hands them over); a database with no such rows needs none.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-07
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import context, op

from server.schema import vault_for_migration
from server.vault import VaultError, envelopes


revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

#: (table, column, key id of the old index-derived key)
FIELDS = (
    ("checkin_partners", "alert_phone", "pk1"),
    ("portal_users", "totp_secret", "sk1"),
)


def _key_id(envelope: bytes) -> str | None:
    try:
        return envelopes.envelope_key_id(envelope)
    except VaultError:
        return None  # not an envelope this migration knows: left as it is


def _reseal(upgrading: bool) -> None:
    bind = op.get_bind()
    for table_name, column, legacy_id in FIELDS:
        table = sa.table(
            table_name, sa.column("id", sa.Uuid()), sa.column(column, sa.LargeBinary())
        )
        rows = bind.execute(
            sa.select(table.c.id, table.c[column]).where(table.c[column].is_not(None))
        ).all()
        for row_id, envelope in rows:
            is_legacy = _key_id(envelope) == legacy_id
            if is_legacy != upgrading or _key_id(envelope) is None:
                continue
            keys = vault_for_migration(context.config, revision)
            place = (table_name, column, row_id.hex)
            if upgrading:
                value = keys.open_legacy_field(envelope, *place)
                sealed = keys.seal_master_field(value, *place)
            else:
                value = keys.open_master_field(envelope, *place)
                sealed = keys.seal_legacy_field(legacy_id, value, *place)
            bind.execute(table.update().where(table.c.id == row_id).values({column: sealed}))


def upgrade() -> None:
    _reseal(upgrading=True)


def downgrade() -> None:
    _reseal(upgrading=False)
