"""checkins: plans, their sealed history, and the partners that take escalations

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-28
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


revision: str = '0006'
down_revision: str | None = '0005'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('checkin_partners',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('region_slug', sa.String(length=64), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('alert_phone', sa.LargeBinary(), nullable=True),
    sa.Column('note_key', sa.LargeBinary(length=32), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_checkin_partners')),
    sa.UniqueConstraint('region_slug', name=op.f('uq_checkin_partners_region_slug'))
    )
    op.create_table('checkin_plans',
    sa.Column('subscriber_id', sa.Uuid(), nullable=False),
    sa.Column('next_due_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('pin', sa.LargeBinary(), nullable=True),
    sa.Column('duress', sa.LargeBinary(), nullable=True),
    sa.Column('settings', sa.LargeBinary(), nullable=True),
    sa.Column('state', sa.LargeBinary(), nullable=True),
    sa.Column('created_on', sa.Date(), server_default=sa.text('(CURRENT_DATE)'), nullable=False),
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.ForeignKeyConstraint(['subscriber_id'], ['subscribers.id'], name=op.f('fk_checkin_plans_subscriber_id_subscribers'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_checkin_plans')),
    sa.UniqueConstraint('subscriber_id', name=op.f('uq_checkin_plans_subscriber_id'))
    )
    with op.batch_alter_table('checkin_plans', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_checkin_plans_next_due_at'), ['next_due_at'], unique=False)

    op.create_table('checkin_events',
    sa.Column('plan_id', sa.Uuid(), nullable=False),
    sa.Column('happened_on', sa.Date(), nullable=False),
    sa.Column('detail', sa.LargeBinary(), nullable=False),
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.ForeignKeyConstraint(['plan_id'], ['checkin_plans.id'], name=op.f('fk_checkin_events_plan_id_checkin_plans'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_checkin_events'))
    )
    with op.batch_alter_table('checkin_events', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_checkin_events_plan_id'), ['plan_id'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('checkin_events', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_checkin_events_plan_id'))

    op.drop_table('checkin_events')
    with op.batch_alter_table('checkin_plans', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_checkin_plans_next_due_at'))

    op.drop_table('checkin_plans')
    op.drop_table('checkin_partners')
