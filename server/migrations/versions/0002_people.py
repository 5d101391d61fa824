"""people: subscribers, trusted contacts, sealed notes

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-28
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


revision: str = '0002'
down_revision: str | None = '0001'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('subscribers',
    sa.Column('phone_index', sa.LargeBinary(length=32), nullable=False),
    sa.Column('phone', sa.LargeBinary(), nullable=False),
    sa.Column('wrapped_data_key', sa.LargeBinary(), nullable=True),
    sa.Column('data_key_id', sa.String(length=16), nullable=False),
    sa.Column('locale', sa.String(length=16), server_default='en', nullable=False),
    sa.Column('region_slug', sa.String(length=64), nullable=True),
    sa.Column('channel', sa.Enum('sms', 'whatsapp', name='channel', native_enum=False, length=16), server_default='sms', nullable=False),
    sa.Column('opted_out', sa.Boolean(), server_default=sa.false(), nullable=False),
    sa.Column('state', sa.LargeBinary(), nullable=True),
    sa.Column('created_on', sa.Date(), server_default=sa.text('(CURRENT_DATE)'), nullable=False),
    sa.Column('last_seen_on', sa.Date(), server_default=sa.text('(CURRENT_DATE)'), nullable=False),
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_subscribers')),
    sa.UniqueConstraint('phone_index', name=op.f('uq_subscribers_phone_index'))
    )
    with op.batch_alter_table('subscribers', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_subscribers_data_key_id'), ['data_key_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_subscribers_last_seen_on'), ['last_seen_on'], unique=False)

    op.create_table('sealed_notes',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('subscriber_id', sa.Uuid(), nullable=False),
    sa.Column('recipient', sa.String(length=32), nullable=False),
    sa.Column('sealed', sa.LargeBinary(), nullable=False),
    sa.Column('created_on', sa.Date(), server_default=sa.text('(CURRENT_DATE)'), nullable=False),
    sa.ForeignKeyConstraint(['subscriber_id'], ['subscribers.id'], name=op.f('fk_sealed_notes_subscriber_id_subscribers'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_sealed_notes'))
    )
    with op.batch_alter_table('sealed_notes', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_sealed_notes_recipient'), ['recipient'], unique=False)
        batch_op.create_index(batch_op.f('ix_sealed_notes_subscriber_id'), ['subscriber_id'], unique=False)

    op.create_table('trusted_contacts',
    sa.Column('subscriber_id', sa.Uuid(), nullable=False),
    sa.Column('phone_index', sa.LargeBinary(length=32), nullable=False),
    sa.Column('phone', sa.LargeBinary(), nullable=False),
    sa.Column('name', sa.LargeBinary(), nullable=True),
    sa.Column('consent', sa.Enum('pending', 'confirmed', 'declined', 'revoked', name='consent', native_enum=False, length=16), server_default='pending', nullable=False),
    sa.Column('consent_changed_on', sa.Date(), server_default=sa.text('(CURRENT_DATE)'), nullable=False),
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.ForeignKeyConstraint(['subscriber_id'], ['subscribers.id'], name=op.f('fk_trusted_contacts_subscriber_id_subscribers'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_trusted_contacts')),
    sa.UniqueConstraint('subscriber_id', 'phone_index', name=op.f('uq_trusted_contacts_subscriber_id_phone_index'))
    )
    with op.batch_alter_table('trusted_contacts', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_trusted_contacts_phone_index'), ['phone_index'], unique=False)
        batch_op.create_index(batch_op.f('ix_trusted_contacts_subscriber_id'), ['subscriber_id'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('trusted_contacts', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_trusted_contacts_subscriber_id'))
        batch_op.drop_index(batch_op.f('ix_trusted_contacts_phone_index'))

    op.drop_table('trusted_contacts')
    with op.batch_alter_table('sealed_notes', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_sealed_notes_subscriber_id'))
        batch_op.drop_index(batch_op.f('ix_sealed_notes_recipient'))

    op.drop_table('sealed_notes')
    with op.batch_alter_table('subscribers', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_subscribers_last_seen_on'))
        batch_op.drop_index(batch_op.f('ix_subscribers_data_key_id'))

    op.drop_table('subscribers')
