"""record versions: drafts and two-person review of content; regions say if resources wait

Every change made in the portal (and every CAP import waiting for review) becomes a row of
`record_versions` holding the record's canonical form; a region may require review of its
resources (`review_resources`, inherited down the tree). Going back drops both: live records
are untouched, pending drafts are lost.

Revision ID: 0022
Revises: 0023
Create Date: 2026-12-07
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0022"
down_revision: str | None = "0023"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "record_versions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=24), nullable=False),
        sa.Column("record_id", sa.String(length=64), nullable=False),
        sa.Column("form", sa.JSON(), nullable=False),
        sa.Column(
            "state",
            sa.Enum(
                "draft",
                "approved",
                "rejected",
                "superseded",
                name="versionstate",
                native_enum=False,
                length=16,
            ),
            server_default="draft",
            nullable=False,
        ),
        sa.Column("origin", sa.String(length=16), server_default="portal", nullable=False),
        sa.Column("author_id", sa.Uuid(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("reviewer_id", sa.Uuid(), nullable=True),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("base_digest", sa.String(length=64), nullable=True),
        sa.ForeignKeyConstraint(
            ["author_id"],
            ["portal_users.id"],
            name=op.f("fk_record_versions_author_id_portal_users"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_record_versions")),
    )
    op.create_index("ix_record_versions_record", "record_versions", ["kind", "record_id"])
    op.create_index(op.f("ix_record_versions_state"), "record_versions", ["state"])
    with op.batch_alter_table("regions", recreate="never") as batch_op:
        batch_op.add_column(sa.Column("review_resources", sa.Boolean(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("regions", recreate="never") as batch_op:
        batch_op.drop_column("review_resources")
    op.drop_index(op.f("ix_record_versions_state"), table_name="record_versions")
    op.drop_index("ix_record_versions_record", table_name="record_versions")
    op.drop_table("record_versions")
