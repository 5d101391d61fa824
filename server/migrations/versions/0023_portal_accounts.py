"""portal accounts: invitations, and a lock-out strangers cannot hold

An invitation is a keyed digest of a single-use token, bound to the account it sets up.
The lock-out splits in two: failures of clients the account never logged in from
(`failed_logins`, `locked_until`, as before) and of browsers holding its device cookie
(`known_failed_logins`, `known_locked_until`); `device_epoch` ends those cookies. Going back
drops the invitations (their accounts stay, without a password, until an operator resets it).

Revision ID: 0023
Revises: 0026
Create Date: 2026-12-07
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


revision: str = "0023"
down_revision: str | None = "0026"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("portal_users", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("known_failed_logins", sa.Integer(), server_default="0", nullable=False)
        )
        batch_op.add_column(
            sa.Column("known_locked_until", sa.DateTime(timezone=True), nullable=True)
        )
        batch_op.add_column(
            sa.Column("device_epoch", sa.Integer(), server_default="0", nullable=False)
        )
    op.create_table(
        "portal_invites",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("user_id", sa.Uuid(), nullable=False),
        sa.Column("token_digest", sa.LargeBinary(length=32), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["portal_users.id"],
            name=op.f("fk_portal_invites_user_id_portal_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_portal_invites")),
        sa.UniqueConstraint("token_digest", name=op.f("uq_portal_invites_token_digest")),
    )
    with op.batch_alter_table("portal_invites", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_portal_invites_user_id"), ["user_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("portal_invites", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_portal_invites_user_id"))
    op.drop_table("portal_invites")
    with op.batch_alter_table("portal_users", schema=None, recreate="never") as batch_op:
        batch_op.drop_column("device_epoch")
        batch_op.drop_column("known_locked_until")
        batch_op.drop_column("known_failed_logins")
