"""region emergency number: the number to call in an emergency where a region lies

Nullable: a region without one inherits its parent's, and with none above it the distress
reply names the region's helpline as before.

Revision ID: 0020
Revises: 0019
Create Date: 2026-12-07
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


revision: str = '0020'
down_revision: str | None = '0019'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('regions', schema=None, recreate="never") as batch_op:
        batch_op.add_column(sa.Column('emergency', sa.String(length=40), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('regions', schema=None, recreate="never") as batch_op:
        batch_op.drop_column('emergency')
