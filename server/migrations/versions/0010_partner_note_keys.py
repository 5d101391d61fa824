"""partner note keys: every note key an NGO has had, so a rotation hides none of its notes

Each NGO that has a note key today gets it as its first remembered key. Notes sealed to a
key replaced before this revision cannot be matched (its fingerprint was never kept).

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-07
"""

import uuid
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from server.vault import key_fingerprint


revision: str = '0010'
down_revision: str | None = '0009'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    keys = op.create_table('checkin_partner_keys',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('partner_id', sa.Uuid(), nullable=False),
    sa.Column('fingerprint', sa.String(length=32), nullable=False),
    sa.Column('added_on', sa.Date(), server_default=sa.text('(CURRENT_DATE)'), nullable=False),
    sa.ForeignKeyConstraint(['partner_id'], ['checkin_partners.id'], name=op.f('fk_checkin_partner_keys_partner_id_checkin_partners'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_checkin_partner_keys')),
    sa.UniqueConstraint('partner_id', 'fingerprint', name=op.f('uq_checkin_partner_keys_partner_id_fingerprint'))
    )
    with op.batch_alter_table('checkin_partner_keys', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_checkin_partner_keys_partner_id'), ['partner_id'], unique=False)

    partners = sa.table(
        'checkin_partners', sa.column('id', sa.Uuid()), sa.column('note_key', sa.LargeBinary())
    )
    bind = op.get_bind()
    rows = bind.execute(
        sa.select(partners.c.id, partners.c.note_key).where(partners.c.note_key.is_not(None))
    ).all()
    if rows:
        op.bulk_insert(keys, [
            {'id': uuid.uuid4(), 'partner_id': partner_id, 'fingerprint': key_fingerprint(key)}
            for partner_id, key in rows
        ])


def downgrade() -> None:
    with op.batch_alter_table('checkin_partner_keys', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_checkin_partner_keys_partner_id'))

    op.drop_table('checkin_partner_keys')
