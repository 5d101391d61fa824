"""sealed note handling: when the NGO first downloaded a note and when it was handled

Both nullable days: every existing note counts as neither downloaded nor handled, so its
retention runs from the day it was written (`people.purge_notes`).

Revision ID: 0024
Revises: 0021
Create Date: 2026-12-07
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


revision: str = '0024'
down_revision: str | None = '0021'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('sealed_notes', schema=None, recreate="never") as batch_op:
        batch_op.add_column(sa.Column('downloaded_on', sa.Date(), nullable=True))
        batch_op.add_column(sa.Column('handled_on', sa.Date(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('sealed_notes', schema=None, recreate="never") as batch_op:
        batch_op.drop_column('handled_on')
        batch_op.drop_column('downloaded_on')
