"""messaging

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-28
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


revision: str = '0004'
down_revision: str | None = '0003'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('tallies',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=32), nullable=False),
    sa.Column('subject', sa.String(length=64), nullable=False),
    sa.Column('region_slug', sa.String(length=64), nullable=False),
    sa.Column('day', sa.Date(), nullable=False),
    sa.Column('count', sa.Integer(), server_default='0', nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_tallies')),
    sa.UniqueConstraint('kind', 'subject', 'region_slug', 'day', name=op.f('uq_tallies_kind_subject_region_slug_day'))
    )
    op.create_table('inbound_receipts',
    sa.Column('digest', sa.LargeBinary(length=32), nullable=False),
    sa.Column('subscriber_id', sa.Uuid(), nullable=True),
    sa.Column('reply', sa.LargeBinary(), nullable=True),
    sa.Column('outcome', sa.String(length=16), server_default='answered', nullable=False),
    sa.Column('locale', sa.String(length=16), server_default='en', nullable=False),
    sa.Column('received_on', sa.Date(), server_default=sa.text('(CURRENT_DATE)'), nullable=False),
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.ForeignKeyConstraint(['subscriber_id'], ['subscribers.id'], name=op.f('fk_inbound_receipts_subscriber_id_subscribers'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_inbound_receipts')),
    sa.UniqueConstraint('digest', name=op.f('uq_inbound_receipts_digest'))
    )
    with op.batch_alter_table('inbound_receipts', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_inbound_receipts_received_on'), ['received_on'], unique=False)
        batch_op.create_index(batch_op.f('ix_inbound_receipts_subscriber_id'), ['subscriber_id'], unique=False)

    with op.batch_alter_table('subscribers', schema=None) as batch_op:
        batch_op.add_column(sa.Column('whatsapp_window_until', sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('replies_hour', sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('replies_in_hour', sa.Integer(), server_default='0', nullable=False))
        batch_op.add_column(sa.Column('replies_day', sa.Date(), nullable=True))
        batch_op.add_column(sa.Column('replies_in_day', sa.Integer(), server_default='0', nullable=False))



def downgrade() -> None:
    # Plain ALTER TABLE (SQLite 3.35 and later): a batch copy drops the old table, and with
    # foreign keys on, that deletes every trusted contact and sealed note in cascade.
    for name in ('replies_in_day', 'replies_day', 'replies_in_hour', 'replies_hour', 'whatsapp_window_until'):
        op.execute(f'ALTER TABLE subscribers DROP COLUMN {name}')

    with op.batch_alter_table('inbound_receipts', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_inbound_receipts_subscriber_id'))
        batch_op.drop_index(batch_op.f('ix_inbound_receipts_received_on'))

    op.drop_table('inbound_receipts')
    op.drop_table('tallies')
