"""receipts outlive people: erasing a person keeps their receipts' digests (and nothing else)

An inbound receipt used to go with its sender, so a captured webhook replayed after an
erasure was handled as a new message. The foreign key now sets the sender to NULL instead;
the purge then keeps the digest alone (see `people.purge`). Going back restores the
cascade.

Revision ID: 0015
Revises: 0010
Create Date: 2026-12-07
"""

from collections.abc import Sequence

from alembic import op


revision: str = '0015'
down_revision: str | None = '0014'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

FOREIGN_KEY = 'fk_inbound_receipts_subscriber_id_subscribers'


def _sender_key(ondelete: str) -> None:
    with op.batch_alter_table('inbound_receipts', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f(FOREIGN_KEY), type_='foreignkey')
        batch_op.create_foreign_key(
            batch_op.f(FOREIGN_KEY), 'subscribers', ['subscriber_id'], ['id'], ondelete=ondelete
        )


def upgrade() -> None:
    _sender_key('SET NULL')


def downgrade() -> None:
    # Receipts already without a sender stay: the older code replays them as silent, too.
    _sender_key('CASCADE')
