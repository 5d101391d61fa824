"""ui translations: catalogue overrides saved in the portal; who wrote and reviewed translations

A new table of UI translations (locale, msgctxt, msgid, text, status, author, reviewer), merged
over the compiled catalogues while the server runs; content translations gain their author and
reviewer (empty for existing rows, which came from files and imports). Going back drops both.

Revision ID: 0026
Revises: 0025
Create Date: 2026-12-07
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


revision: str = "0026"
down_revision: str | None = "0025"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "ui_translations",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("locale", sa.String(length=16), nullable=False),
        sa.Column("msgctxt", sa.String(length=64), server_default=sa.text("''"), nullable=False),
        sa.Column("msgid", sa.Text(), nullable=False),
        sa.Column("msgid_plural", sa.Text(), nullable=True),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("plural_texts", sa.JSON(), nullable=False),
        sa.Column(
            "status",
            sa.Enum("draft", "reviewed", name="translationstatus", native_enum=False, length=16),
            server_default="draft",
            nullable=False,
        ),
        sa.Column("author_id", sa.Uuid(), nullable=True),
        sa.Column("reviewer_id", sa.Uuid(), nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_ui_translations")),
        sa.UniqueConstraint(
            "locale", "msgctxt", "msgid", name=op.f("uq_ui_translations_locale_msgctxt_msgid")
        ),
    )
    with op.batch_alter_table("translations", schema=None, recreate="never") as batch_op:
        batch_op.add_column(sa.Column("author_id", sa.Uuid(), nullable=True))
        batch_op.add_column(sa.Column("reviewer_id", sa.Uuid(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("translations", schema=None, recreate="never") as batch_op:
        batch_op.drop_column("reviewer_id")
        batch_op.drop_column("author_id")
    op.drop_table("ui_translations")
