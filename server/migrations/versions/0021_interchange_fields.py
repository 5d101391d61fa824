"""interchange fields: a resource's eligibility, fees and application process; an alert's CAP
categories, urgency, certainty, instruction and contact

All nullable, so existing resources and bulletins say nothing more than before; HSDS and CAP
imports fill them, exports write them back out instead of dropping or guessing them.

Revision ID: 0021
Revises: 0020
Create Date: 2026-12-07
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


revision: str = '0021'
down_revision: str | None = '0020'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

RESOURCE_COLUMNS = ('eligibility', 'fees', 'application_process')


def upgrade() -> None:
    with op.batch_alter_table('resources', schema=None, recreate="never") as batch_op:
        for name in RESOURCE_COLUMNS:
            batch_op.add_column(sa.Column(name, sa.Text(), nullable=True))
    with op.batch_alter_table('bulletins', schema=None, recreate="never") as batch_op:
        batch_op.add_column(sa.Column('cap_categories', sa.String(length=200), nullable=True))
        batch_op.add_column(sa.Column('cap_urgency', sa.String(length=24), nullable=True))
        batch_op.add_column(sa.Column('cap_certainty', sa.String(length=24), nullable=True))
        batch_op.add_column(sa.Column('instruction', sa.Text(), nullable=True))
        batch_op.add_column(sa.Column('contact', sa.String(length=200), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('bulletins', schema=None, recreate="never") as batch_op:
        for name in ('contact', 'instruction', 'cap_certainty', 'cap_urgency', 'cap_categories'):
            batch_op.drop_column(name)
    with op.batch_alter_table('resources', schema=None, recreate="never") as batch_op:
        for name in reversed(RESOURCE_COLUMNS):
            batch_op.drop_column(name)
