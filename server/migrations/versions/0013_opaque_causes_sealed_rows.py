"""opaque outbox causes, padded and counter-bound envelopes, activity times to the hour

Nothing at rest tells an event's nature or exact time (issue 16):

- every outbox cause (``alert:<plan>:d20261207T140804:1:<contact>`` said who signalled duress
  and when) becomes a keyed digest under the person's data key, as the code now builds them,
  so a sweep after the upgrade recognises the messages already queued and queues none twice;
  a row whose person's key is gone gets a random cause (nothing will ever dedupe against it);
- every field envelope is re-sealed as version 2: padded to a bucket, bound to the row's new
  seal counter (trusted contacts and check-in plans) and to its bound columns (a contact's
  number to the consent, a message's body to its recipient);
- WhatsApp windows and provider deletions' due times are kept to the hour before.

Needs the instance's keys when any such row exists (`refuge db upgrade` hands them over).
Going back re-seals every field as version 1 and drops the counters; causes stay opaque (a
digest cannot be undone) and times stay rounded.

Revision ID: 0013
Revises: 0010
Create Date: 2026-12-07
"""

import re
import uuid
from collections.abc import Callable, Sequence
from typing import Any

import sqlalchemy as sa
from alembic import context, op

from server.schema import vault_for_migration
from server.vault import Vault, VaultError, envelopes
from server.vault.causes import cause_key, incident_tag


revision: str = "0013"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

#: Tables that gain a seal counter.
COUNTED = ("trusted_contacts", "checkin_plans")
#: (table, fields, bound column of each field) for fields under a person's data key, with the
#: SQL that gives each row's subscriber (whose wrapped key opens them).
PERSONAL: tuple[tuple[str, tuple[str, ...], dict[str, str], str], ...] = (
    ("subscribers", ("phone", "state"), {}, "id"),
    ("trusted_contacts", ("phone", "name"), {"phone": "consent"}, "subscriber_id"),
    ("checkin_plans", ("pin", "duress", "settings", "state"), {}, "subscriber_id"),
    ("inbound_receipts", ("reply",), {}, "subscriber_id"),
    ("checkin_events", ("detail",), {}, "plan_id"),
    ("outbox", ("body", "provider_sid"), {"body": "contact_id"}, "subscriber_id"),
)
MASTER = (("checkin_partners", "alert_phone"), ("portal_users", "totp_secret"))
#: A tag of `server.vault.causes`: 32 base32 characters.
OPAQUE = re.compile("[a-z2-7]{32}")
HOURLY = (("subscribers", "whatsapp_window_until"), ("provider_deletions", "due_at"))


def _text(value: Any) -> str:
    if value is None:
        return ""
    return value.hex if isinstance(value, uuid.UUID) else str(value)


class _Keys:
    """The vault, asked for only when a row needs it, and each person's data key once."""

    def __init__(self) -> None:
        self._vault: Vault | None = None
        self._data_keys: dict[uuid.UUID, bytes | None] = {}

    @property
    def vault(self) -> Vault:
        if self._vault is None:
            self._vault = vault_for_migration(context.config, revision)
        return self._vault

    def data_key(self, table: str, row_id: uuid.UUID) -> bytes | None:
        """A subscriber's (or a provider deletion's) data key; None once destroyed."""
        if row_id not in self._data_keys:
            wrapped_table = sa.table(
                table, sa.column("id", sa.Uuid()), sa.column("wrapped_data_key", sa.LargeBinary())
            )
            wrapped = (
                op.get_bind()
                .execute(
                    sa.select(wrapped_table.c.wrapped_data_key).where(wrapped_table.c.id == row_id)
                )
                .scalar()
            )
            self._data_keys[row_id] = (
                None if wrapped is None else self.vault.unwrap_data_key(wrapped, table, row_id.hex)
            )
        return self._data_keys[row_id]


def _is(envelope: bytes, version: int) -> bool:
    try:
        return envelopes.envelope_version(envelope) == version
    except VaultError:
        return False  # not an envelope Refuge wrote: left as it is


def _plan_owner(plan_id: uuid.UUID) -> uuid.UUID:
    plans = sa.table(
        "checkin_plans", sa.column("id", sa.Uuid()), sa.column("subscriber_id", sa.Uuid())
    )
    query = sa.select(plans.c.subscriber_id).where(plans.c.id == plan_id)
    found: uuid.UUID = op.get_bind().execute(query).scalar_one()
    return found


def _reseal_personal(keys: _Keys, upgrading: bool) -> None:
    bind = op.get_bind()
    for table_name, fields, binds, owner in PERSONAL:
        columns: list[sa.ColumnClause[Any]] = [sa.column("id", sa.Uuid())]
        if owner != "id":
            columns.append(sa.column(owner, sa.Uuid()))
        columns += [sa.column(field, sa.LargeBinary()) for field in fields]
        for name in sorted(set(binds.values())):
            columns.append(sa.column(name, sa.Uuid() if name.endswith("_id") else sa.String()))
        if table_name in COUNTED:
            columns.append(sa.column("seal_version", sa.Integer()))
        table = sa.table(table_name, *columns)
        for row in bind.execute(sa.select(table)).mappings().all():
            counter = row["seal_version"] if table_name in COUNTED else None
            person = row[owner] if owner != "plan_id" else _plan_owner(row[owner])
            data_key = keys.data_key("subscribers", person)
            changes = _resealed(row, fields, binds, table_name, counter, data_key, upgrading)
            if changes:
                bind.execute(table.update().where(table.c.id == row["id"]).values(changes))
    deletions = sa.table(
        "provider_deletions",
        sa.column("id", sa.Uuid()),
        sa.column("provider_sid", sa.LargeBinary()),
    )
    for row in bind.execute(sa.select(deletions)).mappings().all():
        data_key = keys.data_key("provider_deletions", row["id"])
        fields = ("provider_sid",)
        changes = _resealed(row, fields, {}, "provider_deletions", None, data_key, upgrading)
        if changes:
            bind.execute(deletions.update().where(deletions.c.id == row["id"]).values(changes))


def _resealed(
    row: Any,
    fields: tuple[str, ...],
    binds: dict[str, str],
    table: str,
    counter: int | None,
    data_key: bytes | None,
    upgrading: bool,
) -> dict[str, bytes]:
    changes: dict[str, bytes] = {}
    row_id = row["id"].hex
    for field in fields:
        envelope = row[field]
        if envelope is None or not _is(envelope, 1 if upgrading else 2) or data_key is None:
            continue
        bound = ((binds[field], _text(row[binds[field]])),) if field in binds else ()
        place = envelopes.Place(table, field, row_id, counter, bound)
        if upgrading:
            old = envelopes.associated_data(table, field, row_id)
            raw = envelopes.open_envelope({envelopes.DATA_KEY_ID: data_key}.get, envelope, old)
            changes[field] = envelopes.seal_at(data_key, envelopes.DATA_KEY_ID, raw, place)
        else:
            raw = envelopes.open_at({envelopes.DATA_KEY_ID: data_key}.get, envelope, place)
            aad = envelopes.associated_data(table, field, row_id)
            changes[field] = envelopes.seal_envelope(data_key, envelopes.DATA_KEY_ID, raw, aad)
    return changes


def _reseal_master(keys: _Keys, upgrading: bool) -> None:
    bind = op.get_bind()
    for table_name, field in MASTER:
        table = sa.table(table_name, sa.column("id", sa.Uuid()), sa.column(field, sa.LargeBinary()))
        for row_id, envelope in bind.execute(
            sa.select(table.c.id, table.c[field]).where(table.c[field].is_not(None))
        ).all():
            if not _is(envelope, 1 if upgrading else 2):
                continue
            place = (table_name, field, row_id.hex)
            value = keys.vault.open_master_field(envelope, *place)
            sealed = (
                keys.vault.seal_master_field(value, *place)
                if upgrading
                else keys.vault.seal_unpadded_master_field(value, *place)
            )
            bind.execute(table.update().where(table.c.id == row_id).values({field: sealed}))


def _opaque_cause(old: str, data_key: bytes) -> str:
    """The cause today's code builds for the message an old, spelled-out cause named."""
    kind, _, rest = old.partition(":")
    parts = rest.split(":")
    builders: dict[tuple[str, int], Callable[[], str]] = {
        ("alert", 4): lambda: cause_key(
            data_key, "alert", *parts, incident=incident_tag(data_key, parts[0], parts[1])
        ),
        ("clear", 3): lambda: cause_key(
            data_key, "clear", *parts, incident=incident_tag(data_key, parts[0], parts[1])
        ),
        ("closing", 3): lambda: _closing(data_key, parts),
        ("remind", 2): lambda: cause_key(data_key, "remind", *parts),
        ("optin", 1): lambda: cause_key(data_key, "optin", *parts),
        ("consent", 2): lambda: cause_key(data_key, "consent", *parts),
    }
    build = builders.get((kind, len(parts)))
    return build() if build is not None else cause_key(data_key, "earlier", old)


def _closing(data_key: bytes, parts: list[str]) -> str:
    tag = incident_tag(data_key, parts[0], parts[1])
    return cause_key(data_key, "closing", tag, parts[2], incident=tag)


def _opaque(cause: str) -> bool:
    parts = cause.split(":")
    return len(parts) <= 2 and all(OPAQUE.fullmatch(part) for part in parts)


def _opaque_causes(keys: _Keys) -> None:
    bind = op.get_bind()
    outbox = sa.table(
        "outbox",
        sa.column("id", sa.Uuid()),
        sa.column("subscriber_id", sa.Uuid()),
        sa.column("dedupe_key", sa.String()),
    )
    for row_id, subscriber_id, old in bind.execute(
        sa.select(outbox.c.id, outbox.c.subscriber_id, outbox.c.dedupe_key)
    ).all():
        if _opaque(old):
            continue  # built by today's code (an upgrade after a downgrade)
        data_key = keys.data_key("subscribers", subscriber_id)
        new = uuid.uuid4().hex if data_key is None else _opaque_cause(old, data_key)
        bind.execute(outbox.update().where(outbox.c.id == row_id).values(dedupe_key=new))


def _to_the_hour() -> None:
    bind = op.get_bind()
    for table_name, column in HOURLY:
        table = sa.table(
            table_name, sa.column("id", sa.Uuid()), sa.column(column, sa.DateTime(timezone=True))
        )
        for row_id, when in bind.execute(
            sa.select(table.c.id, table.c[column]).where(table.c[column].is_not(None))
        ).all():
            hour = when.replace(minute=0, second=0, microsecond=0)
            if hour != when:
                bind.execute(table.update().where(table.c.id == row_id).values({column: hour}))


def upgrade() -> None:
    for table in COUNTED:
        with op.batch_alter_table(table, schema=None, recreate="never") as batch_op:
            batch_op.add_column(
                sa.Column("seal_version", sa.Integer(), server_default="0", nullable=False)
            )
    keys = _Keys()
    _reseal_personal(keys, upgrading=True)
    _reseal_master(keys, upgrading=True)
    _opaque_causes(keys)
    _to_the_hour()


def downgrade() -> None:
    keys = _Keys()
    _reseal_personal(keys, upgrading=False)
    _reseal_master(keys, upgrading=False)
    for table in COUNTED:
        # Never a copied table on SQLite: dropping the old one would cascade to the outbox.
        with op.batch_alter_table(table, schema=None, recreate="never") as batch_op:
            batch_op.drop_column("seal_version")
