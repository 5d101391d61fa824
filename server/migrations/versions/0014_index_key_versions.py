"""index key versions: each blind index names the index key version it was computed under

Every row indexed so far was indexed under the one index key there was, now version i1 (a
bare REFUGE_INDEX_KEY is read as i1). `refuge keys rotate-index` moves rows to a newer one.

Revision ID: 0014
Revises: 0010
Create Date: 2026-12-07
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


revision: str = '0014'
down_revision: str | None = '0013'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TABLES = ('subscribers', 'trusted_contacts')


def upgrade() -> None:
    for table in TABLES:
        with op.batch_alter_table(table, schema=None, recreate="never") as batch_op:
            batch_op.add_column(sa.Column('phone_index_key', sa.String(length=16), server_default='i1', nullable=False))
            batch_op.create_index(batch_op.f(f'ix_{table}_phone_index_key'), ['phone_index_key'], unique=False)


# `recreate="never"`: SQLite adds and drops these columns in place. A batch copy would drop
# and recreate `subscribers`, and SQLite's DROP TABLE deletes, with cascades, every row that
# points at it: each person's plan, contacts and history.


def downgrade() -> None:
    # Going back is only safe while every row is still under i1: the older code knows no other.
    bind = op.get_bind()
    for table in TABLES:
        moved = bind.execute(
            sa.text(f"SELECT count(*) FROM {table} WHERE phone_index_key != 'i1'")
        ).scalar()
        if moved:
            raise RuntimeError(
                f"{moved} rows of {table} are indexed under a newer index key; "
                "the code before revision 0014 cannot find them"
            )
    for table in TABLES:
        with op.batch_alter_table(table, schema=None, recreate="never") as batch_op:
            batch_op.drop_index(batch_op.f(f'ix_{table}_phone_index_key'))
            batch_op.drop_column('phone_index_key')
