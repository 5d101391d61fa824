"""portal roles and scopes: admin, editor, reviewer, translator, caseworker; regions, locales

Accounts of the old `partner` role become caseworkers (they read their NGO's notes, as before).
An account now has a scope (region slugs, locale tags), may be disabled, and belongs to an NGO
only when its role needs one. Going back turns caseworkers into partners again and editors and reviewers into
translators (who see nothing); it refuses when
an account without an NGO exists, rather than delete it.

Revision ID: 0019
Revises: 0018
Create Date: 2026-12-07
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


revision: str = "0019"
down_revision: str | None = "0018"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("portal_users", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("regions", sa.JSON(), server_default=sa.text("'[]'"), nullable=False)
        )
        batch_op.add_column(
            sa.Column("locales", sa.JSON(), server_default=sa.text("'[]'"), nullable=False)
        )
        batch_op.add_column(
            sa.Column("disabled", sa.Boolean(), server_default=sa.false(), nullable=False)
        )
        batch_op.alter_column("organisation_id", existing_type=sa.Uuid(), nullable=True)
        batch_op.alter_column(
            "role",
            existing_type=sa.String(16),
            server_default="caseworker",
            existing_nullable=False,
        )
    op.execute("UPDATE portal_users SET role = 'caseworker' WHERE role = 'partner'")
    # The '[]' defaults only fill the accounts that exist; new rows get theirs from the model.
    with op.batch_alter_table('portal_users', schema=None) as batch_op:
        batch_op.alter_column('regions', existing_type=sa.JSON(), server_default=None)
        batch_op.alter_column('locales', existing_type=sa.JSON(), server_default=None)


def downgrade() -> None:
    orphans = (
        op.get_bind()
        .execute(sa.text("SELECT count(*) FROM portal_users WHERE organisation_id IS NULL"))
        .scalar()
    )
    if orphans:
        raise RuntimeError(
            f"{orphans} portal account(s) belong to no NGO: disable and remove them first"
        )
    op.execute("UPDATE portal_users SET role = 'partner' WHERE role = 'caseworker'")
    # Editors and reviewers had no older equivalent: they keep an account that sees nothing.
    op.execute("UPDATE portal_users SET role = 'translator' WHERE role IN ('editor', 'reviewer')")
    with op.batch_alter_table("portal_users", schema=None) as batch_op:
        batch_op.alter_column(
            "role", existing_type=sa.String(16), server_default="partner", existing_nullable=False
        )
        batch_op.alter_column("organisation_id", existing_type=sa.Uuid(), nullable=False)
        batch_op.drop_column("disabled")
        batch_op.drop_column("locales")
        batch_op.drop_column("regions")
