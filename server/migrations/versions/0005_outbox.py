"""outbox: outbound messages, sender pacing, outbound counts, provider deletions

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-28
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


revision: str = '0005'
down_revision: str | None = '0004'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('provider_deletions',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('wrapped_data_key', sa.LargeBinary(), nullable=False),
    sa.Column('provider_sid', sa.LargeBinary(), nullable=False),
    sa.Column('due_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('attempts', sa.Integer(), server_default='0', nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_provider_deletions'))
    )
    with op.batch_alter_table('provider_deletions', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_provider_deletions_due_at'), ['due_at'], unique=False)

    op.create_table('outbound_counts',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('scope', sa.String(length=16), nullable=False),
    sa.Column('subject', sa.LargeBinary(length=32), nullable=False),
    sa.Column('day', sa.Date(), nullable=False),
    sa.Column('count', sa.Integer(), server_default='0', nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_outbound_counts')),
    sa.UniqueConstraint('scope', 'subject', 'day', name=op.f('uq_outbound_counts_scope_subject_day'))
    )
    with op.batch_alter_table('outbound_counts', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_outbound_counts_day'), ['day'], unique=False)

    op.create_table('sender_pace',
    sa.Column('sender', sa.String(length=64), nullable=False),
    sa.Column('next_slot_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('sender', name=op.f('pk_sender_pace'))
    )
    op.create_table('outbox',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('subscriber_id', sa.Uuid(), nullable=False),
    sa.Column('contact_id', sa.Uuid(), nullable=True),
    sa.Column('kind', sa.Enum('alert', 'all_clear', 'opt_in', 'reminder', 'reply', name='outboxkind', native_enum=False, length=16), nullable=False),
    sa.Column('priority', sa.SmallInteger(), nullable=False),
    sa.Column('status', sa.Enum('pending', 'sending', 'sent', 'delivered', 'undelivered', 'failed', 'expired', 'dropped', name='outboxstatus', native_enum=False, length=16), server_default='pending', nullable=False),
    sa.Column('dedupe_key', sa.String(length=200), nullable=False),
    sa.Column('body', sa.LargeBinary(), nullable=True),
    sa.Column('not_before', sa.DateTime(timezone=True), nullable=False),
    sa.Column('expires_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('next_attempt_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('attempts', sa.Integer(), server_default='0', nullable=False),
    sa.Column('attempt_started_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('claim_id', sa.Uuid(), nullable=True),
    sa.Column('lease_until', sa.DateTime(timezone=True), nullable=True),
    sa.Column('sender', sa.String(length=64), nullable=False),
    sa.Column('provider_sid', sa.LargeBinary(), nullable=True),
    sa.Column('provider_sid_digest', sa.LargeBinary(length=32), nullable=True),
    sa.Column('provider_status', sa.String(length=16), nullable=True),
    sa.Column('error_code', sa.Integer(), nullable=True),
    sa.Column('template', sa.Boolean(), server_default=sa.false(), nullable=False),
    sa.Column('sent_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('final_on', sa.Date(), nullable=True),
    sa.Column('cleanup_due_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('created_on', sa.Date(), server_default=sa.text('(CURRENT_DATE)'), nullable=False),
    sa.ForeignKeyConstraint(['contact_id'], ['trusted_contacts.id'], name=op.f('fk_outbox_contact_id_trusted_contacts'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['subscriber_id'], ['subscribers.id'], name=op.f('fk_outbox_subscriber_id_subscribers'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_outbox')),
    sa.UniqueConstraint('dedupe_key', name=op.f('uq_outbox_dedupe_key')),
    sa.UniqueConstraint('provider_sid_digest', name=op.f('uq_outbox_provider_sid_digest'))
    )
    with op.batch_alter_table('outbox', schema=None) as batch_op:
        batch_op.create_index('ix_outbox_cleanup', ['cleanup_due_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_outbox_contact_id'), ['contact_id'], unique=False)
        batch_op.create_index('ix_outbox_due', ['status', 'sender', 'priority', 'next_attempt_at'], unique=False)
        batch_op.create_index('ix_outbox_expiry', ['status', 'expires_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_outbox_final_on'), ['final_on'], unique=False)
        batch_op.create_index(batch_op.f('ix_outbox_subscriber_id'), ['subscriber_id'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('outbox', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_outbox_subscriber_id'))
        batch_op.drop_index(batch_op.f('ix_outbox_final_on'))
        batch_op.drop_index('ix_outbox_expiry')
        batch_op.drop_index('ix_outbox_due')
        batch_op.drop_index(batch_op.f('ix_outbox_contact_id'))
        batch_op.drop_index('ix_outbox_cleanup')

    op.drop_table('outbox')
    op.drop_table('sender_pace')
    with op.batch_alter_table('outbound_counts', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_outbound_counts_day'))

    op.drop_table('outbound_counts')
    with op.batch_alter_table('provider_deletions', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_provider_deletions_due_at'))

    op.drop_table('provider_deletions')
