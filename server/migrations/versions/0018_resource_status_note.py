"""resource status note: what the partner says about a resource's status ("closed until ...")

Nullable, so every existing resource keeps its status and says nothing more.

Revision ID: 0018
Revises: 0010
Create Date: 2026-12-07
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


revision: str = '0018'
down_revision: str | None = '0015'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('resources', schema=None, recreate="never") as batch_op:
        batch_op.add_column(sa.Column('status_note', sa.Text(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('resources', schema=None, recreate="never") as batch_op:
        batch_op.drop_column('status_note')
